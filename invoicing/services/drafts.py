"""Drafting: members prepare invoices freely until they submit them."""

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import diff_fields, field_values, record_event
from coop import bounds
from coop.money import has_at_most_cents
from coop.templatetags.money import euro
from invoicing import hooks, vat
from invoicing.calculation import (
    AllowanceCharge,
    Line,
    VatCategory,
    compute_totals,
    percentage_of,
)
from invoicing.errors import InvoicingError
from invoicing.models import Client, Invoice, InvoiceAllowanceCharge, InvoiceLine
from members.models import Activity, Member, User

MAX_LINES = 200
MAX_ALLOWANCE_CHARGES = 20
MAX_AMOUNT = Decimal("999999999.99")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LineInput:
    """One invoice line as typed by a member; amounts still to be checked."""

    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_category: str = VatCategory.STANDARD
    vat_rate: Decimal = Decimal("21")
    exemption_reason: str = ""
    supply_kind: str = vat.SupplyKind.SERVICES
    exemption_code: str = ""
    # A discount on the line: a percentage of quantity × price, or a fixed amount, with a reason.
    allowance_percent: Decimal | None = None
    allowance_amount: Decimal | None = None
    allowance_reason: str = ""


def line_input_of(line: InvoiceLine) -> LineInput:
    """The input that gives a stored line again (to edit a draft or credit an invoice)."""
    return LineInput(
        description=line.description,
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        vat_category=line.vat_category,
        vat_rate=line.vat_rate,
        exemption_reason=line.exemption_reason,
        supply_kind=line.supply_kind,
        exemption_code=line.exemption_code,
        allowance_percent=line.allowance_percent,
        allowance_amount=(line.allowance_amount or None)
        if line.allowance_percent is None
        else None,
        allowance_reason=line.allowance_reason,
    )


@dataclass(frozen=True)
class AllowanceChargeInput:
    """A discount or charge on the whole invoice as typed; a percentage or a fixed amount."""

    is_charge: bool
    reason: str
    vat_category: str = VatCategory.STANDARD
    vat_rate: Decimal = Decimal("21")
    percent: Decimal | None = None
    amount: Decimal | None = None


def _decimal(value, *, position: int, label: str, field: str = "lines") -> Decimal:
    if field == "lines":
        messages = {
            "exact": _("Line %(position)d: the %(label)s must be an exact decimal number."),
            "number": _("Line %(position)d: the %(label)s is not a number."),
            "cents": _("Line %(position)d: the %(label)s has more than two decimals."),
        }
    else:
        messages = {
            "exact": _(
                "Discount or charge %(position)d: the %(label)s must be an exact decimal number."
            ),
            "number": _("Discount or charge %(position)d: the %(label)s is not a number."),
            "cents": _(
                "Discount or charge %(position)d: the %(label)s has more than two decimals."
            ),
        }
    placeholders = {"position": position, "label": label}
    if isinstance(value, float | bool):
        raise InvoicingError(messages["exact"] % placeholders, code="decimal", field=field)
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError) as error:
        raise InvoicingError(
            messages["number"] % placeholders, code="decimal", field=field
        ) from error
    if not number.is_finite() or not has_at_most_cents(number):
        raise InvoicingError(messages["cents"] % placeholders, code="decimals", field=field)
    return number


