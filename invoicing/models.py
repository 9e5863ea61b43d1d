"""Clients, invoices and credit notes, their documents, payments, reminders and bank statements."""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from coop.documents import DocumentBase
from coop.models import ChoiceLabels
from coop.templatetags.money import euro
from invoicing.calculation import AllowanceCharge, Line, VatCategory
from invoicing.eas import clean_gln
from invoicing.review_reasons import render_review_reason
from invoicing.vat import SupplyKind
from members.models import Activity, Language

ZERO = Decimal("0.00")


VERIFIED_BUYER_NEEDS_NAME = _(
    "A buyer whose identification was checked keeps its registered name: write it."
)
PAYMENT_TERMS_AT_MOST_120 = _("Payment terms are between 0 and 120 days.")
AMOUNT_POSITIVE = _("The amount must be more than zero.")
ONE_ACCOUNT_IDENTIFIER = _("Give the IBAN or the other identifier: one of them, not both.")
IBAN_LISTED = _("This IBAN is already listed as an account of the cooperative.")
OTHER_ID_LISTED = _("An account with this identifier, scheme and issuer is already listed.")


class Buyer(models.Model):
    """The cooperative's own record of a legal entity that members invoice, kept by staff.

    Members never write here. Their client records point to it through the VAT number, so
    that staff see the cooperative's exposure to one buyer across all members, and once
    staff have checked its identification, a member adding the same VAT number gets it
    prefilled. Nothing a member types reaches this record or another member's.
    """

    vat_number = models.CharField(_("VAT number"), max_length=20, unique=True)
    enterprise_number = models.CharField(_("enterprise number"), max_length=10, blank=True)
    legal_name = models.CharField(_("registered name"), max_length=200, blank=True)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2)
    verified_at = models.DateTimeField(_("identification checked at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("identification checked by"),
    )
    staff_notes = models.TextField(_("staff notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("buyer")
        verbose_name_plural = _("buyers")
        ordering = ["vat_number"]
        # Staff find a buyer by a part of its registered name.
        indexes = [
            GinIndex(fields=["legal_name"], name="buyer_name_trgm", opclasses=["gin_trgm_ops"])
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(verified_at__isnull=True) | ~Q(legal_name=""),
                name="buyer_verified_has_legal_name",
                violation_error_message=VERIFIED_BUYER_NEEDS_NAME,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.legal_name} ({self.vat_number})" if self.legal_name else self.vat_number

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    def clean(self) -> None:
        if self.verified_at is not None and not self.legal_name.strip():
            raise ValidationError({"legal_name": VERIFIED_BUYER_NEEDS_NAME})


def validate_gln(value: str) -> None:
    """Refuse a GLN that is not 13 digits with a valid GS1 check digit (staff edits included)."""
    try:
        if clean_gln(value) != value:
            raise ValueError(value)
    except ValueError:
        raise ValidationError(
            _("This GLN is not valid: it has 13 digits, the last one a check digit."),
            code="gln",
        ) from None


class Client(ChoiceLabels, models.Model):
    """A member's record of one of their customers: theirs alone to read and change.

    Several members may invoice the same legal entity; each keeps their own record (name,
    address, e-mail, terms), linked by VAT number to the staff-side :class:`Buyer`. A record
    without owner is the cooperative's own client, such as an outside renter of LaVallée.
    """

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company or organisation")
        PERSON = "person", _("Private person")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clients",
        verbose_name=_("member"),
        help_text=_("Empty for the cooperative's own clients, such as outside renters."),
    )
    buyer = models.ForeignKey(
        Buyer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clients",
        verbose_name=_("buyer"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.COMPANY)
    name = models.CharField(_("name"), max_length=200)
    street = models.CharField(_("street and number"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=16)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, default="BE")
    email = models.EmailField(_("e-mail for invoices"))
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.FRENCH
    )
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    enterprise_number = models.CharField(_("enterprise number"), max_length=10, blank=True)
    peppol_id = models.CharField(_("Peppol participant id"), max_length=64, blank=True)
    gln = models.CharField(
        _("GLN"),
        max_length=13,
        blank=True,
        validators=[validate_gln],
        help_text=_("GS1 Global Location Number (13 digits), if the client has one."),
    )
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["owner", "name", "id"], name="client_owner_name_idx"),
            # Staff search clients by a part of their name (admin search_fields, icontains).
            GinIndex(fields=["name"], name="client_name_trgm", opclasses=["gin_trgm_ops"]),
            # The admin's changelist reads clients in this order.
            models.Index(fields=["name", "id"], name="client_admin_name_idx"),
            # The client portal finds every member's record of one e-mail address, whatever
            # its case (portal.selectors): one index scan among all members' clients.
            models.Index(Lower("email"), name="client_email_lower_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "vat_number"],
                condition=~Q(vat_number=""),
                nulls_distinct=False,
                name="client_owner_vat_number_unique",
                violation_error_message=_("You already have a client with this VAT number."),
            ),
            models.CheckConstraint(
                condition=Q(payment_terms_days__lte=120),
                name="client_payment_terms_at_most_120",
                violation_error_message=PAYMENT_TERMS_AT_MOST_120,
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.payment_terms_days is not None and self.payment_terms_days > 120:
            errors["payment_terms_days"] = PAYMENT_TERMS_AT_MOST_120
        if (
            self.vat_number
            and self.owner_id
            and Client.objects.exclude(pk=self.pk)
            .filter(owner_id=self.owner_id, vat_number=self.vat_number)
            .exists()
        ):
            errors["vat_number"] = _("This member already has a client with this VAT number.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_business(self) -> bool:
        return self.kind == self.Kind.COMPANY

    @property
    def peppol_endpoint(self) -> str:
        """Return the Peppol address invoices to this client go to ("0208:0403019261"), or ""
        when the client cannot be reached on Peppol (invoices then go by e-mail)."""
        from invoicing.ubl import party_endpoint

        try:
            endpoint = party_endpoint(
                {
                    "peppol_id": self.peppol_id,
                    "country": self.country,
                    "enterprise_number": self.enterprise_number,
                    "vat_number": self.vat_number,
                    "gln": self.gln,
                }
            )
        except ValueError:
            return ""
        return ":".join(endpoint) if endpoint else ""


class InvoiceQuerySet(models.QuerySet):
    def with_settled_amounts(self) -> "InvoiceQuerySet":
        """Annotate ``amount_paid``, ``amount_credited`` and ``amount_refunded``: one subquery
        each, what ``with_amounts`` derives the amount due from (``invoicing.amounts`` derives
        it in Python, where the SQL of ``with_amounts`` would repeat every subquery)."""
        decimal = models.DecimalField(max_digits=14, decimal_places=2)
        paid = (
            Payment.objects.filter(invoice=models.OuterRef("pk"))
            .order_by()
            .values("invoice")
            .annotate(total=models.Sum("amount"))
            .values("total")
        )
        credited = (
            Invoice.objects.filter(credited_invoice=models.OuterRef("pk"), number__isnull=False)
            .order_by()
            .values("credited_invoice")
            .annotate(total=models.Sum("total_incl_vat"))
            .values("total")
        )
        # Money sent back to the client for its credit notes: what it is owed no longer.
        refunded = (
            Refund.objects.of_invoice(models.OuterRef("pk"))
            .filter(status__in=Refund.SETTLED_STATUSES)
            .order_by()
            .annotate(total=models.Func(models.F("amount"), function="SUM"))
            .values("total")
        )
        zero = models.Value(ZERO, output_field=decimal)
        return self.annotate(
            amount_paid=models.functions.Coalesce(
                models.Subquery(paid, output_field=decimal), zero
            ),
            amount_credited=models.functions.Coalesce(
                models.Subquery(credited, output_field=decimal), zero
            ),
            amount_refunded=models.functions.Coalesce(
                models.Subquery(refunded, output_field=decimal), zero
            ),
        )

    def with_amounts(self) -> "InvoiceQuerySet":
        """Annotate ``amount_paid``, ``amount_credited``, ``amount_due`` and ``amount_to_refund``.

        ``amount_due`` is negative when the client paid more than is left of the invoice;
        ``amount_to_refund`` is that excess, what is owed back to the client.
        """
        decimal = models.DecimalField(max_digits=14, decimal_places=2)
        zero = models.Value(ZERO, output_field=decimal)
        return (
            self.with_settled_amounts()
            .annotate(
                amount_due=models.F("total_incl_vat")
                - models.F("amount_paid")
                - models.F("amount_credited")
                + models.F("amount_refunded")
            )
            .annotate(
                # What the client paid beyond what is left of the invoice: owed back, to refund.
                amount_to_refund=models.functions.Greatest(-models.F("amount_due"), zero),
            )
        )

    def with_refundable(self) -> "InvoiceQuerySet":
        """Annotate ``amount_refundable``: on an issued credit note, what the client is owed.

        The client is owed what it paid beyond what is left of the credited invoice, less every
        refund already asked for; a credit note refunds at most its own total, and shares what
        is owed with the invoice's other credit notes, earliest first. Zero elsewhere.
        """
        decimal = models.DecimalField(max_digits=14, decimal_places=2)
        zero = models.Value(ZERO, output_field=decimal)
        invoice = models.OuterRef("credited_invoice")

        def total(queryset, group: str, field: str):
            summed = queryset.order_by().values(group).annotate(total=models.Sum(field))
            return models.functions.Coalesce(
                models.Subquery(summed.values("total"), output_field=decimal), zero
            )

        paid = total(Payment.objects.filter(invoice=invoice), "invoice", "amount")
        credited = total(
            Invoice.objects.filter(credited_invoice=invoice, number__isnull=False),
            "credited_invoice",
            "total_incl_vat",
        )
        refunded = models.functions.Coalesce(
            models.Subquery(
                Refund.objects.of_invoice(invoice)
                .order_by()
                .annotate(total=models.Func(models.F("amount"), function="SUM"))
                .values("total"),
                output_field=decimal,
            ),
            zero,
        )
        asked = total(
            Refund.objects.filter(credit_note=models.OuterRef("pk")), "credit_note", "amount"
        )
        # What the invoice's earlier credit notes can still refund takes its share first, so
        # that the amounts shown on all its credit notes add up to what the client is owed.
        earlier = {
            "credit_note__credited_invoice": invoice,
            "credit_note__number__isnull": False,
            "credit_note__pk__lt": models.OuterRef("pk"),
        }
        earlier_left = total(
            Invoice.objects.filter(
                credited_invoice=invoice, number__isnull=False, pk__lt=models.OuterRef("pk")
            ),
            "credited_invoice",
            "total_incl_vat",
        ) - total(Refund.objects.filter(**earlier), "credit_note__credited_invoice", "amount")
        owed = (
            paid + credited - models.F("credited_invoice__total_incl_vat") - refunded - earlier_left
        )
        left = models.F("total_incl_vat") - asked
        return self.annotate(
            amount_refundable=models.Case(
                models.When(
                    kind="credit_note",
                    number__isnull=False,
                    then=models.functions.Greatest(models.functions.Least(owed, left), zero),
                ),
                default=zero,
                output_field=decimal,
            )
        )


class Invoice(ChoiceLabels, models.Model):
    """An invoice or credit note of the cooperative, drawn up for a member's Activity.

    Once issued (it has a number) the row and its lines are frozen by database triggers:
    only its payment status may still change.
    """

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING_REVIEW = "pending_review", _("Awaiting staff review")
        ISSUED = "issued", _("Issued")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", _("Paid")
        CREDITED = "credited", _("Credited")
        REJECTED = "rejected", _("Rejected")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.INVOICE)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    activity = models.ForeignKey(
        Activity, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("Activity")
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("client")
    )
    credited_invoice = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("credited invoice"),
    )
    series = models.CharField(_("series"), max_length=16, blank=True)
    sequence_number = models.PositiveIntegerField(_("sequence number"), null=True, blank=True)
    number = models.CharField(_("number"), max_length=32, null=True, blank=True, unique=True)
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    supply_date = models.DateField(
        _("date of supply"),
        null=True,
        blank=True,
        help_text=_("When the work was done or the goods delivered, if not on the issue date."),
    )
    period_start = models.DateField(
        _("period from"),
        null=True,
        blank=True,
        help_text=_("When the work spans a period: its first day."),
    )
    period_end = models.DateField(
        _("period until"),
        null=True,
        blank=True,
        help_text=_("When the work spans a period: its last day."),
    )
    buyer_reference = models.CharField(
        _("buyer reference"),
        max_length=100,
        blank=True,
        help_text=_("The reference the client asked to find on the invoice, if any."),
    )
    order_reference = models.CharField(
        _("purchase order"),
        max_length=100,
        blank=True,
        help_text=_("The number of the client's purchase order, if any."),
    )
    notes = models.TextField(_("notes"), blank=True)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.FRENCH
    )
    structured_communication = models.CharField(
        _("structured communication"), max_length=24, null=True, blank=True, unique=True
    )
    total_excl_vat = models.DecimalField(
        _("total excl. VAT"), max_digits=12, decimal_places=2, default=ZERO
    )
    total_vat = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2, default=ZERO)
    total_incl_vat = models.DecimalField(
        _("total incl. VAT"), max_digits=12, decimal_places=2, default=ZERO
    )
    snapshot = models.JSONField(_("issued content"), null=True, blank=True, editable=False)
    review_reason = models.CharField(_("why staff review it"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    formal_notice_due_at = models.DateTimeField(_("formal notice due since"), null=True, blank=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issue_date", "-sequence_number", "-created_at"]
        indexes = [
            models.Index(fields=["status", "due_date"], name="invoice_status_due_idx"),
            # A member's invoice list: per Activity, drafts then newest issue date, by keyset.
            models.Index(
                fields=["activity", "-issue_date", "-id"], name="invoice_activity_newest_idx"
            ),
            # The guarantee fund lists the invoices whose formal notice is due.
            models.Index(
                fields=["formal_notice_due_at"],
                condition=Q(formal_notice_due_at__isnull=False),
                name="invoice_admin_notice_idx",
            ),
            # The daily reminders walk the open invoices by due date, never the paid millions.
            models.Index(
                fields=["due_date", "id"],
                condition=Q(kind="invoice", status__in=["issued", "partially_paid"]),
                name="invoice_open_due_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "sequence_number"], name="invoice_series_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=True)
                | (
                    Q(sequence_number__isnull=False)
                    & Q(issue_date__isnull=False)
                    & Q(snapshot__isnull=False)
                ),
                name="invoice_issued_is_complete",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", credited_invoice__isnull=True)
                | Q(kind="credit_note", credited_invoice__isnull=False),
                name="invoice_credit_note_references_invoice",
            ),
            models.CheckConstraint(
                condition=Q(total_excl_vat__gte=0) & Q(total_vat__gte=0) & Q(total_incl_vat__gte=0),
                name="invoice_totals_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True, period_end__isnull=True)
                | Q(
                    period_start__isnull=False,
                    period_end__isnull=False,
                    period_end__gte=models.F("period_start"),
                    supply_date__isnull=True,
                ),
                name="invoice_period_complete_and_ordered",
            ),
        ]

    def __str__(self) -> str:
        label = self.get_kind_display()
        return f"{label} {self.number}" if self.number else f"{label} ({self.get_status_display()})"

    @property
    def is_issued(self) -> bool:
        return self.number is not None

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.REJECTED)

    @property
    def buyer_name(self) -> str:
        """The buyer as the invoice names it: frozen once issued."""
        if self.snapshot:
            return self.snapshot["buyer"]["name"]
        return self.client.name

    @property
    def buyer_email(self) -> str:
        """Where the invoice goes: the address it was issued to, whoever edits the client later."""
        if self.snapshot:
            return self.snapshot["buyer"]["email"]
        return self.client.email

    @property
    def review_reason_text(self) -> str:
        """Why staff review this document, in the reader's language (a staff reason as typed)."""
        return render_review_reason(self.review_reason)

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.Kind.CREDIT_NOTE

    def is_overdue(self, today) -> bool:
        return is_overdue(self.status, self.kind, self.due_date, today=today)


def is_overdue(status: str, kind: str, due_date, *, today) -> bool:
    """Tell whether an invoice of this status, kind and due date is overdue today (also for
    the rows that lists read without a model instance)."""
    return (
        status in (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
        and kind == Invoice.Kind.INVOICE
        and due_date is not None
        and due_date < today
    )


class CalculatedLine:
    """A stored line with an invoice line's fields (an invoice's, a quote's, a recurring
    invoice's): the line as invoicing's calculation sees it, one code path for all of them."""

    # Only an invoice line stores a VAT correction (its own field replaces this).
    vat_correction = ZERO

    def as_line(self) -> Line:
        """The line as the calculation sees it."""
        return Line(
            quantity=self.quantity,  # type: ignore[attr-defined]
            unit_price=self.unit_price,  # type: ignore[attr-defined]
            vat_category=self.vat_category,  # type: ignore[attr-defined]
            vat_rate=self.vat_rate,  # type: ignore[attr-defined]
            exemption_reason=self.exemption_reason,  # type: ignore[attr-defined]
            exemption_code=self.exemption_code,  # type: ignore[attr-defined]
            allowance_percent=self.allowance_percent,  # type: ignore[attr-defined]
            allowance_fixed=(
                self.allowance_amount  # type: ignore[attr-defined]
                if self.allowance_percent is None  # type: ignore[attr-defined]
                else ZERO
            ),
            allowance_reason=self.allowance_reason,  # type: ignore[attr-defined]
            vat_correction=self.vat_correction,
        )


class InvoiceLine(ChoiceLabels, CalculatedLine, models.Model):
    class Unit(models.TextChoices):
        HOUR = "hour", _("hour")
        DAY = "day", _("day")
        PIECE = "piece", _("piece")

    class VatCategoryChoice(models.TextChoices):
        STANDARD = VatCategory.STANDARD, _("Belgian VAT (21, 12 or 6 per cent)")
        ZERO_RATED = VatCategory.ZERO_RATED, _("Zero rated")
        EXEMPT = VatCategory.EXEMPT, _("Exempt")
        REVERSE_CHARGE = VatCategory.REVERSE_CHARGE, _("Reverse charge (autoliquidation)")
        INTRA_EU = VatCategory.INTRA_EU, _("Intra-EU supply of goods")
        EXPORT = VatCategory.EXPORT, _("Export of goods outside the EU")
        OUTSIDE_SCOPE = VatCategory.OUTSIDE_SCOPE, _("Outside the scope of Belgian VAT")

    class SupplyKindChoice(models.TextChoices):
        SERVICES = SupplyKind.SERVICES, _("Services")
        GOODS = SupplyKind.GOODS, _("Goods")

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="lines", verbose_name=_("invoice")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.HOUR)
    unit_price = models.DecimalField(_("unit price excl. VAT"), max_digits=12, decimal_places=2)
    vat_category = models.CharField(
        _("VAT category"),
        max_length=2,
        choices=VatCategoryChoice.choices,
        default=VatCategory.STANDARD,
    )
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2)
    supply_kind = models.CharField(
        _("supply of"),
        max_length=8,
        choices=SupplyKindChoice.choices,
        default=SupplyKind.SERVICES,
        help_text=_("Goods or services: it decides the VAT rules across borders."),
    )
    exemption_reason = models.CharField(_("exemption reason"), max_length=255, blank=True)
    exemption_code = models.CharField(
        _("exemption code"),
        max_length=30,
        blank=True,
        help_text=_("The VATEX code of the exemption's legal basis, when it has one."),
    )
    credited_line = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credits",
        verbose_name=_("credited invoice line"),
        help_text=_("On a credit note: the line of the credited invoice this line credits."),
    )
    allowance_percent = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty when the discount is a fixed amount."),
    )
    allowance_amount = models.DecimalField(
        _("discount"), max_digits=12, decimal_places=2, default=ZERO
    )
    allowance_reason = models.CharField(_("reason for the discount"), max_length=255, blank=True)
    vat_correction = models.DecimalField(
        _("VAT correction"),
        max_digits=12,
        decimal_places=2,
        default=ZERO,
        help_text=_(
            "On a credit note: the cents added to the VAT of its amount so that, with the other "
            "credit notes, exactly the VAT charged is taken back."
        ),
    )

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="invoice_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="invoice_line_price_not_negative"
            ),
            models.UniqueConstraint(
                fields=["invoice", "position"], name="invoice_line_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(allowance_amount__gte=0)
                & (
                    Q(allowance_percent__isnull=True)
                    | Q(allowance_percent__gt=0, allowance_percent__lte=100)
                )
                & (Q(allowance_amount=0) | ~Q(allowance_reason="")),
                name="invoice_line_allowance_sane",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def gross_amount(self) -> Decimal:
        return self.as_line().gross_amount

    @property
    def net_amount(self) -> Decimal:
        return self.as_line().net_amount


class InvoiceAllowanceCharge(models.Model):
    """A discount or a charge on the whole invoice (EN 16931 BG-20, BG-21), in one VAT group.

    A percentage is taken of the net amount of the invoice's lines of the same VAT category and
    rate; ``amount`` holds the result, or the fixed amount the member gave.
    """

    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.CASCADE,
        related_name="allowance_charges",
        verbose_name=_("invoice"),
    )
    position = models.PositiveSmallIntegerField(_("position"))
    is_charge = models.BooleanField(
        _("charge"),
        default=False,
        help_text=_("A charge adds to the invoice; a discount lowers it."),
    )
    reason = models.CharField(_("reason"), max_length=255)
    percent = models.DecimalField(
        _("percentage"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty when the amount is fixed."),
    )
    amount = models.DecimalField(_("amount excl. VAT"), max_digits=12, decimal_places=2)
    vat_category = models.CharField(
        _("VAT category"),
        max_length=2,
        choices=InvoiceLine.VatCategoryChoice.choices,
        default=VatCategory.STANDARD,
    )
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("discount or charge on the invoice")
        verbose_name_plural = _("discounts and charges on the invoice")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "position"], name="invoice_allowance_charge_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0)
                & ~Q(reason="")
                & (Q(percent__isnull=True) | Q(percent__gt=0, percent__lte=100)),
                name="invoice_allowance_charge_sane",
            ),
        ]

    def __str__(self) -> str:
        return self.reason

    def as_allowance_charge(self) -> AllowanceCharge:
        """The discount or charge as the calculation sees it."""
        return AllowanceCharge(
            is_charge=self.is_charge,
            reason=self.reason,
            vat_category=self.vat_category,
            vat_rate=self.vat_rate,
            percent=self.percent,
            fixed=self.amount if self.percent is None else ZERO,
        )


