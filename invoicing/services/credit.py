"""Credit notes: requested by the member (or by staff), issued by another staff member, in their
own series.

Nobody issues a credit note they requested: staff who want an invoice credited request it, and a
colleague approves it like any document waiting for review.

Each line of a credit note credits one line of the invoice, at that line's VAT category and
rate. Per invoice line, what all credit notes still standing (issued or waiting for review)
credit never exceeds what was invoiced, excluding VAT and in VAT; in total, neither does the
net, the VAT or the amount including VAT. The check runs when the credit note is requested and
again when staff issue it, under the invoice's row lock, so two requests cannot both pass.

VAT is rounded once per VAT group (category and rate), so pieces credited one by one may round
to more than was charged: 3 × 19.99 at 21 % charged 12.59, while each hour credited alone gives
4.20. The credit note that completes an invoice line's net amount, or a VAT group's taxable
amount, therefore takes exactly the VAT that is left of it (12.59 − 8.40 = 4.19), through a VAT
correction on its last line of that line or group (:func:`with_vat_remainders`). Its VAT
breakdown then differs by a cent from taxable amount × rate: EN 16931 allows this (BR-S-09 and
its siblings accept less than one euro of difference), and it is what the law asks of a credit
note, which corrects the VAT actually charged (art. 79 of the VAT code), no more.
"""

import dataclasses
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import prefetch_related_objects
from django.template.defaultfilters import floatformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import record_event
from coop.money import round_money
from coop.templatetags.money import euro
from invoicing import review_reasons
from invoicing.calculation import AllowanceCharge, Line, compute_totals
from invoicing.errors import InvoicingError
from invoicing.models import Invoice, InvoiceLine
from invoicing.services.drafts import (
    AllowanceChargeInput,
    _decimal,
    clean_allowance_charges,
    create_allowance_charges,
)
from invoicing.vat import rate_name
from members.models import User

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class CreditLineInput:
    """How much of one invoice line to credit: a quantity at its price, or an amount excl. VAT.

    ``position`` is the invoice line's position (1, 2, …). With a quantity only, that quantity
    is credited at the line's net price (see :func:`_by_quantity`); with an amount only, one
    piece of that amount; with both, the quantity for that amount, at a unit price no higher
    than the line's net one. The VAT category and rate are the invoice line's: when given, they
    must be the same.
    """

    position: int
    quantity: Decimal | None = None
    amount: Decimal | None = None
    description: str = ""
    vat_category: str | None = None
    vat_rate: Decimal | None = None


@dataclass(frozen=True)
class CreditedLine:
    """A credit-note line ready to be written: the invoice line it credits and how much."""

    original: InvoiceLine
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    # The invoice line's own discount, repeated when the whole line is credited.
    allowance_percent: Decimal | None = None
    allowance_fixed: Decimal = ZERO
    allowance_reason: str = ""
    # The cents that make this credit note take back exactly the VAT left (see the module).
    vat_correction: Decimal = ZERO

    @property
    def net_amount(self) -> Decimal:
        return self.as_line().net_amount

    def as_line(self) -> Line:
        return Line(
            self.quantity,
            self.unit_price,
            self.original.vat_category,
            self.original.vat_rate,
            self.original.exemption_reason,
            self.original.exemption_code,
            self.allowance_percent,
            self.allowance_fixed,
            self.allowance_reason,
            self.vat_correction,
        )


@dataclass
class LineCredit:
    """One invoice line beside what credit notes take from it."""

    line: InvoiceLine
    invoiced_net: Decimal
    invoiced_vat: Decimal
    credited_net: Decimal = ZERO  # by other credit notes still standing
    credited_vat: Decimal = ZERO
    this_net: Decimal = ZERO  # by the credit note at hand
    this_vat: Decimal = ZERO
    this_quantity: Decimal | None = None
    # The quantity other standing notes credit at the line's unit price; None once one of them
    # credits it otherwise (an amount, or a quantity at another price).
    credited_quantity: Decimal | None = ZERO

    @property
    def rate_name(self) -> str:
        return rate_name(self.line.vat_category, self.line.vat_rate)

    @property
    def left_net(self) -> Decimal:
        return self.invoiced_net - self.credited_net - self.this_net

    @property
    def left_vat(self) -> Decimal:
        return self.invoiced_vat - self.credited_vat - self.this_vat