def _clean_line_allowance(
    line: LineInput, *, position: int, gross_amount: Decimal
) -> tuple[Decimal | None, Decimal, str]:
    """Return the line's discount as (percentage or None, fixed amount, reason)."""
    given_percent = line.allowance_percent not in (None, "")
    given_amount = line.allowance_amount not in (None, "")
    if not given_percent and not given_amount:
        return None, Decimal("0.00"), ""
    if given_percent and given_amount:
        raise InvoicingError(
            _("Line %(position)d: give the discount as a percentage or as an amount, not both.")
            % {"position": position},
            code="allowance",
            field="lines",
        )
    reason = line.allowance_reason.strip()
    if given_percent:
        percent = _decimal(line.allowance_percent, position=position, label=_("discount"))
        if not 0 < percent <= HUNDRED:
            raise InvoicingError(
                _("Line %(position)d: a discount percentage is more than 0 and at most 100.")
                % {"position": position},
                code="allowance_percent",
                field="lines",
            )
        fixed, allowance = Decimal("0.00"), percentage_of(gross_amount, percent)
    else:
        percent = None
        fixed = allowance = _decimal(line.allowance_amount, position=position, label=_("discount"))
        if fixed <= 0:
            raise InvoicingError(
                _("Line %(position)d: a discount is more than zero; leave it empty for none.")
                % {"position": position},
                code="allowance_amount",
                field="lines",
            )
    if allowance > gross_amount:
        raise InvoicingError(
            _(
                "Line %(position)d: the discount (%(discount)s) is larger than the line amount "
                "(%(amount)s)."
            )
            % {"position": position, "discount": euro(allowance), "amount": euro(gross_amount)},
            code="allowance_too_large",
            field="lines",
        )
    if not reason:
        raise InvoicingError(
            _("Line %(position)d: say why the discount is given.") % {"position": position},
            code="allowance_reason",
            field="lines",
        )
    return percent, fixed, reason


def clean_lines(lines: list[LineInput], *, client: Client) -> list[Line]:
    """Check every line and return them ready for computing; raise on the first problem."""
    if not lines:
        raise InvoicingError(
            _("Add at least one line to the invoice."), code="empty", field="lines"
        )
    if len(lines) > MAX_LINES:
        raise InvoicingError(
            _("An invoice has at most %(count)d lines.") % {"count": MAX_LINES},
            code="too_many_lines",
            field="lines",
        )
    buyer = vat.customer_of(client)
    cleaned = []
    for position, line in enumerate(lines, 1):
        if not line.description.strip():
            raise InvoicingError(
                _("Line %(position)d: describe the work or goods.") % {"position": position},
                code="description",
                field="lines",
            )
        quantity = _decimal(line.quantity, position=position, label=_("quantity"))
        unit_price = _decimal(line.unit_price, position=position, label=_("unit price"))
        rate = _decimal(line.vat_rate, position=position, label=_("VAT rate"))
        if quantity <= 0:
            raise InvoicingError(
                _("Line %(position)d: the quantity must be more than zero.")
                % {"position": position},
                code="quantity",
                field="lines",
            )
        if unit_price < 0:
            raise InvoicingError(
                _("Line %(position)d: the unit price cannot be negative; issue a credit note.")
                % {"position": position},
                code="unit_price",
                field="lines",
            )
        if quantity * unit_price > MAX_AMOUNT:
            raise InvoicingError(
                _("Line %(position)d: the amount is too large.") % {"position": position},
                code="amount",
                field="lines",
            )
        if line.unit not in InvoiceLine.Unit.values:
            raise InvoicingError(
                _("Line %(position)d: choose hour, day or piece.") % {"position": position},
                code="unit",
                field="lines",
            )
        category = line.vat_category
        if category not in VatCategory.CHOICES:
            raise InvoicingError(
                _("Line %(position)d: unknown VAT category.") % {"position": position},
                code="vat_category",
                field="lines",
            )
        vat.check_line(
            position=position,
            category=category,
            supply_kind=line.supply_kind,
            rate=rate,
            code=line.exemption_code.strip(),
            buyer=buyer,
        )
        # The law's mention for K, AE, G and O, in the client's language; for E the member's.
        reason, code = vat.exemption(
            category,
            reason=line.exemption_reason,
            code=line.exemption_code.strip(),
            buyer_country=client.country,
            language=client.language,
        )
        if category in VatCategory.NEEDS_REASON and not reason:
            raise InvoicingError(
                _("Line %(position)d: give the legal basis of the VAT exemption.")
                % {"position": position},
                code="exemption_reason",
                field="lines",
            )
        allowance_percent, allowance_fixed, allowance_reason = _clean_line_allowance(
            line,
            position=position,
            gross_amount=Line(quantity, unit_price, category, rate).gross_amount,
        )
        cleaned.append(
            Line(
                quantity=quantity,
                unit_price=unit_price,
                vat_category=category,
                vat_rate=rate.quantize(Decimal("0.01")),
                exemption_reason=reason,
                exemption_code=code,
                allowance_percent=allowance_percent,
                allowance_fixed=allowance_fixed,
                allowance_reason=allowance_reason,
            )
        )
    vat.check_invoice({line.vat_category for line in cleaned})
    return cleaned


