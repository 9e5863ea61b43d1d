"""The audit trail (append-only) and members' exports of their own data."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from coop.models import ChoiceLabels


class AuditAction(models.TextChoices):
    CREATED = "created", _("Created")
    CHANGED = "changed", _("Changed")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    ISSUED = "issued", _("Issued")
    CANCELLED = "cancelled", _("Cancelled")
    MOVED = "moved", _("Moved")
    PAID = "paid", _("Paid")
    IMPORTED = "imported", _("Imported")
    REQUESTED = "requested", _("Requested")
    VIEWED = "viewed", _("Viewed")
    DOWNLOADED = "downloaded", _("Downloaded")
    EXPORTED = "exported", _("Exported")
    ANONYMISED = "anonymised", _("Anonymised")
    DELETED = "deleted", _("Deleted")
    SIGNED_IN = "signed_in", _("Signed in")
    PEPPOL_REFUSED = "peppol_refused", _("Kept off Peppol")


class AuditEvent(models.Model):
    """Who did what to which record, when and from where. Rows are never updated or deleted.

    A database trigger refuses UPDATE and DELETE. The only exception is the redaction that
    anonymising a member performs (see ``audit.services.redact_person``), which may rewrite the
    person's e-mail, name and changed values in earlier rows and nothing else.
    """

    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    # PROTECT: users are never deleted (members who leave are anonymised), and the trigger
    # would refuse the UPDATE that SET_NULL needs anyway.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        # Served by the (actor, occurred_at) index below.
        db_index=False,
    )
    actor_label = models.CharField(_("by (e-mail at the time)"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=32)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_pk = models.CharField(_("object key"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    reason = models.TextField(_("reason"), blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(
                fields=["object_type", "object_pk", "occurred_at"], name="audit_object_time_idx"
            ),
            models.Index(fields=["actor", "occurred_at"], name="audit_actor_time_idx"),
            models.Index(fields=["occurred_at", "id"], name="audit_time_idx"),
            models.Index(fields=["action", "occurred_at"], name="audit_action_time_idx"),
            models.Index(fields=["actor_label", "occurred_at"], name="audit_actor_label_idx"),
            models.Index(fields=["object_pk"], name="audit_object_pk_idx"),
        ]

    def __str__(self) -> str:
        when = date_format(timezone.localtime(self.occurred_at), "SHORT_DATETIME_FORMAT")
        return f"{when} {self.actor_label or '—'} {self.action} {self.object_type}:{self.object_pk}"

    def get_action_display(self) -> str:
        try:
            return str(AuditAction(self.action).label)
        except ValueError:
            return self.action


class DataExport(ChoiceLabels, models.Model):
    """A zip of everything the platform holds about one member, built in the background."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="data_exports",
        verbose_name=_("user"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="data_export_user_idx"),
            models.Index(
                fields=["status", "created_at"],
                name="data_export_open_idx",
                condition=models.Q(status__in=["pending", "ready"]),
            ),
        ]

    def __str__(self) -> str:
        created = date_format(timezone.localtime(self.created_at), "SHORT_DATETIME_FORMAT")
        return f"{self.user} {created}"

    def is_downloadable(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.status == self.Status.READY
            and bool(self.file)
            and self.expires_at is not None
            and self.expires_at > now
        )
