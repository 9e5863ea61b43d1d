"""The regime's arithmetic on the income-2024 figures (DOMAIN §9's worked example)."""

from decimal import Decimal

import pytest

from copyrights.computation import (
    Rates,
    compute_copyright,
    most_beside_salary,
    room_under_ceiling,
)
from copyrights.services import load_rates

D = Decimal
RATES_2024 = Rates(
    ceiling=D("73070.00"),
    first_bracket_limit=D("19480.00"),
    first_bracket_rate=D("0.50"),
    second_bracket_limit=D("38970.00"),
    second_bracket_rate=D("0.25"),
    withholding_rate=D("0.15"),
    salary_share_cap=D("0.30"),
)


def test_25000_gross_gives_2082_withholding():
    figures = compute_copyright(gross=D("25000.00"), year_gross_before=D("0"), rates=RATES_2024)
    assert figures.first_bracket_costs == D("9740.00")
    assert figures.second_bracket_costs == D("1380.00")
    assert figures.lump_sum_costs == D("11120.00")
    assert figures.taxable == D("13880.00")
    assert figures.withholding == D("2082.00")
    assert figures.net == D("22918.00")


def test_10000_gross_gives_750_withholding():
    figures = compute_copyright(gross=D("10000.00"), year_gross_before=D("0"), rates=RATES_2024)
    assert (figures.lump_sum_costs, figures.taxable, figures.withholding) == (
        D("5000.00"),
        D("5000.00"),
        D("750.00"),
    )


def test_the_brackets_are_shared_by_the_payments_of_a_year():
    first = compute_copyright(gross=D("10000.00"), year_gross_before=D("0"), rates=RATES_2024)
    second = compute_copyright(
        gross=D("15000.00"), year_gross_before=D("10000.00"), rates=RATES_2024
    )
    # 9,480 of the second payment at 50 %, 5,520 at 25 %: the year adds up to the €25,000 case.
    assert second.first_bracket_costs == D("4740.00")
    assert second.second_bracket_costs == D("1380.00")
    assert first.withholding + second.withholding == D("2082.00")


def test_the_second_bracket_covers_only_the_part_above_the_first():
    # Income from 19,480 to 38,970 only: 25 % of 19,490, not of 38,970.
    figures = compute_copyright(
        gross=D("19490.00"), year_gross_before=D("19480.00"), rates=RATES_2024
    )
    assert (figures.first_bracket_costs, figures.second_bracket_costs) == (D("0.00"), D("4872.50"))
    # Above the second limit there are no lump-sum costs at all.
    above = compute_copyright(
        gross=D("10000.00"), year_gross_before=D("40000.00"), rates=RATES_2024
    )
    assert (above.lump_sum_costs, above.withholding) == (D("0.00"), D("1500.00"))
    # The whole of the second bracket's top in one payment: 9,740 + 4,872.50.
    whole = compute_copyright(gross=D("73070.00"), year_gross_before=D("0"), rates=RATES_2024)
    assert whole.lump_sum_costs == D("14612.50")
    assert whole.withholding == D("8768.63")


def test_caps():
    assert room_under_ceiling(year_gross_before=D("70000.00"), rates=RATES_2024) == D("3070.00")
    assert room_under_ceiling(year_gross_before=D("80000.00"), rates=RATES_2024) == D("0.00")
    # 30 % of total pay: copyright ≤ 3/7 of the salary, rounded down to the cent.
    assert most_beside_salary(salary_gross=D("7000.00"), rates=RATES_2024) == D("3000.00")
    assert most_beside_salary(salary_gross=D("1000.00"), rates=RATES_2024) == D("428.57")


@pytest.mark.django_db
def test_seeded_2024_figures_are_verified_and_later_ones_are_not():
    rates, is_unverified = load_rates(2024)
    assert rates == RATES_2024
    assert is_unverified is False
    assert load_rates(2025)[1] is True
    assert load_rates(2026)[1] is True