def clean_allowance_charges(
    items: list[AllowanceChargeInput], *, lines: list[Line]
) -> list[AllowanceCharge]:
    """Check the document-level discounts and charges against the checked lines.

    Each takes the VAT category and rate of lines it adjusts; a percentage is taken of those
    lines' net amount; discounts never exceed what they reduce.
    """
    if len(items) > MAX_ALLOWANCE_CHARGES:
        raise InvoicingError(
            _("An invoice has at most %(count)d discounts and charges.")
            % {"count": MAX_ALLOWANCE_CHARGES},
            code="too_many_allowance_charges",
            field="allowance_charges",
        )
    field = "allowance_charges"
    cleaned = []
    for position, item in enumerate(items, 1):
        where = {"position": position}
        reason = item.reason.strip()
        if not reason:
            raise InvoicingError(
                _("Discount or charge %(position)d: say what it is for.") % where,
                code="reason",
                field=field,
            )
        if len(reason) > 255:
            raise InvoicingError(
                _("Discount or charge %(position)d: the reason has at most 255 characters.")
                % where,
                code="reason",
                field=field,
            )
        given_percent = item.percent not in (None, "")
        given_amount = item.amount not in (None, "")
        if given_percent == given_amount:
            message = (
                _("Discount or charge %(position)d: give a percentage or an amount, not both.")
                if given_percent
                else _("Discount or charge %(position)d: give a percentage or an amount.")
            )
            raise InvoicingError(message % where, code="percent_or_amount", field=field)
        rate = _decimal(item.vat_rate, position=position, label=_("VAT rate"), field=field)
        rate = rate.quantize(Decimal("0.01"))
        if not any(
            (line.vat_category, line.vat_rate) == (item.vat_category, rate) for line in lines
        ):
            raise InvoicingError(
                _(
                    "Discount or charge %(position)d: no line has this VAT category and rate; "
                    "a discount or charge takes the VAT of the lines it adjusts."
                )
                % where,
                code="vat_group",
                field=field,
            )
        if given_percent:
            percent = _decimal(item.percent, position=position, label=_("percentage"), field=field)
            if not 0 < percent <= HUNDRED:
                raise InvoicingError(
                    _(
                        "Discount or charge %(position)d: the percentage is more than 0 and "
                        "at most 100."
                    )
                    % where,
                    code="percent",
                    field=field,
                )
            fixed = Decimal("0.00")
        else:
            percent = None
            fixed = _decimal(item.amount, position=position, label=_("amount"), field=field)
            if fixed <= 0 or fixed > MAX_AMOUNT:
                raise InvoicingError(
                    _("Discount or charge %(position)d: the amount must be more than zero.")
                    % where,
                    code="amount",
                    field=field,
                )
        adjustment = AllowanceCharge(
            is_charge=bool(item.is_charge),
            reason=reason,
            vat_category=item.vat_category,
            vat_rate=rate,
            percent=percent,
            fixed=fixed,
        )
        base = adjustment.base_amount(lines)
        amount = adjustment.amount(lines)
        if amount <= 0:
            raise InvoicingError(
                _("Discount or charge %(position)d: it comes to less than a cent.") % where,
                code="amount",
                field=field,
            )
        if not adjustment.is_charge and amount > base:
            raise InvoicingError(
                _(
                    "Discount %(position)d (%(amount)s) is larger than its base, the lines at "
                    "this VAT rate (%(base)s)."
                )
                % {**where, "amount": euro(amount), "base": euro(base)},
                code="allowance_too_large",
                field=field,
            )
        cleaned.append(adjustment)
    for group in compute_totals(lines, cleaned).vat_breakdown:
        if group.taxable_amount < 0:
            raise InvoicingError(
                _("The discounts at %(rate)s %% come to more than the lines they reduce.")
                % {"rate": group.rate},
                code="allowance_too_large",
                field=field,
            )
    return cleaned