class InvoiceSequence(models.Model):
    """The last number given in a series; locked while a number is taken, so none is lost."""

    series = models.CharField(_("series"), max_length=16, primary_key=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)
    last_issue_date = models.DateField(_("last issue date"), null=True, blank=True)

    class Meta:
        verbose_name = _("numbering series")
        verbose_name_plural = _("numbering series")

    def __str__(self) -> str:
        return f"{self.series}: {self.last_number}"


class InvoiceDocument(DocumentBase):
    """The PDF or the UBL e-invoice of an issued invoice or credit note."""

    class Format(models.TextChoices):
        PDF = "pdf", _("PDF")
        UBL = "ubl", _("Peppol UBL")

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="documents", verbose_name=_("invoice")
    )
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)

    class Meta:
        verbose_name = _("invoice document")
        verbose_name_plural = _("invoice documents")
        constraints = [
            models.UniqueConstraint(fields=["invoice", "format"], name="invoice_document_unique")
        ]
        # The recovery sweep looks for the few documents that are not ready.
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=~Q(status="ready"),
                name="invoice_document_unready_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice} ({self.get_format_display()})"


class Dispatch(ChoiceLabels, models.Model):
    """One sending of an invoice to its client: by e-mail or over Peppol."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        PEPPOL = "peppol", _("Peppol")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the documents")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="dispatches", verbose_name=_("invoice")
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    reference = models.CharField(_("transmission reference"), max_length=255, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    queued_at = models.DateTimeField(_("last enqueued again at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sending")
        verbose_name_plural = _("sendings")
        ordering = ["-created_at", "-pk"]
        # The recovery sweep looks for the few sendings still pending.
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(status="pending"), name="dispatch_pending_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice} → {self.recipient}"


class BankAccount(models.Model):
    """An account of the cooperative: statements of any account not listed here are refused.

    Banks name the account of a CAMT.053 statement by its IBAN, or some by another identifier
    (``Acct/Id/Othr``) with an optional scheme and issuer; such an account is accepted only
    when it is recorded here with that identifier.
    """

    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    other_id = models.CharField(
        _("other identifier"),
        max_length=34,
        blank=True,
        help_text=_(
            "Only for a bank that names the account otherwise than by its IBAN in its "
            "statements (Acct/Id/Othr/Id). Leave the IBAN empty then."
        ),
    )
    other_scheme = models.CharField(
        _("identifier scheme"),
        max_length=35,
        blank=True,
        help_text=_("As the statement gives it (SchmeNm), e.g. BBAN; empty accepts any."),
    )
    other_issuer = models.CharField(
        _("identifier issuer"),
        max_length=35,
        blank=True,
        help_text=_("As the statement gives it (Issr); empty accepts any."),
    )
    label = models.CharField(_("label"), max_length=100, blank=True)
    active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Statements of an inactive account are refused."),
    )

    class Meta:
        verbose_name = _("bank account of the cooperative")
        verbose_name_plural = _("bank accounts of the cooperative")
        ordering = ["-active", "label", "iban", "other_id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(iban="") & ~Q(other_id="")) | (~Q(iban="") & Q(other_id="")),
                name="bank_account_one_identifier",
                violation_error_message=ONE_ACCOUNT_IDENTIFIER,
            ),
            models.UniqueConstraint(
                fields=["iban"],
                condition=~Q(iban=""),
                name="bank_account_iban_unique",
                violation_error_message=IBAN_LISTED,
            ),
            models.UniqueConstraint(
                fields=["other_id", "other_scheme", "other_issuer"],
                condition=~Q(other_id=""),
                name="bank_account_other_id_unique",
                violation_error_message=OTHER_ID_LISTED,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.identifier})" if self.label else self.identifier

    @property
    def identifier(self) -> str:
        """The account as staff read it: a grouped IBAN, or the other id with its scheme."""
        from invoicing.camt import account_label

        return account_label(
            iban=self.iban,
            other_id=self.other_id,
            scheme=self.other_scheme,
            issuer=self.other_issuer,
        )

    def clean(self) -> None:
        from stdnum import iban as iban_module

        self.iban = iban_module.compact(self.iban)
        self.other_id = self.other_id.strip()
        self.other_scheme = self.other_scheme.strip()
        self.other_issuer = self.other_issuer.strip()
        # Each refusal names its field, so the database constraints it stands for are not
        # checked again with their own message.
        if bool(self.iban) == bool(self.other_id):
            raise ValidationError({"other_id" if self.iban else "iban": ONE_ACCOUNT_IDENTIFIER})
        if self.iban and not iban_module.is_valid(self.iban):
            raise ValidationError({"iban": _("This IBAN is not valid.")})
        others = BankAccount.objects.exclude(pk=self.pk)
        if self.iban and others.filter(iban=self.iban).exists():
            raise ValidationError({"iban": IBAN_LISTED})
        if (
            self.other_id
            and others.filter(
                other_id=self.other_id,
                other_scheme=self.other_scheme,
                other_issuer=self.other_issuer,
            ).exists()
        ):
            raise ValidationError({"other_id": OTHER_ID_LISTED})

    def accepts(self, *, iban: str, other_id: str, scheme: str, issuer: str) -> bool:
        """Whether a statement naming its account so is of this account."""
        if self.iban:
            return bool(iban) and self.iban == iban
        return (
            not iban
            and self.other_id == other_id
            and (not self.other_scheme or self.other_scheme == scheme)
            and (not self.other_issuer or self.other_issuer == issuer)
        )


class BankStatement(models.Model):
    """An imported CAMT.053 statement."""

    # The IBAN, or the other identifier when the bank names the account so.
    account_iban = models.CharField(_("account"), max_length=34)
    bank_account = models.ForeignKey(
        BankAccount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statements",
        verbose_name=_("account of the cooperative"),
    )
    statement_id = models.CharField(_("statement id"), max_length=140)
    filename = models.CharField(_("file"), max_length=255, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-imported_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account_iban", "statement_id"], name="bank_statement_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_iban} {self.statement_id}"


class BankStatementLine(ChoiceLabels, models.Model):
    class Status(models.TextChoices):
        MATCHED = "matched", _("Matched")
        UNMATCHED = "unmatched", _("Left for staff")
        # It would match an invoice, but something about it needs a person's eyes first.
        TO_REVIEW = "to_review", _("To review before matching")
        IGNORED = "ignored", _("Not a client payment")

    statement = models.ForeignKey(
        BankStatement, on_delete=models.PROTECT, related_name="lines", verbose_name=_("statement")
    )
    booking_date = models.DateField(_("booking date"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    is_credit = models.BooleanField(_("credit"))
    structured_communication = models.CharField(
        _("structured communication"), max_length=24, blank=True
    )
    free_text = models.TextField(_("communication"), blank=True)
    counterparty_name = models.CharField(_("counterparty"), max_length=140, blank=True)
    counterparty_iban = models.CharField(_("counterparty account"), max_length=34, blank=True)
    bank_reference = models.CharField(_("bank reference"), max_length=140)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bank_lines",
        verbose_name=_("invoice"),
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("bank statement line")
        verbose_name_plural = _("bank statement lines")
        ordering = ["booking_date", "pk"]
        # The admin finds a line by its structured communication.
        indexes = [
            models.Index(fields=["structured_communication"], name="bankline_admin_ogm_idx"),
            # ... or by the payer's IBAN.
            models.Index(fields=["counterparty_iban"], name="bankline_admin_iban_idx"),
            # The admin counts each statement's lines still open.
            models.Index(
                fields=["statement", "status"],
                condition=Q(status__in=["unmatched", "to_review"]),
                name="bankline_admin_open_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "bank_reference"], name="bank_line_reference_unique"
            )
        ]

    def __str__(self) -> str:
        booked = date_format(self.booking_date, "SHORT_DATE_FORMAT")
        return f"{booked} {euro(self.amount)} {self.structured_communication}"


class Payment(ChoiceLabels, models.Model):
    """Money received from a client for an invoice."""

    class Method(models.TextChoices):
        MANUAL = "manual", _("Recorded by staff")
        BANK_STATEMENT = "bank_statement", _("Bank statement")
        # Confirmed by an online payment provider (the checkout app): money that did arrive.
        ONLINE = "online", _("Online payment")

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="payments", verbose_name=_("invoice")
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    received_on = models.DateField(_("received on"))
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    bank_line = models.OneToOneField(
        BankStatementLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment",
        verbose_name=_("bank statement line"),
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    # Empty for a payment the provider confirmed: nobody typed it in.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["received_on", "pk"]
        # The guarantee fund sums a year's payments from this index alone.
        indexes = [
            # Also the admin's list, newest first: (received_on, id) is its whole ordering.
            models.Index(
                fields=["received_on", "id"],
                include=["amount"],
                name="payment_admin_received_idx",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="payment_amount_positive",
                violation_error_message=AMOUNT_POSITIVE,
            )
        ]

    def __str__(self) -> str:
        return f"{euro(self.amount)} ({date_format(self.received_on, 'SHORT_DATE_FORMAT')})"


class Reminder(models.Model):
    """A payment reminder; the unique constraint makes each level go out once."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="reminders", verbose_name=_("invoice")
    )
    level = models.PositiveSmallIntegerField(_("level"))
    sent_on = models.DateField(_("sent on"))
    amount_due = models.DecimalField(_("amount due"), max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    queued_at = models.DateTimeField(_("last enqueued again at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["invoice", "level"]
        # The recovery sweep looks for the few reminders not yet e-mailed.
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(emailed_at__isnull=True),
                name="reminder_not_emailed_idx",
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "level"], name="reminder_once_per_level")
        ]

    def __str__(self) -> str:
        return f"{self.invoice} #{self.level}"


