"""Background work of the tax forms: the certificates' PDFs."""

import datetime

from celery import shared_task

from coop import recovery
from taxforms import documents
from taxforms.models import TaxCertificate


@shared_task(autoretry_for=(Exception,), retry_backoff=30, retry_backoff_max=1800, max_retries=8)
def render_certificate_task(certificate_pk: int) -> None:
    """Render a tax certificate's PDF in the member's language (queue "pdf")."""
    certificate = TaxCertificate.objects.filter(pk=certificate_pk).first()
    if certificate is not None:
        documents.render_certificate(certificate=certificate)


def recover_lost_work(*, now: datetime.datetime, idle_queues: set[str]) -> int:
    """Enqueue again the certificate renders whose message was lost (see ``coop.recovery``)."""
    if "pdf" not in idle_queues:
        return 0
    lost = documents.lost_certificates(now=now)
    return recovery.requeue(lost, render_certificate_task, now=now)
