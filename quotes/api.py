"""REST API for quotes, scoped to the requesting member: drafts, sending, new versions."""

from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from coop.idempotency import IdempotentCreationMixin
from coop.keyset import KeysetPagination, first_page, first_page_query
from invoicing.api import LineSerializer
from invoicing.selectors import clients_visible_to
from members.api import IsMemberOrStaff
from members.selectors import activities_visible_to
from quotes import api_rows, selectors, services
from quotes.models import Quote, QuoteEvent, QuoteLine, QuoteVersion

MONEY = {"max_digits": 12, "decimal_places": 2}


class QuoteLineOutSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit_code")

    class Meta:
        model = QuoteLine
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
            "line_total",
        ]
        read_only_fields = fields


class ScheduleItemSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=100)
    percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    due = serializers.CharField(
        max_length=10, help_text=_('"order", "delivery" or a date (YYYY-MM-DD).')
    )


class QuoteVersionSerializer(serializers.ModelSerializer):
    lines = QuoteLineOutSerializer(many=True, read_only=True)
    schedule = ScheduleItemSerializer(many=True, read_only=True)

    class Meta:
        model = QuoteVersion
        fields = [
            "version",
            "title",
            "description",
            "valid_until",
            "payment_terms_days",
            "deposit_percent",
            "schedule",
            "work_start",
            "work_end",
            "total_excl_vat",
            "total_vat",
            "total_incl_vat",
            "sent_at",
            "data_sha256",
            "pdf_sha256",
            "accepted_at",
            "accepted_by_name",
            "accepted_by_function",
            "client_po_number",
            "declined_at",
            "decline_reason",
            "change_requested_at",
            "change_request",
            "lines",
        ]
        read_only_fields = fields


class QuoteEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = QuoteEvent
        fields = ["kind", "at", "ip", "user_agent"]
        read_only_fields = fields


class QuoteSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True, help_text=_("Empty until first sent."))
    current_version = QuoteVersionSerializer(read_only=True)

    class Meta:
        model = Quote
        fields = [
            "pk",
            "number",
            "status",
            "activity",
            "client",
            "language",
            "created_at",
            "updated_at",
            "sent_at",
            "accepted_at",
            "current_version",
        ]
        read_only_fields = fields


class QuoteDetailSerializer(QuoteSerializer):
    versions = serializers.SerializerMethodField()
    events = QuoteEventSerializer(many=True, read_only=True)

    class Meta(QuoteSerializer.Meta):
        fields = [*QuoteSerializer.Meta.fields, "versions", "events"]
        read_only_fields = fields

    @extend_schema(exclude=True)
    def get_versions(self, quote: Quote) -> list[int]:
        return [version.version for version in quote.versions.all()]


class QuoteDraftSerializer(serializers.Serializer):
    activity = serializers.IntegerField()
    client = serializers.IntegerField()
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    valid_until = serializers.DateField(
        required=False, allow_null=True, help_text=_("30 days from today if left out.")
    )
    payment_terms_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=120
    )
    deposit_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True
    )
    schedule = ScheduleItemSerializer(many=True, required=False, max_length=12)
    work_start = serializers.DateField(required=False, allow_null=True)
    work_end = serializers.DateField(required=False, allow_null=True)
    lines = LineSerializer(many=True, allow_empty=True)


class SentQuoteSerializer(QuoteSerializer):
    link = serializers.CharField(
        read_only=True,
        help_text=_(
            "The public page's address, given once: only its hash is kept. The client "
            "receives it by e-mail."
        ),
    )

    class Meta(QuoteSerializer.Meta):
        fields = [*QuoteSerializer.Meta.fields, "link"]
        read_only_fields = fields


# The first page of a member's quotes, with all that an answer writes (see QuoteViewSet.list).
_FIRST_PAGE = first_page_query(Quote, api_rows.quote_columns, selectors.QUOTE_NUMBER_KEYSET)