@dataclass
class GroupCredit:
    """One VAT group (category and rate) of the invoice beside what credit notes take from it."""

    invoiced_net: Decimal
    invoiced_vat: Decimal
    credited_net: Decimal = ZERO  # by other credit notes still standing
    credited_vat: Decimal = ZERO


@dataclass
class CreditPosition:
    """What an invoice charged, per line and in total, and what its credit notes take back."""

    invoice: Invoice
    lines: list[LineCredit] = field(default_factory=list)
    credited_excl_vat: Decimal = ZERO
    credited_vat: Decimal = ZERO
    credited_incl_vat: Decimal = ZERO
    unlinked_lines: list[InvoiceLine] = field(default_factory=list)
    groups: dict[tuple[str, Decimal], GroupCredit] = field(default_factory=dict)


def line_vat(net: Decimal, rate: Decimal) -> Decimal:
    """Return the VAT a line's amount generates on its own, rounded half-up to the cent."""
    return round_money(net * rate / HUNDRED)


def credit_position(invoice: Invoice, *, credit_note: Invoice | None = None) -> CreditPosition:
    """Return the invoice's lines beside what its other standing credit notes credit.

    Standing means issued or waiting for review: every credit note that is not rejected. When
    ``credit_note`` is given, it is left out of "already credited" and shown as "this note".
    """
    if "credit_notes" in getattr(invoice, "_prefetched_objects_cache", {}):
        # The caller read them with the invoice (the admin's page).
        notes = list(invoice.credit_notes.all())
    else:
        notes = list(Invoice.objects.filter(credited_invoice=invoice).defer("snapshot"))
    notes = [
        note
        for note in notes
        if note.status != Invoice.Status.REJECTED
        and (credit_note is None or note.pk != credit_note.pk)
    ]
    # The lines and allowances of every document compared, in one query each.
    documents = [invoice, *notes, *([credit_note] if credit_note is not None else [])]
    prefetch_related_objects(documents, "lines", "allowance_charges")
    position = CreditPosition(
        invoice=invoice,
        credited_excl_vat=sum((note.total_excl_vat for note in notes), ZERO),
        credited_vat=sum((note.total_vat for note in notes), ZERO),
        credited_incl_vat=sum((note.total_incl_vat for note in notes), ZERO),
    )
    by_pk = {}
    invoice_lines = list(invoice.lines.all())
    for line in invoice_lines:
        net = line.net_amount
        by_pk[line.pk] = LineCredit(
            line=line, invoiced_net=net, invoiced_vat=line_vat(net, line.vat_rate)
        )
        position.lines.append(by_pk[line.pk])
    _add_groups(
        position.groups,
        [line.as_line() for line in invoice_lines],
        [item.as_allowance_charge() for item in invoice.allowance_charges.all()],
        invoiced=True,
    )
    for note in notes:
        note_lines = list(note.lines.all())
        _add_groups(
            position.groups,
            [line.as_line() for line in note_lines],
            [item.as_allowance_charge() for item in note.allowance_charges.all()],
        )
        for credit_line in note_lines:
            entry = by_pk.get(credit_line.credited_line_id)
            if entry is None:
                # Credited before lines were linked: it counts in the totals only.
                position.unlinked_lines.append(credit_line)
                continue
            entry.credited_net += credit_line.net_amount
            entry.credited_vat += _credited_line_vat(credit_line)
            entry.credited_quantity = _add_quantity(
                entry.credited_quantity, credit_line, entry.line
            )
    if credit_note is not None:
        for credit_line in credit_note.lines.all():
            entry = by_pk.get(credit_line.credited_line_id)
            if entry is not None:
                entry.this_net += credit_line.net_amount
                entry.this_vat += _credited_line_vat(credit_line)
                entry.this_quantity = (entry.this_quantity or ZERO) + credit_line.quantity
    return position


def _add_quantity(
    credited: Decimal | None, credit_line: InvoiceLine | CreditedLine, line: InvoiceLine
) -> Decimal | None:
    """Add a credit line's quantity when it credits the line by quantity, at its unit price."""
    if credited is None or (credit_line.unit, credit_line.unit_price) != (
        line.unit,
        line.unit_price,
    ):
        return None
    return credited + credit_line.quantity


