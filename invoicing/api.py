"""REST API for clients, invoices, credit notes and payments, scoped to the requesting user."""

import functools
from decimal import Decimal

from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.settings import api_settings

from audit.services import record_event
from coop import bounds
from coop.idempotency import IdempotentCreationMixin
from coop.keyset import KeysetPagination
from invoicing import api_rows, detail, selectors, vat
from invoicing.calculation import VatCategory
from invoicing.countries import COUNTRY_CODES
from invoicing.models import (
    Client,
    Invoice,
    InvoiceAllowanceCharge,
    InvoiceDocument,
    InvoiceLine,
    Payment,
    Refund,
)
from invoicing.services import clients as client_services
from invoicing.services.credit import CreditLineInput, request_credit_note
from invoicing.services.drafts import (
    AllowanceChargeInput,
    LineInput,
    delete_draft,
    save_draft,
)
from invoicing.services.issue import place_of_supply_warning, submit_invoice
from invoicing.services.payments import record_payment
from members.api import IsMemberOrStaff
from members.selectors import activities_visible_to

MONEY = {"max_digits": 12, "decimal_places": 2}
# Sums computed in SQL (paid, credited, due, refundable) are as long as the money stored: they
# are shown in full, never refused for having more digits than one stored amount may have.
SUM = {"max_digits": None, "decimal_places": 2}
PERCENT = {
    "max_digits": 5,
    "decimal_places": 2,
    "min_value": Decimal("0.01"),
    "max_value": Decimal("100"),
}


class ClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = [
            "pk",
            "kind",
            "name",
            "street",
            "postal_code",
            "city",
            "country",
            "email",
            "language",
            "vat_number",
            "enterprise_number",
            "peppol_id",
            "gln",
            "peppol_endpoint",
            "payment_terms_days",
        ]
        read_only_fields = ["pk", "enterprise_number"]
        extra_kwargs = {
            "kind": {"required": True},
            "language": {"required": True},
            "vat_number": {"required": False},
            "peppol_id": {"required": False},
            "gln": {"required": False},
            "payment_terms_days": {"required": False, "min_value": 0, "max_value": 120},
        }
        # Uniqueness is the service's business: an existing VAT number finds the record.
        validators: list = []

    country = serializers.ChoiceField(
        choices=COUNTRY_CODES, help_text=_("ISO 3166-1 alpha-2 code: BE, FR, CH, US…")
    )
    peppol_endpoint = serializers.CharField(
        read_only=True,
        help_text=_(
            "Where invoices to this client go on Peppol (scheme:identifier), derived from the "
            "Peppol id, enterprise number, VAT number or GLN; empty when the client cannot be "
            "reached on Peppol and invoices go by e-mail."
        ),
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["vat_number"].validators = []
        return fields


class ClientLookupSerializer(serializers.Serializer):
    vat_number = serializers.CharField(max_length=32)
    country = serializers.ChoiceField(choices=COUNTRY_CODES)


class ClientIdentificationSerializer(serializers.Serializer):
    """The public identification of a VAT number: checked by staff, never a member's entry."""

    vat_number = serializers.CharField()
    enterprise_number = serializers.CharField()
    peppol_id = serializers.CharField()
    country = serializers.CharField()
    verified = serializers.BooleanField()
    name = serializers.CharField(required=False)
    street = serializers.CharField(required=False)
    postal_code = serializers.CharField(required=False)
    city = serializers.CharField(required=False)


class LineSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=bounds.LINE_DESCRIPTION_MAX_LENGTH)
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2)
    unit = serializers.ChoiceField(choices=InvoiceLine.Unit.choices)
    unit_price = serializers.DecimalField(**MONEY)
    vat_category = serializers.ChoiceField(
        choices=InvoiceLine.VatCategoryChoice.choices,
        default=VatCategory.STANDARD,
        help_text=_(
            "S taxed, Z zero rated, E exempt, AE reverse charge, K intra-EU supply of goods, "
            "G export of goods, O service outside the scope of Belgian VAT."
        ),
    )
    vat_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        required=False,
        help_text=_("21, 12 or 6 for S; 0 for the other categories (their default)."),
    )
    supply_kind = serializers.ChoiceField(
        choices=InvoiceLine.SupplyKindChoice.choices,
        default=vat.SupplyKind.SERVICES,
        help_text=_("Goods or services: it decides the VAT rules across borders."),
    )
    exemption_reason = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text=_("The legal basis of an exemption (E); the other categories get the law's."),
    )
    exemption_code = serializers.ChoiceField(
        choices=vat.EXEMPTION_CODES,
        required=False,
        allow_blank=True,
        help_text=_("The VATEX code of an exemption (E), when its basis has one."),
    )
    allowance_percent = serializers.DecimalField(
        **PERCENT,
        required=False,
        allow_null=True,
        help_text=_("A discount on the line, as a percentage of quantity × unit price."),
    )
    allowance_amount = serializers.DecimalField(
        **MONEY,
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
        help_text=_("A discount on the line, as a fixed amount excl. VAT."),
    )
    allowance_reason = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text=_("Why the discount is given; required with a discount."),
    )

    def to_line(self, data: dict) -> LineInput:
        category = data["vat_category"]
        default_rate = Decimal("21.00") if category == VatCategory.STANDARD else Decimal("0.00")
        return LineInput(
            description=data["description"],
            quantity=data["quantity"],
            unit=data["unit"],
            unit_price=data["unit_price"],
            vat_category=category,
            vat_rate=data.get("vat_rate", default_rate),
            exemption_reason=data.get("exemption_reason", ""),
            supply_kind=data["supply_kind"],
            exemption_code=data.get("exemption_code", ""),
            allowance_percent=data.get("allowance_percent"),
            allowance_amount=data.get("allowance_amount"),
            allowance_reason=data.get("allowance_reason", ""),
        )


