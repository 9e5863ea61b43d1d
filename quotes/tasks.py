"""Background work of quotes: PDFs and e-mails."""

import datetime

from celery import shared_task

from coop import recovery
from quotes import documents
from quotes.models import QuoteDocument


@shared_task(autoretry_for=(Exception,), retry_backoff=30, retry_backoff_max=1800, max_retries=8)
def render_quote_document_task(document_pk: int) -> None:
    """Render a quote's PDF (queue "pdf")."""
    document = QuoteDocument.objects.filter(pk=document_pk).first()
    if document is not None:
        documents.render_document(document=document)


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=8)
def send_quote_email_task(link_pk: int, token: str) -> None:
    """E-mail the client the quote and its link (the link's token is kept nowhere else)."""
    documents.send_quote_email(link_pk=link_pk, token=token)


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=8)
def notify_member_task(event_pk: int) -> None:
    """Tell the member the client's answer."""
    documents.notify_member(event_pk=event_pk)


def recover_lost_work(*, now: datetime.datetime, idle_queues: set[str]) -> int:
    """Enqueue again the quote PDFs whose message was lost (coop.tasks.recover_lost_work_task)."""
    if "pdf" not in idle_queues:
        return 0
    return recovery.requeue(documents.lost_documents(now=now), render_quote_document_task, now=now)