def _credited_line_vat(line: InvoiceLine) -> Decimal:
    """The VAT a credit-note line takes back: its amount's own, and its correction."""
    return line_vat(line.net_amount, line.vat_rate) + line.vat_correction


def _add_groups(
    groups: dict[tuple[str, Decimal], GroupCredit],
    lines: list[Line],
    adjustments: list[AllowanceCharge],
    *,
    invoiced: bool = False,
) -> None:
    """Add a document's VAT groups to what the invoice charged, or to what is credited."""
    for group in compute_totals(lines, adjustments).vat_breakdown:
        key = (group.category, group.rate)
        if invoiced:
            groups[key] = GroupCredit(group.taxable_amount, group.vat_amount)
        elif key in groups:
            groups[key].credited_net += group.taxable_amount
            groups[key].credited_vat += group.vat_amount


def with_vat_remainders(
    position: CreditPosition,
    lines: list[CreditedLine],
    adjustments: tuple[AllowanceCharge, ...] | list[AllowanceCharge] = (),
) -> list[CreditedLine]:
    """Return the lines with the VAT corrections that make the note take exactly what is left.

    The credit note that completes an invoice line's net amount takes the VAT left of that line;
    the one that completes a VAT group's taxable amount, the VAT left of that group. Any other
    keeps the VAT its own amounts give.
    """
    lines = [dataclasses.replace(line, vat_correction=ZERO) for line in lines]
    entries = {entry.line.pk: entry for entry in position.lines}
    last_of_line: dict[int, int] = {}
    for index, credited in enumerate(lines):
        last_of_line[credited.original.pk] = index
    for pk, index in last_of_line.items():
        entry = entries[pk]
        mine = [line for line in lines if line.original.pk == pk]
        if entry.credited_net + sum((line.net_amount for line in mine), ZERO) != entry.invoiced_net:
            continue
        taken = sum((line_vat(line.net_amount, entry.line.vat_rate) for line in mine), ZERO)
        lines[index] = dataclasses.replace(
            lines[index], vat_correction=entry.invoiced_vat - entry.credited_vat - taken
        )
    totals = compute_totals([line.as_line() for line in lines], adjustments)
    for group in totals.vat_breakdown:
        key = (group.category, group.rate)
        charged = position.groups.get(key)
        in_group = [
            index
            for index, line in enumerate(lines)
            if (line.original.vat_category, line.original.vat_rate) == key
        ]
        if (
            charged is None
            or not in_group
            or charged.credited_net + group.taxable_amount != charged.invoiced_net
        ):
            continue
        index = in_group[-1]
        difference = charged.invoiced_vat - charged.credited_vat - group.vat_amount
        lines[index] = dataclasses.replace(
            lines[index], vat_correction=lines[index].vat_correction + difference
        )
    return lines


def _refuse_line(line: InvoiceLine, message: str, **values) -> InvoicingError:
    return InvoicingError(
        message % {"position": line.position, **values}, code="credit_too_large", field="lines"
    )


