"""Rows that belong to no single app."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.translation import gettext_lazy as _

# Per field with choices: its value-to-label table (labels stay lazy, translated when shown).
_CHOICE_LABELS: dict = {}


class ChoiceLabels:
    """Model mixin: ``get_<field>_display()`` looks the label up in a table built once per field.

    Django rebuilds the table from the field's choices on every call, which shows in lists that
    display a kind and a status on each of their rows.
    """

    def _get_FIELD_display(self, field):
        labels = _CHOICE_LABELS.get(field)
        if labels is None:
            labels = _CHOICE_LABELS[field] = dict(make_hashable(field.flatchoices))
        value = getattr(self, field.attname)
        return force_str(labels.get(make_hashable(value), value), strings_only=True)


class IdempotencyKey(models.Model):
    """A creating request already answered, so that sending it again creates nothing more.

    API clients name a request with an ``Idempotency-Key`` header, browser forms with a
    one-time token; the unique constraint makes a concurrent duplicate wait for the first
    request and then find its answer. Rows older than 24 hours are purged.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    key = models.CharField(_("key"), max_length=255)
    method = models.CharField(_("method"), max_length=10)
    path = models.TextField(_("path"))
    request_hash = models.CharField(_("request hash"), max_length=64, blank=True)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True)
    response_body = models.JSONField(_("response body"), null=True, encoder=DjangoJSONEncoder)
    location = models.TextField(_("location"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"


class RateWindow(models.Model):
    """How many requests a client made in the current window of a rate limit (coop.throttling).

    One row per client and limit, counted by a single upsert per request. The table is
    UNLOGGED: no write-ahead log for counters a crash may forget (a broker flush does not).
    """

    key = models.CharField(_("key"), max_length=200, primary_key=True)
    ends_at = models.DateTimeField(_("window ends at"))
    hits = models.PositiveIntegerField(_("requests"))

    class Meta:
        verbose_name = _("rate window")
        verbose_name_plural = _("rate windows")

    def __str__(self) -> str:
        return f"{self.key}: {self.hits} until {self.ends_at:%Y-%m-%d %H:%M:%S}"