class CreditLineSerializer(serializers.Serializer):
    """How much of one invoice line to credit: a quantity at its price, or an amount."""

    position = serializers.IntegerField(
        min_value=1, help_text=_("The position of the invoice line to credit (1, 2, …).")
    )
    quantity = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        required=False,
        help_text=_(
            "Quantity credited at the line's net unit price: its unit price less the same share "
            "of its discount."
        ),
    )
    amount = serializers.DecimalField(
        **MONEY,
        required=False,
        help_text=_("Amount excl. VAT credited; with a quantity, the amount for that quantity."),
    )
    description = serializers.CharField(
        max_length=bounds.LINE_DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True
    )
    vat_category = serializers.ChoiceField(
        choices=InvoiceLine.VatCategoryChoice.choices,
        required=False,
        help_text=_("The invoice line's: any other is refused."),
    )
    vat_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        required=False,
        help_text=_("The invoice line's: any other is refused."),
    )

    def to_line(self, data: dict) -> CreditLineInput:
        return CreditLineInput(
            position=data["position"],
            quantity=data.get("quantity"),
            amount=data.get("amount"),
            description=data.get("description", ""),
            vat_category=data.get("vat_category"),
            vat_rate=data.get("vat_rate"),
        )


class AllowanceChargeSerializer(serializers.Serializer):
    """A discount or charge on the whole invoice, in the VAT category and rate of some lines."""

    is_charge = serializers.BooleanField(
        default=False, help_text=_("True for a charge, false for a discount.")
    )
    reason = serializers.CharField(max_length=255)
    percent = serializers.DecimalField(
        **PERCENT,
        required=False,
        allow_null=True,
        help_text=_("A percentage of the lines with the same VAT category and rate."),
    )
    amount = serializers.DecimalField(
        **MONEY, min_value=Decimal("0.01"), required=False, allow_null=True
    )
    vat_category = serializers.ChoiceField(
        choices=InvoiceLine.VatCategoryChoice.choices, default="S"
    )
    vat_rate = serializers.DecimalField(max_digits=5, decimal_places=2, default="21.00")

    def validate(self, attrs: dict) -> dict:
        if (attrs.get("percent") is None) == (attrs.get("amount") is None):
            message = (
                _("Give a percentage or an amount, not both.")
                if attrs.get("percent") is not None
                else _("Give a percentage or an amount: one of them is needed.")
            )
            raise serializers.ValidationError({"amount": [message]})
        return attrs

    def to_input(self, data: dict) -> AllowanceChargeInput:
        return AllowanceChargeInput(
            is_charge=data["is_charge"],
            reason=data["reason"],
            vat_category=data["vat_category"],
            vat_rate=data["vat_rate"],
            percent=data.get("percent"),
            amount=data.get("amount"),
        )


class AllowanceChargeOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceAllowanceCharge
        fields = ["is_charge", "reason", "percent", "amount", "vat_category", "vat_rate"]


class LineOutSerializer(serializers.ModelSerializer):
    net_amount = serializers.DecimalField(**MONEY, read_only=True)
    credited_line_position = serializers.IntegerField(
        source="credited_line.position",
        read_only=True,
        allow_null=True,
        default=None,
        help_text=_("On a credit note: the position of the invoice line it credits."),
    )

    class Meta:
        model = InvoiceLine
        fields = [
            "position",
            "description",
            "quantity",
            "unit",
            "unit_price",
            "supply_kind",
            "vat_category",
            "vat_rate",
            "exemption_reason",
            "exemption_code",
            "allowance_percent",
            "allowance_amount",
            "allowance_reason",
            "net_amount",
            "credited_line_position",
        ]


class DraftSerializer(serializers.Serializer):
    activity = serializers.IntegerField()
    client = serializers.IntegerField()
    buyer_reference = serializers.CharField(
        max_length=bounds.BUYER_REFERENCE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text=_("The reference the client asked to find on the invoice (BT-10)."),
    )
    order_reference = serializers.CharField(
        max_length=bounds.BUYER_REFERENCE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text=_(
            "The client's purchase order number (BT-13). Clients reached on Peppol need "
            "this or a buyer reference."
        ),
    )
    notes = serializers.CharField(
        max_length=bounds.NOTES_MAX_LENGTH, required=False, allow_blank=True
    )
    due_date = serializers.DateField(
        required=False,
        allow_null=True,
        validators=[bounds.date_validator(bounds.check_draft_due_date)],
        help_text=_("From the invoice date to a year after it; the client's terms if left out."),
    )
    supply_date = serializers.DateField(
        required=False,
        allow_null=True,
        validators=[bounds.date_validator(bounds.check_supply_date)],
        help_text=_("From 2000 to a year ahead."),
    )
    period_start = serializers.DateField(
        required=False,
        allow_null=True,
        validators=[bounds.date_validator(bounds.check_supply_date)],
        help_text=_("First day of the period of the work, instead of a date of supply."),
    )
    period_end = serializers.DateField(
        required=False,
        allow_null=True,
        validators=[bounds.date_validator(bounds.check_supply_date)],
        help_text=_("Last day of the period of the work."),
    )
    lines = LineSerializer(many=True, allow_empty=True)
    allowance_charges = AllowanceChargeSerializer(many=True, required=False, max_length=20)


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ["pk", "amount", "method", "status", "requested_at", "paid_on", "bank_reference"]
        read_only_fields = fields


# What an invoice's representation lists (``listed_<relation>``, read with the invoice).
LISTED_RELATIONS = ("lines", "allowance_charges", "documents", "refunds", "over_payment_refunds")


class IdentityUrlField(serializers.HyperlinkedIdentityField):
    """DRF's link to the row itself, with the URL reversed once per list rather than per row."""

    # Stands for the primary key while reversing; no key is this long.
    PLACEHOLDER = "9081726354453627189"

    def get_url(self, obj, view_name, request, format):
        if obj.pk in (None, ""):
            return None
        templates = self.__dict__.setdefault("url_templates", {})
        key = (view_name, format)
        if key not in templates:
            url = self.reverse(
                view_name,
                kwargs={self.lookup_url_kwarg: self.PLACEHOLDER},
                request=request,
                format=format,
            )
            templates[key] = url.rpartition(self.PLACEHOLDER)
        before, _placeholder, after = templates[key]
        return f"{before}{getattr(obj, self.lookup_field)}{after}"


# Sums are formatted by one field rather than one made per invoice.
SUM_FIELD = serializers.DecimalField(**SUM)


