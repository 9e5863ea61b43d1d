"""Yearly tax certificates (281.10 salaries, 281.45 copyright) and the Belcotax-on-web files
that declare them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coop.documents import DocumentBase
from coop.models import ChoiceLabels
from members.models import Language, Member

MONEY = {"max_digits": 14, "decimal_places": 2}


class Form(models.TextChoices):
    """The fiche types this cooperative issues, by their Belcotax number (f2008_typefiche)."""

    SALARY = "28110", _("281.10 (salaries)")
    COPYRIGHT = "28145", _("281.45 (copyright)")


class BelcotaxExport(models.Model):
    """One Belcotax-on-web XML file of an income year, as staff exported it."""

    year = models.PositiveSmallIntegerField(_("income year"))
    is_test = models.BooleanField(
        _("test file"), default=False, help_text=_("A test file (BCTEST) is not a declaration.")
    )
    file = models.FileField(_("file"), upload_to="belcotax/%Y/")
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    schema = models.CharField(_("validated against"), max_length=100)
    fiche_count = models.PositiveIntegerField(_("fiches"))
    correction_count = models.PositiveIntegerField(_("corrected fiches"), default=0)
    # The file's closing totals (r9012, r9013, r9014): what Belcotax-on-web checks on receipt.
    sequence_total = models.BigIntegerField(_("sum of the fiche numbers"))
    control_total = models.DecimalField(_("sum of the fiche control totals"), **MONEY)
    withholding_total = models.DecimalField(_("total withholding taxes"), **MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("exported by"),
    )
    created_at = models.DateTimeField(_("exported at"), default=timezone.now)

    class Meta:
        verbose_name = _("Belcotax-on-web file")
        verbose_name_plural = _("Belcotax-on-web files")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["year", "-created_at"], name="belcotax_export_year_idx")]

    def __str__(self) -> str:
        return f"Belcotax {self.year} #{self.pk}"


class TaxCertificate(ChoiceLabels, DocumentBase):
    """One beneficiary's fiche of a year; a correction is a new version of the same fiche."""

    form = models.CharField(_("form"), max_length=5, choices=Form.choices)
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="tax_certificates", verbose_name=_("member")
    )
    year = models.PositiveSmallIntegerField(_("income year"))
    # The fiche's number in the year's declaration (f2009_volgnummer); a correction keeps it.
    sequence = models.PositiveIntegerField(_("fiche number"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects"),
    )
    is_current = models.BooleanField(_("current version"), default=True)
    # Amounts of the year as decimal strings, by name (see taxforms.services.FIGURES).
    figures = models.JSONField(_("figures"), default=dict)
    snapshot = models.JSONField(_("content"), default=dict, editable=False)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.FRENCH
    )
    export = models.ForeignKey(
        BelcotaxExport,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certificates",
        verbose_name=_("sent in"),
    )

    class Meta:
        verbose_name = _("tax certificate")
        verbose_name_plural = _("tax certificates")
        ordering = ["-year", "form", "sequence", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "year", "member"],
                condition=Q(is_current=True),
                name="tax_certificate_one_current",
            ),
            models.UniqueConstraint(
                fields=["form", "year", "sequence", "version"], name="tax_certificate_version"
            ),
            models.CheckConstraint(
                condition=Q(version=1, corrects__isnull=True)
                | Q(version__gt=1, corrects__isnull=False),
                name="tax_certificate_correction_links",
            ),
        ]
        indexes = [
            # A member's certificates, newest year first.
            models.Index(fields=["member", "-year"], name="tax_certificate_member_idx"),
            # What the next Belcotax file of a year holds: current fiches not sent yet.
            models.Index(
                fields=["year", "form", "sequence"],
                condition=Q(is_current=True, export__isnull=True),
                name="tax_certificate_unsent_idx",
            ),
            # The recovery sweep looks for the few certificates whose PDF is not ready.
            models.Index(
                fields=["created_at"], condition=~Q(status="ready"), name="tax_cert_unready_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        number = f"{self.form[:3]}.{self.form[3:]}"
        suffix = f"-{self.version}" if self.version > 1 else ""
        return f"{number} {self.year} {self.sequence:06d}{suffix}"

    @property
    def filename(self) -> str:
        """The PDF's name for the reader, e.g. ``28110-2025-000001.pdf``."""
        suffix = f"-{self.version}" if self.version > 1 else ""
        return f"{self.form}-{self.year}-{self.sequence:06d}{suffix}.pdf"