def _check_activity(user: User, activity: Activity) -> None:
    from members.selectors import activities_visible_to

    # Read the owner's status from the database: the caller's copy may predate a suspension.
    owner_status = (
        activities_visible_to(user).filter(pk=activity.pk).values_list("owner__status", flat=True)
    ).first()
    if owner_status is None:
        raise InvoicingError(_("Unknown Activity."), code="activity", field="activity")
    if owner_status != Member.Status.ACTIVE:
        raise InvoicingError(
            _("Only the Activities of active members can invoice."),
            code="member_not_active",
            field="activity",
        )


def _check_client(
    user: User, client: Client, invoice: Invoice | None, *, cooperative_process: bool
) -> None:
    from invoicing.selectors import clients_visible_to

    # A co-member may open a draft made out to the client of whoever started it.
    if invoice is not None and invoice.client_id == client.pk:
        return
    if cooperative_process and client.owner_id is None:
        return
    if not clients_visible_to(user).filter(pk=client.pk).exists():
        raise InvoicingError(_("Unknown client."), code="client", field="client")


def _refuse_out_of_bounds(field: str, check, *args, **kwargs) -> None:
    try:
        check(*args, **kwargs)
    except bounds.OutOfBounds as error:
        raise InvoicingError(error.message, code=field, field=field) from None


def _check_period(
    *,
    supply_date: datetime.date | None,
    period_start: datetime.date | None,
    period_end: datetime.date | None,
    today: datetime.date,
) -> None:
    """A supply on one day has a date of supply; work over several days has a period."""
    for field, day in (("period_start", period_start), ("period_end", period_end)):
        if day is not None:
            _refuse_out_of_bounds(field, bounds.check_supply_date, day, today=today)
    if (period_start is None) != (period_end is None):
        raise InvoicingError(
            _("Give both the first and the last day of the period, or neither."),
            code="period",
            field="period_end" if period_end is None else "period_start",
        )
    if period_start is None or period_end is None:
        return
    if period_end < period_start:
        raise InvoicingError(
            _("The period ends before it starts."), code="period", field="period_end"
        )
    if supply_date is not None:
        raise InvoicingError(
            _("Give a date of supply or a period, not both."),
            code="period",
            field="supply_date",
        )


def _check_bounds(
    *,
    due_date: datetime.date,
    supply_date: datetime.date | None,
    buyer_reference: str,
    order_reference: str,
    notes: str,
    lines: list[LineInput],
    today: datetime.date,
) -> None:
    """Refuse dates and texts outside ``coop.bounds``: nothing is cut to fit."""
    _refuse_out_of_bounds("due_date", bounds.check_due_date, due_date, issue_date=today)
    if supply_date is not None:
        _refuse_out_of_bounds("supply_date", bounds.check_supply_date, supply_date, today=today)
    texts = [
        (
            "buyer_reference",
            buyer_reference,
            bounds.BUYER_REFERENCE_MAX_LENGTH,
            _("Buyer reference"),
        ),
        (
            "order_reference",
            order_reference,
            bounds.BUYER_REFERENCE_MAX_LENGTH,
            _("Purchase order"),
        ),
        ("notes", notes, bounds.NOTES_MAX_LENGTH, _("Notes")),
        *(
            ("lines", line.description, bounds.LINE_DESCRIPTION_MAX_LENGTH, _("Description"))
            for line in lines
        ),
    ]
    for field, text, limit, label in texts:
        _refuse_out_of_bounds(
            field, bounds.check_text_length, str(text).strip(), limit=limit, label=label
        )


