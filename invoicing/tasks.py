"""Background work of invoicing: documents, sending, reminders."""

from celery import shared_task
from django.utils import timezone

from invoicing.models import Dispatch, InvoiceDocument, Reminder
from invoicing.services import documents, reminders


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
def sweep_pending_documents_task() -> int:
    """Re-enqueue documents left pending or failed too long."""
    stale = list(documents.stale_pending_documents(now=timezone.now()).values_list("pk", flat=True))
    for document_pk in stale:
        render_invoice_document_task.delay(document_pk)
    return len(stale)
