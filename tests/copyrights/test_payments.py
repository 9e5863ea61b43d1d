"""Recording, approving, cancelling and paying copyright payments; caps and the ceiling."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import etree

from audit.models import AuditEvent
from contracts.errors import ContractsError
from contracts.services.payroll import run_payroll
from coop.documents import DocumentStatus
from copyrights.errors import CopyrightError
from copyrights.models import CopyrightMemberYear, CopyrightPayment, CopyrightStatement
from copyrights.pdf import statement_context
from copyrights.selectors import CopyrightYear, copyright_years
from copyrights.services import (
    approve_copyright_payment,
    cancel_copyright_payment,
    render_statement,
)
from members.models import LedgerEntry, LedgerStage
from members.services import create_activity
from tests.conftest import make_member, run_at_once
from tests.contracts.conftest import TODAY, make_contract
from tests.copyrights.conftest import record

D = Decimal
PAY_DAY_2024 = datetime.date(2024, 3, 25)
PERIOD_2024 = {"period_start": datetime.date(2024, 3, 1), "period_end": datetime.date(2024, 3, 22)}


def pay(staff):
    return run_payroll(staff_user=staff, today=PAY_DAY_2024, **PERIOD_2024)


def test_recording_computes_the_worked_example(member, activity):
    payment = record(member, activity, "25000.00")
    assert payment.status == CopyrightPayment.Status.SUBMITTED
    assert payment.income_year == 2024
    assert (payment.first_bracket_costs, payment.second_bracket_costs) == (
        D("9740.00"),
        D("1380.00"),
    )
    assert (payment.taxable, payment.withholding, payment.net) == (
        D("13880.00"),
        D("2082.00"),
        D("22918.00"),
    )
    assert payment.is_unverified is False
    year = CopyrightMemberYear.objects.get(member=member, income_year=2024)
    assert (year.gross, year.payments) == (D("25000.00"), 1)
    assert AuditEvent.objects.filter(action="created", object_pk=str(payment.pk)).exists()
    # Nothing reaches the Activity's ledger before staff approve.
    assert not LedgerEntry.objects.filter(activity=activity).exists()


def test_second_payment_of_the_year_continues_the_brackets(member, activity):
    record(member, activity, "10000.00")
    second = record(member, activity, "15000.00")
    assert second.year_gross_before == D("10000.00")
    assert second.withholding == D("1332.00")  # 750.00 + 1,332.00 = the year's 2,082.00


@pytest.mark.parametrize("kind", ["software", "database"])
def test_software_and_databases_are_refused(member, activity, kind):
    with pytest.raises(CopyrightError) as refused:
        record(member, activity, "1000.00", work_kind=kind)
    assert "Software and databases do not qualify" in refused.value.message
    assert refused.value.field == "work_kind"
    assert not CopyrightPayment.objects.exists()
    assert not CopyrightMemberYear.objects.exists()


def test_share_beside_a_salary_is_capped_at_30_percent(member, activity):
    with pytest.raises(CopyrightError) as refused:
        record(member, activity, "3000.01", salary_gross=D("7000.00"))
    assert refused.value.message == (
        "Beside a salary of 7,000.00\xa0€ for this work, copyright may be at most 30% of the "
        "total pay: 3,000.00\xa0€."
    )
    payment = record(member, activity, "3000.00", salary_gross=D("7000.00"))
    assert payment.salary_gross == D("7000.00")


def test_salary_beside_a_contract_comes_from_the_contract(member, activity):
    # 10 days at 400.00: 4,000.00 planned, so at most 1,714.28 of copyright.
    contract = make_contract(member, activity, kind="artistic")
    with pytest.raises(CopyrightError) as refused:
        record(member, activity, "1714.29", contract=contract, salary_gross=D("0"), today=TODAY)
    assert "1,714.28" in refused.value.message
    payment = record(member, activity, "1714.28", contract=contract, today=TODAY)
    assert (payment.contract, payment.salary_gross) == (contract, D("4000.00"))


def test_non_artistic_contract_is_refused(member, activity):
    contract = make_contract(member, activity)
    with pytest.raises(CopyrightError, match="only for artistic work"):
        record(member, activity, "100.00", contract=contract, today=TODAY)


def test_yearly_ceiling_holds_across_activities(member, activity):
    second_activity = create_activity(owner=member, name="Music")
    third_activity = create_activity(owner=member, name="Books")
    record(member, activity, "30000.00")
    record(member, second_activity, "40000.00")
    with pytest.raises(CopyrightError) as refused:
        record(member, third_activity, "3070.01")
    assert refused.value.message == (
        "This payment would cross the yearly copyright ceiling of 73,070.00\xa0€ for 2024: "
        "at most 3,070.00\xa0€ may still be paid as copyright this year."
    )
    assert refused.value.field == "gross"
    last = record(member, third_activity, "3070.00")
    assert last.lump_sum_costs == D("0.00")
    assert CopyrightMemberYear.objects.get(member=member).gross == D("73070.00")
    # The next year starts again from zero.
    next_year = record(member, activity, "100.00", today=datetime.date(2025, 1, 6))
    assert (next_year.year_gross_before, next_year.is_unverified) == (D("0.00"), True)


def test_another_member_cannot_record_on_my_activity(member, other_member, activity):
    with pytest.raises(CopyrightError):
        record(other_member, activity, "100.00")
    with pytest.raises(CopyrightError):
        record(member, activity, "100.00", user=other_member.user)
    assert not CopyrightPayment.objects.exists()


def test_staff_records_for_a_member(staff, member, activity):
    payment = record(member, activity, "100.00", user=staff)
    assert payment.created_by == staff


def test_cancelling_recomputes_later_payments(staff, member, activity):
    first = record(member, activity, "20000.00")
    second = record(member, activity, "5000.00")
    assert second.withholding == D("562.50")  # all in the second bracket
    approve_copyright_payment(staff_user=staff, payment=first)
    cancel_copyright_payment(user=staff, payment=first, reason="The client withdrew.")
    second.refresh_from_db()
    assert (second.year_gross_before, second.withholding) == (D("0.00"), D("375.00"))
    assert CopyrightMemberYear.objects.get(member=member).gross == D("5000.00")
    # The commitment made at approval is released.
    assert sorted(LedgerEntry.objects.filter(activity=activity).values_list("stage", "amount")) == [
        (LedgerStage.PLANNED, D("-20000.00")),
        (LedgerStage.PLANNED, D("20000.00")),
    ]


def test_member_cancels_only_while_awaiting_approval(staff, member, activity):
    payment = record(member, activity, "100.00")
    approve_copyright_payment(staff_user=staff, payment=payment)
    with pytest.raises(CopyrightError, match="can no longer be cancelled"):
        cancel_copyright_payment(user=member.user, payment=payment, reason="Changed my mind")


def test_payroll_run_pays_approved_payments_in_its_sepa_file(
    staff, member, activity, django_capture_on_commit_callbacks
):
    payment = record(member, activity, "25000.00")
    waiting = record(member, activity, "1000.00")
    approve_copyright_payment(staff_user=staff, payment=payment)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = pay(staff)
    assert len(callbacks) == 2  # the (no) payslip PDFs and the statements
    payment.refresh_from_db()
    waiting.refresh_from_db()
    assert (payment.status, payment.pay_date, payment.payroll_run) == (
        CopyrightPayment.Status.PAID,
        PAY_DAY_2024,
        run,
    )
    assert waiting.status == CopyrightPayment.Status.SUBMITTED
    assert sorted(
        LedgerEntry.objects.filter(activity=activity).values_list("kind", "stage", "amount")
    ) == [
        ("copyright_payment", LedgerStage.AVAILABLE, D("-25000.00")),
        ("copyright_payment", LedgerStage.PLANNED, D("-25000.00")),
        ("copyright_payment", LedgerStage.PLANNED, D("25000.00")),
    ]
    document = etree.fromstring(run.sepa_file.open("rb").read())
    transfers = document.findall(".//{*}CdtTrfTxInf")
    assert [(t.findtext(".//{*}EndToEndId"), t.findtext(".//{*}InstdAmt")) for t in transfers] == [
        (payment.reference, "22918.00")
    ]
    statement = CopyrightStatement.objects.get(payment=payment)
    assert (statement.status, statement.language) == (DocumentStatus.PENDING, "fr")
    # A second run pays nothing twice.
    with pytest.raises(ContractsError, match="Nothing to pay"):
        pay(staff)


def test_statement_pdf_in_the_members_language(staff, member, activity):
    payment = record(member, activity, "25000.00")
    approve_copyright_payment(staff_user=staff, payment=payment)
    pay(staff)
    statement = CopyrightStatement.objects.get()
    assert render_statement(statement=statement) is True
    assert render_statement(statement=statement) is False
    statement.refresh_from_db()
    assert statement.status == DocumentStatus.READY
    assert statement.file.open("rb").read(5) == b"%PDF-"
    context = statement_context(statement)
    assert context["figures"]["withholding"] == D("2082.00")
    assert context["figures"]["lump_sum_costs"] == D("11120.00")


def test_copyright_years_sums_paid_income_per_member_in_one_query(
    staff, member, other_member, activity, other_activity
):
    for gross in ("10000.00", "15000.00"):
        approve_copyright_payment(staff_user=staff, payment=record(member, activity, gross))
    approve_copyright_payment(
        staff_user=staff, payment=record(other_member, other_activity, "10000.00")
    )
    record(other_member, other_activity, "500.00")  # not approved: not paid
    pay(staff)
    with CaptureQueriesContext(connection) as queries:
        years = copyright_years(2024)
    assert len(queries) == 1
    assert years == sorted(
        [
            CopyrightYear(
                member_id=member.pk,
                gross=D("25000.00"),
                lump_sum_costs=D("11120.00"),
                withholding=D("2082.00"),
            ),
            CopyrightYear(
                member_id=other_member.pk,
                gross=D("10000.00"),
                lump_sum_costs=D("5000.00"),
                withholding=D("750.00"),
            ),
        ],
        key=lambda row: row.member_id,
    )
    assert copyright_years(2023) == []


@pytest.mark.django_db(transaction=True)
def test_two_payments_at_once_cannot_both_cross_the_ceiling():
    member = make_member("artist@coop.test", legal_name="Ines Artist", niss="85073003328")
    first = create_activity(owner=member, name="Paintings")
    second = create_activity(owner=member, name="Books")
    attempts = iter([first, second])

    def attempt() -> str:
        try:
            record(member, next(attempts), "40000.00")
        except CopyrightError as error:
            return error.code
        return "recorded"

    assert run_at_once(attempt, times=2) == ["ceiling", "recorded"]
    year = CopyrightMemberYear.objects.get(member=member)
    assert (year.gross, year.payments) == (D("40000.00"), 1)
    assert CopyrightPayment.objects.filter(member=member).count() == 1


def test_lost_statement_renders_are_found_again(staff, member, activity):
    from coop import recovery
    from copyrights.services import lost_statements

    approve_copyright_payment(staff_user=staff, payment=record(member, activity, "100.00"))
    pay(staff)
    statement = CopyrightStatement.objects.get()
    later = statement.created_at + recovery.LOST_AFTER + datetime.timedelta(seconds=1)
    assert list(lost_statements(now=statement.created_at)) == []
    assert list(lost_statements(now=later)) == [statement]
    render_statement(statement=statement)
    assert list(lost_statements(now=later)) == []


def test_data_export_and_anonymisation_blockers(staff, member, activity):
    from copyrights.privacy import anonymisation_blockers, export_member_data

    payment = record(member, activity, "100.00")
    assert anonymisation_blockers(member) == [
        "1 copyright payment is still to be approved or paid."
    ]
    exported = export_member_data(member)["data"]["copyright_payments"]
    assert [(row["id"], row["gross"], row["withholding"]) for row in exported] == [
        (payment.pk, "100.00", "7.50")
    ]


def test_nobody_approves_a_payment_they_take_part_in(staff, member, activity):
    recorded_by_staff = record(member, activity, "100.00", user=staff)
    with pytest.raises(CopyrightError) as refused:
        approve_copyright_payment(staff_user=staff, payment=recorded_by_staff)
    assert refused.value.code == "own_payment"
    recorded_by_staff.refresh_from_db()
    assert recorded_by_staff.status == CopyrightPayment.Status.SUBMITTED
    assert not LedgerEntry.objects.filter(activity=activity).exists()
