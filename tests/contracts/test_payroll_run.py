"""Payroll runs: payslips once, ledger entries, SEPA file valid against its XSD, corrections."""

import datetime
from decimal import Decimal

import pytest
import xmlschema
from lxml import etree

from contracts.errors import ContractsError
from contracts.models import Contract, Payslip, TaxProfile
from contracts.parameters import load_parameters
from contracts.payroll import TaxSituation, compute_payslip, withholding_tax
from contracts.pdf import payslip_context
from contracts.sepa import SCHEMA_PATH
from contracts.services.documents import render_payslip
from contracts.services.payroll import correct_payslip, run_payroll
from coop.documents import DocumentStatus
from members.models import LedgerEntry, LedgerStage
from tests.conftest import NOW
from tests.contracts.conftest import TODAY, make_contract, worker

D = Decimal
PAY_DAY = datetime.date(2026, 3, 23)
MARCH = {"period_start": datetime.date(2026, 3, 1), "period_end": datetime.date(2026, 3, 22)}


def run(staff, **extra):
    return run_payroll(
        staff_user=staff, today=extra.pop("today", PAY_DAY), now=NOW, **MARCH, **extra
    )


def test_run_creates_payslip_and_debits_the_activity(
    staff, approved, activity, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        payroll = run(staff)
    assert len(callbacks) == 1  # the PDFs
    payslip = Payslip.objects.get()
    assert payslip.run == payroll
    assert (payslip.days, payslip.gross, payslip.personal_onss) == (
        D("10.0"),
        D("4000.00"),
        D("522.80"),
    )
    assert payslip.taxable == D("3477.20")
    assert payslip.net == payslip.taxable - payslip.withholding_tax - payslip.special_contribution
    assert payslip.employer_cost == D("5000.00")
    assert payslip.pay_date == PAY_DAY
    assert payslip.language == "fr"
    assert payslip.status == DocumentStatus.PENDING
    assert (payroll.payslip_count, payroll.total_net) == (1, payslip.net)
    entries = {
        (entry.stage, entry.amount) for entry in LedgerEntry.objects.filter(activity=activity)
    }
    assert entries == {
        (LedgerStage.PLANNED, D("-5000.00")),
        (LedgerStage.PLANNED, D("5000.00")),
        (LedgerStage.AVAILABLE, D("-5000.00")),
    }
    approved.refresh_from_db()
    assert approved.status == Contract.Status.COMPLETED


MONTHLY = ("work_bonus", "withholding_tax", "special_contribution")


def approved_job(staff, member, activity, *, wage, start, count):
    """An approved contract of ``count`` days at ``wage`` for the member, from ``start``."""
    from contracts.services.contracts import approve_contract, submit_contract

    contract = make_contract(
        member, activity, workers=[worker(member, wage=wage, start=start, count=count)]
    )
    submit_contract(user=member.user, contract=contract, today=TODAY, now=NOW)
    return approve_contract(staff_user=staff, contract=contract, today=TODAY, now=NOW)


@pytest.fixture
def two_jobs(staff, member, activity):
    """Two short jobs in March: 5 days at 200 (9–13 March) and 5 days at 300 (16–20 March)."""
    return (
        approved_job(
            staff, member, activity, wage="200.00", start=datetime.date(2026, 3, 9), count=5
        ),
        approved_job(
            staff, member, activity, wage="300.00", start=datetime.date(2026, 3, 16), count=5
        ),
    )


def run_first_week(staff):
    """Pay the first job alone, on Monday 16 March."""
    return run_payroll(
        staff_user=staff,
        period_start=datetime.date(2026, 3, 1),
        period_end=datetime.date(2026, 3, 13),
        today=datetime.date(2026, 3, 16),
        now=NOW,
    )


def month_totals(payslips):
    return {name: sum(getattr(payslip, name) for payslip in payslips) for name in MONTHLY}


def whole_month(gross, day=datetime.date(2026, 3, 20)):
    figures = compute_payslip(gross=D(gross), is_artistic=False, parameters=load_parameters(day))
    return {name: getattr(figures, name) for name in MONTHLY}


def test_two_jobs_paid_in_one_month_are_taxed_on_the_month(staff, two_jobs, activity):
    from django.utils import translation

    with translation.override("en"):
        run(staff)
    first, second = Payslip.objects.order_by("pk")
    cost = LedgerEntry.objects.get(activity=activity, stage=LedgerStage.AVAILABLE)
    assert (cost.amount, cost.description) == (D("-3125.00"), "Salaries: 2 payslips")
    assert (first.gross, second.gross) == (D("1000.00"), D("1500.00"))
    # Alone, 1,000 owes nothing; the month's 2,500 owes tax 241.97 and contribution 22.01, and
    # earns a work bonus of 245.72 of which the first payslip already granted 130.70.
    assert (first.work_bonus, first.withholding_tax, first.special_contribution) == (
        D("130.70"),
        D("0.00"),
        D("0.00"),
    )
    assert (second.work_bonus, second.withholding_tax, second.special_contribution) == (
        D("115.02"),
        D("241.97"),
        D("22.01"),
    )
    assert second.net == D("1500.00") - D("196.05") + D("115.02") - D("241.97") - D("22.01")
    assert month_totals([first, second]) == whole_month("2500.00")
    # Personal and employer contributions stay per payslip.
    assert (second.personal_onss, second.employer_cost) == (D("196.05"), D("1875.00"))
    assert second.snapshot["month"] == {
        "start": "2026-03-01",
        "gross": "2500.00",
        "personal_onss": "326.75",
        "work_bonus": "245.72",
        "withholding_tax": "241.97",
        "special_contribution": "22.01",
        "payslips": 2,
    }
    assert first.snapshot["month"]["payslips"] == 1


def test_a_later_run_in_the_same_month_continues_the_month(staff, two_jobs):
    run_first_week(staff)
    run(staff)
    first, second = Payslip.objects.order_by("pk")
    assert first.run_id != second.run_id
    assert (first.pay_date, second.pay_date) == (datetime.date(2026, 3, 16), PAY_DAY)
    assert month_totals([first, second]) == whole_month("2500.00")
    assert second.withholding_tax == D("241.97")


def test_a_run_paid_next_month_starts_a_new_month(staff, two_jobs):
    run_first_week(staff)
    run(staff, today=datetime.date(2026, 4, 1))
    second = Payslip.objects.order_by("pk").last()
    assert second.pay_date == datetime.date(2026, 4, 1)
    assert month_totals([second]) == whole_month("1500.00")
    assert second.snapshot["month"]["payslips"] == 1


def test_other_members_pay_does_not_count(staff, member, other_member, two_jobs, other_activity):
    approved_job(
        staff, other_member, other_activity, wage="300.00", start=datetime.date(2026, 3, 9), count=5
    )
    run(staff)
    others = Payslip.objects.get(member=other_member)
    assert month_totals([others]) == whole_month("1500.00")
    assert month_totals(Payslip.objects.filter(member=member)) == whole_month("2500.00")


def test_correcting_a_payslip_redoes_its_month(staff, two_jobs):
    run(staff)
    first, second = Payslip.objects.order_by("pk")
    adjustment = correct_payslip(
        staff_user=staff,
        payslip=first,
        days=D("6"),
        daily_wage=D("200.00"),
        reason="One more day",
        today=datetime.date(2026, 4, 2),
        now=NOW,
    )
    assert adjustment.gross == D("200.00")
    assert adjustment.pay_date == datetime.date(2026, 4, 2)
    # The month now holds 2,700 and its three payslips add up to the month's figures.
    assert month_totals([first, second, adjustment]) == whole_month("2700.00")
    assert adjustment.snapshot["month"]["gross"] == "2700.00"
    assert adjustment.snapshot["month"]["payslips"] == 2
    # The adjustment counts in March, the month it corrects: correcting again to the same pay
    # changes nothing, and April starts from zero.
    with pytest.raises(ContractsError) as error:
        correct_payslip(
            staff_user=staff,
            payslip=first,
            days=D("6"),
            daily_wage=D("200.00"),
            reason="again",
            today=datetime.date(2026, 4, 2),
        )
    assert error.value.code == "no_change"
    assert Payslip.objects.count() == 3
    from contracts.services.payroll import month_to_date

    assert month_to_date(members=[first.member_id], pay_date=datetime.date(2026, 4, 2)) == {}
    march = month_to_date(members=[first.member_id], pay_date=PAY_DAY)[first.member_id]
    assert (march.gross, march.payslips) == (D("2700.00"), 2)


def test_payslip_pdf_shows_the_month_when_it_is_not_the_only_payslip(staff, two_jobs):
    run(staff)
    first, second = Payslip.objects.order_by("pk")
    assert payslip_context(first)["month"] is None
    month = payslip_context(second)["month"]
    assert month["start"] == datetime.date(2026, 3, 1)
    assert (month["gross"], month["withholding_tax"], month["payslips"]) == (
        D("2500.00"),
        D("241.97"),
        2,
    )
    Payslip.objects.filter(pk=second.pk).update(language="en")
    second.refresh_from_db()
    assert render_payslip(payslip=second) is True
    second.refresh_from_db()
    text = pdf_text(second.file.read())
    assert "Month of March 2026, 2 payslips" in text
    assert "Withholding tax of the month" in text


def pdf_text(content: bytes) -> str:
    import pypdfium2

    return "\n".join(
        page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(content)
    )


def test_second_run_pays_nothing_twice(staff, approved):
    run(staff)
    with pytest.raises(ContractsError) as error:
        run(staff)
    assert error.value.code == "nothing_to_pay"
    assert Payslip.objects.count() == 1
    assert LedgerEntry.objects.filter(stage=LedgerStage.AVAILABLE).count() == 1


def test_run_with_nothing_to_pay(staff, submitted):
    with pytest.raises(ContractsError) as error:
        run(staff)
    assert error.value.code == "nothing_to_pay"
    assert not Payslip.objects.exists()


def test_unfinished_period_is_refused(staff, approved):
    with pytest.raises(ContractsError) as error:
        run(staff, today=datetime.date(2026, 3, 22))
    assert error.value.code == "period"


def test_cancelled_contract_is_not_paid(staff, member, approved):
    from contracts.services.contracts import cancel_contract

    cancel_contract(user=member.user, contract=approved, reason="Show cancelled", today=NOW.date())
    with pytest.raises(ContractsError):
        run(staff)


def test_tax_profile_changes_the_withholding(staff, member, approved):
    TaxProfile.objects.create(member=member, household="spouse_without_income", children=1)
    run(staff)
    payslip = Payslip.objects.get()
    parameters = load_parameters(datetime.date(2026, 3, 20))
    family = TaxSituation(household="spouse_without_income", children=1)
    assert payslip.withholding_tax == withholding_tax(payslip.taxable, parameters, family)
    assert payslip.withholding_tax < withholding_tax(payslip.taxable, parameters)


def test_sepa_file_is_valid_pain_001(staff, approved, member):
    payroll = run(staff)
    content = payroll.sepa_file.read()
    xmlschema.XMLSchema(str(SCHEMA_PATH)).validate(content)
    tree = etree.fromstring(content)
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
    payslip = Payslip.objects.get()
    assert tree.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=ns) == "1"
    assert tree.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=ns) == str(payslip.net)
    assert tree.findtext(".//p:CdtTrfTxInf/p:CdtrAcct/p:Id/p:IBAN", namespaces=ns) == member.iban
    assert tree.findtext(".//p:ReqdExctnDt", namespaces=ns) == "2026-03-23"
    assert tree.findtext(".//p:EndToEndId", namespaces=ns) == payslip.reference
    assert payroll.sepa_message_id


