"""Rendering payslip PDFs from their stored snapshot."""

import datetime

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce

from contracts.models import Payslip
from coop import recovery
from coop.documents import DocumentStatus

# A failed render is retried by Celery with back-off; the sweep tries again this long after.
RETRY_AFTER = datetime.timedelta(minutes=10)
MAX_ATTEMPTS = 8


def render_payslip(*, payslip: Payslip, now: datetime.datetime | None = None) -> bool:
    """Render a pending payslip's PDF in its language; return whether it was rendered.

    A payslip already ready is left alone, so a redelivered task renders nothing twice.
    """
    from contracts.pdf import render_payslip_pdf

    with transaction.atomic():
        payslip = Payslip.objects.select_for_update().get(pk=payslip.pk)
        if payslip.status == DocumentStatus.READY:
            return False
        payslip.attempts += 1
        payslip.save(update_fields=["attempts"])
    try:
        content = render_payslip_pdf(payslip)
    except Exception as error:
        Payslip.objects.filter(pk=payslip.pk).update(
            status=DocumentStatus.FAILED, error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    with transaction.atomic():
        payslip = Payslip.objects.select_for_update().get(pk=payslip.pk)
        if payslip.status == DocumentStatus.READY:
            return False
        payslip.store(content=content, filename=f"{payslip.reference}.pdf", now=now)
    return True


def lost_payslips(*, now: datetime.datetime) -> QuerySet[Payslip]:
    """Payslips to render again: pending while their message was lost, or failed a while ago."""
    return (
        Payslip.objects.exclude(status=DocumentStatus.READY)
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
