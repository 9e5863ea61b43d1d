"""Invoice documents, sendings and reminders whose broker message was lost come back."""

import datetime
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from coop.documents import DocumentStatus
from invoicing import tasks
from invoicing.models import Dispatch, InvoiceDocument, Reminder
from invoicing.services.documents import (
    lost_dispatches,
    lost_documents,
    lost_reminders,
    render_document,
    send_dispatch,
)
from invoicing.services.issue import submit_invoice
from tests.broker import waiting_messages
from tests.conftest import NOW
from tests.invoicing.conftest import TODAY, make_draft

RENDER = "invoicing.tasks.render_invoice_document_task"
SEND = "invoicing.tasks.send_dispatch_task"


def seconds(count: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=count)


@pytest.fixture
def issued(draft, no_review):
    return submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)


def test_only_documents_waiting_longer_than_a_minute_count_as_lost(issued):
    pdf, ubl = issued.documents.order_by("format")
    created = max(pdf.created_at, ubl.created_at)
    assert set(lost_documents(now=created + seconds(59))) == set()
    assert set(lost_documents(now=created + seconds(61))) == {pdf, ubl}
    InvoiceDocument.objects.filter(pk=ubl.pk).update(status=DocumentStatus.READY)
    assert set(lost_documents(now=created + seconds(61))) == {pdf}
    # A failed render has Celery's retries; the sweep tries again after ten minutes.
    InvoiceDocument.objects.filter(pk=pdf.pk).update(status=DocumentStatus.FAILED, attempts=3)
    assert set(lost_documents(now=created + seconds(9 * 60))) == set()
    assert set(lost_documents(now=created + seconds(11 * 60))) == {pdf}
    InvoiceDocument.objects.filter(pk=pdf.pk).update(attempts=10)
    assert set(lost_documents(now=created + seconds(11 * 60))) == set()


def test_the_sweep_enqueues_a_lost_document_once_and_only_when_its_queue_is_idle(issued):
    pdf = issued.documents.get(format=InvoiceDocument.Format.PDF)
    created = max(issued.documents.values_list("created_at", flat=True))
    message = (RENDER, f"({pdf.pk},)")
    before = waiting_messages("pdf")[message]

    later = created + seconds(90)
    assert tasks.recover_lost_work(now=later, idle_queues={"default"}) == 0  # a backlog
    assert waiting_messages("pdf")[message] == before
    assert tasks.recover_lost_work(now=later, idle_queues={"default", "pdf"}) == 2
    assert waiting_messages("pdf")[message] == before + 1
    pdf.refresh_from_db()
    assert pdf.queued_at == later
    # Not again while the new message may still be on its way.
    assert tasks.recover_lost_work(now=later + seconds(30), idle_queues={"pdf"}) == 0
    assert tasks.recover_lost_work(now=later + seconds(61), idle_queues={"pdf"}) == 2
    assert waiting_messages("pdf")[message] == before + 2


def test_a_sending_counts_as_lost_only_once_its_documents_are_ready(issued, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    dispatch = issued.dispatches.get(channel=Dispatch.Channel.EMAIL)
    created = dispatch.created_at
    assert set(lost_dispatches(now=created + seconds(120))) == set()
    for document in issued.documents.all():
        render_document(document=document)
    assert set(lost_dispatches(now=created + seconds(59))) == set()
    assert dispatch in set(lost_dispatches(now=created + seconds(61)))

    message = (SEND, f"({dispatch.pk},)")
    before = waiting_messages("default")[message]
    assert tasks.recover_lost_work(now=created + seconds(61), idle_queues={"default"}) >= 1
    assert waiting_messages("default")[message] == before + 1
    send_dispatch(dispatch=dispatch)
    assert dispatch not in set(lost_dispatches(now=created + seconds(600)))


def test_a_reminder_not_emailed_counts_as_lost(issued):
    reminder = Reminder.objects.create(
        invoice=issued, level=1, sent_on=TODAY, amount_due="100.00", created_at=NOW
    )
    assert set(lost_reminders(now=NOW + seconds(61))) == {reminder}
    Reminder.objects.filter(pk=reminder.pk).update(emailed_at=NOW)
    assert set(lost_reminders(now=NOW + seconds(61))) == set()


@pytest.mark.django_db(transaction=True)
def test_a_document_delivered_four_times_at_once_is_stored_and_sent_once(
    member, activity, belgian_client, settings, tmp_path, mailoutbox
):
    settings.MEDIA_ROOT = tmp_path
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    draft = make_draft(member, activity, belgian_client)
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    barrier = threading.Barrier(4)

    def deliver(task, pk):
        try:
            barrier.wait()
            return task(pk)
        finally:
            connection.close()

    for document in invoice.documents.all():
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(deliver, [tasks.render_invoice_document_task] * 4, [document.pk] * 4))
    files = sorted(path.name for path in tmp_path.rglob("*") if path.is_file())
    assert files == ["2026-000001.pdf", "2026-000001.xml"]
    assert set(invoice.documents.values_list("status", flat=True)) == {DocumentStatus.READY}

    for dispatch in invoice.dispatches.all():
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(deliver, [tasks.send_dispatch_task] * 4, [dispatch.pk] * 4))
    assert len(mailoutbox) == 1
    assert sorted(invoice.dispatches.values_list("channel", "status")) == [
        (Dispatch.Channel.EMAIL, Dispatch.Status.SENT),
        (Dispatch.Channel.PEPPOL, Dispatch.Status.SENT),
    ]
    outbox = sorted(path.name for path in (tmp_path / "peppol" / "outbox").iterdir())
    assert outbox == ["2026-000001.xml"]
