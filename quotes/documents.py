"""Rendering quote PDFs and e-mailing clients and members."""

import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from coop import recovery
from coop.documents import DocumentStatus
from quotes.models import QuoteDocument, QuoteEvent, QuoteLink, QuoteVersion
from quotes.services import link_expiry_wording

RETRY_AFTER = datetime.timedelta(minutes=10)
MAX_ATTEMPTS = 10


def render_document(*, document: QuoteDocument, now: datetime.datetime | None = None) -> bool:
    """Render a pending quote PDF from its version's snapshot and keep its SHA-256 on the
    version; return whether it was rendered (a ready document is left alone)."""
    from quotes.pdf import render_quote_pdf

    with transaction.atomic():
        document = (
            QuoteDocument.objects.select_for_update().select_related("version").get(pk=document.pk)
        )
        if document.status == DocumentStatus.READY:
            return False
        document.attempts += 1
        document.save(update_fields=["attempts"])
    snapshot = document.version.snapshot
    try:
        content = render_quote_pdf(snapshot)
    except Exception as error:
        QuoteDocument.objects.filter(pk=document.pk).update(
            status=DocumentStatus.FAILED, error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    with transaction.atomic():
        document = QuoteDocument.objects.select_for_update().get(pk=document.pk)
        if document.status == DocumentStatus.READY:
            return False
        filename = f"{snapshot['number']}-v{snapshot['version']}.pdf"
        document.store(content=content, filename=filename, now=now)
        QuoteVersion.objects.filter(pk=document.version_id, pdf_sha256="").update(
            pdf_sha256=document.sha256
        )
    return True


def ready_document(version: QuoteVersion) -> QuoteDocument | None:
    """The version's PDF, rendered now if it is still pending (idempotent)."""
    document = QuoteDocument.objects.filter(version=version).first()
    if document is None:
        return None
    if not document.is_ready:
        render_document(document=document)
        document.refresh_from_db()
    return document


def public_url(token: str) -> str:
    return settings.SITE_URL + reverse("quotes:public", args=[token])


def send_quote_email(*, link_pk: int, token: str, now: datetime.datetime | None = None) -> bool:
    """E-mail the client the quote's PDF and the link to its page, once per link."""
    link = QuoteLink.objects.select_related("version__quote__client").filter(pk=link_pk).first()
    if link is None or link.emailed_at is not None or link.revoked_at is not None:
        return False
    version = link.version
    quote = version.quote
    document = ready_document(version)
    with translation.override(quote.language):
        context = {
            "quote": quote,
            "snapshot": version.snapshot,
            "version": version,
            "url": public_url(token),
            "expires_at": link.expires_at,
            "expires_wording": link_expiry_wording(link.expires_at),
        }
        subject = render_to_string("emails/quote_subject.txt", context).strip()
        body = render_to_string("emails/quote.txt", context)
    message = EmailMessage(subject=subject, body=body, to=[link.recipient])
    if document is not None and document.is_ready:
        with document.file.open("rb") as handle:
            message.attach(f"{quote.number}.pdf", handle.read(), "application/pdf")
    with transaction.atomic():
        updated = QuoteLink.objects.filter(pk=link.pk, emailed_at__isnull=True).update(
            emailed_at=now or timezone.now()
        )
        if updated:
            message.send()
    return bool(updated)


def notify_member(*, event_pk: int) -> bool:
    """Tell the member who drew up the quote what the client answered."""
    event = (
        QuoteEvent.objects.select_related("quote__created_by", "quote__client", "version")
        .filter(pk=event_pk)
        .first()
    )
    if event is None:
        return False
    quote = event.quote
    recipient = quote.created_by
    language = getattr(getattr(recipient, "member", None), "preferred_language", None) or (
        settings.LANGUAGE_CODE
    )
    with translation.override(language):
        context = {
            "quote": quote,
            "event": event,
            "url": settings.SITE_URL + reverse("quotes:quote_detail", args=[quote.pk]),
        }
        subject = render_to_string("emails/quote_answer_subject.txt", context).strip()
        body = render_to_string("emails/quote_answer.txt", context)
    EmailMessage(subject=subject, body=body, to=[recipient.email]).send()
    return True


def lost_documents(*, now: datetime.datetime) -> QuerySet[QuoteDocument]:
    """Quote PDFs to render again: pending while their message was lost, or failed a while ago."""
    return (
        QuoteDocument.objects.exclude(status=DocumentStatus.READY)
        .alias(last_queued=Coalesce(F("queued_at"), F("created_at")))
        .filter(
            Q(status=DocumentStatus.PENDING, last_queued__lt=now - recovery.LOST_AFTER)
            | Q(
                status=DocumentStatus.FAILED,
                attempts__lt=MAX_ATTEMPTS,
                last_queued__lt=now - RETRY_AFTER,
            )
        )
    )
