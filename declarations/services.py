"""Writes of declarations: export a quarter's DmfA file."""

import datetime
import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from contracts.models import Contract, Payslip
from declarations.dmfa import SCHEMA_VERSION, build_dmfa, schema_errors
from declarations.errors import DeclarationsError
from declarations.models import DmfaExport
from declarations.selectors import Quarter, quarter_declaration
from members.models import User


@transaction.atomic
def export_dmfa(
    *,
    staff_user: User,
    quarter: Quarter,
    today: datetime.date,
    now: datetime.datetime | None = None,
) -> DmfaExport:
    """Build the quarter's DmfA file, check it against the official schema, store it with its
    SHA-256 and totals, and record who exported it."""
    now = now or timezone.now()
    if not staff_user.is_staff:
        raise DeclarationsError(_("Only staff export declarations."), code="forbidden")
    if quarter.end >= today:
        raise DeclarationsError(
            _("The quarter %(quarter)s is not over yet.") % {"quarter": quarter}, code="quarter"
        )
    declaration = quarter_declaration(quarter)
    document = build_dmfa(declaration, now=now)
    errors = schema_errors(document)
    if errors:
        raise DeclarationsError(
            _("The DmfA file does not pass the official schema: %(errors)s")
            % {"errors": "; ".join(errors[:5])},
            code="invalid",
        )
    export = DmfaExport(
        year=quarter.year,
        quarter=quarter.number,
        schema_version=SCHEMA_VERSION,
        sha256=hashlib.sha256(document).hexdigest(),
        workers=declaration.workers,
        days=declaration.total("days"),
        gross=declaration.total("gross"),
        contributions=declaration.contributions,
        created_by=staff_user,
        created_at=now,
    )
    export.save()
    export.file.save(export.filename, ContentFile(document), save=False)
    export.save(update_fields=["file"])
    record_event(
        action="created",
        obj=export,
        actor=staff_user,
        changes={
            "quarter": [None, str(quarter)],
            "sha256": [None, export.sha256],
            "workers": [None, export.workers],
            "contributions": [None, str(export.contributions)],
        },
    )
    return export


@transaction.atomic
def set_engagement_terms(
    *,
    staff_user: User,
    contract: Contract,
    employee_category: str | None = None,
    ends_engagement: bool | None = None,
) -> Contract:
    """Say whether a non-artistic contract's workers are white- or blue-collar and whether the
    engagement ends with it (exit holiday pay), before any of it is paid."""
    if not staff_user.is_staff:
        raise DeclarationsError(_("Only staff set the terms of an engagement."), code="forbidden")
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if Payslip.objects.filter(worker__contract=contract).exists():
        raise DeclarationsError(
            _("This contract is paid already: its terms can no longer change."), code="paid"
        )
    changes: dict[str, list] = {}
    if employee_category is not None:
        if employee_category not in Contract.EmployeeCategory.values:
            raise DeclarationsError(_("Choose white-collar or blue-collar."), code="category")
        if contract.is_artistic and employee_category != contract.employee_category:
            raise DeclarationsError(
                _("Artists are declared as artists: the category applies to other work."),
                code="category",
            )
        changes["employee_category"] = [contract.employee_category, employee_category]
        contract.employee_category = employee_category
    if ends_engagement is not None:
        changes["ends_engagement"] = [contract.ends_engagement, ends_engagement]
        contract.ends_engagement = ends_engagement
    changes = {name: pair for name, pair in changes.items() if pair[0] != pair[1]}
    if changes:
        contract.save(update_fields=list(changes))
        record_event(action="changed", obj=contract, actor=staff_user, changes=changes)
    return contract