def test_correction_is_an_adjustment_payslip(staff, approved, activity):
    run(staff)
    original = Payslip.objects.get()
    adjustment = correct_payslip(
        staff_user=staff,
        payslip=original,
        days=D("11"),
        daily_wage=D("400.00"),
        reason="One more rehearsal day",
        today=PAY_DAY,
        now=NOW,
    )
    assert adjustment.kind == Payslip.Kind.ADJUSTMENT
    assert adjustment.corrects == original
    assert (adjustment.days, adjustment.gross, adjustment.employer_cost) == (
        D("1.0"),
        D("400.00"),
        D("500.00"),
    )
    original.refresh_from_db()
    assert original.gross == D("4000.00")
    assert LedgerEntry.objects.filter(stage=LedgerStage.AVAILABLE).count() == 2
    with pytest.raises(ContractsError) as error:
        correct_payslip(
            staff_user=staff,
            payslip=original,
            days=D("11"),
            daily_wage=D("400.00"),
            reason="again",
            today=PAY_DAY,
        )
    assert error.value.code == "no_change"


def test_payslip_pdf_renders_once_in_the_member_language(staff, approved):
    run(staff)
    payslip = Payslip.objects.get()
    assert render_payslip(payslip=payslip) is True
    payslip.refresh_from_db()
    assert payslip.status == DocumentStatus.READY
    assert payslip.file.read().startswith(b"%PDF-")
    assert len(payslip.sha256) == 64
    assert render_payslip(payslip=payslip) is False


