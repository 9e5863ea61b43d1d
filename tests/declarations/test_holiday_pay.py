"""Exit holiday pay and the end-of-year premium on the payslip, holiday contributions, and the
engagement terms staff set."""

import datetime
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from contracts.models import Contract, PayrollRate, Payslip, YearEndPremiumRule
from contracts.parameters import load_year_parameters
from contracts.payroll import exit_holiday_pay, holiday_contributions, year_end_premium
from contracts.services.contracts import approve_contract, submit_contract
from contracts.services.payroll import correct_payslip, run_payroll
from declarations.errors import DeclarationsError
from declarations.services import set_engagement_terms
from tests.conftest import NOW
from tests.contracts.conftest import make_contract, worker
from tests.declarations.conftest import PAY_DAY, approved_job, pay

D = Decimal
MARCH_2 = datetime.date(2026, 3, 2)


def test_the_dated_rows_hold_the_rates_with_their_source_and_flag(db):
    parameters = load_year_parameters(datetime.date(2026, 6, 30))
    assert (
        parameters.exit_holiday_simple_rate,
        parameters.exit_holiday_double_rate,
        parameters.exit_holiday_complement_rate,
        parameters.holiday_base_factor,
        parameters.holiday_yearly_rate,
        parameters.holiday_quarterly_rate,
    ) == (D("0.0767"), D("0.0680"), D("0.0087"), D("1.08"), D("0.1027"), D("0.0600"))
    quarterly = PayrollRate.objects.get(key="holiday_quarterly_rate")
    assert quarterly.is_unverified and "not found" in quarterly.source
    rule = YearEndPremiumRule.objects.get()
    assert (rule.joint_committee, rule.months_of_pay, rule.seniority_months) == ("200", D("1"), 6)
    assert rule.is_unverified and "200 or 304" in rule.source


def test_exit_holiday_pay_is_15_34_percent_in_three_parts(db):
    parameters = load_year_parameters(MARCH_2)
    holiday = exit_holiday_pay(D("4000.00"), parameters)
    assert (holiday.simple, holiday.double, holiday.complement, holiday.total) == (
        D("306.80"),
        D("272.00"),
        D("34.80"),
        D("613.60"),
    )
    # Each part rounds half-up on its own: 7.67 % of 1,234.56 is 94.690752.
    odd = exit_holiday_pay(D("1234.56"), parameters)
    assert (odd.simple, odd.double, odd.complement, odd.total) == (
        D("94.69"),
        D("83.95"),
        D("10.74"),
        D("189.38"),
    )


def test_holiday_contributions_on_108_percent(db):
    contributions = holiday_contributions(D("1234.56"), load_year_parameters(MARCH_2))
    # 1,333.3248 → 1,333.32; 6 % → 80.00 (79.9992); 10.27 % → 136.93 (136.932…).
    assert (contributions.base, contributions.quarterly, contributions.yearly) == (
        D("1333.32"),
        D("80.00"),
        D("136.93"),
    )


def test_the_last_payslip_of_a_white_collar_exit_pays_the_holiday_pay_with_its_onss(quarter_paid):
    leaving = quarter_paid["leaving"]
    payslip = Payslip.objects.get(worker__contract=leaving)

    # 4 days at €300 = 1,200.00, + exit holiday pay 92.04 + 81.60 + 10.44 = 184.08.
    assert payslip.exit_holiday_pay == D("184.08")
    assert payslip.year_end_premium == D("0.00")  # not six months' seniority
    assert payslip.gross == D("1384.08")
    # 13.07 % of 1,200.00 (156.84) and of 184.08 (24.06), each rounded.
    assert payslip.personal_onss == D("180.90")
    # 25 % of each: 300.00 + 46.02.
    assert payslip.employer_cost == D("1730.10")
    assert payslip.snapshot["exit_holiday_pay"] == {
        "reference_gross": "1200.00",
        "simple": "92.04",
        "double": "81.60",
        "complement": "10.44",
    }
    assert payslip.snapshot["figures"]["exit_holiday_pay"] == "184.08"
    # The artist's and the blue-collar worker's payslips have none.
    others = Payslip.objects.exclude(pk=payslip.pk)
    assert {(other.exit_holiday_pay, other.year_end_premium) for other in others} == {
        (D("0.00"), D("0.00"))
    }
    assert all("exit_holiday_pay" not in other.snapshot["figures"] for other in others)


def test_a_correction_keeps_the_exit_holiday_pay_paid(staff, quarter_paid):
    payslip = Payslip.objects.get(worker__contract=quarter_paid["leaving"])
    adjustment = correct_payslip(
        staff_user=staff,
        payslip=payslip,
        days=D("4"),
        daily_wage=D("310.00"),
        reason="Wage was €310",
        today=datetime.date(2026, 3, 30),
        now=NOW,
    )
    assert (adjustment.gross, adjustment.exit_holiday_pay) == (D("40.00"), D("0.00"))
    assert adjustment.personal_onss == D("5.23")


