"""Invoice arithmetic: line amounts, VAT per rate on the total, and document totals.

VAT is computed per (category, rate) on the sum of the line amounts, rounded half-up to the
cent (EN 16931 BR-CO-17, Royal Decree of 8 July 2025): 3 × 19.99 at 21 % gives 12.59, where
rounding per line would give 12.60.

A line may carry a discount (EN 16931 BG-27): its net amount (BT-131) is quantity × price less
the discount. Document-level allowances and charges (BG-20, BG-21) each belong to one VAT
category and rate; a percentage one is taken of its base, the net amount of the lines of that
category and rate. The taxable amount of a group is its lines' net amounts, less its allowances,
plus its charges (BR-S-08 and siblings), and its VAT is rounded once, on that amount.

A credit-note line may carry a VAT correction: the cents that make the credit note completing an
invoice line or VAT group take back exactly the VAT that is left of it (see
invoicing.services.credit). The group's VAT is then its rounded VAT plus its lines' corrections.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from coop.money import round_money

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


class VatCategory:
    """UNCL5305 VAT category codes used by the cooperative."""

    STANDARD = "S"
    ZERO_RATED = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_EU = "K"
    EXPORT = "G"
    OUTSIDE_SCOPE = "O"

    CHOICES = [STANDARD, ZERO_RATED, EXEMPT, REVERSE_CHARGE, INTRA_EU, EXPORT, OUTSIDE_SCOPE]
    # Categories whose rate is always 0 % (outside the scope of VAT: no rate, computed as 0).
    ZERO_RATE = {ZERO_RATED, EXEMPT, REVERSE_CHARGE, INTRA_EU, EXPORT, OUTSIDE_SCOPE}
    # Categories that need an exemption reason (EN 16931 BR-E-10, BR-AE-10, BR-IC-10,
    # BR-G-10, BR-O-10).
    NEEDS_REASON = {EXEMPT, REVERSE_CHARGE, INTRA_EU, EXPORT, OUTSIDE_SCOPE}
    EXEMPTION_CODES = {
        REVERSE_CHARGE: "VATEX-EU-AE",
        INTRA_EU: "VATEX-EU-IC",
        EXPORT: "VATEX-EU-G",
        OUTSIDE_SCOPE: "VATEX-EU-O",
    }


STANDARD_RATES = [Decimal("21.00"), Decimal("12.00"), Decimal("6.00")]


def percentage_of(base: Decimal, percent: Decimal) -> Decimal:
    """Return ``percent`` % of ``base``, rounded half-up to the cent (PEPPOL-EN16931-R040)."""
    return round_money(base * percent / HUNDRED)


@dataclass(frozen=True)
class Line:
    quantity: Decimal
    unit_price: Decimal
    vat_category: str
    vat_rate: Decimal
    exemption_reason: str = ""
    exemption_code: str = ""  # VATEX code; the category's own when empty
    # A discount on the line: a percentage of the gross amount, or a fixed amount.
    allowance_percent: Decimal | None = None
    allowance_fixed: Decimal = ZERO
    allowance_reason: str = ""
    # On a credit note only: added to the group's rounded VAT so that what all credit notes take
    # back adds up to the VAT charged (a cent or two at most).
    vat_correction: Decimal = ZERO

    @property
    def gross_amount(self) -> Decimal:
        """Quantity × unit price, rounded to the cent: the base of the line's discount."""
        return round_money(self.quantity * self.unit_price)

    @property
    def allowance_amount(self) -> Decimal:
        if self.allowance_percent is not None:
            return percentage_of(self.gross_amount, self.allowance_percent)
        return self.allowance_fixed

    @property
    def net_amount(self) -> Decimal:
        """The line net amount (BT-131): gross amount less the line's discount."""
        return net_amount(
            self.quantity,
            self.unit_price,
            allowance_percent=self.allowance_percent,
            allowance_fixed=self.allowance_fixed,
        )


