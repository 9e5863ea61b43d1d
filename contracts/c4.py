"""The C4 (unemployment certificate) at the end of an engagement.

Staff produce it from the admin once a worker's engagement has ended and been paid; its content
is frozen then (``C4Certificate.snapshot``), in the worker's language. The member downloads it
as a PDF and as structured data (JSON) holding the fields the electronic filing needs; the
national register number is read from the member's encrypted record when the data is exported,
never copied into the snapshot. The mapping of these fields onto the social security's
electronic declaration (the DRS/ASR "scenario 2" for the C4) is not verified here.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from contracts.errors import ContractsError
from contracts.models import C4Certificate, Contract, ContractWorker, DimonaDeclaration, Payslip
from coop.pdf import render_pdf
from members.models import User

ZERO = Decimal("0.00")
ENDED = [Contract.Status.APPROVED, Contract.Status.IN_PROGRESS, Contract.Status.COMPLETED]
FORMAT = "coop-c4/1"


def check_c4(worker: ContractWorker, *, today: datetime.date) -> None:
    """Refuse a C4 for an engagement that has not ended, was not paid or already has one."""
    contract = worker.contract
    if contract.status not in ENDED or contract.last_work_day is None:
        raise ContractsError(
            _("Only an approved contract's engagement ends with a C4."), code="c4_not_ended"
        )
    if contract.last_work_day >= today:
        raise ContractsError(
            _("The engagement has not ended yet: its last work day is not past."),
            code="c4_not_ended",
        )
    if not Payslip.objects.filter(worker=worker, kind=Payslip.Kind.REGULAR).exists():
        raise ContractsError(
            _("Pay the engagement first: the C4 states what was paid."), code="c4_not_paid"
        )
    if C4Certificate.objects.filter(worker=worker).exists():
        raise ContractsError(_("A C4 was already produced for this engagement."), code="c4_exists")


def _snapshot(worker: ContractWorker, *, end_reason: str, issued_on: datetime.date, by: User):
    contract, member = worker.contract, worker.member
    paid = Payslip.objects.filter(worker=worker).aggregate(gross=Sum("gross"), days=Sum("days"))
    declaration = (
        DimonaDeclaration.objects.filter(worker=worker, kind=DimonaDeclaration.Kind.DECLARATION)
        .values("joint_committee", "worker_type", "acknowledgement")
        .first()
        or {}
    )
    seller = settings.COOP_SELLER
    return {
        "format": FORMAT,
        "employer": {
            "name": seller["name"],
            "enterprise_number": seller["enterprise_number"],
            "onss_number": settings.COOP_ONSS_NUMBER,
            "address": f"{seller['street']}, {seller['postal_code']} {seller['city']}",
            "joint_committee": declaration.get("joint_committee", ""),
        },
        "worker": {
            "name": member.legal_name,
            "address": f"{member.street}, {member.postal_code} {member.city}",
            "niss_masked": member.niss_masked,
            "worker_type": declaration.get("worker_type", ""),
        },
        "engagement": {
            "contract": contract.reference,
            "title": contract.title,
            "place": contract.place,
            "is_artistic": contract.is_artistic,
            "is_task_based": worker.is_task_based,
            "first_day": contract.first_work_day.isoformat(),
            "last_day": contract.last_work_day.isoformat(),
            "dimona": declaration.get("acknowledgement", ""),
            "work_regime": "task" if worker.is_task_based else "days",
        },
        "end": {"reason": end_reason, "date": contract.last_work_day.isoformat()},
        "pay": {
            "gross": str(paid["gross"] or ZERO),
            "days": str(paid["days"] or ZERO),
            "daily_wage": str(worker.daily_wage),
            # Hours are not recorded: pay is by the day or by the task.
            "hours": None,
        },
        "issued": {"on": issued_on.isoformat(), "by": by.get_full_name() or by.email},
    }


@transaction.atomic
def produce_c4(
    *,
    staff_user: User,
    worker: ContractWorker,
    end_reason: str,
    today: datetime.date,
    now: datetime.datetime | None = None,
) -> C4Certificate:
    """Produce the C4 of an ended, paid engagement, frozen in the worker's language."""
    if end_reason not in C4Certificate.EndReason.values:
        raise ContractsError(_("Choose the reason of the end."), code="c4_reason")
    worker = (
        ContractWorker.objects.select_for_update()
        .select_related("contract", "member")
        .get(pk=worker.pk)
    )
    check_c4(worker, today=today)
    try:
        with transaction.atomic():
            certificate = C4Certificate.objects.create(
                worker=worker,
                member=worker.member,
                end_reason=end_reason,
                language=worker.member.preferred_language,
                snapshot=_snapshot(worker, end_reason=end_reason, issued_on=today, by=staff_user),
                created_by=staff_user,
                created_at=now or timezone.now(),
            )
    except IntegrityError:
        raise ContractsError(
            _("A C4 was already produced for this engagement."), code="c4_exists"
        ) from None
    record_event(action="created", obj=certificate, actor=staff_user)
    return certificate


def c4_data(certificate: C4Certificate, *, with_national_number: bool) -> dict:
    """The certificate's structured data; the worker's national register number in full only
    for those who file it (staff allowed to read national numbers), masked otherwise."""
    snapshot = certificate.snapshot
    worker = dict(snapshot["worker"])
    if with_national_number:
        worker["niss"] = certificate.member.niss
    return {**snapshot, "reference": certificate.reference, "worker": worker}


def render_c4_pdf(certificate: C4Certificate) -> bytes:
    """Render the certificate from its snapshot, in its language."""
    snapshot = certificate.snapshot
    context = {
        "certificate": certificate,
        "snapshot": snapshot,
        "reason": C4Certificate.EndReason(certificate.end_reason),
        "first_day": datetime.date.fromisoformat(snapshot["engagement"]["first_day"]),
        "last_day": datetime.date.fromisoformat(snapshot["engagement"]["last_day"]),
        "issued_on": datetime.date.fromisoformat(snapshot["issued"]["on"]),
        "gross": Decimal(snapshot["pay"]["gross"]),
        "days": Decimal(snapshot["pay"]["days"]),
        "daily_wage": Decimal(snapshot["pay"]["daily_wage"]),
    }
    return render_pdf("contracts/pdf/c4.html", context, language=certificate.language)
