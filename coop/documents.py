"""Generated documents (PDFs, e-invoices, payslips) share one life cycle.

A row in state ``pending`` is created in the same transaction as the business event; after
commit a Celery task renders it from the stored snapshot, stores the file with its SHA-256 and
marks it ``ready`` (or ``failed`` with the error, retried with back-off). The sweeps of
``coop.recovery`` re-enqueue rows whose message was lost.
"""

import datetime
import hashlib

from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DocumentStatus(models.TextChoices):
    PENDING = "pending", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class DocumentBase(models.Model):
    """What every generated document row holds."""

    status = models.CharField(
        _("status"), max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.PENDING
    )
    file = models.FileField(_("file"), upload_to="documents/%Y/%m/", blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    rendered_at = models.DateTimeField(_("rendered at"), null=True, blank=True)
    queued_at = models.DateTimeField(_("last enqueued again at"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_ready(self) -> bool:
        return self.status == DocumentStatus.READY

    def store(self, *, content: bytes, filename: str, now=None) -> None:
        """Save rendered bytes through the storage API and mark the document ready."""
        if self.file:
            self.file.delete(save=False)
        self.file.save(filename, ContentFile(content), save=False)
        self.sha256 = hashlib.sha256(content).hexdigest()
        self.status = DocumentStatus.READY
        self.error = ""
        self.rendered_at = now or timezone.now()
        self.save(update_fields=["file", "sha256", "status", "error", "rendered_at"])


def render_document_row(model: type[DocumentBase], pk: int, *, render, filename, now=None) -> bool:
    """Render a pending document row with ``render(row) -> bytes`` and store it under
    ``filename(row)``; return whether it was rendered.

    A row already ready is left alone, so a redelivered task renders nothing twice; the row is
    not locked while rendering, and a failure marks it failed with the error and re-raises.
    """
    with transaction.atomic():
        row = model._default_manager.select_for_update().get(pk=pk)
        if row.status == DocumentStatus.READY:
            return False
        row.attempts += 1
        row.save(update_fields=["attempts"])
    try:
        content = render(row)
    except Exception as error:
        model._default_manager.filter(pk=pk).update(
            status=DocumentStatus.FAILED, error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    with transaction.atomic():
        row = model._default_manager.select_for_update().get(pk=pk)
        if row.status == DocumentStatus.READY:
            return False
        row.store(content=content, filename=filename(row), now=now)
    return True


def lost_document_rows(
    queryset: QuerySet, *, now, retry_after: datetime.timedelta, max_attempts: int
) -> QuerySet:
    """Rows to render again: pending while their message was lost, or failed a while ago."""
    from coop import recovery

    return (
        queryset.exclude(status=DocumentStatus.READY)
        .alias(last_queued=Coalesce(F("queued_at"), F("created_at")))
        .filter(
            Q(status=DocumentStatus.PENDING, last_queued__lt=now - recovery.LOST_AFTER)
            | Q(
                status=DocumentStatus.FAILED,
                attempts__lt=max_attempts,
                last_queued__lt=now - retry_after,
            )
        )
    )