def net_amount(
    quantity: Decimal,
    unit_price: Decimal,
    *,
    allowance_percent: Decimal | None,
    allowance_fixed: Decimal,
) -> Decimal:
    """A line's net amount (``Line.net_amount``) from its figures, without building the line
    (the invoice API computes it for each line of a page)."""
    gross = round_money(quantity * unit_price)
    if allowance_percent is not None:
        return gross - percentage_of(gross, allowance_percent)
    return gross - allowance_fixed


@dataclass(frozen=True)
class AllowanceCharge:
    """A document-level allowance (discount) or charge, in one VAT category and rate."""

    is_charge: bool
    reason: str
    vat_category: str
    vat_rate: Decimal
    # A percentage of the base, or a fixed amount.
    percent: Decimal | None = None
    fixed: Decimal = ZERO

    def base_amount(self, lines: Iterable[Line]) -> Decimal:
        """The net amount of the lines of the same VAT category and rate."""
        return sum(
            (
                line.net_amount
                for line in lines
                if (line.vat_category, line.vat_rate) == (self.vat_category, self.vat_rate)
            ),
            ZERO,
        )

    def amount(self, lines: Iterable[Line]) -> Decimal:
        if self.percent is not None:
            return percentage_of(self.base_amount(lines), self.percent)
        return self.fixed


@dataclass(frozen=True)
class VatGroup:
    category: str
    rate: Decimal
    taxable_amount: Decimal
    vat_amount: Decimal
    exemption_reason: str
    exemption_code: str


@dataclass(frozen=True)
class Totals:
    line_extension: Decimal  # BT-106, sum of the line net amounts
    vat: Decimal
    tax_inclusive: Decimal
    vat_breakdown: tuple[VatGroup, ...]
    allowance_total: Decimal = ZERO  # BT-107
    charge_total: Decimal = ZERO  # BT-108

    @property
    def tax_exclusive(self) -> Decimal:
        """BT-109: line amounts less document allowances plus document charges."""
        return self.line_extension - self.allowance_total + self.charge_total

    @property
    def payable(self) -> Decimal:
        return self.tax_inclusive


def compute_totals(
    lines: Iterable[Line], allowance_charges: Iterable[AllowanceCharge] = ()
) -> Totals:
    """Return line total, VAT breakdown (one group per category and rate) and totals."""
    lines = list(lines)
    adjustments = [(adjustment, adjustment.amount(lines)) for adjustment in allowance_charges]
    groups: dict[tuple[str, Decimal], list[Line]] = {}
    for line in lines:
        groups.setdefault((line.vat_category, line.vat_rate), []).append(line)
    for adjustment, _amount in adjustments:
        groups.setdefault((adjustment.vat_category, adjustment.vat_rate), [])
    breakdown = []
    for (category, rate), members in sorted(
        groups.items(), key=lambda item: (-item[0][1], item[0][0])
    ):
        taxable = sum((line.net_amount for line in members), ZERO)
        for adjustment, amount in adjustments:
            if (adjustment.vat_category, adjustment.vat_rate) == (category, rate):
                taxable += amount if adjustment.is_charge else -amount
        reasons = sorted({line.exemption_reason for line in members if line.exemption_reason})
        # One code per group: the lines' own when they agree, else the category's (if any).
        codes = {line.exemption_code for line in members}
        code = codes.pop() if len(codes) == 1 else ""
        breakdown.append(
            VatGroup(
                category=category,
                rate=rate,
                taxable_amount=taxable,
                vat_amount=round_money(taxable * rate / HUNDRED)
                + sum((line.vat_correction for line in members), ZERO),
                exemption_reason="; ".join(reasons),
                exemption_code=code or VatCategory.EXEMPTION_CODES.get(category, ""),
            )
        )
    line_extension = sum((line.net_amount for line in lines), ZERO)
    allowance_total = sum((amount for item, amount in adjustments if not item.is_charge), ZERO)
    charge_total = sum((amount for item, amount in adjustments if item.is_charge), ZERO)
    vat = sum((group.vat_amount for group in breakdown), ZERO)
    tax_exclusive = line_extension - allowance_total + charge_total
    return Totals(
        line_extension=line_extension,
        vat=vat,
        tax_inclusive=tax_exclusive + vat,
        vat_breakdown=tuple(breakdown),
        allowance_total=allowance_total,
        charge_total=charge_total,
    )