class RefundPaymentFile(models.Model):
    """A SEPA credit transfer file (pain.001) paying credit-note refunds back to clients."""

    file = models.FileField(_("SEPA file"), upload_to="refunds/%Y/")
    message_id = models.CharField(_("SEPA message id"), max_length=35)
    execution_date = models.DateField(_("execution date"))
    transfer_count = models.PositiveIntegerField(_("transfers"))
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("refund payment file")
        verbose_name_plural = _("refund payment files")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.transfer_count})"


class RefundQuerySet(models.QuerySet):
    def of_invoice(self, invoice) -> "RefundQuerySet":
        """Refunds of an invoice's credit notes and of its over-payment."""
        return self.filter(Q(credit_note__credited_invoice=invoice) | Q(invoice=invoice))


class Refund(ChoiceLabels, models.Model):
    """Money a credit note leaves owed to a client who had already paid, and its way back.

    A refund by SEPA credit transfer is requested, then included in a payment file, then
    marked paid once the bank executed it; one made some other way is recorded by hand with its
    date and bank reference. Only a paid or recorded refund moves money on the ledger.
    """

    class Method(models.TextChoices):
        SEPA_TRANSFER = "sepa_transfer", _("SEPA credit transfer")
        MANUAL = "manual", _("Recorded by hand")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        IN_PAYMENT_FILE = "in_payment_file", _("In a payment file")
        PAID = "paid", _("Paid")
        RECORDED = "recorded", _("Recorded by hand")

    SETTLED_STATUSES = [Status.PAID, Status.RECORDED]

    credit_note = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        verbose_name=_("credit note"),
    )
    # A refund of what the client paid beyond an invoice, with no credit note: the invoice.
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="over_payment_refunds",
        verbose_name=_("over-paid invoice"),
        help_text=_("To refund an over-payment, choose the invoice instead of a credit note."),
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    account_holder = models.CharField(_("account holder"), max_length=70)
    client_iban = models.CharField(_("client's IBAN"), max_length=34)
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED
    )
    payment_file = models.ForeignKey(
        RefundPaymentFile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        verbose_name=_("payment file"),
    )
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    bank_reference = models.CharField(_("bank reference"), max_length=140, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("marked paid by"),
    )
    settled_at = models.DateTimeField(_("marked paid at"), null=True, blank=True)

    objects = RefundQuerySet.as_manager()

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-requested_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "method"], name="refund_status_method_idx"),
            # Staff find a refund by the client's IBAN.
            models.Index(fields=["client_iban"], name="refund_admin_iban_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="refund_amount_positive",
                violation_error_message=AMOUNT_POSITIVE,
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["paid", "recorded"])
                | (Q(paid_on__isnull=False) & ~Q(bank_reference="")),
                name="refund_settled_has_date_and_reference",
                violation_error_message=_(
                    "A refund paid or recorded has its payment date and bank reference."
                ),
            ),
            models.UniqueConstraint(
                fields=["bank_reference"],
                condition=~Q(bank_reference=""),
                name="refund_bank_reference_unique",
                violation_error_message=_("A refund with this bank reference is recorded."),
            ),
            models.CheckConstraint(
                condition=Q(credit_note__isnull=False, invoice__isnull=True)
                | Q(credit_note__isnull=True, invoice__isnull=False),
                name="refund_of_a_credit_note_or_an_over_payment",
                violation_error_message=_(
                    "Choose the credit note to refund, or, to refund an over-payment, the "
                    "invoice: one of the two."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{euro(self.amount)} ({self.get_status_display()})"

    @property
    def document(self) -> Invoice:
        """The credit note refunded, or the over-paid invoice."""
        return self.credit_note or self.invoice

    @property
    def credited_invoice_id(self) -> int:
        """The invoice whose money goes back."""
        return self.credit_note.credited_invoice_id if self.credit_note else self.invoice_id

    @property
    def is_settled(self) -> bool:
        return self.status in self.SETTLED_STATUSES


class GuaranteeFundFigure(models.Model):
    """One row of the guarantee fund's last computed figures (``invoicing.guarantee_fund``).

    The refresh replaces every row in one transaction: one ``total`` row (with the computation's
    time and the day the ageing is counted from) and the ``client`` (buyer, or client without a
    buyer) and ``member`` exposure rows, numbered by ``position`` in the order the page shows
    them, biggest exposure first. A page is a range of positions on the unique index.
    """

    class Kind(models.TextChoices):
        TOTAL = "total", _("total")
        CLIENT = "client", _("client")
        MEMBER = "member", _("member")

    kind = models.CharField(max_length=6, choices=Kind.choices)
    position = models.PositiveIntegerField()
    name = models.TextField(blank=True)
    invoice_count = models.PositiveIntegerField()
    outstanding = models.DecimalField(max_digits=18, decimal_places=2)
    overdue = models.DecimalField(max_digits=18, decimal_places=2)
    not_due = models.DecimalField(max_digits=18, decimal_places=2)
    days_1_30 = models.DecimalField(max_digits=18, decimal_places=2)
    days_31_60 = models.DecimalField(max_digits=18, decimal_places=2)
    days_61_90 = models.DecimalField(max_digits=18, decimal_places=2)
    days_over_90 = models.DecimalField(max_digits=18, decimal_places=2)
    paid_this_year = models.DecimalField(max_digits=18, decimal_places=2, null=True)
    as_of = models.DateField()
    computed_at = models.DateTimeField()
    # Clients' confirmed orders not yet invoiced: the total and per member (the ledger's
    # guaranteed stage), per client (what the orders app registers in ``invoicing.hooks``).
    guaranteed = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "position"], name="guarantee_fund_page_uniq"),
        ]

    def __str__(self):
        return f"{self.kind} {self.position}: {self.name}"


