"""Drafting: members prepare invoices freely until they submit them."""

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import diff_fields, field_values, record_event
from coop import bounds
from coop.money import has_at_most_cents
from invoicing import vat
from invoicing.calculation import Line, VatCategory, compute_totals
from invoicing.errors import InvoicingError
from invoicing.models import Client, Invoice, InvoiceLine
from members.models import Activity, Member, User

MAX_LINES = 200
MAX_AMOUNT = Decimal("999999999.99")


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
    )


def _decimal(value, *, position: int, label: str) -> Decimal:
    if isinstance(value, float | bool):
        raise InvoicingError(
            _("Line %(position)d: the %(label)s must be an exact decimal number.")
            % {"position": position, "label": label},
            code="decimal",
            field="lines",
        )
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError) as error:
        raise InvoicingError(
            _("Line %(position)d: the %(label)s is not a number.")
            % {"position": position, "label": label},
            code="decimal",
            field="lines",
        ) from error
    if not number.is_finite() or not has_at_most_cents(number):
        raise InvoicingError(
            _("Line %(position)d: the %(label)s has more than two decimals.")
            % {"position": position, "label": label},
            code="decimals",
            field="lines",
        )
    return number


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
    buyer = vat.Customer(
        country=client.country, vat_number=client.vat_number, is_business=client.is_business
    )
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
        cleaned.append(
            Line(
                quantity=quantity,
                unit_price=unit_price,
                vat_category=category,
                vat_rate=rate.quantize(Decimal("0.01")),
                exemption_reason=reason,
                exemption_code=code,
            )
        )
    vat.check_invoice({line.vat_category for line in cleaned})
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


def _check_bounds(
    *,
    due_date: datetime.date,
    supply_date: datetime.date | None,
    buyer_reference: str,
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
    notes: str = "",
    due_date: datetime.date | None = None,
    supply_date: datetime.date | None = None,
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
    totals = compute_totals(cleaned)
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
        notes=notes,
        lines=lines,
        today=today,
    )
    fields = {
        "supply_date": supply_date,
        "activity": activity,
        "client": client,
        "buyer_reference": buyer_reference.strip(),
        "notes": notes.strip(),
        "due_date": due_date,
        "language": client.language,
        "total_excl_vat": totals.line_extension,
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
        )
        for position, (given, line) in enumerate(zip(lines, cleaned, strict=True), 1)
    )
    return invoice


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
    invoice.delete()