def check_credit_caps(
    position: CreditPosition,
    lines: list[CreditedLine],
    *,
    adjustments: tuple[AllowanceCharge, ...] | list[AllowanceCharge] = (),
) -> None:
    """Refuse credit-note lines that, with the other standing notes, credit more than invoiced."""
    entries = {entry.line.pk: entry for entry in position.lines}
    this_net: dict[int, Decimal] = {}
    this_vat: dict[int, Decimal] = {}
    for credited in lines:
        pk = credited.original.pk
        this_net[pk] = this_net.get(pk, ZERO) + credited.net_amount
        this_vat[pk] = this_vat.get(pk, ZERO) + line_vat(
            credited.net_amount, credited.original.vat_rate
        )
    for pk, net in this_net.items():
        entry = entries[pk]
        left_net = entry.invoiced_net - entry.credited_net
        if net > left_net:
            raise _refuse_line(
                entry.line,
                _("Line %(position)d: at most %(left)s excl. VAT is left to credit."),
                left=euro(max(left_net, ZERO)),
            )
        left_vat = entry.invoiced_vat - entry.credited_vat
        # The note that completes the line takes the VAT left of it (with_vat_remainders).
        if net != left_net and this_vat[pk] > left_vat:
            raise _refuse_line(
                entry.line,
                _("Line %(position)d: at most %(left)s of VAT is left to credit."),
                left=euro(max(left_vat, ZERO)),
            )
    totals = compute_totals([credited.as_line() for credited in lines], adjustments)
    for group in totals.vat_breakdown:
        charged = position.groups.get((group.category, group.rate))
        if charged is None:
            continue
        # Per VAT group: the net credited at a rate cannot take the room left at another rate.
        for credited, this, invoiced, message in [
            (
                charged.credited_net,
                group.taxable_amount,
                charged.invoiced_net,
                _(
                    "Credit notes cannot exceed the invoice: %(left)s excl. VAT is left to "
                    "credit at %(rate)s %%."
                ),
            ),
            (
                charged.credited_vat,
                group.vat_amount,
                charged.invoiced_vat,
                _(
                    "Credit notes cannot exceed the invoice: %(left)s of VAT is left to credit "
                    "at %(rate)s %%."
                ),
            ),
        ]:
            if credited + this > invoiced:
                raise InvoicingError(
                    message
                    % {
                        "left": euro(max(invoiced - credited, ZERO)),
                        "rate": group.rate.normalize(),
                    },
                    code="credit_too_large",
                )
    invoice = position.invoice
    for credited, this, invoiced, message in [
        (
            position.credited_excl_vat,
            totals.tax_exclusive,
            invoice.total_excl_vat,
            _("Credit notes cannot exceed the invoice: %(left)s excl. VAT is left to credit."),
        ),
        (
            position.credited_vat,
            totals.vat,
            invoice.total_vat,
            _("Credit notes cannot exceed the invoice: %(left)s of VAT is left to credit."),
        ),
        (
            position.credited_incl_vat,
            totals.tax_inclusive,
            invoice.total_incl_vat,
            _("Credit notes cannot exceed the invoice: %(left)s incl. VAT is left to credit."),
        ),
    ]:
        if credited + this > invoiced:
            raise InvoicingError(
                message % {"left": euro(max(invoiced - credited, ZERO))},
                code="credit_too_large",
            )


def _full_credit_lines(position: CreditPosition) -> list[CreditedLine]:
    """Credit what is left of every line: the line itself when nothing of it was credited."""
    lines = []
    # After partial credits, which do not repeat the document's discounts and charges, what is
    # left of a VAT group can be less than what is left of its lines: the group caps them.
    untouched = position.credited_incl_vat == 0
    group_left = {
        key: group.invoiced_net - group.credited_net for key, group in position.groups.items()
    }
    for entry in position.lines:
        line = entry.line
        left = entry.invoiced_net - entry.credited_net
        key = (line.vat_category, line.vat_rate)
        if not untouched and key in group_left:
            left = min(left, group_left[key])
            group_left[key] -= max(left, ZERO)
        if left <= 0:
            continue
        if entry.credited_net == 0 and left == entry.invoiced_net:
            lines.append(
                CreditedLine(
                    line,
                    line.description,
                    line.quantity,
                    line.unit,
                    line.unit_price,
                    allowance_percent=line.allowance_percent,
                    allowance_fixed=line.allowance_amount
                    if line.allowance_percent is None
                    else ZERO,
                    allowance_reason=line.allowance_reason,
                )
            )
        else:
            lines.append(CreditedLine(line, line.description, Decimal("1"), "piece", left))
    if not lines:
        raise InvoicingError(
            _("Credit notes cannot exceed the invoice: nothing is left to credit."),
            code="credit_too_large",
        )
    return lines


def _positive(value, *, position: int, label: str) -> Decimal | None:
    """Return a given quantity or amount as an exact decimal above zero; None when not given."""
    if value is None:
        return None
    number = _decimal(value, position=position, label=label)
    if number <= 0:
        raise InvoicingError(
            _("Line %(position)d: the %(label)s must be more than zero.")
            % {"position": position, "label": label},
            code="amount",
            field="lines",
        )
    return number