# An invoice as the API shows it: the schema of its answers. InvoiceViewSet writes them with
# invoicing.api_rows, the very same JSON without a model instance or a field object per value
# (tests/invoicing/test_api_rows.py compares both): a field added or changed here is added or
# changed there too. (A comment, not a docstring: the schema would publish it.)
class InvoiceSerializer(serializers.ModelSerializer):
    lines = LineOutSerializer(many=True, read_only=True, source="listed_lines")
    allowance_charges = AllowanceChargeOutSerializer(
        many=True, read_only=True, source="listed_allowance_charges"
    )
    client_name = serializers.CharField(source="buyer_name", read_only=True)
    amount_paid = serializers.DecimalField(**SUM, read_only=True)
    amount_credited = serializers.DecimalField(**SUM, read_only=True)
    amount_due = serializers.SerializerMethodField(
        help_text=_(
            "What the client still owes on an issued invoice (total − credited − paid + "
            "refunded, never below zero); null on a credit note, which asks for no payment."
        )
    )
    amount_to_refund = serializers.SerializerMethodField(
        help_text=_(
            "On an issued invoice: what the client paid beyond what is left of it after its "
            "credit notes, owed back and not yet refunded; null on a credit note."
        )
    )
    refunds = serializers.SerializerMethodField(
        help_text=_(
            "On a credit note: the refunds of what the client had already paid; on an invoice: "
            "the refunds of what the client paid beyond it."
        )
    )
    amount_refundable = serializers.SerializerMethodField(
        help_text=_(
            "On a credit note: what is owed to the client and not yet refunded; null on an invoice."
        )
    )
    documents = serializers.SerializerMethodField()
    review_reason = serializers.CharField(
        source="review_reason_text",
        read_only=True,
        help_text=_(
            "Why staff review the document, in the language of the request; a reason given by "
            "staff when sending it back is shown as written."
        ),
    )
    warnings = serializers.SerializerMethodField(
        help_text=_(
            "What to check before submitting an invoice not yet issued, such as Belgian VAT "
            "charged on a service to a business established abroad; staff review such an "
            "invoice before it is issued."
        )
    )
    url = IdentityUrlField(view_name="api:invoice-detail")

    class Meta:
        model = Invoice
        fields = [
            "pk",
            "url",
            "kind",
            "status",
            "number",
            "activity",
            "client",
            "client_name",
            "credited_invoice",
            "issue_date",
            "due_date",
            "supply_date",
            "period_start",
            "period_end",
            "buyer_reference",
            "order_reference",
            "notes",
            "language",
            "structured_communication",
            "total_excl_vat",
            "total_vat",
            "total_incl_vat",
            "amount_paid",
            "amount_credited",
            "amount_due",
            "amount_to_refund",
            "amount_refundable",
            "refunds",
            "review_reason",
            "lines",
            "allowance_charges",
            "documents",
            "warnings",
        ]
        read_only_fields = fields

    def to_representation(self, invoice: Invoice) -> dict:
        for relation in LISTED_RELATIONS:
            if not hasattr(invoice, f"listed_{relation}"):
                setattr(invoice, f"listed_{relation}", list(getattr(invoice, relation).all()))
        return super().to_representation(invoice)

    @extend_schema_field(serializers.DecimalField(**SUM, allow_null=True))
    def get_amount_due(self, invoice: Invoice) -> Decimal | None:
        if invoice.is_credit_note:
            return None
        return SUM_FIELD.to_representation(max(invoice.amount_due, Decimal("0.00")))

    @extend_schema_field(serializers.DecimalField(**SUM, allow_null=True))
    def get_amount_to_refund(self, invoice: Invoice) -> Decimal | None:
        if invoice.is_credit_note:
            return None
        return SUM_FIELD.to_representation(invoice.amount_to_refund)

    @extend_schema_field(RefundSerializer(many=True))
    def get_refunds(self, invoice: Invoice) -> list[dict]:
        if invoice.is_credit_note:
            refunds = invoice.listed_refunds  # type: ignore[attr-defined]
        else:
            refunds = invoice.listed_over_payment_refunds  # type: ignore[attr-defined]
        if not refunds:
            return []
        # One serializer for every invoice of a page, not one (and its fields) per invoice.
        if not hasattr(self, "refund_serializer"):
            self.refund_serializer = RefundSerializer()
        return [self.refund_serializer.to_representation(refund) for refund in refunds]

    @extend_schema_field(serializers.DecimalField(**SUM, allow_null=True))
    def get_amount_refundable(self, invoice: Invoice) -> Decimal | None:
        if not invoice.is_credit_note:
            return None
        return SUM_FIELD.to_representation(invoice.amount_refundable)

    def get_warnings(self, invoice: Invoice) -> list[str]:
        warning = place_of_supply_warning(invoice, lines=invoice.listed_lines)  # type: ignore[attr-defined]
        return [warning] if warning else []

    def get_documents(self, invoice: Invoice) -> dict[str, str]:
        documents = invoice.listed_documents  # type: ignore[attr-defined]
        return {document.format: document.status for document in documents}


class CreditNoteRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)
    lines = CreditLineSerializer(
        many=True,
        required=False,
        help_text=_("The invoice lines to credit and how much; all that is left if left out."),
    )


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["pk", "amount", "received_on", "method", "note", "created_at"]
        read_only_fields = ["pk", "method", "created_at"]
        extra_kwargs = {
            "amount": {"min_value": Decimal("0.01")},
            "received_on": {"validators": [bounds.date_validator(bounds.check_past_date)]},
        }


@functools.cache
def _payment_serializer() -> PaymentSerializer:
    """A PaymentSerializer kept per process, to write payments read as dicts (its fields are
    built once; they hold no request)."""
    return PaymentSerializer()


class IsStaff(permissions.BasePermission):
    message = _("Only the cooperative's staff can do this.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_staff)


class ClientViewSet(
    IdempotentCreationMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The user's own client records; nobody else's, even for the same VAT number.

    Creating a client with a VAT number the user already has returns that record (200).
    """

    serializer_class = ClientSerializer
    permission_classes = [IsMemberOrStaff]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Client.objects.none()
        queryset = selectors.clients_visible_to(self.request.user)
        # PostgreSQL text cannot hold NUL characters: drop them rather than fail.
        search = self.request.query_params.get("search", "").replace("\x00", "").strip()
        if search:
            queryset = queryset.filter(name__icontains=search) | queryset.filter(
                vat_number__icontains=search.replace(" ", "").replace(".", "")
            )
        return queryset.order_by("name", "pk")

    @extend_schema(
        parameters=[OpenApiParameter("search", OpenApiTypes.STR, description="Name or VAT")]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        client, created = client_services.create_client(
            owner=request.user, **serializer.validated_data
        )
        return Response(
            self.get_serializer(client).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def update(self, request, *args, **kwargs):
        client = self.get_object()
        serializer = self.get_serializer(client, data=request.data, partial=kwargs.get("partial"))
        serializer.is_valid(raise_exception=True)
        kind = serializer.validated_data.get("kind", client.kind)
        if kind != client.kind:
            raise serializers.ValidationError(
                {"kind": [_("The kind of a client is settled when it is added.")]}
            )
        values = {**ClientSerializer(client).data, **serializer.validated_data}
        client = client_services.update_client(
            client=client,
            **{
                field: values[field]
                for field in [
                    "name",
                    "street",
                    "postal_code",
                    "city",
                    "country",
                    "email",
                    "language",
                    "vat_number",
                    "peppol_id",
                    "gln",
                    "payment_terms_days",
                ]
            },
        )
        return Response(self.get_serializer(client).data)

    @extend_schema(
        parameters=[ClientLookupSerializer], responses={200: ClientIdentificationSerializer}
    )
    @action(detail=False, methods=["get"])
    def lookup(self, request):
        """Return the public identification of a VAT number, to prefill a new client."""
        query = ClientLookupSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = client_services.look_up_vat_number(**query.validated_data)
        return Response(ClientIdentificationSerializer(found).data)


class InvoiceFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Invoice.Status.values, required=False)
    kind = serializers.ChoiceField(choices=Invoice.Kind.values, required=False)
    client = serializers.IntegerField(required=False)
    activity = serializers.IntegerField(required=False)
    issued_from = serializers.DateField(required=False)
    issued_to = serializers.DateField(required=False)


INVOICE_FILTERS = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=Invoice.Status.values),
    OpenApiParameter("kind", OpenApiTypes.STR, enum=Invoice.Kind.values),
    OpenApiParameter("client", OpenApiTypes.INT),
    OpenApiParameter("activity", OpenApiTypes.INT),
    OpenApiParameter("issued_from", OpenApiTypes.DATE),
    OpenApiParameter("issued_to", OpenApiTypes.DATE),
]


# The first page of a member's invoices, with all that an answer writes (see
# InvoiceViewSet.list).
_FIRST_PAGE = selectors.first_page_query(api_rows.invoice_columns)


class InvoiceViewSet(IdempotentCreationMixin, viewsets.ModelViewSet):
    """Invoices and credit notes of the user's Activities: drafts are written here."""

    serializer_class = InvoiceSerializer
    permission_classes = [IsMemberOrStaff]
    http_method_names = ["get", "post", "put", "delete", "head", "options"]
    # Drafts first, then newest issue date first, a page after another (no count).
    pagination_class = KeysetPagination
    keyset = selectors.INVOICE_KEYSET

    def keyset_split(self):
        return self.split

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invoice.objects.none()
        # Only the invoice itself (who may see it, what it is): an answer is read apart, by
        # _represent, and the list reads its page by its split (see list).
        return selectors.invoices_visible_to(self.request.user)

    def _filtered(self, invoices):
        """The invoices the list's query parameters ask for (a 400 for a wrong one)."""
        filters = InvoiceFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        lookups = {
            "status": "status",
            "kind": "kind",
            "client": "client_id",
            "activity": "activity_id",
            "issued_from": "issue_date__gte",
            "issued_to": "issue_date__lte",
        }
        return invoices.filter(
            **{lookups[name]: value for name, value in filters.validated_data.items()}
        )

    def _represent(self, pks: list[int]) -> list[dict]:
        return api_rows.represent(
            api_rows.invoice_rows(pks), request=self.request, format=self.format_kwarg
        )

    def _represent_one(self, pk: int) -> dict:
        answers = self._represent([pk])
        if not answers:
            raise Http404  # Deleted (a draft) since its id was read.
        return answers[0]

    # Reading: only the ids of the invoices come from the user's scope (selectors); each answer
    # is then written by invoicing.api_rows, InvoiceSerializer's very output without a model
    # instance or a DRF field per value (a page of 50 invoices cost more than its queries).

    @extend_schema(parameters=INVOICE_FILTERS)
    def list(self, request, *args, **kwargs):
        invoices, self.split = selectors.invoice_list_of(request.user)
        page = None
        if not request.query_params and self.split is not None:
            # A member's first page, unfiltered: the one most asked for, read by its query
            # compiled once (the same SQL as below).
            page = selectors.first_invoice_page(
                _FIRST_PAGE, self.split[1], size=api_settings.PAGE_SIZE
            )
        if page is not None:
            # Its rows are the invoices' own columns already: one query fewer.
            rows = self.paginator.use_page(page, request)
            answers = api_rows.represent(rows, request=request, format=self.format_kwarg)
            return self.get_paginated_response(answers)
        rows = self.paginate_queryset(self._filtered(invoices).values("pk", "issue_date"))
        return self.get_paginated_response(self._represent([row["pk"] for row in rows]))

    def retrieve(self, request, *args, **kwargs):
        invoices = self.get_queryset().values_list("pk", flat=True)
        pk = get_object_or_404(invoices, pk=kwargs[self.lookup_url_kwarg or self.lookup_field])
        invoice = self._represent_one(pk)
        self.check_object_permissions(request, invoice)
        return Response(invoice)

    def _draft_arguments(self, request, invoice: Invoice | None = None) -> dict:
        serializer = DraftSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        activity = activities_visible_to(request.user).filter(pk=data["activity"]).first()
        if activity is None:
            raise serializers.ValidationError({"activity": [_("Unknown Activity.")]})
        clients = selectors.clients_visible_to(request.user)
        if invoice is not None:
            # A co-member's draft keeps the client its author chose.
            clients = clients | Client.objects.filter(pk=invoice.client_id)
        client = clients.filter(pk=data["client"]).first()
        if client is None:
            raise serializers.ValidationError({"client": [_("Unknown client.")]})
        line_serializer = LineSerializer()
        return {
            "user": request.user,
            "activity": activity,
            "client": client,
            "lines": [line_serializer.to_line(line) for line in data["lines"]],
            "buyer_reference": data.get("buyer_reference", ""),
            "order_reference": data.get("order_reference", ""),
            "notes": data.get("notes", ""),
            "due_date": data.get("due_date"),
            "supply_date": data.get("supply_date"),
            "period_start": data.get("period_start"),
            "period_end": data.get("period_end"),
            "allowance_charges": [
                AllowanceChargeSerializer().to_input(item)
                for item in data.get("allowance_charges", [])
            ],
            "today": timezone.localdate(),
        }

    def _answer(self, invoice: Invoice, *, code=status.HTTP_200_OK) -> Response:
        return Response(self._represent_one(invoice.pk), status=code)

    @extend_schema(request=DraftSerializer, responses={201: InvoiceSerializer})
    def create(self, request, *args, **kwargs):
        invoice = save_draft(**self._draft_arguments(request))
        return self._answer(invoice, code=status.HTTP_201_CREATED)

    @extend_schema(request=DraftSerializer, responses=InvoiceSerializer)
    def update(self, request, *args, **kwargs):
        invoice = self.get_object()
        invoice = save_draft(invoice=invoice, **self._draft_arguments(request, invoice))
        return self._answer(invoice)

    def destroy(self, request, *args, **kwargs):
        delete_draft(invoice=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Submit a draft: it is issued at once or waits for staff review."""
        invoice = submit_invoice(user=request.user, invoice=self.get_object())
        return self._answer(invoice)

    def _download(self, invoice: Invoice, document_format: str, content_type: str):
        document = invoice.documents.filter(format=document_format).first()
        if document is None or not document.is_ready:
            raise Http404(_("This document is being prepared: try again in a moment."))
        extension = "pdf" if document_format == InvoiceDocument.Format.PDF else "xml"
        record_event(action="downloaded", obj=invoice, reason=document_format)
        return FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=f"{invoice.number}.{extension}",
            content_type=content_type,
        )

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        """The invoice PDF (404 while it is being prepared)."""
        return self._download(self.get_object(), InvoiceDocument.Format.PDF, "application/pdf")

    @extend_schema(responses={(200, "application/xml"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def ubl(self, request, pk=None):
        """The Peppol BIS Billing 3.0 UBL e-invoice (404 while it is being prepared)."""
        return self._download(self.get_object(), InvoiceDocument.Format.UBL, "application/xml")

    @extend_schema(request=CreditNoteRequestSerializer, responses={201: InvoiceSerializer})
    @action(detail=True, methods=["post"], url_path="credit-notes")
    def credit_notes(self, request, pk=None):
        """Ask staff for a credit note on an issued invoice (all of it, or the given lines)."""
        serializer = CreditNoteRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lines = serializer.validated_data.get("lines")
        credit_note = request_credit_note(
            user=request.user,
            invoice=self.get_object(),
            reason=serializer.validated_data["reason"],
            # Only a request without lines credits the whole invoice: an empty list says nothing.
            lines=None
            if lines is None
            else [CreditLineSerializer().to_line(line) for line in lines],
        )
        return self._answer(credit_note, code=status.HTTP_201_CREATED)

    @extend_schema(request=PaymentSerializer, responses=PaymentSerializer(many=True))
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def payments(self, request, pk=None):
        """List an invoice's payments; staff record a payment by POSTing one."""
        if request.method == "GET":
            # The list alone: read with the invoice's visibility in one compiled query, each
            # payment written by PaymentSerializer's own fields.
            try:
                rows = detail.payments_shown_to(request.user, int(pk))
            except (TypeError, ValueError):
                rows = None
            if rows is None:
                raise Http404("No Invoice matches the given query.")
            serializer = _payment_serializer()
            return Response([serializer.to_representation(row) for row in rows])
        invoice = self.get_object()
        if request.method == "POST":
            if not request.user.is_staff:
                self.permission_denied(request, message=IsStaff.message)
            serializer = PaymentSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            record_payment(
                invoice=invoice,
                amount=serializer.validated_data["amount"],
                received_on=serializer.validated_data["received_on"],
                note=serializer.validated_data.get("note", ""),
                actor=request.user,
            )
        payments = Payment.objects.filter(invoice=invoice).order_by("received_on", "pk")
        code = status.HTTP_201_CREATED if request.method == "POST" else status.HTTP_200_OK
        return Response(PaymentSerializer(payments, many=True).data, status=code)
