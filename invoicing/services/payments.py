"""Client payments: recorded by staff or matched from bank statements, posted to the ledger."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from coop.money import has_at_most_cents, round_money
from coop.templatetags.money import euro
from invoicing import camt
from invoicing.errors import InvoicingError
from invoicing.models import (
    BankAccount,
    BankStatement,
    BankStatementLine,
    Invoice,
    Payment,
    Refund,
)
from members.models import LedgerEntry, LedgerEntryKind, LedgerStage, User
from members.selectors import takes_part_in
from members.services import post_ledger_entry

ZERO = Decimal("0.00")
MAX_BANK_REFERENCE_LENGTH = 140  # BankStatementLine.bank_reference
PAYABLE_STATUSES = [Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID, Invoice.Status.PAID]
# Money that arrives on the bank for a credited invoice is still the client's payment: staff
# match it by hand (nothing is due, so the importer leaves it for review) and refund it.
BANK_PAYABLE_STATUSES = [*PAYABLE_STATUSES, Invoice.Status.CREDITED]


def posted_amount(invoice: Invoice, *, kind: str, stage: str) -> Decimal:
    """Sum what the invoice and the refunds of its credit notes posted to the ledger."""
    refunds = Refund.objects.of_invoice(invoice).values("pk")
    total = LedgerEntry.objects.filter(
        Q(source_type=ContentType.objects.get_for_model(Invoice), source_id=invoice.pk)
        | Q(source_type=ContentType.objects.get_for_model(Refund), source_id__in=refunds),
        kind=kind,
        stage=stage,
    ).aggregate(total=Sum("amount"))["total"]
    return total or ZERO


def _post_income(invoice: Invoice, *, actor: User, now: datetime.datetime) -> None:
    """Bring the Activity's income and fee for this invoice in line with what was paid.

    Targets are computed on the cumulative amount paid, so partial payments add up to the
    exact invoice total with no rounding drift; over-payments bring no extra income.
    """
    amounts = Invoice.objects.with_amounts().get(pk=invoice.pk)
    collectible = amounts.total_incl_vat - amounts.amount_credited
    if collectible <= 0:
        return
    credited_excl = (
        Invoice.objects.filter(credited_invoice=invoice, number__isnull=False).aggregate(
            total=Sum("total_excl_vat")
        )["total"]
        or ZERO
    )
    collectible_excl = invoice.total_excl_vat - credited_excl
    paid = min(amounts.amount_paid, collectible)
    income_target = round_money(paid * collectible_excl / collectible)
    income_posted = posted_amount(
        invoice, kind=LedgerEntryKind.CLIENT_INCOME, stage=LedgerStage.AVAILABLE
    )
    fee_target = -round_money(income_target * settings.COOP_FEE_RATE)
    fee_posted = posted_amount(
        invoice, kind=LedgerEntryKind.COOPERATIVE_FEE, stage=LedgerStage.AVAILABLE
    )
    post_income_change(
        income_change=income_target - income_posted,
        fee_change=fee_target - fee_posted,
        descriptions=(
            _("Payment received: no longer planned"),
            _("Payment received (excl. VAT)"),
            _("Cooperative fee %(rate)s %%")
            % {"rate": round_money(settings.COOP_FEE_RATE * 100).normalize()},
        ),
        activity=invoice.activity,
        reference=invoice.number,
        author=actor,
        source=invoice,
        now=now,
    )


def post_income_change(
    *,
    income_change: Decimal,
    fee_change: Decimal,
    descriptions: tuple[str, str, str],
    **entry,
) -> None:
    """Move client income from planned to available (or back), and the fee with it.

    ``descriptions`` name the planned, the available and the fee entries; ``entry`` holds
    what every entry shares: activity, reference, author, source and now.
    """
    planned, available, fee = descriptions
    if income_change:
        post_ledger_entry(
            kind=LedgerEntryKind.CLIENT_INCOME,
            stage=LedgerStage.PLANNED,
            amount=-income_change,
            description=planned,
            **entry,
        )
        post_ledger_entry(
            kind=LedgerEntryKind.CLIENT_INCOME,
            stage=LedgerStage.AVAILABLE,
            amount=income_change,
            description=available,
            **entry,
        )
    if fee_change:
        post_ledger_entry(
            kind=LedgerEntryKind.COOPERATIVE_FEE,
            stage=LedgerStage.AVAILABLE,
            amount=fee_change,
            description=fee,
            **entry,
        )


def check_amount(amount: Decimal) -> None:
    """Refuse an amount of money that is not an exact, positive decimal in cents."""
    if isinstance(amount, float) or not isinstance(amount, Decimal):
        raise InvoicingError(_("Amounts must be exact decimals."), code="amount", field="amount")
    if amount <= 0 or not has_at_most_cents(amount):
        raise InvoicingError(
            _("Enter a positive amount with at most two decimals."), code="amount", field="amount"
        )


def refresh_payment_status(*, invoice: Invoice) -> Invoice:
    """Set issued / partially paid / paid / credited from payments and credit notes.

    An invoice its credit notes cover in full is credited, whether or not the client had paid
    part of it: what the client paid is then owed back, shown as to refund, never as paid.
    """
    amounts = Invoice.objects.with_amounts().get(pk=invoice.pk)
    if amounts.amount_credited >= amounts.total_incl_vat:
        status = Invoice.Status.CREDITED
    elif amounts.amount_due <= 0:
        status = Invoice.Status.PAID
    elif amounts.amount_paid > 0:
        status = Invoice.Status.PARTIALLY_PAID
    else:
        status = Invoice.Status.ISSUED
    if status != invoice.status:
        Invoice.objects.filter(pk=invoice.pk).update(status=status)
        invoice.status = status
    return invoice


def check_payment_date(
    *,
    invoice: Invoice,
    received_on: datetime.date,
    today: datetime.date,
    before_issue_checked: bool = False,
) -> None:
    """Refuse a payment received in the future, or before the invoice was issued."""
    if received_on > today:
        raise InvoicingError(
            _("A payment cannot be received in the future."), code="date", field="received_on"
        )
    if invoice.issue_date and received_on < invoice.issue_date and not before_issue_checked:
        raise InvoicingError(
            _(
                "The payment is dated %(date)s, before invoice %(number)s was issued "
                "(%(issued)s): it cannot be a payment of this invoice."
            )
            % {
                "date": _day(received_on),
                "number": invoice.number,
                "issued": _day(invoice.issue_date),
            },
            code="before_issue",
            field="received_on",
        )


def amount_due(invoice: Invoice) -> Decimal:
    """What the client still owes: total − credited − paid + refunded (negative when overpaid)."""
    return Invoice.objects.with_amounts().get(pk=invoice.pk).amount_due


def check_payment_amount(*, invoice: Invoice, amount: Decimal) -> None:
    """Refuse a payment typed in by hand that is more than what is still due on the invoice."""
    due = max(amount_due(invoice), ZERO)
    if amount > due:
        raise InvoicingError(
            _(
                "Only %(due)s is still due on invoice %(number)s: a payment recorded by hand "
                "cannot be more (%(amount)s)."
            )
            % {"due": euro(due), "number": invoice.number, "amount": euro(amount)},
            code="over_payment",
            field="amount",
        )


def payment_note(invoice: Invoice) -> str:
    """Tell staff what a bank payment leaves: an over-payment to refund, or what is still due."""
    due = amount_due(invoice)
    if due < 0:
        return _("Over-payment of %(amount)s: refund the client.") % {"amount": euro(-due)}
    if due > 0:
        return _("Partial payment: %(amount)s still due.") % {"amount": euro(due)}
    return ""


@transaction.atomic
def record_payment(
    *,
    invoice: Invoice,
    amount: Decimal,
    received_on: datetime.date,
    actor: User | None,
    method: str = Payment.Method.MANUAL,
    bank_line: BankStatementLine | None = None,
    note: str = "",
    before_issue_checked: bool = False,
    now: datetime.datetime | None = None,
) -> Payment:
    """Record money received for an invoice and post income and fee to its Activity.

    A payment dated before the invoice's issue date is refused: it is almost always a payment
    for something else. Only staff matching a bank line by hand, having checked that the
    client paid in advance, pass ``before_issue_checked``.

    A payment typed in by hand (no ``bank_line``) may not exceed what is still due, checked
    under the invoice's lock so that parallel requests cannot all pass. Money that did arrive
    on the bank account is recorded as it is: an over-payment from a bank line (matched by
    staff, the importer leaves them for review) shows as a negative amount due, to refund.
    A payment an online payment provider confirmed (``method`` online, ``actor`` None: nobody
    typed it in) is money that arrived too, recorded as it is like a bank line.
    """
    now = now or timezone.now()
    check_amount(amount)
    if actor is None and method != Payment.Method.ONLINE:
        raise InvoicingError(_("Only a provider's payment has no author."), code="actor")
    invoice = Invoice.objects.select_for_update().select_related("activity").get(pk=invoice.pk)
    money_arrived = bank_line is not None or method == Payment.Method.ONLINE
    payable = BANK_PAYABLE_STATUSES if money_arrived else PAYABLE_STATUSES
    if invoice.kind != Invoice.Kind.INVOICE or invoice.status not in payable:
        raise InvoicingError(
            _("Payments are recorded on issued invoices only."), code="not_payable"
        )
    check_payment_date(
        invoice=invoice,
        received_on=received_on,
        today=timezone.localdate(now),
        # Only a bank line staff have looked at can be an advance payment.
        before_issue_checked=before_issue_checked and bank_line is not None,
    )
    if method == Payment.Method.MANUAL and takes_part_in(actor, invoice.activity):
        # A payment typed in by hand makes money available to the Activity: not by its own.
        raise InvoicingError(
            _(
                "This invoice is of an Activity you take part in: another staff member records "
                "its payments."
            ),
            code="own_invoice",
        )
    if not money_arrived:
        check_payment_amount(invoice=invoice, amount=amount)
    payment = Payment.objects.create(
        invoice=invoice,
        amount=amount,
        received_on=received_on,
        method=method,
        bank_line=bank_line,
        note=note[:255],
        recorded_by=actor,
        created_at=now,
    )
    record_event(action="created", obj=payment, actor=actor, changes={"amount": [None, amount]})
    _post_income(invoice, actor=actor, now=now)
    refresh_payment_status(invoice=invoice)
    return payment


@transaction.atomic
def import_bank_statement(
    *, data: bytes, filename: str, actor: User, now: datetime.datetime | None = None
) -> list[BankStatement]:
    """Import a CAMT.053 file: match credits to invoices by structured communication.

    Lines that match no issued invoice are kept, unmatched, for staff; importing the same
    statement twice is refused and nothing of the file is written.
    """
    now = now or timezone.now()
    try:
        parsed = camt.parse_camt053(data)
    except camt.CamtError as error:
        raise InvoicingError(str(error), code="camt", field="file") from error
    # Every statement of the file is checked before anything is written.
    accounts = [
        _checked_statement(statement, today=timezone.localdate(now)) for statement in parsed
    ]
    statements = []
    for parsed_statement, account in zip(parsed, accounts, strict=True):
        try:
            # The same statement twice in the file, or imported at the same moment by another.
            with transaction.atomic():
                statement = BankStatement.objects.create(
                    account_iban=_account_key(parsed_statement),
                    bank_account=account,
                    statement_id=parsed_statement.statement_id,
                    filename=filename[:255],
                    imported_by=actor,
                    imported_at=now,
                )
        except IntegrityError as error:
            raise _already_imported(parsed_statement) from error
        for parsed_line in parsed_statement.lines:
            _import_line(statement, parsed_line, actor=actor, now=now)
        record_event(action="imported", obj=statement, actor=actor, reason=filename[:255])
        statements.append(statement)
    return statements


def _checked_statement(parsed: camt.BankStatement, *, today: datetime.date) -> BankAccount:
    """Return the cooperative's account the statement is of, or refuse the statement."""
    where = _("Statement %(id)s") % {"id": parsed.statement_id}
    identity = {
        "iban": parsed.account_iban,
        "other_id": parsed.account_other_id,
        "scheme": parsed.account_scheme,
        "issuer": parsed.account_issuer,
    }
    known = [account for account in BankAccount.objects.all() if account.accepts(**identity)]
    active = [account for account in known if account.active]
    if not active:
        message = (
            _(
                "%(where)s: %(account)s is an account of the cooperative that is no longer "
                "active. Nothing of the file was imported."
            )
            if known
            else _(
                "%(where)s: %(account)s is not one of the cooperative's accounts. Nothing of "
                "the file was imported."
            )
        )
        raise InvoicingError(
            message % {"where": where, "account": parsed.account},
            code="foreign_account",
            field="file",
        )
    if BankStatement.objects.filter(
        account_iban=_account_key(parsed), statement_id=parsed.statement_id
    ).exists():
        raise _already_imported(parsed)
    _check_statement_dates(parsed, where=where, today=today)
    references = [line.bank_reference[:MAX_BANK_REFERENCE_LENGTH] for line in parsed.lines]
    if len(set(references)) != len(references):
        raise InvoicingError(
            _(
                "%(where)s: two of its lines cannot be told apart by their references. Nothing "
                "of the file was imported."
            )
            % {"where": where},
            code="camt",
            field="file",
        )
    return active[0]