def _by_quantity(
    entry: LineCredit,
    description: str,
    quantity: Decimal,
    *,
    credited_quantity: Decimal | None,
    credited_net: Decimal,
) -> CreditedLine:
    """Credit a quantity of an invoice line at its net price, less its own discount.

    A percentage discount is repeated; a fixed one is shared pro rata to the quantity, rounded
    to the cent. The note that completes the line's quantity, when everything credited of it so
    far was credited by quantity, takes exactly the net amount that is left of it, as
    :func:`_full_credit_lines` and :func:`with_vat_remainders` do: the rounded shares of the
    discount then add up to the discount given.
    """
    line = entry.line
    credited = CreditedLine(line, description, quantity, line.unit, line.unit_price)
    if not line.allowance_amount:
        return credited
    if line.allowance_percent is not None:
        credited = dataclasses.replace(
            credited,
            allowance_percent=line.allowance_percent,
            allowance_reason=line.allowance_reason,
        )
    else:
        credited = dataclasses.replace(
            credited,
            allowance_fixed=round_money(line.allowance_amount * quantity / line.quantity),
            allowance_reason=line.allowance_reason,
        )
    if credited_quantity is None or credited_quantity + quantity != line.quantity:
        return credited
    left = entry.invoiced_net - credited_net
    gross = credited.as_line().gross_amount
    if credited.net_amount == left or not ZERO <= gross - left <= gross:
        return credited
    return dataclasses.replace(
        credited,
        allowance_percent=None,
        allowance_fixed=gross - left,
        allowance_reason=line.allowance_reason if gross > left else "",
    )


def _check_unit_price(
    line: InvoiceLine, *, quantity: Decimal, amount: Decimal, invoiced_net: Decimal
) -> None:
    """Refuse an amount for a quantity that credits more a unit than the line's net price."""
    if amount * line.quantity <= invoiced_net * quantity:
        return
    raise InvoicingError(
        _(
            "Line %(position)d: %(amount)s for %(quantity)s is %(price)s a unit, more than the "
            "invoiced net unit price (%(invoiced)s)."
        )
        % {
            "position": line.position,
            "amount": euro(amount),
            "quantity": floatformat(quantity, -2),
            "price": euro(round_money(amount / quantity)),
            "invoiced": euro(round_money(invoiced_net / line.quantity)),
        },
        code="credit_unit_price",
        field="lines",
    )


def _credited_lines(
    position: CreditPosition, requested: list[CreditLineInput]
) -> list[CreditedLine]:
    """Turn what was asked into credit-note lines; refuse unknown lines and other VAT."""
    if not requested:
        raise InvoicingError(
            _("Say which lines of the invoice to credit."), code="empty", field="lines"
        )
    entries = {entry.line.position: entry for entry in position.lines}
    lines: list[CreditedLine] = []
    for index, given in enumerate(requested, 1):
        entry = entries.get(given.position)
        if entry is None:
            raise InvoicingError(
                _("Credit line %(index)d: the invoice has no line %(position)s.")
                % {"index": index, "position": given.position},
                code="unknown_line",
                field="lines",
            )
        original = entry.line
        number = original.position
        if (given.vat_category is not None and given.vat_category != original.vat_category) or (
            given.vat_rate is not None and Decimal(given.vat_rate) != original.vat_rate
        ):
            raise InvoicingError(
                _(
                    "Line %(position)d: a credit note keeps the VAT category and rate of the "
                    "invoice line (%(category)s, %(rate)s %%)."
                )
                % {
                    "position": number,
                    "category": rate_name(original.vat_category, original.vat_rate),
                    "rate": original.vat_rate.normalize(),
                },
                code="vat_mismatch",
                field="lines",
            )
        quantity = _positive(given.quantity, position=number, label=_("quantity"))
        amount = _positive(given.amount, position=number, label=_("amount"))
        if quantity is not None and quantity > original.quantity:
            raise InvoicingError(
                _("Line %(position)d: at most %(quantity)s can be credited.")
                % {"position": number, "quantity": floatformat(original.quantity, -2)},
                code="credit_too_large",
                field="lines",
            )
        description = (given.description or original.description).strip()[:300]
        if quantity is not None and amount is None:
            # Earlier lines of this note that credit the same invoice line count as credited.
            before = [line for line in lines if line.original.pk == original.pk]
            credited_quantity = entry.credited_quantity
            for line in before:
                credited_quantity = _add_quantity(credited_quantity, line, original)
            lines.append(
                _by_quantity(
                    entry,
                    description,
                    quantity,
                    credited_quantity=credited_quantity,
                    credited_net=entry.credited_net
                    + sum((line.net_amount for line in before), ZERO),
                )
            )
        elif quantity is None and amount is not None:
            lines.append(CreditedLine(original, description, Decimal("1"), "piece", amount))
        elif quantity is not None and amount is not None:
            unit_price = round_money(amount / quantity)
            if unit_price * quantity != amount:
                raise InvoicingError(
                    _(
                        "Line %(position)d: %(amount)s for %(quantity)s does not give a unit "
                        "price in cents; give the quantity or the amount alone."
                    )
                    % {
                        "position": number,
                        "amount": euro(amount),
                        "quantity": floatformat(quantity, -2),
                    },
                    code="amount",
                    field="lines",
                )
            _check_unit_price(
                original, quantity=quantity, amount=amount, invoiced_net=entry.invoiced_net
            )
            lines.append(CreditedLine(original, description, quantity, original.unit, unit_price))
        else:
            raise InvoicingError(
                _("Line %(position)d: give the quantity or the amount to credit.")
                % {"position": number},
                code="amount",
                field="lines",
            )
    return lines


