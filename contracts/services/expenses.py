"""Expense claims: receipts gathered in a draft, sent to staff, reimbursed on the next payslip.

A member opens a draft claim on an Activity and adds receipts to it (over several visits if need
be), then sends it; staff approve or reject sent claims; payroll reimburses approved ones.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from contracts.errors import ContractsError
from contracts.models import ExpenseClaim, ExpenseReceipt
from contracts.services.contracts import (
    MAX_ATTACHMENT_SIZE,
    _amount,
    _attachment_type,
    _check_activity,
)
from coop import bounds
from members.models import Activity, Member, User
from members.selectors import takes_part_in

ZERO = Decimal("0.00")
MAX_RECEIPTS = 50


@dataclass(frozen=True)
class ReceiptInput:
    upload: UploadedFile
    description: str
    spent_on: datetime.date
    amount: Decimal
    vat: Decimal = ZERO
    category: str = ExpenseReceipt.Category.OTHER


def _check_receipt(receipt: ReceiptInput, *, position: int, today: datetime.date) -> str:
    """Check one receipt; return its content type."""
    upload = receipt.upload
    if not upload.size:
        raise ContractsError(
            _("Receipt %(position)d: the file is empty.") % {"position": position},
            code="empty_file",
            field="receipts",
        )
    if upload.size > MAX_ATTACHMENT_SIZE:
        raise ContractsError(
            _("Receipt %(position)d: the file is larger than %(size)d MB.")
            % {"position": position, "size": MAX_ATTACHMENT_SIZE // (1024 * 1024)},
            code="file_too_large",
            field="receipts",
        )
    upload.seek(0)
    content_type = _attachment_type(upload.read(16))
    upload.seek(0)
    if content_type is None:
        raise ContractsError(
            _("Receipt %(position)d: upload a PDF, PNG or JPEG file.") % {"position": position},
            code="file_type",
            field="receipts",
        )
    if not receipt.description.strip():
        raise ContractsError(
            _("Receipt %(position)d: say what was bought.") % {"position": position},
            code="description",
            field="receipts",
        )
    if receipt.spent_on > today:
        raise ContractsError(
            _("Receipt %(position)d: the date is in the future.") % {"position": position},
            code="future_receipt",
            field="receipts",
        )
    try:
        bounds.check_receipt_date(receipt.spent_on, today=today)
        bounds.check_text_length(
            receipt.description.strip(), limit=bounds.SHORT_TEXT_MAX_LENGTH, label=_("Description")
        )
    except bounds.OutOfBounds as error:
        raise ContractsError(
            _("Receipt %(position)d: %(problem)s")
            % {"position": position, "problem": error.message},
            code="receipt_bounds",
            field="receipts",
        ) from None
    if receipt.category not in ExpenseReceipt.Category.values:
        raise ContractsError(
            _("Receipt %(position)d: choose one of the categories.") % {"position": position},
            code="category",
            field="receipts",
        )
    amount = _amount(receipt.amount, label=_("amount"), field_name="receipts")
    vat = _amount(receipt.vat, label=_("VAT"), field_name="receipts")
    if amount <= 0 or vat > amount:
        raise ContractsError(
            _("Receipt %(position)d: the amount must be positive and include its VAT.")
            % {"position": position},
            code="receipt_amount",
            field="receipts",
        )
    return content_type


@transaction.atomic
def start_expense_claim(
    *,
    user: User,
    activity: Activity,
    description: str,
    receipts: list[ReceiptInput] | None = None,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> ExpenseClaim:
    """Open a draft claim on one of the user's Activities, with the receipts already at hand;
    more are added later."""
    activity = _check_activity(user, activity)
    member = Member.objects.filter(user=user).first()
    allowed = {activity.owner_id, *activity.co_members.values_list("pk", flat=True)}
    if member is None or member.pk not in allowed:
        raise ContractsError(
            _("Only the members of this Activity can claim expenses from it."),
            code="not_in_activity",
            field="activity",
        )
    if not description.strip():
        raise ContractsError(_("Describe the claim."), code="description", field="description")
    try:
        bounds.check_text_length(
            description.strip(), limit=bounds.SHORT_TEXT_MAX_LENGTH, label=_("Description")
        )
    except bounds.OutOfBounds as error:
        raise ContractsError(error.message, code="description", field="description") from None
    claim = ExpenseClaim.objects.create(
        member=member,
        activity=activity,
        description=description.strip(),
        status=ExpenseClaim.Status.DRAFT,
        total=ZERO,
        total_vat=ZERO,
        created_at=now or timezone.now(),
    )
    record_event(action="created", obj=claim, actor=user)
    if receipts:
        add_receipts(user=user, claim=claim, receipts=receipts, today=today or timezone.localdate())
    return claim


@transaction.atomic
def add_receipts(
    *, user: User, claim: ExpenseClaim, receipts: list[ReceiptInput], today: datetime.date
) -> ExpenseClaim:
    """Add receipts to the user's draft claim; all are checked before any is stored."""
    claim = _draft_of(user, claim)
    if not receipts:
        raise ContractsError(_("Add at least one receipt."), code="no_receipts", field="receipts")
    if claim.receipts.count() + len(receipts) > MAX_RECEIPTS:
        raise ContractsError(
            _("A claim holds at most %(count)d receipts.") % {"count": MAX_RECEIPTS},
            code="too_many_receipts",
            field="receipts",
        )
    types = [
        _check_receipt(receipt, position=position, today=today)
        for position, receipt in enumerate(receipts, 1)
    ]
    for receipt, content_type in zip(receipts, types, strict=True):
        ExpenseReceipt.objects.create(
            claim=claim,
            file=receipt.upload,
            content_type=content_type,
            size=receipt.upload.size,
            description=receipt.description.strip(),
            category=receipt.category,
            spent_on=receipt.spent_on,
            amount=Decimal(receipt.amount),
            vat=Decimal(receipt.vat),
        )
    return _with_totals(claim)


