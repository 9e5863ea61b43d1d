"""Rendering the tax certificates' PDFs from their stored figures and snapshot."""

import datetime

from django.db import transaction
from django.db.models import QuerySet

from coop import recovery
from coop.documents import DocumentStatus
from taxforms.models import TaxCertificate

RETRY_AFTER = datetime.timedelta(minutes=10)
MAX_ATTEMPTS = 8


def render_certificate(
    *, certificate: TaxCertificate, now: datetime.datetime | None = None
) -> bool:
    """Render a pending certificate's PDF in its language; return whether it was rendered.

    A certificate already ready is left alone, so a redelivered task renders nothing twice.
    """
    from taxforms.pdf import render_certificate_pdf

    with transaction.atomic():
        certificate = TaxCertificate.objects.select_for_update().get(pk=certificate.pk)
        if certificate.status == DocumentStatus.READY:
            return False
        certificate.attempts += 1
        certificate.save(update_fields=["attempts"])
    try:
        content = render_certificate_pdf(certificate)
    except Exception as error:
        TaxCertificate.objects.filter(pk=certificate.pk).update(
            status=DocumentStatus.FAILED, error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    with transaction.atomic():
        current = TaxCertificate.objects.select_for_update().get(pk=certificate.pk)
        # Brought up to date while it rendered: the newer figures are rendered next.
        if current.status == DocumentStatus.READY or current.figures != certificate.figures:
            return False
        current.store(content=content, filename=current.filename, now=now)
    return True


def lost_certificates(*, now: datetime.datetime) -> QuerySet[TaxCertificate]:
    """Certificates to render again: pending while their message was lost, or failed a while ago."""
    return recovery.lost_documents(
        TaxCertificate.objects.all(), now=now, retry_after=RETRY_AFTER, max_attempts=MAX_ATTEMPTS
    )
