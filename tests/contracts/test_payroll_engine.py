"""The payroll engine against the test vectors of DOMAIN.md §6, on the seeded parameters."""

import datetime
from decimal import Decimal

import pytest

from contracts.errors import ContractsError
from contracts.parameters import load_parameters
from contracts.payroll import (
    Household,
    MonthToDate,
    TaxSituation,
    compute_payslip,
    compute_payslip_in_month,
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


MONTHLY = ("work_bonus", "withholding_tax", "special_contribution")


def month_of(*payslips):
    month = MonthToDate()
    for figures in payslips:
        month = month.including(figures)
    return month


def test_payslip_alone_in_its_month_is_unchanged(params_2026):
    alone = compute_payslip_in_month(
        gross=D("4000.00"), is_artistic=False, parameters=params_2026, earlier=MonthToDate()
    )
    assert alone == compute_payslip(gross=D("4000.00"), is_artistic=False, parameters=params_2026)
    # 41,726.40 − 6,070: 16,710 × 26.75 % + 12,790 × 42.80 % + 6,156.40 × 48.15 % − 2,987.98
    assert alone.withholding_tax == D("826.70")
    assert alone.special_contribution == D("38.51")


def test_second_payslip_of_the_month_is_taxed_on_the_month(params_2026):
    first = compute_payslip(gross=D("1200.00"), is_artistic=False, parameters=params_2026)
    # Alone, 1,200 owes no tax and gets the work bonus up to its contribution of 156.84.
    assert (first.work_bonus, first.withholding_tax, first.special_contribution) == (
        D("156.84"),
        D("0.00"),
        D("0.00"),
    )
    second = compute_payslip_in_month(
        gross=D("1200.00"), is_artistic=False, parameters=params_2026, earlier=month_of(first)
    )
    # Month of 2,400: bonus 127.54 + (171.99 − 0.2699 × 99.38 = 145.17) = 272.71;
    # taxable 2,400 − 313.68 + 272.71 = 2,359.03; tax 320.67 − 118.54 (bonus reduction);
    # contribution 18.60 + 1.1 % × 209.82.
    assert second.personal_onss == D("156.84")
    assert second.work_bonus == D("115.87")  # 272.71 − 156.84
    assert second.taxable == D("1159.03")
    assert second.withholding_tax == D("202.13")
    assert second.special_contribution == D("20.91")
    assert second.net == D("935.99")
    assert second.employer_cost == D("1500.00")
    whole = compute_payslip(gross=D("2400.00"), is_artistic=False, parameters=params_2026)
    for name in (*MONTHLY, "taxable", "net", "personal_onss", "employer_cost"):
        assert getattr(first, name) + getattr(second, name) == getattr(whole, name), name


def test_artistic_payslips_of_a_month_add_up_to_one_payslip_of_the_month(params_2026):
    first = compute_payslip(gross=D("1000.00"), is_artistic=True, parameters=params_2026)
    second = compute_payslip_in_month(
        gross=D("1500.00"), is_artistic=True, parameters=params_2026, earlier=month_of(first)
    )
    # Contributions per payslip on 108 %: 1,080 × 13.07 % = 141.16, 1,620 × 13.07 % = 211.73.
    # Month of 2,500: bonus 127.54 + 118.18 = 245.72; taxable 2,392.83; tax 335.14 − 104.36.
    assert (first.personal_onss, second.personal_onss) == (D("141.16"), D("211.73"))
    assert (second.work_bonus, second.withholding_tax, second.special_contribution) == (
        D("104.56"),
        D("230.78"),
        D("22.01"),
    )
    assert second.net == D("1140.04")
    assert second.employer_cost == D("1905.00")  # 1,500 + 1,620 × 25 %
    whole = compute_payslip(gross=D("2500.00"), is_artistic=True, parameters=params_2026)
    for name in (*MONTHLY, "personal_onss", "net", "employer_cost"):
        assert getattr(first, name) + getattr(second, name) == getattr(whole, name), name


def test_a_month_split_three_ways_adds_up_to_the_month(params_2026):
    month = MonthToDate()
    for gross in ("900.00", "1300.00", "1800.00"):
        figures = compute_payslip_in_month(
            gross=D(gross), is_artistic=False, parameters=params_2026, earlier=month
        )
        month = month.including(figures)
    whole = compute_payslip(gross=D("4000.00"), is_artistic=False, parameters=params_2026)
    assert month.payslips == 3
    assert month.gross == D("4000.00")
    assert (month.work_bonus, month.withholding_tax, month.special_contribution) == (
        D("0.00"),
        D("826.70"),
        D("38.51"),
    )
    assert month.work_bonus == whole.work_bonus  # the bonus granted early is taken back


def test_month_tax_below_what_was_withheld_is_refunded(params_2026):
    # Say 50.00 was withheld on 1,000 this month (under other figures); 1,100 owes none.
    earlier = MonthToDate(
        gross=D("1000.00"),
        personal_onss=D("130.70"),
        work_bonus=D("130.70"),
        withholding_tax=D("50.00"),
        payslips=1,
    )
    figures = compute_payslip_in_month(
        gross=D("100.00"), is_artistic=False, parameters=params_2026, earlier=earlier
    )
    assert figures.work_bonus == D("13.07")
    assert figures.withholding_tax == D("-50.00")
    assert figures.net == D("150.00")


def test_catching_up_the_month_never_takes_the_net_below_zero(params_2026):
    # Nothing was withheld on 4,000 this month: the month owes far more than 100 pays.
    nothing_withheld = MonthToDate(gross=D("4000.00"), personal_onss=D("522.80"), payslips=1)
    figures = compute_payslip_in_month(
        gross=D("100.00"), is_artistic=False, parameters=params_2026, earlier=nothing_withheld
    )
    # Contribution on 4,100: 18.60 + 1.1 % × 1,909.82; the tax takes what is left of 86.93.
    assert (figures.taxable, figures.special_contribution) == (D("86.93"), D("39.61"))
    assert (figures.withholding_tax, figures.net) == (D("47.32"), D("0.00"))
    # A work bonus of 299.53 granted on the month's first payslip is not due on 4,100.
    bonus_granted = MonthToDate(
        gross=D("4000.00"), personal_onss=D("522.80"), work_bonus=D("299.53"), payslips=1
    )
    figures = compute_payslip_in_month(
        gross=D("100.00"), is_artistic=False, parameters=params_2026, earlier=bonus_granted
    )
    assert (figures.withholding_tax, figures.special_contribution) == (D("0.00"), D("0.00"))
    assert (figures.work_bonus, figures.taxable, figures.net) == (
        D("-86.93"),
        D("0.00"),
        D("0.00"),
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
