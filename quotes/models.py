"""Quotes (devis) a member sends to a client, and the client's answer on a public page.

A quote is drafted in versions. Sending a version gives the quote its number (the first time),
freezes the version's content (its data and PDF hashes are kept) and e-mails the client a link
to a public page where they accept, decline or ask for a change. A changed quote is a new
version that needs a new acceptance; the accepted version is frozen by database triggers.

An accepted quote waits for staff: once CONFIRMED it is an order.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from coop.documents import DocumentBase
from coop.models import ChoiceLabels
from invoicing.calculation import VatCategory
from invoicing.models import CalculatedLine, Client, InvoiceLine
from invoicing.vat import SupplyKind
from members.models import Activity, Language

ZERO = Decimal("0.00")
SERIES_PREFIX = "D-"


class QuoteSequence(models.Model):
    """The last number given in a quote series ("D-2026"); locked while a number is taken."""

    series = models.CharField(_("series"), max_length=16, primary_key=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("quote numbering series")
        verbose_name_plural = _("quote numbering series")

    def __str__(self) -> str:
        return f"{self.series}: {self.last_number}"


class Quote(ChoiceLabels, models.Model):
    """A quote for a client, drawn up for a member's Activity; its versions hold the content."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        CHANGE_REQUESTED = "change_requested", _("Change requested")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")
        CONFIRMED = "confirmed", _("Confirmed order")
        REFUSED = "refused", _("Refused by staff")
        CANCELLED = "cancelled", _("Cancelled")

    activity = models.ForeignKey(
        Activity, on_delete=models.PROTECT, related_name="quotes", verbose_name=_("Activity")
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="quotes", verbose_name=_("client")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.FRENCH
    )
    series = models.CharField(_("series"), max_length=16, blank=True)
    sequence_number = models.PositiveIntegerField(_("sequence number"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    current_version = models.ForeignKey(
        "QuoteVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current version"),
    )
    # The number as one sortable figure (year × 1,000,000 + sequence number): lists show the
    # newest number first, drafts (no number) before them.
    number_order = models.BigIntegerField(_("number order"), null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("first sent at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    # The version staff last confirmed: set, the quote is an order, whatever its status says of
    # a later version (a new version of an order goes through the client and staff again).
    ordered_version = models.ForeignKey(
        "QuoteVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ordered version"),
    )
    # What the order still guarantees the Activity (excl. VAT): kept with each of its guaranteed
    # ledger entries, in their transaction, so the guarantee fund sums it per client by index.
    guaranteed_excl_vat = models.DecimalField(
        _("still guaranteed"), max_digits=12, decimal_places=2, default=ZERO
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-created_at", "-id"]
        indexes = [
            # A member's quote list: per Activity, drafts first, then the newest number first.
            models.Index(
                fields=["activity", "-number_order", "-id"], name="quote_activity_number_idx"
            ),
            # Staff's list of every quote, in the same order.
            models.Index(fields=["-number_order", "-id"], name="quote_number_idx"),
            # Staff's queue of accepted quotes to confirm, oldest acceptance first.
            models.Index(fields=["status", "accepted_at"], name="quote_status_accepted_idx"),
            models.Index(fields=["client", "-created_at"], name="quote_client_newest_idx"),
            # A member's order list: per Activity, newest first, orders only.
            models.Index(
                fields=["activity", "-created_at", "-id"],
                condition=Q(ordered_version__isnull=False),
                name="order_activity_newest_idx",
            ),
            # Staff's list of every order, newest first.
            models.Index(
                fields=["-created_at", "-id"],
                condition=Q(ordered_version__isnull=False),
                name="order_newest_idx",
            ),
            # The guarantee fund's guaranteed orders per client: an index-only sum.
            models.Index(
                fields=["client"],
                include=["guaranteed_excl_vat"],
                condition=Q(guaranteed_excl_vat__gt=0),
                name="order_guaranteed_client_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(guaranteed_excl_vat__gte=0), name="quote_guaranteed_not_negative"
            ),
            models.UniqueConstraint(
                fields=["series", "sequence_number"], name="quote_series_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(sequence_number__isnull=True, series="")
                | Q(sequence_number__isnull=False) & ~Q(series=""),
                name="quote_number_complete",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(sequence_number__isnull=False),
                name="quote_sent_has_number",
            ),
        ]

    def __str__(self) -> str:
        number = self.number
        word = _("Quote")
        return f"{word} {number}" if number else f"{word} ({self.get_status_display()})"

    @property
    def number(self) -> str:
        """``D-2026-000001``; empty until the quote is first sent."""
        if self.sequence_number is None:
            return ""
        return format_number(self.series, self.sequence_number)

    @property
    def is_order(self) -> bool:
        """Staff confirmed a version: the quote is an order."""
        return self.ordered_version_id is not None

    @property
    def is_answerable(self) -> bool:
        """The client may still accept, decline or ask for a change."""
        return self.status == self.Status.SENT


# The statuses under a name of their own (the API schema names its enum after it).
QuoteStatus = Quote.Status


def number_order_of(series: str, sequence_number: int) -> int:
    """The number's place in lists: by year, then sequence number."""
    return int(series.removeprefix(SERIES_PREFIX)) * 1_000_000 + sequence_number


def format_number(series: str, sequence_number: int) -> str:
    return f"{series}-{sequence_number:06d}"


def series_for_year(year: int) -> str:
    return f"{SERIES_PREFIX}{year}"


class QuoteVersion(models.Model):
    """One version of a quote's content. Frozen once sent (except the client's answer), and
    wholly frozen once accepted (database triggers)."""

    quote = models.ForeignKey(
        Quote, on_delete=models.CASCADE, related_name="versions", verbose_name=_("quote")
    )
    version = models.PositiveSmallIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    valid_until = models.DateField(_("valid until"))
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), default=30, validators=[MaxValueValidator(120)]
    )
    deposit_percent = models.DecimalField(
        _("deposit (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("The part invoiced when the order is confirmed, if any."),
    )
    schedule = models.JSONField(
        _("payment schedule"),
        default=list,
        blank=True,
        help_text=_('A list of {"label", "percent", "due": "order", "delivery" or a date}.'),
    )
    work_start = models.DateField(_("work starts"), null=True, blank=True)
    work_end = models.DateField(_("work ends"), null=True, blank=True)
    total_excl_vat = models.DecimalField(
        _("total excl. VAT"), max_digits=12, decimal_places=2, default=ZERO
    )
    total_vat = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2, default=ZERO)
    total_incl_vat = models.DecimalField(
        _("total incl. VAT"), max_digits=12, decimal_places=2, default=ZERO
    )
    snapshot = models.JSONField(_("sent content"), null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    data_sha256 = models.CharField(_("SHA-256 of the data"), max_length=64, blank=True)
    pdf_sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by_name = models.CharField(_("accepted by"), max_length=200, blank=True)
    accepted_by_function = models.CharField(_("function"), max_length=200, blank=True)
    accepted_ip = models.GenericIPAddressField(_("accepted from IP"), null=True, blank=True)
    accepted_user_agent = models.CharField(_("accepted with browser"), max_length=500, blank=True)
    client_po_number = models.CharField(_("client's purchase order"), max_length=100, blank=True)
    signature = models.BinaryField(_("signature (PNG)"), null=True, blank=True, editable=False)
    declined_at = models.DateTimeField(_("declined at"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    change_requested_at = models.DateTimeField(_("change requested at"), null=True, blank=True)
    change_request = models.TextField(_("change requested"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("quote version")
        verbose_name_plural = _("quote versions")
        ordering = ["quote", "version"]
        constraints = [
            models.UniqueConstraint(fields=["quote", "version"], name="quote_version_unique"),
            models.CheckConstraint(
                condition=Q(deposit_percent__isnull=True)
                | Q(deposit_percent__gte=0, deposit_percent__lte=100),
                name="quote_version_deposit_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(work_start__isnull=True)
                | Q(work_end__isnull=True)
                | Q(work_end__gte=models.F("work_start")),
                name="quote_version_work_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(total_excl_vat__gte=0) & Q(total_vat__gte=0) & Q(total_incl_vat__gte=0),
                name="quote_version_totals_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(sent_at__isnull=False),
                name="quote_version_accepted_was_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quote} v{self.version}"

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None

    @property
    def is_accepted(self) -> bool:
        return self.accepted_at is not None


class QuoteLine(ChoiceLabels, CalculatedLine, models.Model):
    """A line of a quote version: the fields invoicing's calculation needs, as on an invoice.

    ``unit_code`` holds the same values as ``InvoiceLine.unit`` (hour, day, piece).
    """

    version = models.ForeignKey(
        QuoteVersion, on_delete=models.CASCADE, related_name="lines", verbose_name=_("version")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2)
    unit_code = models.CharField(
        _("unit"), max_length=8, choices=InvoiceLine.Unit.choices, default=InvoiceLine.Unit.HOUR
    )
    unit_price = models.DecimalField(_("unit price excl. VAT"), max_digits=12, decimal_places=2)
    vat_category = models.CharField(
        _("VAT category"),
        max_length=2,
        choices=InvoiceLine.VatCategoryChoice.choices,
        default=VatCategory.STANDARD,
    )
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2)
    supply_kind = models.CharField(
        _("supply of"),
        max_length=8,
        choices=InvoiceLine.SupplyKindChoice.choices,
        default=SupplyKind.SERVICES,
    )
    exemption_reason = models.CharField(_("exemption reason"), max_length=255, blank=True)
    exemption_code = models.CharField(_("exemption code"), max_length=30, blank=True)
    allowance_percent = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    allowance_amount = models.DecimalField(
        _("discount"), max_digits=12, decimal_places=2, default=ZERO
    )
    allowance_reason = models.CharField(_("reason for the discount"), max_length=255, blank=True)
    line_total = models.DecimalField(
        _("amount excl. VAT"), max_digits=12, decimal_places=2, default=ZERO
    )

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="quote_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="quote_line_price_not_negative"
            ),
            models.UniqueConstraint(
                fields=["version", "position"], name="quote_line_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def unit(self) -> str:
        """The unit as an invoice line names it."""
        return self.unit_code


class QuoteLink(models.Model):
    """A link to the public page of one version; only the SHA-256 of its token is kept."""

    version = models.ForeignKey(
        QuoteVersion, on_delete=models.CASCADE, related_name="links", verbose_name=_("version")
    )
    token_hash = models.CharField(_("SHA-256 of the token"), max_length=64, unique=True)
    recipient = models.EmailField(_("sent to"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("quote link")
        verbose_name_plural = _("quote links")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        created = date_format(timezone.localtime(self.created_at), "SHORT_DATE_FORMAT")
        return f"{self.version} ({created})"

    def is_usable(self, now) -> bool:
        return self.revoked_at is None and self.expires_at > now


class QuoteEvent(ChoiceLabels, models.Model):
    """One step in a quote's life, with who, when and from where. Append-only."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        SENT = "sent", _("Sent")
        VIEWED = "viewed", _("Viewed")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        CHANGE_REQUESTED = "change_requested", _("Change requested")
        EXPIRED = "expired", _("Expired")
        REMINDED = "reminded", _("Reminded")
        CONFIRMED = "confirmed", _("Confirmed")
        REFUSED = "refused", _("Refused")
        CANCELLED = "cancelled", _("Cancelled")
        INVOICED = "invoiced", _("Invoiced")
        CREDITED = "credited", _("Credited")
        # Beyond the agreed list: the member's own steps.
        NEW_VERSION = "new_version", _("New version")
        LINK_REVOKED = "link_revoked", _("Link revoked")

    quote = models.ForeignKey(
        Quote, on_delete=models.CASCADE, related_name="events", verbose_name=_("quote")
    )
    version = models.ForeignKey(
        QuoteVersion,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("version"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("quote event")
        verbose_name_plural = _("quote events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["quote", "at"], name="quote_event_quote_at_idx")]

    def __str__(self) -> str:
        at = date_format(timezone.localtime(self.at), "SHORT_DATETIME_FORMAT")
        return f"{self.get_kind_display()} {at}"


class QuoteDocument(DocumentBase):
    """The PDF of a sent quote version, rendered from the version's snapshot."""

    version = models.OneToOneField(
        QuoteVersion, on_delete=models.PROTECT, related_name="document", verbose_name=_("version")
    )

    class Meta:
        verbose_name = _("quote document")
        verbose_name_plural = _("quote documents")
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=~Q(status="ready"),
                name="quote_document_unready_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.version} (PDF)"


# Orders: confirmed quotes, their invoices and the reminders to clients who have not answered.


class QuoteAwaitingConfirmation(Quote):
    """Accepted quotes, as staff confirm them into orders: a separate admin list."""

    class Meta:
        proxy = True
        verbose_name = _("order awaiting confirmation")
        verbose_name_plural = _("orders awaiting confirmation")


class OrderInvoice(ChoiceLabels, models.Model):
    """An invoice drawn up from a confirmed order (a deposit, an instalment or the balance).

    The link lives here, on the order's side: invoicing knows nothing of quotes. While the
    invoice is a draft ``amount_excl_vat`` is what it was drawn up for; once issued, what it
    was issued for. ``guarantee_released`` is the guaranteed budget its issue released.
    """

    class Part(models.TextChoices):
        DEPOSIT = "deposit", _("Deposit")
        INSTALMENT = "instalment", _("Instalment")
        BALANCE = "balance", _("Balance")

    quote = models.ForeignKey(
        Quote, on_delete=models.PROTECT, related_name="order_invoices", verbose_name=_("order")
    )
    invoice = models.OneToOneField(
        "invoicing.Invoice",
        on_delete=models.CASCADE,  # a draft deleted by its member leaves the order
        related_name="+",
        verbose_name=_("invoice"),
    )
    part = models.CharField(_("part"), max_length=12, choices=Part.choices)
    label = models.CharField(_("label"), max_length=200, blank=True)
    # The step of the payment schedule it invoices (0: the first); a step is invoiced once.
    schedule_step = models.PositiveSmallIntegerField(_("schedule step"), null=True, blank=True)
    amount_excl_vat = models.DecimalField(_("amount excl. VAT"), max_digits=12, decimal_places=2)
    # What the issued credit notes of the invoice took back (excl. VAT).
    credited_excl_vat = models.DecimalField(
        _("credited excl. VAT"), max_digits=12, decimal_places=2, default=ZERO
    )
    # The guaranteed budget its issue released, less what its credit notes restored.
    guarantee_released = models.DecimalField(
        _("guarantee released"), max_digits=12, decimal_places=2, default=ZERO
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("order invoice")
        verbose_name_plural = _("order invoices")
        ordering = ["quote", "created_at", "pk"]
        indexes = [models.Index(fields=["quote", "created_at"], name="order_invoice_quote_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_excl_vat__gt=0), name="order_invoice_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(guarantee_released__gte=0),
                name="order_invoice_release_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(credited_excl_vat__gte=0)
                & Q(credited_excl_vat__lte=models.F("amount_excl_vat")),
                name="order_invoice_credited_within_amount",
            ),
            # Invoicing from an order twice never invoices a step (or the deposit) twice.
            models.UniqueConstraint(
                fields=["quote", "schedule_step"],
                condition=Q(schedule_step__isnull=False),
                name="order_invoice_step_once",
            ),
            models.UniqueConstraint(
                fields=["quote"],
                condition=Q(part="deposit"),
                name="order_invoice_deposit_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quote} — {self.get_part_display()}"

    @property
    def net_excl_vat(self) -> Decimal:
        """What the invoice still invoices of the order: its amount less its credit notes."""
        return self.amount_excl_vat - self.credited_excl_vat


class QuoteReminder(ChoiceLabels, models.Model):
    """A reminder e-mailed to a client who has not answered a sent version; the unique
    constraint makes each kind go out once per version, whatever the scheduler does."""

    class Kind(models.TextChoices):
        AFTER_SENDING = "after_sending", _("Some days after sending")
        BEFORE_EXPIRY = "before_expiry", _("Some days before it expires")

    quote = models.ForeignKey(
        Quote, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("quote")
    )
    version = models.ForeignKey(
        QuoteVersion, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("version")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    recipient = models.EmailField(_("sent to"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("quote reminder")
        verbose_name_plural = _("quote reminders")
        ordering = ["quote", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "kind"], name="quote_reminder_once_per_version_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.quote} — {self.get_kind_display()}"


class OrderEventNotice(models.Model):
    """The e-mail to the member about an order's confirmation or refusal, sent once: its row is
    written in the sending's transaction (a redelivered task finds it and sends nothing)."""

    event = models.OneToOneField(
        QuoteEvent, on_delete=models.CASCADE, related_name="notice", verbose_name=_("event")
    )
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("order e-mail")
        verbose_name_plural = _("order e-mails")

    def __str__(self) -> str:
        return f"{self.event_id} ({self.sent_at:%Y-%m-%d %H:%M})"