@transaction.atomic
def save_draft(
    *,
    user: User,
    activity: Activity,
    client: Client,
    lines: list[LineInput],
    today: datetime.date,
    invoice: Invoice | None = None,
    buyer_reference: str = "",
    order_reference: str = "",
    notes: str = "",
    due_date: datetime.date | None = None,
    supply_date: datetime.date | None = None,
    period_start: datetime.date | None = None,
    period_end: datetime.date | None = None,
    allowance_charges: list[AllowanceChargeInput] | None = None,
    cooperative_process: bool = False,
) -> Invoice:
    """Create or replace a draft invoice with its lines and freshly computed totals.

    Members invoice their own clients. Only the cooperative's own processes (LaVallée's
    billing of outside renters) say ``cooperative_process`` to invoice the cooperative's
    clients, which no member owns; browser and API input never does.
    """
    _check_activity(user, activity)
    _check_client(user, client, invoice, cooperative_process=cooperative_process)
    if invoice is not None:
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if not invoice.is_editable:
            raise InvoicingError(
                _("This invoice was submitted and can no longer be edited."), code="not_editable"
            )
    cleaned = clean_lines(lines, client=client)
    adjustments = clean_allowance_charges(allowance_charges or [], lines=cleaned)
    totals = compute_totals(cleaned, adjustments)
    if due_date is None:
        due_date = today + datetime.timedelta(days=client.payment_terms_days)
    if due_date < today:
        raise InvoicingError(
            _("The due date cannot be in the past."), code="due_date", field="due_date"
        )
    _check_bounds(
        due_date=due_date,
        supply_date=supply_date,
        buyer_reference=buyer_reference,
        order_reference=order_reference,
        notes=notes,
        lines=lines,
        today=today,
    )
    _check_period(
        supply_date=supply_date, period_start=period_start, period_end=period_end, today=today
    )
    fields = {
        "supply_date": supply_date,
        "period_start": period_start,
        "period_end": period_end,
        "activity": activity,
        "client": client,
        "buyer_reference": buyer_reference.strip(),
        "order_reference": order_reference.strip(),
        "notes": notes.strip(),
        "due_date": due_date,
        "language": client.language,
        "total_excl_vat": totals.tax_exclusive,
        "total_vat": totals.vat,
        "total_incl_vat": totals.tax_inclusive,
    }
    if invoice is None:
        invoice = Invoice.objects.create(created_by=user, **fields)
        record_event(action="created", obj=invoice, actor=user)
    else:
        before = field_values(invoice, fields)
        for name, value in fields.items():
            setattr(invoice, name, value)
        invoice.status = Invoice.Status.DRAFT
        invoice.save()
        invoice.lines.all().delete()
        invoice.allowance_charges.all().delete()
        changes = diff_fields(before, field_values(invoice, fields))
        record_event(action="changed", obj=invoice, actor=user, changes=changes)
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=position,
            description=given.description.strip(),
            quantity=line.quantity,
            unit=given.unit,
            unit_price=line.unit_price,
            vat_category=line.vat_category,
            vat_rate=line.vat_rate,
            supply_kind=given.supply_kind,
            exemption_reason=line.exemption_reason,
            exemption_code=line.exemption_code,
            allowance_percent=line.allowance_percent,
            allowance_amount=line.allowance_amount,
            allowance_reason=line.allowance_reason,
        )
        for position, (given, line) in enumerate(zip(lines, cleaned, strict=True), 1)
    )
    create_allowance_charges(invoice, adjustments, lines=cleaned)
    # An app that drew this draft up from its own record (an order) may refuse the edit; the
    # whole save is then undone.
    hooks.check_invoice(invoice)
    return invoice


def create_allowance_charges(
    invoice: Invoice, adjustments: list[AllowanceCharge], *, lines: list[Line]
) -> None:
    """Store checked document-level discounts and charges with their computed amounts."""
    InvoiceAllowanceCharge.objects.bulk_create(
        InvoiceAllowanceCharge(
            invoice=invoice,
            position=position,
            is_charge=adjustment.is_charge,
            reason=adjustment.reason,
            percent=adjustment.percent,
            amount=adjustment.amount(lines),
            vat_category=adjustment.vat_category,
            vat_rate=adjustment.vat_rate,
        )
        for position, adjustment in enumerate(adjustments, 1)
    )


@transaction.atomic
def delete_draft(*, invoice: Invoice) -> None:
    """Delete a draft; submitted and issued invoices stay."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if not invoice.is_editable:
        raise InvoicingError(
            _("Only drafts can be deleted; issued invoices are corrected by a credit note."),
            code="not_editable",
        )
    record_event(action="deleted", obj=invoice)
    invoice.lines.all().delete()
    invoice.allowance_charges.all().delete()
    invoice.delete()
