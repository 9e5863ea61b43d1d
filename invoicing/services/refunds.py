"""Refunds: money a credit note or an over-payment leaves owed to a client, sent back.

Staff request a refund on an issued credit note, or of what the client paid beyond an invoice
(an over-payment, no credit note needed), for at most what the client is owed; another
staff member sends it, in a SEPA payment file or by hand, and records it paid with the bank's
date and reference. Nobody moves money to or from an Activity they take part in, and nobody
settles a refund they requested. Only a settled refund moves money on the Activity's ledger.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from stdnum import iban as iban_numbers
from stdnum.exceptions import ValidationError

from audit.services import record_event
from coop import sepa
from coop.money import round_money
from coop.templatetags.money import euro
from invoicing.errors import InvoicingError
from invoicing.models import BankAccount, Invoice, Refund, RefundPaymentFile
from invoicing.services.payments import check_amount, post_income_change, posted_amount
from members.models import LedgerEntryKind, LedgerStage, User
from members.selectors import takes_part_in

ZERO = Decimal("0.00")


def _check_staff(user: User, document: Invoice) -> None:
    if not user.is_staff:
        raise InvoicingError(_("Only the cooperative's staff can do this."), code="not_staff")
    if takes_part_in(user, document.activity):
        raise InvoicingError(
            _(
                "This credit note is of an Activity you take part in: another staff member "
                "handles its refund."
            )
            if document.is_credit_note
            else _(
                "This invoice is of an Activity you take part in: another staff member "
                "handles its refund."
            ),
            code="own_invoice",
        )


def refundable_amount(credit_note: Invoice) -> Decimal:
    """Return what can still be refunded for a credit note: owed to the client, not yet asked."""
    return Invoice.objects.with_refundable().get(pk=credit_note.pk).amount_refundable


def over_payment_refundable(invoice: Invoice) -> Decimal:
    """Return what the client paid beyond what is left of an invoice, not yet asked back."""
    amounts = Invoice.objects.with_amounts().get(pk=invoice.pk)
    asked = Refund.objects.of_invoice(invoice).aggregate(total=Sum("amount"))["total"] or ZERO
    owed = amounts.amount_paid + amounts.amount_credited - amounts.total_incl_vat - asked
    return max(owed, ZERO)


def _clean_iban(value: str) -> str:
    try:
        iban = iban_numbers.validate(value)
    except ValidationError as error:
        raise InvoicingError(
            _("Enter the client's account as a valid IBAN."), code="iban", field="client_iban"
        ) from error
    own = BankAccount.objects.filter(active=True).exclude(iban="").values_list("iban", flat=True)
    if iban in {iban_numbers.compact(account) for account in own}:
        raise InvoicingError(
            _(
                "%(iban)s is an account of the cooperative: a refund goes to the client's own "
                "account."
            )
            % {"iban": iban_numbers.format(iban)},
            code="own_iban",
            field="client_iban",
        )
    return iban


@transaction.atomic
def request_refund(
    *,
    staff_user: User,
    amount: Decimal,
    client_iban: str,
    method: str,
    credit_note: Invoice | None = None,
    invoice: Invoice | None = None,
    account_holder: str = "",
    now: datetime.datetime | None = None,
) -> Refund:
    """Ask for a refund of what a credit note leaves owed to the client, or of an over-payment.

    Give ``credit_note``, or ``invoice`` to send back what the client paid beyond an invoice
    with no credit note: that money never became the Activity's income, and settling its
    refund posts nothing on the ledger.
    """
    now = now or timezone.now()
    check_amount(amount)
    if method not in Refund.Method.values:
        raise InvoicingError(_("Choose how the refund is made."), code="method", field="method")
    if credit_note is not None:
        document = _refunded_credit_note(credit_note)
        left = refundable_amount(document)
        too_large = _("At most %(left)s is owed to the client for this credit note.")
    else:
        document = _over_paid_invoice(invoice)
        left = over_payment_refundable(document)
        too_large = _(
            "At most %(left)s was paid beyond invoice %(number)s and is not yet refunded."
        )
    _check_staff(staff_user, document)
    if amount > left:
        raise InvoicingError(
            too_large % {"left": euro(left), "number": document.number},
            code="refund_too_large",
            field="amount",
        )
    refund = Refund.objects.create(
        credit_note=document if document.is_credit_note else None,
        invoice=None if document.is_credit_note else document,
        amount=amount,
        account_holder=(account_holder.strip() or document.buyer_name)[:70],
        client_iban=_clean_iban(client_iban),
        method=method,
        requested_by=staff_user,
        requested_at=now,
    )
    record_event(
        action="requested", obj=refund, actor=staff_user, changes={"amount": [None, amount]}
    )
    return refund


def _refunded_credit_note(credit_note: Invoice) -> Invoice:
    credit_note = Invoice.objects.select_related("activity", "credited_invoice").get(
        pk=credit_note.pk
    )
    if not credit_note.is_credit_note or not credit_note.is_issued:
        raise InvoicingError(
            _("Only issued credit notes are refunded."), code="not_refundable", field="credit_note"
        )
    # The invoice's row lock makes its refunds queue up: each sees the others.
    Invoice.objects.select_for_update().get(pk=credit_note.credited_invoice_id)
    return credit_note


def _over_paid_invoice(invoice: Invoice | None) -> Invoice:
    if invoice is None:
        raise InvoicingError(
            _(
                "Choose the credit note to refund, or, to refund an over-payment, the "
                "invoice: one of the two."
            ),
            code="not_refundable",
        )
    invoice = Invoice.objects.select_for_update().select_related("activity").get(pk=invoice.pk)
    if invoice.is_credit_note or not invoice.is_issued:
        raise InvoicingError(
            _("Only an issued invoice has an over-payment to refund."),
            code="not_refundable",
            field="invoice",
        )
    return invoice


def _settle(refund: Refund, *, staff_user: User) -> None:
    """Refuse to settle a refund twice, or by the one who requested it."""
    if refund.is_settled:
        raise InvoicingError(
            _("This refund is already recorded: %(date)s, reference %(reference)s.")
            % {
                "date": date_format(refund.paid_on, "SHORT_DATE_FORMAT"),
                "reference": refund.bank_reference,
            },
            code="already_settled",
        )
    _check_staff(staff_user, refund.document)
    if refund.requested_by_id == staff_user.pk:
        raise InvoicingError(
            _("You requested this refund: another staff member sends and records it."),
            code="own_request",
        )


@transaction.atomic
def create_refund_payment_file(
    *,
    staff_user: User,
    refunds: list[Refund],
    execution_date: datetime.date,
    now: datetime.datetime | None = None,
) -> RefundPaymentFile:
    """Put requested SEPA refunds in one pain.001 file paying each client from our account."""
    now = now or timezone.now()
    locked = list(
        Refund.objects.select_for_update(of=("self",))
        .select_related("credit_note__activity", "invoice__activity")
        .filter(pk__in=[refund.pk for refund in refunds])
        .order_by("pk")
    )
    if not locked:
        raise InvoicingError(_("Choose the refunds to pay."), code="empty")
    for refund in locked:
        if refund.method != Refund.Method.SEPA_TRANSFER or refund.status != Refund.Status.REQUESTED:
            raise InvoicingError(
                _("Refund of %(number)s is not a requested SEPA transfer.")
                % {"number": refund.document.number},
                code="not_requested",
            )
        _settle(refund, staff_user=staff_user)
    transfers = [
        sepa.Transfer(
            name=refund.account_holder,
            iban=refund.client_iban,
            amount=refund.amount,
            execution_date=execution_date,
            description=_description(refund),
            end_to_end_id=f"REFUND-{refund.pk}",
        )
        for refund in locked
    ]
    content, message_id = sepa.pay_from_cooperative(transfers)
    payment_file = RefundPaymentFile(
        message_id=message_id,
        execution_date=execution_date,
        transfer_count=len(locked),
        total=sum((refund.amount for refund in locked), ZERO),
        created_by=staff_user,
        created_at=now,
    )
    payment_file.file.save(f"refunds-{message_id}.xml", ContentFile(content), save=False)
    payment_file.save()
    for refund in locked:
        refund.status = Refund.Status.IN_PAYMENT_FILE
        refund.payment_file = payment_file
        refund.save(update_fields=["status", "payment_file"])
        record_event(action="included", obj=refund, actor=staff_user, reason=message_id)
    return payment_file


def _description(refund: Refund) -> str:
    if refund.credit_note:
        return _("Refund, credit note %(number)s") % {"number": refund.credit_note.number}
    return _("Refund of over-payment, invoice %(number)s") % {"number": refund.invoice.number}


@transaction.atomic
def record_refund(
    *,
    staff_user: User,
    refund: Refund,
    paid_on: datetime.date,
    bank_reference: str,
    now: datetime.datetime | None = None,
) -> Refund:
    """Record that a refund left the cooperative's account, and post it to the ledger.

    A SEPA refund must be in a payment file first; one made by hand is recorded directly.
    Recording a refund twice, or a bank reference already recorded, is refused.
    """
    now = now or timezone.now()
    refund = (
        Refund.objects.select_for_update(of=("self",))
        .select_related("credit_note__activity", "invoice__activity")
        .get(pk=refund.pk)
    )
    _settle(refund, staff_user=staff_user)
    bank_reference = bank_reference.strip()
    if not bank_reference:
        raise InvoicingError(
            _("Give the bank's reference of the transfer."),
            code="bank_reference",
            field="bank_reference",
        )
    if paid_on > timezone.localdate(now) or paid_on < refund.document.issue_date:
        raise InvoicingError(
            _("A refund is paid between the credit note's date and today.")
            if refund.credit_note
            else _("A refund is paid between the invoice's date and today."),
            code="date",
            field="paid_on",
        )
    if Refund.objects.filter(bank_reference=bank_reference).exists():
        raise InvoicingError(
            _("A refund with this bank reference is recorded."),
            code="duplicate_reference",
            field="bank_reference",
        )
    if refund.method == Refund.Method.SEPA_TRANSFER:
        if refund.status != Refund.Status.IN_PAYMENT_FILE:
            raise InvoicingError(
                _("Put this refund in a payment file before recording it paid."),
                code="not_in_payment_file",
            )
        refund.status = Refund.Status.PAID
    else:
        refund.status = Refund.Status.RECORDED
    refund.paid_on = paid_on
    refund.bank_reference = bank_reference[:140]
    refund.settled_by = staff_user
    refund.settled_at = now
    refund.save(update_fields=["status", "paid_on", "bank_reference", "settled_by", "settled_at"])
    record_event(action="recorded", obj=refund, actor=staff_user, reason=refund.bank_reference)
    _post_refund(refund, actor=staff_user, now=now)
    return refund


def _post_refund(refund: Refund, *, actor: User, now: datetime.datetime) -> None:
    """Take the refunded income and its fee back from the Activity.

    The credit note left its income planned negatively; the refund moves that part from planned
    to available: income available falls, the planned loss is released, the fee comes back.
    A refund never reverses more income, nor returns more fee, than the invoice's payments
    made available, net of earlier refunds: the part of a refund that gives back an
    over-payment (money that never became income) posts nothing on the Activity.
    """
    credit_note = refund.credit_note
    if credit_note is None:
        # An over-payment never became the Activity's income: nothing to take back.
        return
    invoice = credit_note.credited_invoice
    income_left = max(
        posted_amount(invoice, kind=LedgerEntryKind.CLIENT_INCOME, stage=LedgerStage.AVAILABLE),
        ZERO,
    )
    fee_left = max(
        -posted_amount(invoice, kind=LedgerEntryKind.COOPERATIVE_FEE, stage=LedgerStage.AVAILABLE),
        ZERO,
    )
    income = min(
        round_money(refund.amount * credit_note.total_excl_vat / credit_note.total_incl_vat),
        income_left,
    )
    fee = min(round_money(income * settings.COOP_FEE_RATE), fee_left)
    post_income_change(
        income_change=-income,
        fee_change=fee,
        descriptions=(
            _("Refund paid: the credited income is no longer planned"),
            _("Refund to the client (excl. VAT)"),
            _("Cooperative fee on the refunded income, returned"),
        ),
        activity=credit_note.activity,
        reference=credit_note.number,
        author=actor,
        source=refund,
        now=now,
    )