def _account_key(parsed: camt.BankStatement) -> str:
    """What a statement stores as its account: the IBAN, else the bank's other identifier."""
    return parsed.account_iban or parsed.account_other_id


def _already_imported(parsed: camt.BankStatement) -> InvoicingError:
    return InvoicingError(
        _("Statement %(id)s of %(iban)s was already imported.")
        % {"id": parsed.statement_id, "iban": parsed.account},
        code="duplicate_statement",
        field="file",
    )


def _check_statement_dates(parsed: camt.BankStatement, *, where: str, today: datetime.date) -> None:
    """Refuse a statement dated in the future (beyond a day's time zones) or absurdly old."""
    latest = today + datetime.timedelta(days=1)
    max_age = settings.COOP_BANK_STATEMENT_MAX_AGE_DAYS
    earliest = today - datetime.timedelta(days=max_age)
    future_statement = _(
        "%(where)s is dated %(date)s, in the future. Nothing of the file was imported."
    )
    old_statement = _(
        "%(where)s is dated %(date)s, more than %(days)s days ago: statements are imported as "
        "they arrive. Nothing of the file was imported."
    )
    future_entry = _(
        "%(where)s books an entry on %(date)s, in the future. Nothing of the file was imported."
    )
    old_entry = _(
        "%(where)s books an entry on %(date)s, more than %(days)s days ago: statements are "
        "imported as they arrive. Nothing of the file was imported."
    )
    dated = [(future_entry, old_entry, line.booking_date) for line in parsed.lines]
    if parsed.created_at:
        dated.insert(0, (future_statement, old_statement, timezone.localdate(parsed.created_at)))
    for too_late, too_early, day in dated:
        if earliest <= day <= latest:
            continue
        raise InvoicingError(
            (too_late if day > latest else too_early)
            % {"where": where, "date": _day(day), "days": max_age},
            code="statement_date",
            field="file",
        )