def test_management_command_runs_payroll_and_reports_nothing_to_pay(staff, approved):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="Nothing to pay"):
        call_command("run_payroll", "--from", "2026-01-01", "--to", "2026-01-31")
    assert not Payslip.objects.exists()


def receipt(amount="121.00", vat="21.00", content=b"%PDF-1.7 receipt", **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from contracts.services.expenses import ReceiptInput

    return ReceiptInput(
        upload=SimpleUploadedFile("receipt.pdf", content),
        description=extra.get("description", "Gels for the projectors"),
        spent_on=extra.get("spent_on", datetime.date(2026, 2, 20)),
        amount=D(amount),
        vat=D(vat),
    )


def claim_for(member, activity, *receipts):
    from contracts.services.expenses import submit_expense_claim

    return submit_expense_claim(
        user=member.user,
        activity=activity,
        description="Lighting supplies",
        receipts=list(receipts) or [receipt()],
        today=NOW.date(),
        now=NOW,
    )


def fund(activity, staff, amount):
    from members.services import post_ledger_entry

    post_ledger_entry(
        activity=activity,
        kind="client_income",
        stage=LedgerStage.AVAILABLE,
        amount=D(amount),
        reference="INV-1",
        author=staff,
    )


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (receipt(content=b"just text"), "file_type"),
        (receipt(amount="10.00", vat="12.00"), "receipt_amount"),
        (receipt(spent_on=datetime.date(2026, 3, 3)), "future_receipt"),
    ],
)
def test_bad_receipts_are_refused(member, activity, bad, code):
    from contracts.models import ExpenseClaim

    with pytest.raises(ContractsError) as error:
        claim_for(member, activity, receipt(), bad)
    assert error.value.code == code
    assert not ExpenseClaim.objects.exists()