class RecurringInvoice(ChoiceLabels, models.Model):
    """A member's invoice that repeats on a schedule: its lines, client and rhythm.

    Each period's invoice is drawn up from the template lines by
    ``invoicing.services.recurring`` and recorded as a :class:`RecurringInvoiceRun`, whose
    unique (recurring invoice, period) makes every period invoiced once. ``next_date`` is the
    next period not invoiced yet; empty once the schedule is over or ended.
    """

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly")
        YEARLY = "yearly", _("Yearly")

    class Mode(models.TextChoices):
        AUTO_SEND = "auto_send", _("Issue and send it when due")
        REVIEW_FIRST = "review_first", _("Prepare a draft for my review")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        ENDED = "ended", _("Ended")

    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        related_name="recurring_invoices",
        verbose_name=_("Activity"),
    )
    client = models.ForeignKey(
        Client,
        on_delete=models.PROTECT,
        related_name="recurring_invoices",
        verbose_name=_("client"),
    )
    title = models.CharField(_("title"), max_length=200)
    frequency = models.CharField(
        _("frequency"), max_length=8, choices=Frequency.choices, default=Frequency.MONTHLY
    )
    interval = models.PositiveSmallIntegerField(_("every"), default=1)
    day_of_month = models.PositiveSmallIntegerField(
        _("day of the month"),
        null=True,
        blank=True,
        help_text=_("29, 30 or 31: the last day of shorter months."),
    )
    start_date = models.DateField(_("first invoice on"))
    end_date = models.DateField(_("last invoice on or before"), null=True, blank=True)
    count = models.PositiveSmallIntegerField(_("number of invoices"), null=True, blank=True)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.AUTO_SEND)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE
    )
    next_date = models.DateField(_("next invoice on"), null=True, blank=True)
    buyer_reference = models.CharField(_("buyer reference"), max_length=100, blank=True)
    order_reference = models.CharField(_("purchase order"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    last_error = models.TextField(_("last problem"), blank=True)
    last_error_at = models.DateTimeField(_("last problem at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("recurring invoice")
        verbose_name_plural = _("recurring invoices")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # A member's list: per Activity, newest first.
            models.Index(fields=["activity", "-id"], name="recurring_activity_newest_idx"),
            # The beat task walks only the active ones that are due, by date.
            models.Index(
                fields=["next_date", "id"],
                condition=Q(status="active"),
                name="recurring_due_idx",
            ),
            # The admin's list, newest first, filtered by state.
            models.Index(fields=["status", "-id"], name="recurring_admin_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(interval__gte=1, interval__lte=52),
                name="recurring_interval_1_to_52",
            ),
            models.CheckConstraint(
                condition=Q(day_of_month__isnull=True)
                | Q(day_of_month__gte=1, day_of_month__lte=31),
                name="recurring_day_of_month_valid",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="recurring_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(count__isnull=True) | Q(count__gte=1),
                name="recurring_count_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_paused(self) -> bool:
        return self.status == self.Status.PAUSED

    @property
    def is_ended(self) -> bool:
        return self.status == self.Status.ENDED


# The statuses under a name of their own (the API schema names its enum after it).
RecurringInvoiceStatus = RecurringInvoice.Status


class RecurringInvoiceLine(ChoiceLabels, CalculatedLine, models.Model):
    """One template line of a recurring invoice, as an invoice line is typed.

    ``{month}``, ``{year}`` and ``{period}`` in the description are replaced by the period's
    month, year and dates, in the client's language, on each invoice.
    """

    recurring_invoice = models.ForeignKey(
        RecurringInvoice,
        on_delete=models.CASCADE,
        related_name="lines",
        verbose_name=_("recurring invoice"),
    )
    position = models.PositiveSmallIntegerField(_("position"))
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2)
    unit = models.CharField(
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

    class Meta:
        verbose_name = _("recurring invoice line")
        verbose_name_plural = _("recurring invoice lines")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recurring_invoice", "position"], name="recurring_line_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="recurring_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="recurring_line_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def net_amount(self) -> Decimal:
        return self.as_line().net_amount


class RecurringInvoiceRun(ChoiceLabels, models.Model):
    """One period of a recurring invoice, invoiced: created with its invoice, in one transaction.

    The unique (recurring invoice, period) is what makes each period invoiced exactly once,
    however often, late or concurrently the scheduler runs.
    """

    recurring_invoice = models.ForeignKey(
        RecurringInvoice,
        on_delete=models.PROTECT,
        related_name="runs",
        verbose_name=_("recurring invoice"),
    )
    period_date = models.DateField(_("period of"))
    # Empty once the member deleted the period's draft: the period stays invoiced (declined).
    invoice = models.OneToOneField(
        Invoice,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recurring_run",
        verbose_name=_("invoice"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Drafts for the member's review: when the member was told by e-mail.
    member_notified_at = models.DateTimeField(_("member told at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invoiced period")
        verbose_name_plural = _("invoiced periods")
        ordering = ["-period_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recurring_invoice", "period_date"], name="recurring_run_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.recurring_invoice} {date_format(self.period_date, 'SHORT_DATE_FORMAT')}"
