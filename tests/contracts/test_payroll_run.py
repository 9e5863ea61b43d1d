"""Payroll runs: payslips once, ledger entries, SEPA file valid against its XSD, corrections."""

import datetime
from decimal import Decimal

import pytest
import xmlschema
from lxml import etree

from contracts.errors import ContractsError
from contracts.models import Contract, Payslip, TaxProfile
from contracts.parameters import load_parameters
from contracts.payroll import TaxSituation, withholding_tax
from contracts.sepa import SCHEMA_PATH
from contracts.services.documents import render_payslip
from contracts.services.payroll import correct_payslip, run_payroll
from coop.documents import DocumentStatus
from members.models import LedgerEntry, LedgerStage
from tests.conftest import NOW

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
