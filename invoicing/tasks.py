"""Background work of invoicing: documents, sending, reminders."""

import datetime

from celery import shared_task
from django.utils import timezone

from coop import recovery
from coop.db import reads_from_replica
from invoicing import guarantee_fund
from invoicing.models import Dispatch, InvoiceDocument, RecurringInvoiceRun, Reminder
from invoicing.services import documents, recurring, reminders


@shared_task(autoretry_for=(Exception,), retry_backoff=30, retry_backoff_max=1800, max_retries=8)
def render_invoice_document_task(document_pk: int) -> None:
    """Render an invoice's PDF or UBL (queue "pdf")."""
    document = InvoiceDocument.objects.filter(pk=document_pk).first()
    if document is not None:
        documents.render_document(document=document)


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=8)
def send_dispatch_task(dispatch_pk: int) -> None:
    """Send an invoice by e-mail or over Peppol."""
    dispatch = Dispatch.objects.filter(pk=dispatch_pk).first()
    if dispatch is not None:
        documents.send_dispatch(dispatch=dispatch)


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=8)
def send_reminder_email_task(reminder_pk: int) -> None:
    """E-mail one payment reminder."""
    reminder = Reminder.objects.filter(pk=reminder_pk).first()
    if reminder is not None:
        documents.send_reminder_email(reminder=reminder)


@shared_task
def send_payment_reminders_task() -> int:
    """Create today's payment reminders (daily, from Celery beat)."""
    return reminders.send_due_reminders(today=timezone.localdate())


@shared_task
def run_due_recurring_invoices_task() -> int:
    """Invoice the due periods of the recurring invoices, each once (hourly, from Celery beat)."""
    return recurring.run_due_recurring_invoices(today=timezone.localdate())


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=8)
def notify_recurring_draft_task(run_pk: int) -> None:
    """Tell the member that a recurring invoice's draft waits for their review."""
    run = RecurringInvoiceRun.objects.filter(pk=run_pk).first()
    if run is not None:
        recurring.notify_member_of_draft(run=run)


@shared_task
def refresh_guarantee_fund_task() -> bool:
    """Compute the guarantee fund's figures again (Celery beat, or "Refresh now").

    Reads from the replica when one is configured; False when another refresh was running."""
    with reads_from_replica():
        return guarantee_fund.refresh()


def recover_lost_work(*, now: datetime.datetime, idle_queues: set[str]) -> int:
    """Enqueue again the renders, sendings and reminder e-mails whose message was lost.

    Called by ``coop.tasks.recover_lost_work_task`` with the queues in which no message waits;
    a queue with a backlog is being worked through and is looked at again at the next sweep.
    """
    count = 0
    if "pdf" in idle_queues:
        lost = documents.lost_documents(now=now)
        count += recovery.requeue(lost, render_invoice_document_task, now=now)
    if "default" in idle_queues:
        lost = documents.lost_dispatches(now=now)
        count += recovery.requeue(lost, send_dispatch_task, now=now)
        lost = documents.lost_reminders(now=now)
        count += recovery.requeue(lost, send_reminder_email_task, now=now)
    return count
