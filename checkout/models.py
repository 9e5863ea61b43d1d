"""Online payments of invoices, and the simulated provider's own records."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from checkout.providers.base import OPEN_STATUSES, Status
from coop.models import ChoiceLabels
from coop.templatetags.money import euro
from invoicing.models import Invoice, Payment


class PaymentStatus(models.TextChoices):
    OPEN = Status.OPEN, _("Waiting for the client")
    PENDING = Status.PENDING, _("Processing")
    AUTHORIZED = Status.AUTHORIZED, _("Authorised")
    PAID = Status.PAID, _("Paid")
    CANCELED = Status.CANCELED, _("Cancelled")
    EXPIRED = Status.EXPIRED, _("Expired")
    FAILED = Status.FAILED, _("Failed")


class OnlinePaymentQuerySet(models.QuerySet):
    def still_open(self) -> "OnlinePaymentQuerySet":
        return self.filter(status__in=OPEN_STATUSES)


class OnlinePayment(ChoiceLabels, models.Model):
    """One attempt of a client to pay an invoice through the online payment provider.

    ``payment`` is the invoicing payment it was recorded as, once the provider confirmed it:
    one at most (the one-to-one makes a second impossible, however often the webhook comes).
    """

    reference = models.UUIDField(_("reference"), default=uuid.uuid4, unique=True, editable=False)
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        related_name="online_payments",
        verbose_name=_("invoice"),
    )
    provider = models.CharField(_("provider"), max_length=32)
    provider_payment_id = models.CharField(_("provider's payment id"), max_length=64)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    status = models.CharField(
        _("status"), max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.OPEN
    )
    method = models.CharField(_("method"), max_length=32, blank=True)
    checkout_url = models.URLField(_("checkout address"), max_length=500, blank=True)
    payment = models.OneToOneField(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="online_payment",
        verbose_name=_("payment"),
    )
    needs_review = models.BooleanField(_("needs staff review"), default=False)
    review_note = models.CharField(_("review note"), max_length=255, blank=True)
    raw_status = models.JSONField(_("provider's last answer"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    objects = OnlinePaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("online payment")
        verbose_name_plural = _("online payments")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The admin's list, newest first, and its filters.
            models.Index(fields=["-created_at", "-id"], name="onlinepayment_created_idx"),
            models.Index(fields=["status", "-created_at"], name="onlinepayment_status_idx"),
            # An invoice's attempts (pay page, reuse of an open one), newest first.
            models.Index(fields=["invoice", "-created_at"], name="onlinepayment_invoice_idx"),
            models.Index(
                fields=["-created_at"],
                condition=Q(needs_review=True),
                name="onlinepayment_review_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_payment_id"], name="onlinepayment_provider_id_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="onlinepayment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_payment_id} ({euro(self.amount)})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class SimulatedPayment(models.Model):
    """A payment of the simulated provider: recorded here, no money moves anywhere."""

    payment_id = models.CharField(_("payment id"), max_length=64, unique=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    description = models.CharField(_("description"), max_length=255)
    status = models.CharField(
        _("status"), max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.OPEN
    )
    redirect_url = models.URLField(_("return address"), max_length=500)
    webhook_url = models.URLField(_("webhook address"), max_length=500)
    locale = models.CharField(_("language"), max_length=8, blank=True)
    methods = models.JSONField(_("methods"), default=list, blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("simulated payment")
        verbose_name_plural = _("simulated payments")

    def __str__(self) -> str:
        return self.payment_id
