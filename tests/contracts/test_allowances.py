"""Mileage and per-diem allowances: amounts from the dated rates, tax-free within the limits,
the excess paid as taxable pay on the payslip."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from contracts.allowances import (
    AllowanceInput,
    Split,
    claim_allowance,
    mileage_split,
    per_diem_belgium_split,
)
from contracts.errors import ContractsError
from contracts.models import (
    Allowance,
    AllowanceRate,
    ExpenseClaim,
    MileageSystem,
    Payslip,
)
from contracts.parameters import load_parameters
from contracts.payroll import compute_payslip
from contracts.services.documents import render_payslip
from contracts.services.expenses import approve_expense_claim, reject_expense_claim
from members.models import LedgerEntry, LedgerStage
from tests.conftest import NOW
from tests.contracts.test_payroll_run import MARCH, PAY_DAY, fund, pdf_text

D = Decimal
TODAY = NOW.date()  # 2 March 2026


def claim(member, activity, kind, day, **quantity):
    return claim_allowance(
        user=member.user,
        activity=activity,
        allowance=AllowanceInput(
            kind=kind, travelled_on=day, description="Tour of Wallonia", **quantity
        ),
        today=TODAY,
        now=NOW,
    )


def mileage(member, activity, day, km):
    return claim(member, activity, "mileage", day, kilometres=D(km)).allowance


def test_mileage_split_within_and_beyond_the_yearly_limit():
    assert mileage_split(
        kilometres=D("250"), rate=D("0.4326"), limit=D("24000"), before=D("23900")
    ) == Split(
        # 250 km × 0.4326 = 108.15, of which 100 km within the limit: 43.26
        amount=D("108.15"),
        tax_free=D("43.26"),
        taxable=D("64.89"),
        tax_free_kilometres=D("100"),
    )


def test_mileage_at_the_quarterly_rate_of_the_day(member, activity):
    allowance = mileage(member, activity, datetime.date(2026, 2, 10), "120")
    # Q1 2026: 0.4326 €/km; 120 × 0.4326 = 51.912
    assert (allowance.rate, allowance.amount, allowance.tax_free, allowance.taxable) == (
        D("0.4326"),
        D("51.91"),
        D("51.91"),
        D("0.00"),
    )
    claim_row = allowance.claim
    assert (claim_row.status, claim_row.total, claim_row.total_vat) == (
        ExpenseClaim.Status.SUBMITTED,
        D("51.91"),
        D("0.00"),
    )
    assert not allowance.is_unverified
    assert AuditEvent.objects.filter(object_pk=str(claim_row.pk), action="submitted").exists()
    # Q4 2025 had its own rate: 0.4312
    assert mileage(member, activity, datetime.date(2025, 11, 3), "100").amount == D("43.12")


def test_the_yearly_system_uses_the_yearly_rate(member, activity):
    MileageSystem.objects.filter(year=2026).update(system="yearly")
    allowance = mileage(member, activity, datetime.date(2026, 2, 10), "100")
    assert (allowance.rate, allowance.amount) == (D("0.4449"), D("44.49"))


def test_kilometres_beyond_24000_a_year_are_taxable(member, activity):
    for day in (5, 6, 7, 8):
        mileage(member, activity, datetime.date(2026, 1, day), "5000")
    # A rejected claim does not use the room under the limit.
    rejected = mileage(member, activity, datetime.date(2026, 1, 9), "5000")
    reject_expense_claim(staff_user=member.user, claim=rejected.claim, reason="Duplicate")
    crossing = mileage(member, activity, datetime.date(2026, 2, 2), "5000")
    # 20,000 km before: 4,000 within the limit, 1,000 beyond; 5,000 × 0.4326 = 2,163.00
    assert (crossing.amount, crossing.tax_free, crossing.taxable) == (
        D("2163.00"),
        D("1730.40"),
        D("432.60"),
    )
    assert crossing.tax_free_kilometres == D("4000.0")
    beyond = mileage(member, activity, datetime.date(2026, 2, 3), "10")
    assert (beyond.tax_free, beyond.taxable) == (D("0.00"), D("4.33"))
    # A new year, a new limit.
    assert mileage(member, activity, datetime.date(2025, 12, 1), "10").taxable == D("0.00")


def test_per_diems_in_belgium_within_and_beyond_the_monthly_maximum(member, activity):
    november = datetime.date(2025, 11, 10)
    first = claim(member, activity, "per_diem_belgium", november, days=16).allowance
    # 16 × 21.22 = 339.52: exactly the monthly maximum
    assert (first.amount, first.tax_free, first.taxable) == (D("339.52"), D("339.52"), D("0"))
    second = claim(member, activity, "per_diem_belgium", november, days=1).allowance
    assert (second.amount, second.tax_free, second.taxable) == (D("21.22"), D("0"), D("21.22"))
    december = claim(member, activity, "per_diem_belgium", datetime.date(2025, 12, 1), days=2)
    assert december.allowance.tax_free == D("42.44")


def test_per_diems_from_2026_keep_free_only_what_social_security_accepts(member, activity):
    february = datetime.date(2026, 2, 2)
    first = claim(member, activity, "per_diem_belgium", february, days=10).allowance
    # 10 × 21.22 = 212.20; social security exempts 19.00 a day: 190.00
    assert (first.amount, first.tax_free, first.taxable) == (D("212.20"), D("190.00"), D("22.20"))
    second = claim(member, activity, "per_diem_belgium", february, days=10).allowance
    # 339.52 − 190.00 = 149.52 left this month
    assert (second.tax_free, second.taxable) == (D("149.52"), D("62.68"))
    assert per_diem_belgium_split(
        days=1, rate=D("21.22"), onss_day=None, month_max=D("339.52"), before=D("0")
    ).taxable == D("0.00")


def test_per_diems_abroad_flat_or_by_country(member, activity):
    flat = claim(
        member, activity, "per_diem_abroad", datetime.date(2026, 2, 2), days=3, country="fr"
    ).allowance
    # 3 × 37.18, all tax-free; the flat rate's start date is unverified
    assert (flat.rate, flat.amount, flat.tax_free, flat.taxable, flat.country) == (
        D("37.18"),
        D("111.54"),
        D("111.54"),
        D("0"),
        "FR",
    )
    assert flat.is_unverified
    AllowanceRate.objects.create(
        key="per_diem_abroad",
        country="NL",
        value=D("45.50"),
        valid_from=datetime.date(2025, 8, 1),
        source="Test row",
        is_unverified=True,
    )
    netherlands = claim(
        member, activity, "per_diem_abroad", datetime.date(2026, 2, 2), days=2, country="NL"
    ).allowance
    assert (netherlands.rate, netherlands.amount) == (D("45.50"), D("91.00"))


@pytest.mark.parametrize(
    ("kind", "day", "quantity", "code"),
    [
        ("per_diem_abroad", datetime.date(2026, 2, 2), {"days": 2, "country": "BE"}, "country"),
        ("per_diem_abroad", datetime.date(2026, 2, 2), {"days": 2, "country": "XX"}, "country"),
        # No flat rate abroad before 1 August 2025.
        (
            "per_diem_abroad",
            datetime.date(2025, 6, 2),
            {"days": 2, "country": "FR"},
            "allowance_rate_missing",
        ),
        # No quarterly rate seeded before the third quarter of 2025.
        ("mileage", datetime.date(2025, 3, 3), {"kilometres": D("10")}, "allowance_rate_missing"),
        ("mileage", datetime.date(2026, 2, 2), {"kilometres": D("0")}, "quantity"),
        ("mileage", datetime.date(2026, 2, 2), {"kilometres": 12.5}, "decimal"),
        ("mileage", datetime.date(2026, 2, 2), {"kilometres": D("5000.1")}, "quantity"),
        ("per_diem_belgium", datetime.date(2026, 2, 2), {"days": 32}, "quantity"),
        ("per_diem_belgium", datetime.date(2026, 3, 3), {"days": 1}, "bounds"),
        ("taxi", datetime.date(2026, 2, 2), {"days": 1}, "kind"),
    ],
)
def test_bad_allowances_are_refused_and_nothing_is_written(
    member, activity, kind, day, quantity, code
):
    with pytest.raises(ContractsError) as error:
        claim(member, activity, kind, day, **quantity)
    assert error.value.code == code
    assert not ExpenseClaim.objects.exists()
    assert not Allowance.objects.exists()


def test_the_excess_is_taxable_pay_on_the_payslip(staff, member, activity, approved):
    # 17 days in November 2025: 339.52 tax-free, 21.22 beyond the monthly maximum.
    allowance = claim(
        member, activity, "per_diem_belgium", datetime.date(2025, 11, 10), days=17
    ).allowance
    approve_expense_claim(staff_user=staff, claim=allowance.claim)
    fund(activity, staff, "6000.00")
    from contracts.services.payroll import run_payroll

    run_payroll(staff_user=staff, today=PAY_DAY, now=NOW, **MARCH)
    payslip = Payslip.objects.get()
    expected = compute_payslip(
        gross=D("4021.22"), is_artistic=False, parameters=load_parameters(MARCH["period_end"])
    )
    without = compute_payslip(
        gross=D("4000.00"), is_artistic=False, parameters=load_parameters(MARCH["period_end"])
    )
    assert (payslip.gross, payslip.personal_onss, payslip.expenses) == (
        D("4021.22"),
        D("525.57"),  # 13.07 % of 4,021.22
        D("339.52"),
    )
    assert payslip.withholding_tax == expected.withholding_tax > without.withholding_tax
    assert payslip.net == expected.net + D("339.52")
    assert payslip.employer_cost == D("5026.53")
    assert payslip.snapshot["allowances"]["tax_free"] == "339.52"
    assert payslip.snapshot["allowances"]["taxable"] == "21.22"
    allowance.claim.refresh_from_db()
    assert allowance.claim.status == ExpenseClaim.Status.REIMBURSED
    entries = set(
        LedgerEntry.objects.filter(activity=activity, stage=LedgerStage.AVAILABLE).values_list(
            "kind", "amount"
        )
    )
    assert ("salary_cost", D("-5026.53")) in entries
    assert ("expense_reimbursement", D("-339.52")) in entries
    Payslip.objects.filter(pk=payslip.pk).update(language="en")
    payslip.refresh_from_db()
    assert render_payslip(payslip=payslip) is True
    payslip.refresh_from_db()
    text = pdf_text(payslip.file.read())
    flat = " ".join(text.split())
    assert "Per-diem in Belgium: 17 days from 11/10/2025" in flat
    assert "Total 339.52 € 21.22 €" in flat
    assert "the part beyond them is paid as pay" in flat


def test_member_claims_an_allowance_in_the_browser(client, member, activity):
    client.force_login(member.user)
    page = client.get(reverse("contracts:allowance"))
    assert page.status_code == 200
    response = client.post(
        reverse("contracts:allowance"),
        {
            "activity": activity.pk,
            "description": "Concert in Liège",
            "kind": "mileage",
            "travelled_on": "2026-02-20",
            "kilometres": "197.5",
        },
    )
    allowance = Allowance.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("contracts:expense-claim", args=[allowance.claim_id])
    assert (allowance.kilometres, allowance.amount) == (D("197.5"), D("85.44"))  # × 0.4326
    detail = client.get(response["Location"]).content.decode()
    assert "Kilometres within the yearly limit" in detail and "85.44" in detail


def test_a_form_error_is_shown_not_a_server_error(client, member, activity):
    client.force_login(member.user)
    response = client.post(
        reverse("contracts:allowance"),
        {
            "activity": activity.pk,
            "description": "Festival",
            "kind": "per_diem_abroad",
            "travelled_on": "2026-02-20",
            "days": "2",
        },
    )
    assert response.status_code == 200
    assert "Choose the country abroad you travelled to." in response.content.decode()
    assert not ExpenseClaim.objects.exists()
