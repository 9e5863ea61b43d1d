"""REST API of recurring invoices, scoped to the requesting user like their invoices."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from coop.idempotency import IdempotentCreationMixin
from invoicing import selectors
from invoicing.api import LineSerializer
from invoicing.models import Client, RecurringInvoice, RecurringInvoiceLine, RecurringInvoiceRun
from invoicing.services import recurring as services
from invoicing.services.recurring import MAX_COUNT, MAX_INTERVAL, Schedule
from members.api import IsMemberOrStaff
from members.selectors import activities_visible_to

UPCOMING = 5


class RecurringLineOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = RecurringInvoiceLine
        fields = [
            "position",
            "description",
            "quantity",
            "unit",
            "unit_price",
            "vat_category",
            "vat_rate",
            "supply_kind",
            "exemption_reason",
            "exemption_code",
            "allowance_percent",
            "allowance_amount",
            "allowance_reason",
        ]


class RecurringRunSerializer(serializers.ModelSerializer):
    # Null once the member deleted the period's draft.
    invoice_status = serializers.CharField(source="invoice.status", allow_null=True)
    invoice_number = serializers.CharField(source="invoice.number", allow_null=True)

    class Meta:
        model = RecurringInvoiceRun
        fields = ["period_date", "invoice", "invoice_number", "invoice_status", "created_at"]


class RecurringInvoiceSerializer(serializers.ModelSerializer):
    lines = RecurringLineOutSerializer(many=True, read_only=True)
    upcoming_dates = serializers.SerializerMethodField(
        help_text=_("The next dates an invoice is drawn up on (none while paused or ended).")
    )

    class Meta:
        model = RecurringInvoice
        fields = [
            "pk",
            "title",
            "activity",
            "client",
            "frequency",
            "interval",
            "day_of_month",
            "start_date",
            "end_date",
            "count",
            "mode",
            "status",
            "next_date",
            "upcoming_dates",
            "buyer_reference",
            "order_reference",
            "notes",
            "last_error",
            "last_error_at",
            "lines",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.DateField()))
    def get_upcoming_dates(self, recurring: RecurringInvoice) -> list:
        if not recurring.is_active or recurring.next_date is None:
            return []
        return services.occurrences(
            Schedule.of(recurring), on_or_after=recurring.next_date, limit=UPCOMING
        )


class RecurringInvoiceDetailSerializer(RecurringInvoiceSerializer):
    invoices = RecurringRunSerializer(many=True, read_only=True, source="runs")

    class Meta(RecurringInvoiceSerializer.Meta):
        fields = [*RecurringInvoiceSerializer.Meta.fields, "invoices"]
        read_only_fields = fields


class RecurringInvoiceInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    activity = serializers.IntegerField()
    client = serializers.IntegerField()
    frequency = serializers.ChoiceField(choices=RecurringInvoice.Frequency.choices)
    interval = serializers.IntegerField(min_value=1, max_value=MAX_INTERVAL, default=1)
    day_of_month = serializers.IntegerField(
        min_value=1,
        max_value=31,
        required=False,
        allow_null=True,
        help_text=_("Monthly and yearly: 29, 30 or 31 become the last day of shorter months."),
    )
    start_date = serializers.DateField(help_text=_("The first invoice's date, today or later."))
    end_date = serializers.DateField(required=False, allow_null=True)
    count = serializers.IntegerField(
        min_value=1, max_value=MAX_COUNT, required=False, allow_null=True
    )
    mode = serializers.ChoiceField(choices=RecurringInvoice.Mode.choices)
    buyer_reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    order_reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    lines = LineSerializer(
        many=True,
        help_text=_(
            "{month}, {year} and {period} in a description become the period's, in the "
            "client's language."
        ),
    )


class RecurringInvoiceViewSet(IdempotentCreationMixin, viewsets.ModelViewSet):
    """Recurring invoices of the user's Activities: each period is invoiced once, on its date."""

    permission_classes = [IsMemberOrStaff]
    http_method_names = ["get", "post", "put", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RecurringInvoice.objects.none()
        recurring = selectors.recurring_invoices_visible_to(self.request.user).order_by("-pk")
        if self.action == "retrieve":
            return recurring.prefetch_related("lines", "runs__invoice")
        return recurring.prefetch_related("lines")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return RecurringInvoiceDetailSerializer
        return RecurringInvoiceSerializer

    def _arguments(self, request, recurring: RecurringInvoice | None = None) -> dict:
        serializer = RecurringInvoiceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        activity = activities_visible_to(request.user).filter(pk=data["activity"]).first()
        if activity is None:
            raise serializers.ValidationError({"activity": [_("Unknown Activity.")]})
        clients = selectors.clients_visible_to(request.user)
        if recurring is not None:
            # A co-member keeps the client its author chose.
            clients = clients | Client.objects.filter(pk=recurring.client_id)
        client = clients.filter(pk=data["client"]).first()
        if client is None:
            raise serializers.ValidationError({"client": [_("Unknown client.")]})
        line_serializer = LineSerializer()
        return {
            "user": request.user,
            "activity": activity,
            "client": client,
            "title": data["title"],
            "schedule": Schedule(
                frequency=data["frequency"],
                start_date=data["start_date"],
                interval=data["interval"],
                day_of_month=data.get("day_of_month"),
                end_date=data.get("end_date"),
                count=data.get("count"),
            ),
            "mode": data["mode"],
            "lines": [line_serializer.to_line(line) for line in data["lines"]],
            "buyer_reference": data.get("buyer_reference", ""),
            "order_reference": data.get("order_reference", ""),
            "notes": data.get("notes", ""),
            "today": timezone.localdate(),
        }

    def _answer(self, recurring: RecurringInvoice, *, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().prefetch_related("runs__invoice").get(pk=recurring.pk)
        return Response(RecurringInvoiceDetailSerializer(fresh).data, status=code)

    @extend_schema(
        request=RecurringInvoiceInputSerializer, responses={201: RecurringInvoiceDetailSerializer}
    )
    def create(self, request, *args, **kwargs):
        recurring = services.create_recurring_invoice(**self._arguments(request))
        return self._answer(recurring, code=status.HTTP_201_CREATED)

    @extend_schema(
        request=RecurringInvoiceInputSerializer, responses=RecurringInvoiceDetailSerializer
    )
    def update(self, request, *args, **kwargs):
        recurring = self.get_object()
        recurring = services.update_recurring_invoice(
            recurring=recurring, **self._arguments(request, recurring)
        )
        return self._answer(recurring)

    @extend_schema(request=None, responses=RecurringInvoiceDetailSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """Pause: periods that pass while paused are never invoiced."""
        recurring = services.pause_recurring_invoice(user=request.user, recurring=self.get_object())
        return self._answer(recurring)

    @extend_schema(request=None, responses=RecurringInvoiceDetailSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Resume from the first date on or after today (no back-filling)."""
        recurring = services.resume_recurring_invoice(
            user=request.user, recurring=self.get_object(), today=timezone.localdate()
        )
        return self._answer(recurring)

    @extend_schema(request=None, responses=RecurringInvoiceDetailSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """End: no more invoices; those drawn up stay."""
        recurring = services.end_recurring_invoice(user=request.user, recurring=self.get_object())
        return self._answer(recurring)