def test_premium_pro_rata():
    def premium(year_gross, first_work_day, paid_on):
        return year_end_premium(
            year_gross=D(year_gross),
            months_of_pay=D("1"),
            first_work_day=first_work_day,
            paid_on=paid_on,
            seniority_months=6,
        )

    december = datetime.date(2026, 12, 21)
    # A full year at €3,000 a month: one month's pay.
    assert premium("36000.00", datetime.date(2020, 5, 4), december) == D("3000.00")
    # Entered on 1 April, 9 months at €3,000: 9/12 of a month.
    assert premium("27000.00", datetime.date(2026, 4, 1), december) == D("2250.00")
    # Leaving in August after 7 months of €2,500.00: 7/12 of a month, rounded half-up.
    assert premium("17500.00", datetime.date(2026, 1, 5), datetime.date(2026, 8, 7)) == D("1458.33")
    # Six months' seniority: reached on the same day six months later, not the day before.
    assert premium("6000.00", datetime.date(2026, 6, 22), datetime.date(2026, 12, 22)) == D(
        "500.00"
    )
    assert premium("6000.00", datetime.date(2026, 6, 22), datetime.date(2026, 12, 21)) == D("0.00")
    assert premium("6000.00", datetime.date(2026, 8, 31), datetime.date(2027, 2, 28)) == D("500.00")
    assert premium("0.00", datetime.date(2020, 1, 1), december) == D("0.00")


def test_the_premium_is_paid_at_exit_after_six_months(staff, member, activity):
    # Worked in September 2025 already, as a white-collar employee.
    earlier = make_contract(
        member,
        activity,
        workers=[worker(member, wage="300.00", start=datetime.date(2025, 9, 1), count=5)],
        today=datetime.date(2025, 8, 1),
    )
    submit_contract(user=member.user, contract=earlier, today=datetime.date(2025, 8, 1), now=NOW)
    approve_contract(staff_user=staff, contract=earlier, today=datetime.date(2025, 8, 1), now=NOW)
    run_payroll(
        staff_user=staff,
        period_start=datetime.date(2025, 9, 1),
        period_end=datetime.date(2025, 9, 30),
        today=datetime.date(2025, 10, 1),
        now=NOW,
    )
    leaving = approved_job(
        staff,
        member,
        activity,
        kind=Contract.Kind.NON_ARTISTIC,
        wage="400.00",
        start=datetime.date(2026, 3, 9),
        count=10,
        ends_engagement=True,
    )
    pay(staff)

    payslip = Payslip.objects.get(worker__contract=leaving)
    # 2026 gross so far 4,000.00: one twelfth. Exit holiday pay on 4,000.00: 613.60.
    assert (payslip.year_end_premium, payslip.exit_holiday_pay) == (D("333.33"), D("613.60"))
    assert payslip.gross == D("4946.93")
    # 13.07 % of 4,000.00, 613.60 and 333.33: 522.80 + 80.20 + 43.57.
    assert payslip.personal_onss == D("646.57")
    assert payslip.snapshot["year_end_premium"]["joint_committee"] == "200"
    assert payslip.pay_date == PAY_DAY


def test_engagement_terms_are_set_by_staff_before_payment(staff, member, activity, quarter_paid):
    blue = quarter_paid["blue_collar"]
    assert blue.employee_category == Contract.EmployeeCategory.BLUE_COLLAR
    event = AuditEvent.objects.filter(object_type="contracts.contract", object_pk=str(blue.pk))
    assert event.filter(changes__employee_category=["white_collar", "blue_collar"]).exists()

    with pytest.raises(DeclarationsError, match="paid already"):
        set_engagement_terms(staff_user=staff, contract=blue, ends_engagement=True)
    with pytest.raises(DeclarationsError, match="Only staff"):
        set_engagement_terms(staff_user=member.user, contract=blue, ends_engagement=True)
    artistic = make_contract(
        member,
        activity,
        kind=Contract.Kind.ARTISTIC,
        workers=[worker(member, start=datetime.date(2026, 4, 6), count=2)],
    )
    with pytest.raises(DeclarationsError, match="Artists are declared as artists"):
        set_engagement_terms(
            staff_user=staff,
            contract=artistic,
            employee_category=Contract.EmployeeCategory.BLUE_COLLAR,
        )
    blue.refresh_from_db()
    assert not blue.ends_engagement


def test_a_first_engagement_of_more_than_six_months_earns_the_premium_at_exit(
    staff, member, activity
):
    recorded = datetime.date(2025, 8, 1)
    contract = make_contract(
        member,
        activity,
        workers=[
            worker(
                member,
                wage="400.00",
                days=[datetime.date(2025, 9, 1), datetime.date(2026, 3, 9)],
            )
        ],
        today=recorded,
    )
    set_engagement_terms(staff_user=staff, contract=contract, ends_engagement=True)
    submit_contract(user=member.user, contract=contract, today=recorded, now=NOW)
    approve_contract(staff_user=staff, contract=contract, today=recorded, now=NOW)
    pay(staff)

    payslip = Payslip.objects.get(worker__contract=contract)
    # Paid in 2026: 800.00 of wage; a twelfth of it, and 15.34 % of it on leaving.
    assert (payslip.year_end_premium, payslip.exit_holiday_pay) == (D("66.67"), D("122.72"))
