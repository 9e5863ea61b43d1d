"""Artists' work statements: days by the cachet rule (at most 78 a quarter) or under contract,
per quarter over 24 months, against the 156 days of the artist allowance; the PDF in three
languages, only the member's own."""

import datetime
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from contracts.models import Contract, ContractWorker, Payslip
from contracts.statements import cachet_days, window, work_statement
from tests.contracts.test_payroll_run import pdf_text

D = Decimal
TODAY = datetime.date(2026, 12, 8)


def paid_work(member, activity, *, last_day, gross, days="0", task_based=False, snapshot=None):
    """A completed contract of the member, paid by one payslip a week after its last day."""
    contract = Contract.objects.create(
        activity=activity,
        title="Concert",
        place="Flagey",
        kind=Contract.Kind.ARTISTIC,
        amount_to_invoice=D("9000.00"),
        status=Contract.Status.COMPLETED,
        first_work_day=last_day,
        last_work_day=last_day,
        created_by=member.user,
        approved_at=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
    )
    worker = ContractWorker.objects.create(
        contract=contract, member=member, daily_wage=D("200.00"), is_task_based=task_based
    )
    zero = D("0.00")
    return Payslip.objects.create(
        worker=worker,
        member=member,
        activity=activity,
        pay_date=last_day + datetime.timedelta(days=7),
        days=D(days),
        gross=D(gross),
        personal_onss=zero,
        work_bonus=zero,
        taxable=zero,
        withholding_tax=zero,
        special_contribution=zero,
        net=zero,
        employer_cost=zero,
        snapshot=snapshot or {},
    )


def test_the_cachet_rule_rounds_down_and_caps_at_78():
    assert cachet_days(D("1000") / D("76.70"), maximum=78) == (13, False)  # 13.04
    assert cachet_days(D("7000") / D("76.70"), maximum=78) == (78, True)  # 91.26
    assert cachet_days(D("77.99"), maximum=78) == (77, False)


def test_the_window_is_the_24_months_up_to_today():
    assert window(TODAY) == (datetime.date(2025, 1, 1), TODAY)
    assert window(datetime.date(2026, 1, 31)) == (
        datetime.date(2024, 2, 1),
        datetime.date(2026, 1, 31),
    )


def _world(member, other_member, activity, other_activity):
    # Q3 2026: 7,000 per task = 91.26 days, capped at 78.
    paid_work(
        member, activity, last_day=datetime.date(2026, 8, 14), gross="7000.00", task_based=True
    )
    # Q2 2026: 1,150 in May and 1,150 in June: 14.99 + 14.99 = 29.98, 29 days (not 14 + 14).
    paid_work(
        member, activity, last_day=datetime.date(2026, 5, 12), gross="1150.00", task_based=True
    )
    paid_work(
        member, activity, last_day=datetime.date(2026, 6, 9), gross="1150.00", task_based=True
    )
    # Q4 2025: 10 days under contract; 21.22 of allowances paid as pay is not work pay.
    paid_work(
        member,
        activity,
        last_day=datetime.date(2025, 10, 20),
        gross="2021.22",
        days="10",
        snapshot={"allowances": {"taxable": "21.22", "tax_free": "0", "lines": []}},
    )
    # Q1 2026: 70 days under contract and 1,000 per task: only 8 of the 13 days fit in 78.
    paid_work(member, activity, last_day=datetime.date(2026, 2, 20), gross="14000.00", days="70")
    paid_work(
        member, activity, last_day=datetime.date(2026, 3, 6), gross="1000.00", task_based=True
    )
    # Before the window, and another member's work: not counted.
    paid_work(
        member, activity, last_day=datetime.date(2024, 12, 16), gross="5000.00", task_based=True
    )
    paid_work(
        other_member,
        other_activity,
        last_day=datetime.date(2026, 8, 3),
        gross="3000.00",
        task_based=True,
    )