def test_approved_claim_reimbursed_on_next_payslip_from_money_received(
    staff, member, activity, approved
):
    from contracts.models import ExpenseClaim
    from contracts.services.expenses import approve_expense_claim

    claim = approve_expense_claim(staff_user=staff, claim=claim_for(member, activity))
    fund(activity, staff, "5121.00")  # the salary's 5,000 and the 121 of the receipt
    run(staff)
    payslip = Payslip.objects.get()
    assert payslip.expenses == D("121.00")
    assert payslip.net == (
        payslip.taxable - payslip.withholding_tax - payslip.special_contribution + D("121.00")
    )
    claim.refresh_from_db()
    assert (claim.status, claim.payslip) == (ExpenseClaim.Status.REIMBURSED, payslip)
    entries = set(
        LedgerEntry.objects.filter(activity=activity, stage=LedgerStage.AVAILABLE).values_list(
            "kind", "amount"
        )
    )
    assert entries == {
        ("client_income", D("5121.00")),
        ("salary_cost", D("-5000.00")),
        ("expense_reimbursement", D("-121.00")),
        ("adjustment", D("21.00")),
    }


def test_claim_waits_while_the_activity_has_not_received_the_money(
    staff, member, activity, approved
):
    from contracts.models import ExpenseClaim
    from contracts.services.expenses import approve_expense_claim

    claim = approve_expense_claim(staff_user=staff, claim=claim_for(member, activity))
    fund(activity, staff, "5100.00")
    run(staff)
    assert Payslip.objects.get().expenses == D("0.00")
    claim.refresh_from_db()
    assert claim.status == ExpenseClaim.Status.APPROVED


def test_unapproved_claim_is_not_reimbursed(staff, member, activity, approved):
    claim_for(member, activity)
    fund(activity, staff, "9000.00")
    run(staff)
    assert Payslip.objects.get().expenses == D("0.00")