@transaction.atomic
def remove_receipt(*, user: User, receipt: ExpenseReceipt) -> ExpenseClaim:
    """Take a receipt out of the user's draft claim."""
    claim = _draft_of(user, receipt.claim)
    record_event(action="deleted", obj=receipt, actor=user)
    ExpenseReceipt.objects.filter(pk=receipt.pk, claim=claim).delete()
    receipt.file.delete(save=False)
    return _with_totals(claim)


@transaction.atomic
def submit_draft_claim(
    *, user: User, claim: ExpenseClaim, now: datetime.datetime | None = None
) -> ExpenseClaim:
    """Send the user's draft claim to staff for approval; it can no longer change."""
    claim = _draft_of(user, claim)
    if not claim.receipts.exists():
        raise ContractsError(_("Add at least one receipt."), code="no_receipts", field="receipts")
    claim.status = ExpenseClaim.Status.SUBMITTED
    claim.submitted_at = now or timezone.now()
    claim.save(update_fields=["status", "submitted_at"])
    record_event(action="submitted", obj=claim, actor=user, changes={"total": [None, claim.total]})
    return claim


@transaction.atomic
def delete_draft_claim(*, user: User, claim: ExpenseClaim) -> None:
    """Delete the user's draft claim and its receipts."""
    claim = _draft_of(user, claim)
    files = [receipt.file for receipt in claim.receipts.all()]
    record_event(action="deleted", obj=claim, actor=user)
    claim.delete()
    for file in files:
        file.delete(save=False)


@transaction.atomic
def submit_expense_claim(
    *,
    user: User,
    activity: Activity,
    description: str,
    receipts: list[ReceiptInput],
    today: datetime.date,
    now: datetime.datetime | None = None,
) -> ExpenseClaim:
    """Record a claim with its receipts and send it to staff, in one step."""
    if not receipts:
        raise ContractsError(_("Add at least one receipt."), code="no_receipts", field="receipts")
    claim = start_expense_claim(
        user=user,
        activity=activity,
        description=description,
        receipts=receipts,
        today=today,
        now=now,
    )
    return submit_draft_claim(user=user, claim=claim, now=now)


def _draft_of(user: User, claim: ExpenseClaim) -> ExpenseClaim:
    """Lock the claim and check that it is the user's own draft."""
    claim = ExpenseClaim.objects.select_for_update().select_related("member").get(pk=claim.pk)
    if claim.member.user_id != user.pk:
        raise ContractsError(_("Only the member who made a claim can change it."), code="forbidden")
    if claim.status != ExpenseClaim.Status.DRAFT:
        raise ContractsError(
            _("This claim was sent to staff and can no longer change."), code="not_draft"
        )
    return claim


def _with_totals(claim: ExpenseClaim) -> ExpenseClaim:
    totals = claim.receipts.aggregate(total=Sum("amount"), vat=Sum("vat"))
    claim.total = totals["total"] or ZERO
    claim.total_vat = totals["vat"] or ZERO
    claim.save(update_fields=["total", "total_vat"])
    return claim


def _decide(
    claim: ExpenseClaim, *, staff_user: User, status: str, reason: str, now
) -> ExpenseClaim:
    claim = ExpenseClaim.objects.select_for_update().get(pk=claim.pk)
    if claim.status == ExpenseClaim.Status.DRAFT:
        raise ContractsError(
            _("This claim is still a draft: the member has not sent it."), code="draft"
        )
    if claim.status != ExpenseClaim.Status.SUBMITTED:
        raise ContractsError(_("This claim was already decided."), code="invalid_transition")
    claim.status = status
    claim.decided_by = staff_user
    claim.decided_at = now or timezone.now()
    claim.reason = reason.strip()
    claim.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    record_event(action=status, obj=claim, actor=staff_user, reason=claim.reason)
    return claim


@transaction.atomic
def approve_expense_claim(
    *, staff_user: User, claim: ExpenseClaim, now: datetime.datetime | None = None
) -> ExpenseClaim:
    """Approve a claim: it is reimbursed on the member's next payslip from this Activity.

    Nobody approves their own claim, nor one paid from an Activity they own or share.
    """
    claim = (
        ExpenseClaim.objects.select_for_update()
        .select_related("member", "activity")
        .get(pk=claim.pk)
    )
    if claim.member.user_id == staff_user.pk or takes_part_in(staff_user, claim.activity):
        raise ContractsError(
            _(
                "This claim is yours or is paid from an Activity you take part in: another "
                "staff member must approve it."
            ),
            code="own_claim",
        )
    return _decide(
        claim, staff_user=staff_user, status=ExpenseClaim.Status.APPROVED, reason="", now=now
    )


@transaction.atomic
def reject_expense_claim(
    *, staff_user: User, claim: ExpenseClaim, reason: str, now: datetime.datetime | None = None
) -> ExpenseClaim:
    """Refuse a claim, with the reason."""
    if not reason.strip():
        raise ContractsError(_("Give a reason."), code="reason", field="reason")
    return _decide(
        claim, staff_user=staff_user, status=ExpenseClaim.Status.REJECTED, reason=reason, now=now
    )
