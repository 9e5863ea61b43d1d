"""A payroll run interrupted midway leaves nothing; its payslip PDFs come back if lost."""

import datetime

import pytest
from lxml import etree

from contracts import tasks
from contracts.models import Contract, ContractEvent, PayrollRun, Payslip
from contracts.services import payroll
from contracts.services.documents import lost_payslips
from coop.documents import DocumentStatus
from members.models import LedgerEntry, LedgerStage
from tests.broker import waiting_messages
from tests.conftest import NOW
from tests.contracts.test_payroll_run import run

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


def test_a_run_interrupted_before_its_commit_pays_nobody_and_its_sepa_file_goes(
    staff, approved, monkeypatch, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path

    def crash(*args, **kwargs):
        raise RuntimeError("the process died here")

    # The last step before the commit: payslips, ledger and SEPA file are written by then.
    monkeypatch.setattr(payroll, "_complete_contracts", crash)
    with pytest.raises(RuntimeError):
        run(staff)
    assert PayrollRun.objects.count() == 0
    assert Payslip.objects.count() == 0
    assert LedgerEntry.objects.filter(stage=LedgerStage.AVAILABLE).count() == 0
    approved.refresh_from_db()
    assert approved.status == Contract.Status.APPROVED

    # The killed run's SEPA file is in storage, under the number of no recorded run.
    (orphan,) = [path for path in tmp_path.rglob("*.xml") if path.parent.parent.name == "payroll"]

    monkeypatch.undo()
    settings.MEDIA_ROOT = tmp_path
    payroll_run = run(staff)
    assert not orphan.exists()  # removed by the next run, which holds the payroll lock
    stored = [path for path in tmp_path.rglob("*.xml") if path.parent.parent.name == "payroll"]
    assert [path.relative_to(tmp_path).as_posix() for path in stored] == [
        payroll_run.sepa_file.name
    ]
    payslip = Payslip.objects.get()
    assert payslip.run == payroll_run
    assert LedgerEntry.objects.filter(stage=LedgerStage.AVAILABLE).count() == 1
    tree = etree.fromstring(payroll_run.sepa_file.read())
    assert tree.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=NS) == "1"
    assert tree.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=NS) == str(payslip.net)
    assert [e.text for e in tree.iterfind(".//p:EndToEndId", NS)] == [payslip.reference]
    approved.refresh_from_db()
    assert approved.status == Contract.Status.COMPLETED


def test_a_payslip_whose_render_message_was_lost_is_enqueued_again(staff, approved):
    run(staff)
    ContractEvent.objects.update(notified_at=NOW)  # only the payslip is left to do
    payslip = Payslip.objects.get()
    message = ("contracts.tasks.render_payslip_task", f"({payslip.pk},)")
    before = waiting_messages("pdf")[message]
    created = payslip.created_at
    later = created + datetime.timedelta(seconds=61)
    assert set(lost_payslips(now=created + datetime.timedelta(seconds=59))) == set()
    assert tasks.recover_lost_work(now=later, idle_queues={"default"}) == 0
    assert tasks.recover_lost_work(now=later, idle_queues={"pdf"}) == 1
    assert waiting_messages("pdf")[message] == before + 1
    Payslip.objects.filter(pk=payslip.pk).update(status=DocumentStatus.READY)
    assert (
        tasks.recover_lost_work(now=later + datetime.timedelta(hours=1), idle_queues={"pdf"}) == 0
    )


def test_a_lost_contract_notice_is_enqueued_again(approved):
    event = approved.events.get(to_status=Contract.Status.APPROVED)
    assert event.notified_at is None
    message = ("contracts.tasks.notify_contract_event_task", f"({event.pk},)")
    before = waiting_messages("default")[message]
    later = event.created_at + datetime.timedelta(seconds=61)
    assert tasks.recover_lost_work(now=later, idle_queues={"pdf"}) == 0
    assert tasks.recover_lost_work(now=later, idle_queues={"default"}) >= 1
    assert waiting_messages("default")[message] == before + 1
    ContractEvent.objects.filter(contract=approved).update(notified_at=later)
    eleven_minutes_on = later + datetime.timedelta(minutes=11)
    assert tasks.recover_lost_work(now=eleven_minutes_on, idle_queues={"default"}) == 0