def _day(day: datetime.date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def _import_line(statement: BankStatement, parsed_line, *, actor: User, now) -> BankStatementLine:
    line = BankStatementLine(
        statement=statement,
        booking_date=parsed_line.booking_date,
        amount=parsed_line.amount,
        is_credit=parsed_line.is_credit,
        structured_communication=parsed_line.structured_communication,
        free_text=parsed_line.free_text,
        counterparty_name=parsed_line.counterparty_name[:140],
        counterparty_iban=parsed_line.counterparty_iban[:34],
        bank_reference=parsed_line.bank_reference[:MAX_BANK_REFERENCE_LENGTH],
        status=BankStatementLine.Status.UNMATCHED,
    )
    invoice = None
    if not parsed_line.is_credit or getattr(parsed_line, "is_reversal", False):
        line.status = BankStatementLine.Status.IGNORED
        line.note = _("Not an incoming payment.")
    elif parsed_line.currency != "EUR":
        line.note = _("Not in euro.")
    elif not parsed_line.structured_communication:
        line.note = _("No structured communication.")
    else:
        # Locked: what is due must not change between the check below and the payment.
        invoice = (
            Invoice.objects.select_for_update()
            .filter(
                structured_communication=parsed_line.structured_communication,
                kind=Invoice.Kind.INVOICE,
                status__in=BANK_PAYABLE_STATUSES,
            )
            .first()
        )
        due = amount_due(invoice) if invoice is not None else ZERO
        if invoice is None:
            line.note = _("No open invoice carries this structured communication.")
        elif parsed_line.booking_date < invoice.issue_date:
            line.status = BankStatementLine.Status.TO_REVIEW
            line.note = _(
                "Booked on %(date)s, before invoice %(number)s was issued on %(issued)s: check "
                "that it is its payment, then match it by hand."
            ) % {
                "date": _day(parsed_line.booking_date),
                "number": invoice.number,
                "issued": _day(invoice.issue_date),
            }
            invoice = None
        elif parsed_line.amount > due:
            line.status = BankStatementLine.Status.TO_REVIEW
            line.note = _(
                "%(amount)s is more than the %(due)s still due on invoice %(number)s: check "
                "it, then match it by hand and refund the difference, or set it aside."
            ) % {
                "amount": euro(parsed_line.amount),
                "due": euro(max(due, ZERO)),
                "number": invoice.number,
            }
            invoice = None
    line.save()
    if invoice is not None:
        record_payment(
            invoice=invoice,
            amount=parsed_line.amount,
            received_on=min(parsed_line.booking_date, timezone.localdate(now)),
            actor=actor,
            method=Payment.Method.BANK_STATEMENT,
            bank_line=line,
            now=now,
        )
        line.status = BankStatementLine.Status.MATCHED
        line.invoice = invoice
        line.note = payment_note(invoice)
        line.save(update_fields=["status", "invoice", "note"])
    return line


@transaction.atomic
def set_aside_bank_line(*, line: BankStatementLine, actor: User) -> BankStatementLine:
    """Close a line left for staff or waiting for review that is no client payment.

    A refund from a supplier, a transfer between the cooperative's own accounts, a payment for
    an invoice of another body: the line stays in its statement, marked and noted, and never
    books a payment. Only open lines can be set aside; a matched line keeps its payment.
    """
    line = BankStatementLine.objects.select_for_update().get(pk=line.pk)
    if line.status not in (
        BankStatementLine.Status.UNMATCHED,
        BankStatementLine.Status.TO_REVIEW,
    ):
        raise InvoicingError(
            _("Only a line left for staff or waiting for review can be set aside."),
            code="line_closed",
        )
    previous = line.status
    line.status = BankStatementLine.Status.IGNORED
    line.note = _("Set aside by %(name)s: not a client payment. Before: %(note)s") % {
        "name": actor.get_full_name() or actor.email,
        "note": line.note or "—",
    }
    line.note = line.note[:255]
    line.save(update_fields=["status", "note"])
    record_event(
        action="set_aside",
        obj=line,
        actor=actor,
        changes={"status": [previous, line.status]},
    )
    return line