def _full_credit_allowance_charges(invoice: Invoice) -> list[AllowanceChargeInput]:
    return [
        AllowanceChargeInput(
            is_charge=adjustment.is_charge,
            reason=adjustment.reason,
            vat_category=adjustment.vat_category,
            vat_rate=adjustment.vat_rate,
            percent=adjustment.percent,
            amount=adjustment.amount if adjustment.percent is None else None,
        )
        for adjustment in invoice.allowance_charges.all()
    ]


@transaction.atomic
def request_credit_note(
    *,
    user: User,
    invoice: Invoice,
    reason: str,
    lines: list[CreditLineInput] | None = None,
    now: datetime.datetime | None = None,
) -> Invoice:
    """Ask staff for a credit note on an issued invoice: all that is left of it, or given lines."""
    now = now or timezone.now()
    if not reason.strip():
        raise InvoicingError(_("Say why the invoice is credited."), code="reason", field="reason")
    # The invoice's row lock makes concurrent requests on it queue up: each sees the others.
    invoice = Invoice.objects.select_for_update().select_related("client").get(pk=invoice.pk)
    if invoice.kind != Invoice.Kind.INVOICE or not invoice.is_issued:
        raise InvoicingError(_("Only issued invoices can be credited."), code="not_issued")
    position = credit_position(invoice)
    if lines is None:
        credited = _full_credit_lines(position)
        # Crediting the whole invoice at once repeats its document-level discounts and charges.
        untouched = position.credited_incl_vat == 0
        adjustments = _full_credit_allowance_charges(invoice) if untouched else []
    else:
        credited = _credited_lines(position, lines)
        adjustments = []
    as_lines = [line.as_line() for line in credited]
    cleaned_adjustments = clean_allowance_charges(adjustments, lines=as_lines)
    credited = with_vat_remainders(position, credited, cleaned_adjustments)
    as_lines = [line.as_line() for line in credited]
    check_credit_caps(position, credited, adjustments=cleaned_adjustments)
    totals = compute_totals(as_lines, cleaned_adjustments)
    credit_note = Invoice.objects.create(
        kind=Invoice.Kind.CREDIT_NOTE,
        status=Invoice.Status.PENDING_REVIEW,
        activity=invoice.activity,
        client=invoice.client,
        credited_invoice=invoice,
        buyer_reference=invoice.buyer_reference,
        order_reference=invoice.order_reference,
        # Without its own date of supply, the credited invoice's supply took place on its date.
        supply_date=invoice.supply_date or (None if invoice.period_start else invoice.issue_date),
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        notes=reason.strip(),
        language=invoice.language,
        due_date=None,
        total_excl_vat=totals.tax_exclusive,
        total_vat=totals.vat,
        total_incl_vat=totals.tax_inclusive,
        review_reason=review_reasons.CREDIT_NOTE_REQUESTED,
        created_by=user,
        submitted_at=now,
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=credit_note,
            position=number,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            vat_category=line.original.vat_category,
            vat_rate=line.original.vat_rate,
            exemption_reason=line.original.exemption_reason,
            credited_line=line.original,
            supply_kind=line.original.supply_kind,
            exemption_code=line.original.exemption_code,
            allowance_percent=line.allowance_percent,
            allowance_amount=line.as_line().allowance_amount,
            allowance_reason=line.allowance_reason,
            vat_correction=line.vat_correction,
        )
        for number, line in enumerate(credited, 1)
    )
    create_allowance_charges(credit_note, cleaned_adjustments, lines=as_lines)
    record_event(action="requested", obj=credit_note, actor=user, reason=credit_note.notes)
    return credit_note


