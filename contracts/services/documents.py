"""Rendering payslip PDFs from their stored snapshot."""

import datetime

from django.db import transaction
from django.db.models import Q, QuerySet

from contracts.models import Payslip
from coop.documents import DocumentStatus

RETRY_AFTER = datetime.timedelta(minutes=10)


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


def stale_payslips(*, now: datetime.datetime) -> QuerySet[Payslip]:
    """Payslips whose PDF is still pending or failed after a while."""
    return Payslip.objects.filter(
        Q(status=DocumentStatus.PENDING) | Q(status=DocumentStatus.FAILED, attempts__lt=8),
        created_at__lt=now - RETRY_AFTER,
    )
