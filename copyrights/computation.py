"""The copyright regime's arithmetic, as pure functions of the figures of an income year.

Gross → lump-sum costs → taxable net → withholding → amount paid. The lump-sum cost brackets
apply to the member's income of the whole year: a payment's costs are those of the slice of
the year's income it adds, from ``year_gross_before`` to ``year_gross_before + gross``, so the
brackets are shared by all the payments of a year, in the order they were recorded.
"""

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from coop.money import round_money

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Rates:
    """The figures of one income year (``CopyrightParameters``)."""

    ceiling: Decimal
    first_bracket_limit: Decimal
    first_bracket_rate: Decimal
    second_bracket_limit: Decimal
    second_bracket_rate: Decimal
    withholding_rate: Decimal
    salary_share_cap: Decimal


@dataclass(frozen=True)
class CopyrightFigures:
    gross: Decimal
    first_bracket_costs: Decimal
    second_bracket_costs: Decimal
    lump_sum_costs: Decimal
    taxable: Decimal
    withholding: Decimal
    net: Decimal


def _slice(start: Decimal, end: Decimal, lower: Decimal, upper: Decimal) -> Decimal:
    """How much of the income from ``start`` to ``end`` falls between ``lower`` and ``upper``."""
    return max(ZERO, min(end, upper) - max(start, lower))


def compute_copyright(
    *, gross: Decimal, year_gross_before: Decimal, rates: Rates
) -> CopyrightFigures:
    """Compute a payment of ``gross`` made after ``year_gross_before`` of the year's income.

    The second bracket's rate applies only to the part of the income above the first limit
    (and up to the second), never to the whole income nor to the second limit itself.
    """
    end = year_gross_before + gross
    first = round_money(
        _slice(year_gross_before, end, ZERO, rates.first_bracket_limit) * rates.first_bracket_rate
    )
    second = round_money(
        _slice(year_gross_before, end, rates.first_bracket_limit, rates.second_bracket_limit)
        * rates.second_bracket_rate
    )
    costs = first + second
    taxable = gross - costs
    withholding = round_money(taxable * rates.withholding_rate)
    return CopyrightFigures(
        gross=gross,
        first_bracket_costs=first,
        second_bracket_costs=second,
        lump_sum_costs=costs,
        taxable=taxable,
        withholding=withholding,
        net=gross - withholding,
    )


def room_under_ceiling(*, year_gross_before: Decimal, rates: Rates) -> Decimal:
    """How much copyright income the member may still receive this year."""
    return max(ZERO, rates.ceiling - year_gross_before)


def most_beside_salary(*, salary_gross: Decimal, rates: Rates) -> Decimal:
    """The largest copyright share beside ``salary_gross`` for the same work.

    The share is copyright ÷ (copyright + salary) ≤ cap, so copyright ≤ salary × cap ÷ (1 − cap),
    rounded down to the cent: the cap itself is never crossed.
    """
    cap = rates.salary_share_cap
    return (salary_gross * cap / (1 - cap)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