def recheck_credit_note(credit_note: Invoice) -> None:
    """Check again, before issuing, that the credit note credits no more than is left.

    Something else may have been credited since it was requested. The caller holds the credit
    note's row lock; the invoice's is taken here.
    """
    invoice = Invoice.objects.select_for_update().get(pk=credit_note.credited_invoice_id)
    check_against_position(credit_position(invoice, credit_note=credit_note), credit_note)


def check_against_position(position: CreditPosition, credit_note: Invoice) -> None:
    """Check that the credit note credits lines of the invoice, no more than ``position``
    leaves of them (``credit_position`` read the lines of both)."""
    invoice_lines = {line.pk: line for line in position.invoice.lines.all()}
    lines = list(credit_note.lines.all())
    unlinked = [line for line in lines if line.credited_line_id not in invoice_lines]
    if unlinked:
        raise InvoicingError(
            _(
                "Line %(position)d of this credit note does not say which invoice line it "
                "credits: reject it and request it again."
            )
            % {"position": unlinked[0].position},
            code="unlinked_line",
        )
    credited = [
        CreditedLine(
            invoice_lines[line.credited_line_id],
            line.description,
            line.quantity,
            line.unit,
            line.unit_price,
            allowance_percent=line.allowance_percent,
            allowance_fixed=line.allowance_amount if line.allowance_percent is None else ZERO,
            allowance_reason=line.allowance_reason,
            vat_correction=line.vat_correction,
        )
        for line in lines
    ]
    adjustments = [item.as_allowance_charge() for item in credit_note.allowance_charges.all()]
    check_credit_caps(position, credited, adjustments=adjustments)


def settlement_of(credit_note: Invoice) -> dict:
    """Say how a credit note being issued is settled: deducted from what is due, or refunded.

    The client who already paid more than is left of the invoice gets the difference back.
    """
    invoice = credit_note.credited_invoice
    due_before = max(Invoice.objects.with_amounts().get(pk=invoice.pk).amount_due, ZERO)
    total = credit_note.total_incl_vat
    refunded = min(total, max(total - due_before, ZERO))
    deducted = total - refunded
    with translation.override(credit_note.language):
        # Amounts are written as a reader of the credit note's language expects.
        values = {
            "number": invoice.number,
            "deducted": euro(deducted),
            "refunded": euro(refunded),
        }
        if not refunded:
            text = _("This credit note is deducted from what is due on invoice %(number)s.")
        elif not deducted:
            text = _("Invoice %(number)s was paid: %(refunded)s is refunded to your account.")
        else:
            text = _(
                "%(deducted)s is deducted from what is due on invoice %(number)s; "
                "%(refunded)s already paid is refunded to your account."
            )
        text = text % values
    return {"deducted": f"{deducted:.2f}", "refunded": f"{refunded:.2f}", "text": text}


def credit_note_problem(credit_note: Invoice, position: CreditPosition | None = None) -> str:
    """Return why a credit note waiting for review cannot be issued now, or "".

    ``position``: the credited invoice's position as the caller just read it (the review page
    shows it), checked as it is; otherwise it is read again under the invoice's lock."""
    try:
        if position is not None:
            check_against_position(position, credit_note)
        else:
            with transaction.atomic():
                recheck_credit_note(credit_note)
    except InvoicingError as error:
        return error.message
    return ""
