"""The client portal: sign-in links for an e-mail address, and the questions clients ask.

A portal client is an e-mail address, not an account: it sees the issued documents of every
member's client record with that address (see ``portal.selectors``). Its links carry a random
token of which only the SHA-256 is stored, so a copy of the database opens nobody's portal.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from coop.models import ChoiceLabels
from invoicing.models import Invoice

QUESTION_MAX_LENGTH = 2000


class PortalToken(ChoiceLabels, models.Model):
    """A link that signs an e-mail address in to the portal.

    A sign-in link (asked for on the portal's page) works once and for half an hour. An e-mail
    link (in each invoice e-mail) works until it expires, months later, as often as the client
    opens it: the e-mail carries the document itself, and the link shows what the same address
    receives anyway. Staff revoke either in the admin; revoking one revokes it alone.
    """

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", _("Sign-in link")
        EMAIL = "email", _("Link in an invoice e-mail")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    # Always lower case: the portal identity is the address whatever its case.
    email = models.EmailField(_("e-mail address"))
    token_hash = models.CharField(_("SHA-256 of the token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("first used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("portal link")
        verbose_name_plural = _("portal links")
        indexes = [
            # The admin lists and searches an address's links, newest first.
            models.Index(fields=["email", "-created_at"], name="portal_token_email_idx"),
            # A link per invoice e-mail: the daily purge finds the expired ones by this.
            models.Index(fields=["expires_at"], name="portal_token_expiry_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(email=models.functions.Lower("email")),
                name="portal_token_email_lower_case",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="portal_token_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.email}"

    def is_usable(self, now) -> bool:
        if self.revoked_at is not None or self.expires_at <= now:
            return False
        return not (self.kind == self.Kind.SIGN_IN and self.used_at is not None)


class PortalQuestion(models.Model):
    """A question a portal client asked about one of its documents, for the member."""

    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        related_name="portal_questions",
        verbose_name=_("document"),
    )
    email = models.EmailField(_("asked by"))
    message = models.TextField(_("question"), max_length=QUESTION_MAX_LENGTH)
    asked_at = models.DateTimeField(_("asked at"), default=timezone.now)
    emailed_at = models.DateTimeField(_("e-mailed to the member at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("marked answered by"),
    )

    class Meta:
        verbose_name = _("client question")
        verbose_name_plural = _("client questions")
        indexes = [
            # The invoice page lists its questions, newest first.
            models.Index(fields=["invoice", "-asked_at"], name="portal_question_invoice_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(message=""), name="portal_question_message_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True, answered_by__isnull=True)
                | Q(answered_at__isnull=False),
                name="portal_question_answered_complete",
            ),
        ]

    def __str__(self) -> str:
        asked_on = date_format(timezone.localtime(self.asked_at).date(), "SHORT_DATE_FORMAT")
        return f"{self.email} · {asked_on}"


class PortalAccount(models.Model):
    """A password a portal client chose beside the e-mail link. The address stays the identity:
    a password session sees exactly what a link session of the same address sees. The
    password is set (or reset) only from a session opened by an e-mail link."""

    email = models.EmailField(_("e-mail address"), unique=True)
    password = models.CharField(_("password"), max_length=128)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    password_set_at = models.DateTimeField(_("password set at"), default=timezone.now)

    class Meta:
        verbose_name = _("portal account")
        verbose_name_plural = _("portal accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(email=models.functions.Lower("email")),
                name="portal_account_email_lower",
            ),
        ]

    def __str__(self) -> str:
        return self.email
