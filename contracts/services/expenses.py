"""Expense claims: receipts uploaded, approved by staff, reimbursed on the next payslip."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.errors import ContractsError
from contracts.models import ExpenseClaim, ExpenseReceipt
from contracts.services.contracts import (
    MAX_ATTACHMENT_SIZE,
    _amount,
    _attachment_type,
    _check_activity,
)
from members.models import Activity, Member, User

ZERO = Decimal("0.00")
MAX_RECEIPTS = 50


@dataclass(frozen=True)
class ReceiptInput:
    upload: UploadedFile
    description: str
    spent_on: datetime.date
    amount: Decimal
    vat: Decimal = ZERO


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
def submit_expense_claim(
    *,
    user: User,
    activity: Activity,
    description: str,
    receipts: list[ReceiptInput],
    today: datetime.date,
    now: datetime.datetime | None = None,
) -> ExpenseClaim:
    """Record a claim with its receipts, for staff to approve."""
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
    if not receipts:
        raise ContractsError(_("Add at least one receipt."), code="no_receipts", field="receipts")
    if len(receipts) > MAX_RECEIPTS:
        raise ContractsError(
            _("A claim holds at most %(count)d receipts.") % {"count": MAX_RECEIPTS},
            code="too_many_receipts",
            field="receipts",
        )
    types = [
        _check_receipt(receipt, position=position, today=today)
        for position, receipt in enumerate(receipts, 1)
    ]
    claim = ExpenseClaim.objects.create(
        member=member,
        activity=activity,
        description=description.strip()[:255],
        total=sum((Decimal(receipt.amount) for receipt in receipts), ZERO),
        total_vat=sum((Decimal(receipt.vat) for receipt in receipts), ZERO),
        created_at=now or timezone.now(),
    )
    for receipt, content_type in zip(receipts, types, strict=True):
        ExpenseReceipt.objects.create(
            claim=claim,
            file=receipt.upload,
            content_type=content_type,
            size=receipt.upload.size,
            description=receipt.description.strip()[:255],
            spent_on=receipt.spent_on,
            amount=Decimal(receipt.amount),
            vat=Decimal(receipt.vat),
        )
    return claim


def _decide(
    claim: ExpenseClaim, *, staff_user: User, status: str, reason: str, now
) -> ExpenseClaim:
    claim = ExpenseClaim.objects.select_for_update().get(pk=claim.pk)
    if claim.status != ExpenseClaim.Status.SUBMITTED:
        raise ContractsError(_("This claim was already decided."), code="invalid_transition")
    claim.status = status
    claim.decided_by = staff_user
    claim.decided_at = now or timezone.now()
    claim.reason = reason.strip()
    claim.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    return claim


@transaction.atomic
def approve_expense_claim(
    *, staff_user: User, claim: ExpenseClaim, now: datetime.datetime | None = None
) -> ExpenseClaim:
    """Approve a claim: it is reimbursed on the member's next payslip from this Activity."""
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
