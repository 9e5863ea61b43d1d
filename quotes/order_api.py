"""REST API for orders (confirmed quotes): what is ordered, invoiced and left, and the invoices
drawn up from them."""

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from coop.idempotency import IdempotentCreationMixin
from coop.keyset import KeysetPagination
from members.api import IsMemberOrStaff
from quotes import order_api_rows, orders, selectors
from quotes.models import OrderInvoice, Quote

MONEY = {"max_digits": 12, "decimal_places": 2}


class OrderInvoiceSerializer(serializers.ModelSerializer):
    invoice = serializers.IntegerField(source="invoice_id", read_only=True)
    invoice_url = serializers.HyperlinkedRelatedField(
        source="invoice", view_name="api:invoice-detail", read_only=True
    )
    number = serializers.CharField(
        source="invoice.number", allow_null=True, read_only=True, help_text=_("Empty on a draft.")
    )
    invoice_status = serializers.CharField(
        source="invoice.status",
        read_only=True,
        help_text=_("The invoice's own state: draft, pending_review, issued, paid…"),
    )

    class Meta:
        model = OrderInvoice
        fields = [
            "invoice",
            "invoice_url",
            "number",
            "invoice_status",
            "part",
            "label",
            "schedule_step",
            "amount_excl_vat",
            "credited_excl_vat",
            "guarantee_released",
        ]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    ordered_version = serializers.IntegerField(
        source="ordered_version.version",
        read_only=True,
        help_text=_(
            "The version staff confirmed. A newer version the client accepts and staff confirm "
            "replaces it: the order is then worth the newer version's total."
        ),
    )
    title = serializers.CharField(source="ordered_version.title", read_only=True)
    client_po_number = serializers.CharField(
        source="ordered_version.client_po_number", read_only=True
    )
    work_start = serializers.DateField(source="ordered_version.work_start", read_only=True)
    work_end = serializers.DateField(source="ordered_version.work_end", read_only=True)
    deposit_percent = serializers.DecimalField(
        source="ordered_version.deposit_percent",
        max_digits=5,
        decimal_places=2,
        allow_null=True,
        read_only=True,
    )
    ordered_excl_vat = serializers.SerializerMethodField()
    invoiced_excl_vat = serializers.SerializerMethodField()
    in_draft_excl_vat = serializers.SerializerMethodField()
    credited_excl_vat = serializers.SerializerMethodField()
    remaining_excl_vat = serializers.SerializerMethodField()
    guaranteed = serializers.SerializerMethodField()
    invoices = OrderInvoiceSerializer(source="order_invoices", many=True, read_only=True)

    class Meta:
        model = Quote
        fields = [
            "pk",
            "number",
            "status",
            "ordered_version",
            "activity",
            "client",
            "title",
            "client_po_number",
            "work_start",
            "work_end",
            "deposit_percent",
            "accepted_at",
            "ordered_excl_vat",
            "invoiced_excl_vat",
            "in_draft_excl_vat",
            "credited_excl_vat",
            "remaining_excl_vat",
            "guaranteed",
            "invoices",
        ]
        read_only_fields = fields

    def _figures(self, quote: Quote) -> orders.OrderFigures:
        # From the prefetched invoices: no query per order.
        cached = getattr(quote, "_order_figures", None)
        if cached is None:
            cached = quote._order_figures = orders.order_figures(quote, quote.order_invoices.all())
        return cached

    @extend_schema_field(serializers.DecimalField(**MONEY))
    def get_ordered_excl_vat(self, quote: Quote) -> str:
        return f"{self._figures(quote).ordered:.2f}"

    @extend_schema_field(serializers.DecimalField(**MONEY))
    def get_invoiced_excl_vat(self, quote: Quote) -> str:
        return f"{self._figures(quote).invoiced:.2f}"

    @extend_schema_field(serializers.DecimalField(**MONEY))
    def get_in_draft_excl_vat(self, quote: Quote) -> str:
        return f"{self._figures(quote).in_draft:.2f}"

    @extend_schema_field(serializers.DecimalField(**MONEY))
    def get_credited_excl_vat(self, quote: Quote) -> str:
        return f"{self._figures(quote).credited:.2f}"

    @extend_schema_field(serializers.DecimalField(**MONEY))
    def get_remaining_excl_vat(self, quote: Quote) -> str:
        return f"{self._figures(quote).remaining:.2f}"

    @extend_schema_field(serializers.DecimalField(**MONEY))
    def get_guaranteed(self, quote: Quote) -> str:
        return f"{self._figures(quote).guaranteed:.2f}"


class OrderInvoiceRequestSerializer(serializers.Serializer):
    part = serializers.ChoiceField(choices=OrderInvoice.Part.choices)
    schedule_index = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=100,
        help_text=_("For an instalment: the part of the order's schedule, from 0."),
    )


class OrderViewSet(
    IdempotentCreationMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Orders (quotes the client accepted and staff confirmed) of the user's Activities.

    An order stays one while a new version of its quote goes to the client (its ``status``
    then follows that version); its figures are the confirmed version's. ``invoiced_excl_vat``
    is net of credit notes, which also restore the guaranteed budget."""

    serializer_class = OrderSerializer
    permission_classes = [IsMemberOrStaff]
    pagination_class = KeysetPagination
    keyset = selectors.QUOTE_KEYSET

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Quote.objects.none()
        return (
            selectors.quotes_visible_to(self.request.user)
            .filter(ordered_version__isnull=False)
            .select_related("ordered_version")
            .defer("ordered_version__snapshot", "ordered_version__signature")
            .prefetch_related(
                Prefetch(
                    "order_invoices",
                    queryset=OrderInvoice.objects.select_related("invoice")
                    .only(*orders.ORDER_INVOICE_FIELDS)
                    .order_by("created_at", "pk"),
                )
            )
        )

    def list(self, request, *args, **kwargs):
        if request.query_params or getattr(self, "swagger_fake_view", False):
            return super().list(request, *args, **kwargs)
        # The first page, the one most asked for: read by queries compiled once and written
        # from its rows by quotes.order_api_rows (the same answer as OrderSerializer's).
        page = order_api_rows.first_page(request.user, size=api_settings.PAGE_SIZE)
        rows = self.paginator.use_page(page, request)
        return self.get_paginated_response(order_api_rows.represent(rows, request))

    @extend_schema(request=OrderInvoiceRequestSerializer, responses={201: OrderInvoiceSerializer})
    @action(detail=True, methods=["post"])
    def invoices(self, request, pk=None):
        """Draw up a draft invoice from the order: its deposit, a step of its schedule or its
        balance (what is left). With a schedule, the deposit is its first step due at the
        order. Each step (and the deposit) is invoiced once: again, 400. Refused (400) beyond
        what remains of the confirmed version's total, net of credit notes."""
        order = self.get_object()
        serializer = OrderInvoiceRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link = orders.create_order_invoice(
            user=request.user,
            quote=order,
            part=serializer.validated_data["part"],
            schedule_index=serializer.validated_data.get("schedule_index"),
            today=timezone.localdate(),
        )
        link = OrderInvoice.objects.select_related("invoice").get(pk=link.pk)
        return Response(
            OrderInvoiceSerializer(link, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


def register(router) -> None:
    router.register("orders", OrderViewSet, basename="order")
