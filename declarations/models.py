"""Declarations filed from the payroll: the quarterly DmfA files exported to ONSS."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts.models import Contract

MONEY = {"max_digits": 14, "decimal_places": 2}


class DmfaExport(models.Model):
    """One DmfA file of a quarter as staff exported it, with its checksum and totals."""

    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    schema_version = models.CharField(_("schema version"), max_length=8)
    file = models.FileField(_("file"), upload_to="declarations/dmfa/%Y/")
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    workers = models.PositiveIntegerField(_("workers"))
    days = models.DecimalField(_("days"), max_digits=10, decimal_places=1)
    gross = models.DecimalField(_("gross pay"), **MONEY)
    contributions = models.DecimalField(_("social security contributions"), **MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("exported by"),
    )
    created_at = models.DateTimeField(_("exported at"), default=timezone.now)

    class Meta:
        verbose_name = _("DmfA export")
        verbose_name_plural = _("DmfA exports")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["year", "quarter", "-created_at"], name="dmfa_export_quarter_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4), name="dmfa_export_quarter_range"
            )
        ]

    def __str__(self) -> str:
        return f"DmfA {self.year}/{self.quarter} ({self.reference})"

    @property
    def reference(self) -> str:
        return f"D{self.pk:06d}" if self.pk else "D—"

    @property
    def filename(self) -> str:
        return f"DMFA-{self.year}{self.quarter}-{self.reference}.xml"


class EngagementTerms(Contract):
    """Contracts not yet paid, as staff set how their workers are declared and whether the
    engagement ends with them."""

    class Meta:
        proxy = True
        verbose_name = _("engagement terms")
        verbose_name_plural = _("engagement terms")
