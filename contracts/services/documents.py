"""Rendering payslip PDFs from their stored snapshot."""

import datetime

from django.db.models import QuerySet

from contracts.models import Payslip
from coop.documents import lost_document_rows, render_document_row

# A failed render is retried by Celery with back-off; the sweep tries again this long after.
RETRY_AFTER = datetime.timedelta(minutes=10)
MAX_ATTEMPTS = 8


def render_payslip(*, payslip: Payslip, now: datetime.datetime | None = None) -> bool:
    """Render a pending payslip's PDF in its language; return whether it was rendered.

    A payslip already ready is left alone, so a redelivered task renders nothing twice.
    """
    from contracts.pdf import render_payslip_pdf

    return render_document_row(
        Payslip,
        payslip.pk,
        render=render_payslip_pdf,
        filename=lambda row: f"{row.reference}.pdf",
        now=now,
    )


def lost_payslips(*, now: datetime.datetime) -> QuerySet[Payslip]:
    """Payslips to render again: pending while their message was lost, or failed a while ago."""
    return lost_document_rows(
        Payslip.objects.all(), now=now, retry_after=RETRY_AFTER, max_attempts=MAX_ATTEMPTS
    )