class QuoteViewSet(
    IdempotentCreationMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Quotes of the user's Activities: drafts are written here, then sent to the client."""

    serializer_class = QuoteSerializer
    permission_classes = [IsMemberOrStaff]
    http_method_names = ["get", "post", "put", "head", "options"]
    pagination_class = KeysetPagination
    keyset = selectors.QUOTE_NUMBER_KEYSET

    def keyset_split(self):
        return self.split

    def get_serializer_class(self):
        if self.action == "retrieve":
            return QuoteDetailSerializer
        return QuoteSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Quote.objects.none()
        quotes = selectors.quotes_visible_to(self.request.user).select_related("current_version")
        lines = Prefetch("current_version__lines", queryset=QuoteLine.objects.order_by("position"))
        if self.action == "retrieve":
            return quotes.prefetch_related(
                lines,
                Prefetch("versions", queryset=QuoteVersion.objects.only("quote_id", "version")),
                Prefetch("events", queryset=QuoteEvent.objects.order_by("at", "pk")),
            )
        return quotes.prefetch_related(lines)

    def list(self, request, *args, **kwargs):
        # The split by the user's Activities is the list's scope (see quote_list_of); the
        # answers are QuoteSerializer's, written from rows by quotes.api_rows.
        quotes, self.split = selectors.quote_list_of(request.user, api_rows.quote_columns())
        page = None
        if not request.query_params and self.split is not None:
            # A member's first page: the one most asked for, read by its query compiled once
            # (the same SQL as paginate_queryset's).
            page = first_page(_FIRST_PAGE, self.keyset, self.split[1], size=api_settings.PAGE_SIZE)
        if page is not None:
            rows = self.paginator.use_page(page, request)
        else:
            rows = self.paginate_queryset(quotes)
        return self.get_paginated_response(api_rows.represent(rows))

    def retrieve(self, request, *args, **kwargs):
        # QuoteDetailSerializer's answer, written from rows by quotes.api_rows.
        try:
            pk = int(kwargs[self.lookup_url_kwarg or self.lookup_field])
        except ValueError:
            raise Http404 from None
        answer = api_rows.quote_detail(request.user, pk)
        if answer is None:
            raise Http404
        return Response(answer)

    def _draft_arguments(self, request, quote: Quote | None = None) -> dict:
        serializer = QuoteDraftSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        activity = activities_visible_to(request.user).filter(pk=data["activity"]).first()
        if activity is None:
            raise serializers.ValidationError({"activity": [_("Unknown Activity.")]})
        client = clients_visible_to(request.user).filter(pk=data["client"]).first()
        if client is None and quote is not None and quote.client_id == data["client"]:
            client = quote.client
        if client is None:
            raise serializers.ValidationError({"client": [_("Unknown client.")]})
        line_serializer = LineSerializer()
        return {
            "user": request.user,
            "activity": activity,
            "client": client,
            "lines": [line_serializer.to_line(line) for line in data["lines"]],
            "terms": services.QuoteTerms(
                title=data["title"],
                description=data.get("description", ""),
                valid_until=data.get("valid_until"),
                payment_terms_days=data.get("payment_terms_days"),
                deposit_percent=data.get("deposit_percent"),
                schedule=[
                    {"label": part["label"], "percent": str(part["percent"]), "due": part["due"]}
                    for part in data.get("schedule", [])
                ],
                work_start=data.get("work_start"),
                work_end=data.get("work_end"),
            ),
            "today": timezone.localdate(),
        }

    def _answer(self, quote: Quote, *, code=status.HTTP_200_OK) -> Response:
        quote = self.get_queryset().get(pk=quote.pk)
        return Response(QuoteSerializer(quote).data, status=code)

    @extend_schema(request=QuoteDraftSerializer, responses={201: QuoteSerializer})
    def create(self, request, *args, **kwargs):
        quote = services.save_draft(**self._draft_arguments(request))
        return self._answer(quote, code=status.HTTP_201_CREATED)

    @extend_schema(request=QuoteDraftSerializer, responses=QuoteSerializer)
    def update(self, request, *args, **kwargs):
        quote = self.get_object()
        quote = services.save_draft(quote=quote, **self._draft_arguments(request, quote))
        return self._answer(quote)

    @extend_schema(request=None, responses=SentQuoteSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Send the draft version to the client by e-mail, with its PDF and public link."""
        quote, token = services.send_quote(user=request.user, quote=self.get_object())
        from quotes.documents import public_url

        answer = QuoteSerializer(self.get_queryset().get(pk=quote.pk)).data
        return Response({**answer, "link": public_url(token)})

    @extend_schema(request=None, responses=QuoteSerializer)
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request, pk=None):
        """Start a new draft version of a sent quote (or one the client asked to change)."""
        quote = services.new_version(user=request.user, quote=self.get_object())
        return self._answer(quote)


def register(router) -> None:
    router.register("quotes", QuoteViewSet, basename="quote")
