"""Employment declarations (Dimona) behind an interface.

The real filing is ONSS's Dimona REST service (``contracts.dimona_rest.RestDimonaGateway``);
``RecordingDimonaGateway``, the development default, only records the declaration and hands back
an acknowledgement number of its own. The gateway is chosen with the setting
``COOP_DIMONA_GATEWAY`` (a dotted path); each names itself to staff with ``label``.
"""

import datetime
import uuid
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from members.models import Member

# Joint committees: 304 for the performing arts; 200 for white-collar work elsewhere.
ARTISTIC_JOINT_COMMITTEE = "304"
DEFAULT_JOINT_COMMITTEE = "200"


class DimonaGateway(Protocol):
    label: str

    def declare(
        self,
        *,
        member: Member,
        start_date: datetime.date,
        end_date: datetime.date,
        worker_type: str,
        joint_committee: str,
    ) -> str:
        """File the declaration and return the acknowledgement number."""

    def cancel(self, *, acknowledgement: str) -> str:
        """Cancel a declaration and return the cancellation's acknowledgement number."""


class RecordingDimonaGateway:
    """Record declarations without filing them: the acknowledgement is made up locally."""

    label = _("Recording gateway (development — nothing is sent to ONSS)")

    def declare(self, *, member, start_date, end_date, worker_type, joint_committee) -> str:
        return f"REC-{start_date:%Y%m%d}-{uuid.uuid4().hex[:12].upper()}"

    def cancel(self, *, acknowledgement: str) -> str:
        return f"CANCEL-{uuid.uuid4().hex[:12].upper()}"


def gateway_class() -> type[DimonaGateway]:
    return import_string(
        getattr(settings, "COOP_DIMONA_GATEWAY", "contracts.dimona.RecordingDimonaGateway")
    )


def get_gateway() -> DimonaGateway:
    return gateway_class()()


def gateway_label() -> str:
    """How staff are told where declarations go (the recording gateway says it sends nothing)."""
    return str(gateway_class().label)
