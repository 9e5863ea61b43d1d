"""The payroll engine against the test vectors of DOMAIN.md §6, on the seeded parameters."""

import datetime
from decimal import Decimal

import pytest

from contracts.errors import ContractsError
from contracts.parameters import load_parameters
from contracts.payroll import (
    Household,
    TaxSituation,
    compute_payslip,
    employer_cost_of,
    pay_date,
    simulate,
    special_contribution,
    withholding_tax,
    work_bonus,
)

D = Decimal


@pytest.fixture
def params_2026(db):
    return load_parameters(datetime.date(2026, 10, 1))


def test_withholding_single_reproduces_domain_vector(params_2026):
    assert withholding_tax(D("2500.00"), params_2026) == D("381.01")


def test_withholding_spouse_without_income_reproduces_domain_vector(params_2026):
    situation = TaxSituation(household=Household.SPOUSE_WITHOUT_INCOME)
    assert withholding_tax(D("2500.00"), params_2026, situation) == D("35.99")


def test_withholding_uses_2025_scale_in_2025(db):
    params_2025 = load_parameters(datetime.date(2025, 6, 1))
    # 30,000 − 5,930 = 24,070: 16,310 × 26.75 % + 7,760 × 42.80 % − 2,987.98 = 4,696.225
    assert withholding_tax(D("2500.00"), params_2025) == D("391.35")
    assert "tax_free_reduction" in params_2025.unverified


def test_children_reduce_the_tax_never_below_zero(params_2026):
    two_children = TaxSituation(children=2)
    # (7,560.085 − 2,987.98 − 1,656) / 12
    assert withholding_tax(D("2500.00"), params_2026, two_children) == D("243.01")
    assert withholding_tax(D("900.00"), params_2026, TaxSituation(children=9)) == D("0.00")


def test_low_pay_owes_no_tax(params_2026):
    assert withholding_tax(D("800.00"), params_2026) == D("0.00")


def test_work_bonus_full_below_thresholds_and_capped_by_contribution(params_2026):
    bonus = work_bonus(D("2000.00"), D("261.40"), params_2026)
    assert (bonus.part_a, bonus.part_b) == (D("127.54"), D("133.86"))
    small = work_bonus(D("200.00"), D("26.14"), params_2026)
    assert small.total == D("26.14")


def test_work_bonus_falls_linearly_and_vanishes(params_2026):
    bonus = work_bonus(D("3000.00"), D("392.10"), params_2026)
    # 127.54 − 0.2739 × 62.07; part B nil from 2,937.93
    assert (bonus.part_a, bonus.part_b) == (D("110.54"), D("0.00"))
    assert work_bonus(D("3403.62"), D("444.85"), params_2026).total == D("0.00")


def test_payslip_non_artistic_without_work_bonus(params_2026):
    figures = compute_payslip(gross=D("4000.00"), is_artistic=False, parameters=params_2026)
    assert figures.personal_onss == D("522.80")
    assert figures.work_bonus == D("0.00")
    assert figures.taxable == D("3477.20")
    assert figures.employer_cost == D("5000.00")
    assert figures.special_contribution == D("38.51")  # 18.60 + 1.1 % of 1,809.82
    assert figures.net == figures.taxable - figures.withholding_tax - figures.special_contribution


def test_payslip_artistic_base_is_108_percent(params_2026):
    figures = compute_payslip(
        gross=D("4000.00"), is_artistic=True, parameters=params_2026, expenses=D("45.50")
    )
    assert figures.onss_base == D("4320.00")
    assert figures.personal_onss == D("564.62")
    assert figures.employer_cost == D("5080.00")
    assert figures.expenses == D("45.50")
    assert figures.net == (
        figures.taxable - figures.withholding_tax - figures.special_contribution + D("45.50")
    )


def test_special_contribution_capped(params_2026):
    assert special_contribution(D("9000.00"), params_2026) == D("60.94")
    assert special_contribution(D("1500.00"), params_2026) == D("0.00")
    assert "special_contribution" in params_2026.unverified


def test_simulator_from_invoice_to_net(params_2026):
    result = simulate(
        invoice_excl_vat=D("1000.00"),
        expenses=D("0.00"),
        is_artistic=False,
        parameters=params_2026,
    )
    assert result.fee == D("65.00")
    assert result.budget == D("935.00")
    assert result.payslip.gross == D("748.00")
    assert result.payslip.employer_cost == D("935.00")
    assert employer_cost_of(D("748.01"), is_artistic=False, parameters=params_2026) > D("935.00")


def test_parameters_missing_for_an_uncovered_date(db):
    with pytest.raises(ContractsError) as error:
        load_parameters(datetime.date(2024, 6, 1))
    assert error.value.code == "parameters_missing"


@pytest.mark.parametrize(
    ("last_work_day", "expected"),
    [
        (datetime.date(2026, 3, 2), datetime.date(2026, 3, 11)),  # Monday → Wednesday +1 week
        (datetime.date(2026, 3, 31), datetime.date(2026, 4, 10)),  # skips Easter Monday 6 April
        (datetime.date(2026, 12, 21), datetime.date(2026, 12, 31)),  # skips Christmas
        (datetime.date(2026, 7, 17), datetime.date(2026, 7, 29)),  # skips National Day
    ],
)
def test_pay_date_counts_belgian_working_days(last_work_day, expected):
    assert pay_date(last_work_day) == expected