def test_statement_per_quarter_against_the_156_days(member, other_member, activity, other_activity):
    _world(member, other_member, activity, other_activity)
    with CaptureQueriesContext(connection) as captured:
        statement = work_statement(member, today=TODAY)
    aggregate = [query for query in captured if "contracts_payslip" in query["sql"]]
    assert len(aggregate) == 1 and "GROUP BY" in aggregate[0]["sql"]
    rows = {
        quarter.label: (
            quarter.contract_days,
            quarter.task_gross,
            quarter.cachet_days,
            quarter.is_capped,
            quarter.days,
            quarter.gross,
        )
        for quarter in statement.quarters
    }
    assert list(rows) == [
        "2025 Q1",
        "2025 Q2",
        "2025 Q3",
        "2025 Q4",
        "2026 Q1",
        "2026 Q2",
        "2026 Q3",
        "2026 Q4",
    ]
    assert rows["2025 Q4"] == (D("10"), D("0"), 0, False, D("10"), D("2000.00"))
    assert rows["2026 Q1"] == (D("70"), D("1000.00"), 8, True, D("78"), D("15000.00"))
    assert rows["2026 Q2"] == (D("0"), D("2300.00"), 29, False, D("29"), D("2300.00"))
    assert rows["2026 Q3"] == (D("0"), D("7000.00"), 78, True, D("78"), D("7000.00"))
    assert rows["2025 Q1"][4] == rows["2026 Q4"][4] == D("0")
    assert statement.total_days == D("195")
    assert statement.total_gross == D("26300.00")
    assert statement.reaches_threshold
    # The reference amount of 2026 is carried forward, unverified: the statement says so.
    assert statement.has_unverified
    assert {reference.value for reference in statement.references} >= {
        D("76.70"),
        D("78"),
        D("156"),
    }


def test_statement_short_of_the_threshold(member, activity):
    paid_work(
        member, activity, last_day=datetime.date(2026, 8, 14), gross="7000.00", task_based=True
    )
    statement = work_statement(member, today=TODAY)
    assert (statement.total_days, statement.missing_days) == (D("78"), D("78"))
    assert not statement.reaches_threshold


def test_member_downloads_the_statement_in_three_languages(
    client, member, other_member, activity, other_activity
):
    _world(member, other_member, activity, other_activity)
    client.force_login(member.user)
    page = client.get(reverse("contracts:work-statement"))
    assert page.status_code == 200
    assert "195" in page.content.decode()
    texts = {}
    for language in ("fr", "nl", "en"):
        response = client.get(reverse("contracts:work-statement-pdf"), {"language": language})
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        texts[language] = " ".join(pdf_text(response.content).split())
    english = texts["en"]
    assert "Statement of days worked and pay" in english
    assert "Ana Peeters" in english and "**.**.**-***.28" in english
    assert "2026 Q3" in english and "78 (capped)" in english
    assert "195 days in 24 months: the 156 days the artist allowance asks for are reached." in (
        english
    )
    assert "2026 Q1 70 1,000.00 € 8 (capped) 78 15,000.00 €" in english
    assert "Total 195 26,300.00 €" in english
    assert "Cachet rule: reference daily amount * 76.70" in english
    # Each language formats the amounts its own way.
    assert "26.300,00" in texts["nl"]
    assert "Total 195 26 300,00 €" in texts["fr"]
    assert (
        client.get(reverse("contracts:work-statement-pdf"), {"language": "de"}).status_code == 404
    )
    assert AuditEvent.objects.filter(action="downloaded", object_pk=str(member.pk)).count() == 3


def test_the_statement_is_only_the_members_own(
    client, member, other_member, activity, other_activity
):
    _world(member, other_member, activity, other_activity)
    client.force_login(other_member.user)
    response = client.get(reverse("contracts:work-statement-pdf"), {"language": "en"})
    text = " ".join(pdf_text(response.content).split())
    assert "Lucas Dubois" in text and "Ana Peeters" not in text
    # The other member's one task of 3,000: 39.11 days, 39.
    assert "39 days in 24 months" in text


def test_anonymous_is_sent_to_sign_in(client, db):
    response = client.get(reverse("contracts:work-statement-pdf"))
    assert response.status_code == 302 and "login" in response["Location"]
