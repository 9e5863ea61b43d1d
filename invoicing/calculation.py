"""Invoice arithmetic: line amounts, VAT per rate on the total, and document totals.

VAT is computed per (category, rate) on the sum of the line amounts, rounded half-up to the
cent (EN 16931 BR-CO-17, Royal Decree of 8 July 2025): 3 × 19.99 at 21 % gives 12.59, where
rounding per line would give 12.60.
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


@dataclass(frozen=True)
class Line:
    quantity: Decimal
    unit_price: Decimal
    vat_category: str
    vat_rate: Decimal
    exemption_reason: str = ""
    exemption_code: str = ""  # VATEX code; the category's own when empty

    @property
    def net_amount(self) -> Decimal:
        return round_money(self.quantity * self.unit_price)


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
    line_extension: Decimal
    vat: Decimal
    tax_inclusive: Decimal
    vat_breakdown: tuple[VatGroup, ...]

    @property
    def tax_exclusive(self) -> Decimal:
        return self.line_extension

    @property
    def payable(self) -> Decimal:
        return self.tax_inclusive


def compute_totals(lines: Iterable[Line]) -> Totals:
    """Return line total, VAT breakdown (one group per category and rate) and totals."""
    groups: dict[tuple[str, Decimal], list[Line]] = {}
    for line in lines:
        groups.setdefault((line.vat_category, line.vat_rate), []).append(line)
    breakdown = []
    for (category, rate), members in sorted(
        groups.items(), key=lambda item: (-item[0][1], item[0][0])
    ):
        taxable = sum((line.net_amount for line in members), ZERO)
        reasons = sorted({line.exemption_reason for line in members if line.exemption_reason})
        # One code per group: the lines' own when they agree, else the category's (if any).
        codes = {line.exemption_code for line in members}
        code = codes.pop() if len(codes) == 1 else ""
        breakdown.append(
            VatGroup(
                category=category,
                rate=rate,
                taxable_amount=taxable,
                vat_amount=round_money(taxable * rate / HUNDRED),
                exemption_reason="; ".join(reasons),
                exemption_code=code or VatCategory.EXEMPTION_CODES.get(category, ""),
            )
        )
    line_extension = sum((group.taxable_amount for group in breakdown), ZERO)
    vat = sum((group.vat_amount for group in breakdown), ZERO)
    return Totals(
        line_extension=line_extension,
        vat=vat,
        tax_inclusive=line_extension + vat,
        vat_breakdown=tuple(breakdown),
    )
