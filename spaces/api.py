"""REST API of rooms and bookings; ``register`` adds its viewsets to the version 1 router.

Members see rooms, free/busy times (never who booked) and their own bookings; space managers
see and act on every booking.
"""

import datetime
import functools
from functools import cached_property

from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.fields import SkipField
from rest_framework.generics import get_object_or_404
from rest_framework.relations import PKOnlyObject
from rest_framework.response import Response

from audit.admin import CappedCountPaginator
from coop import bounds
from coop.idempotency import IdempotentCreationMixin
from invoicing.selectors import cooperative_clients
from members.models import Activity
from members.selectors import is_active_member
from spaces import selectors
from spaces.errors import BookingError
from spaces.models import Booking, BookingSeries, Room, RoomPrice, Site
from spaces.services import lifecycle, recurring, times

BOOKING_DATE = bounds.date_validator(bounds.check_booking_date)


class IsMemberOrSpaceManager(permissions.BasePermission):
    """Let in cooperative members, space managers and staff."""

    message = _("Only members and space managers can use this endpoint.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if selectors.is_space_manager(user):
            return True
        if request.method in permissions.SAFE_METHODS or not hasattr(user, "member"):
            return hasattr(user, "member")
        # Applicants, and members suspended or gone, book nothing.
        if not is_active_member(user):
            self.message = _("Only active members and space managers book rooms.")
            return False
        return True


class DirectRead:
    """A read-only serializer's rows, as DRF gives them, read straight from each attribute.

    DRF's generic path costs a source lookup, and for a relation a wrapper object, per field
    and row: most of a page of 50 rooms or bookings. Here each field's attribute is found once
    per serializer (its one-level source, or a relation's id column), and each value still goes
    through its field's own format (amounts, moments, nested rows), so the JSON is the same.
    Fields of any other kind take DRF's own path.
    """

    @cached_property
    def _direct_plan(self) -> list[tuple]:
        plan = []
        for field in self._readable_fields:
            attrs = field.source_attrs
            if isinstance(field, serializers.PrimaryKeyRelatedField) and len(attrs) == 1:
                model_field = self.Meta.model._meta.get_field(attrs[0])
                if field.pk_field is None and field.use_pk_only_optimization():
                    plan.append((field.field_name, "id", model_field.attname, field))
                    continue
            elif isinstance(field, serializers.RelatedField) or len(attrs) > 1:
                plan.append((field.field_name, "drf", None, field))
                continue
            elif not attrs:  # source="*"
                plan.append((field.field_name, "self", None, field))
                continue
            plan.append((field.field_name, "value", attrs[0], field))
        return plan

    def to_representation(self, instance) -> dict:
        row = {}
        for name, kind, attribute, field in self._direct_plan:
            if kind == "id":
                row[name] = getattr(instance, attribute)
                continue
            if kind == "self":
                value = instance
            elif kind == "value":
                value = getattr(instance, attribute)
            else:
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
                if isinstance(value, PKOnlyObject) and value.pk is None:
                    value = None
            row[name] = None if value is None else field.to_representation(value)
        return row


class SiteSerializer(DirectRead, serializers.ModelSerializer):
    opening_hours = serializers.SerializerMethodField()

    class Meta:
        model = Site
        fields = ["pk", "name", "street", "postal_code", "city", "time_zone", "opening_hours"]
        read_only_fields = fields

    def get_opening_hours(self, site: Site) -> list[dict]:
        return [
            {
                "weekday": row.weekday,
                "opens_at": row.opens_at.strftime("%H:%M"),
                "closes_at": row.closes_at.strftime("%H:%M"),
            }
            for row in site.opening_hours.all()
        ]


class PriceSerializer(DirectRead, serializers.ModelSerializer):
    class Meta:
        model = RoomPrice
        fields = ["tier", "per_hour", "per_half_day", "per_day", "per_month"]
        read_only_fields = fields


class RoomSerializer(DirectRead, serializers.ModelSerializer):
    prices = PriceSerializer(many=True, read_only=True, source="price_list")

    class Meta:
        model = Room
        fields = [
            "pk",
            "site",
            "name",
            "kind",
            "area_m2",
            "capacity",
            "floor",
            "amenities",
            "accessibility_notes",
            "is_bookable",
            "slot_minutes",
            "min_duration_minutes",
            "max_duration_minutes",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "lead_time_minutes",
            "horizon_days",
            "requires_approval",
            "cancellation_notice_hours",
            "cancellation_fee_percent",
            "prices",
        ]
        read_only_fields = fields


class BusySerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class SearchSerializer(serializers.Serializer):
    date = serializers.DateField(validators=[BOOKING_DATE])
    start_time = serializers.TimeField()
    duration_minutes = serializers.IntegerField(min_value=1, max_value=24 * 60)
    capacity = serializers.IntegerField(min_value=1, required=False)
    kind = serializers.ChoiceField(choices=Room.Kind.choices, required=False)
    site = serializers.IntegerField(required=False)


class BookingSerializer(DirectRead, serializers.ModelSerializer):
    start = serializers.DateTimeField(read_only=True)
    end = serializers.DateTimeField(read_only=True)
    booker = serializers.CharField(source="booker_name", read_only=True)

    class Meta:
        model = Booking
        fields = [
            "pk",
            "room",
            "title",
            "start",
            "end",
            "state",
            "booker",
            "activity",
            "organisation",
            "series",
            "tier",
            "price_excl_vat",
            "vat_rate",
            "vat_amount",
            "price_incl_vat",
            "cancellation_fee",
            "refunded_amount",
            "state_reason",
            "invoice",
            "created_at",
        ]
        read_only_fields = fields


# The API's read path (lists, details, free rooms, busy times) writes each row from the
# database's plain values: no model instance, no serializer field per value. The JSON is the
# serializers' above, key for key and in their order (tests/spaces/test_api_rows.py compares
# them); the serializers still describe it in the OpenAPI schema and answer writes.


def _amount(value) -> str | None:
    """A decimal as DRF writes it (COERCE_DECIMAL_TO_STRING): the column's scale, no exponent."""
    return None if value is None else f"{value:f}"


def _moment(value: datetime.datetime | None, zone) -> str | None:
    """An aware moment as DRF's DateTimeField writes it: ISO 8601 in the current time zone."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# The room's own columns of RoomSerializer's fields (its prices are read apart).
ROOM_COLUMNS = [
    "site_id" if name == "site" else name for name in RoomSerializer.Meta.fields if name != "prices"
]


def room_values(rooms: QuerySet[Room]) -> QuerySet:
    """The columns ``room_rows`` writes, of ``rooms`` in their order."""
    return rooms.select_related(None).prefetch_related(None).values(*ROOM_COLUMNS)


@functools.cache
def _prices_sql() -> str:
    """The prices of a list of rooms, by room and tier (RoomPrice's order within a room).

    Written out once: built from a queryset, the list of room ids alone cost five times what
    the query takes to run.
    """
    meta = RoomPrice._meta
    room, tier = meta.get_field("room").column, meta.get_field("tier").column
    columns = ", ".join(
        f'"{meta.get_field(name).column}"'
        for name in ("room", "tier", "per_hour", "per_half_day", "per_day", "per_month")
    )
    return (
        f'SELECT {columns} FROM "{meta.db_table}"'  # noqa: S608 (model names only)
        f' WHERE "{room}" = ANY(%s) ORDER BY "{room}", "{tier}"'
    )


def room_rows(rooms: list[dict]) -> list[dict]:
    """Write RoomSerializer's rows for rows of ``room_values``, with one query for the prices."""
    prices: dict[int, list[dict]] = {room["pk"]: [] for room in rooms}
    if prices:
        with connection.cursor() as cursor:
            cursor.execute(_prices_sql(), [list(prices)])
            for room, tier, per_hour, per_half_day, per_day, per_month in cursor.fetchall():
                prices[room].append(
                    {
                        "tier": tier,
                        "per_hour": _amount(per_hour),
                        "per_half_day": _amount(per_half_day),
                        "per_day": _amount(per_day),
                        "per_month": _amount(per_month),
                    }
                )
    return [
        {
            "pk": room["pk"],
            "site": room["site_id"],
            "name": room["name"],
            "kind": room["kind"],
            "area_m2": _amount(room["area_m2"]),
            "capacity": room["capacity"],
            "floor": room["floor"],
            "amenities": room["amenities"],
            "accessibility_notes": room["accessibility_notes"],
            "is_bookable": room["is_bookable"],
            "slot_minutes": room["slot_minutes"],
            "min_duration_minutes": room["min_duration_minutes"],
            "max_duration_minutes": room["max_duration_minutes"],
            "buffer_before_minutes": room["buffer_before_minutes"],
            "buffer_after_minutes": room["buffer_after_minutes"],
            "lead_time_minutes": room["lead_time_minutes"],
            "horizon_days": room["horizon_days"],
            "requires_approval": room["requires_approval"],
            "cancellation_notice_hours": room["cancellation_notice_hours"],
            "cancellation_fee_percent": _amount(room["cancellation_fee_percent"]),
            "prices": prices[room["pk"]],
        }
        for room in rooms
    ]


# Only what BookingSerializer shows: the booker's name, no other joined column (the member's
# national number least of all).
BOOKING_COLUMNS = [
    "pk",
    "room_id",
    "title",
    "during",
    "state",
    "member_id",
    "member__legal_name",
    "activity_id",
    "organisation_id",
    "organisation__name",
    "series_id",
    "tier",
    "price_excl_vat",
    "vat_rate",
    "vat_amount",
    "price_incl_vat",
    "cancellation_fee",
    "refunded_amount",
    "state_reason",
    "invoice_id",
    "created_at",
]


def booking_values(bookings: QuerySet[Booking]) -> QuerySet:
    """The columns ``booking_rows`` writes, of ``bookings`` in their order."""
    return bookings.select_related(None).values(*BOOKING_COLUMNS)


def booking_rows(bookings: list[dict]) -> list[dict]:
    """Write BookingSerializer's rows for rows of ``booking_values``."""
    zone = timezone.get_current_timezone()
    rows = []
    for booking in bookings:
        during = booking["during"]
        if booking["organisation_id"]:
            booker = booking["organisation__name"]
        else:
            booker = booking["member__legal_name"] if booking["member_id"] else ""
        rows.append(
            {
                "pk": booking["pk"],
                "room": booking["room_id"],
                "title": booking["title"],
                "start": _moment(during.lower, zone),
                "end": _moment(during.upper, zone),
                "state": booking["state"],
                "booker": booker,
                "activity": booking["activity_id"],
                "organisation": booking["organisation_id"],
                "series": booking["series_id"],
                "tier": booking["tier"],
                "price_excl_vat": _amount(booking["price_excl_vat"]),
                "vat_rate": _amount(booking["vat_rate"]),
                "vat_amount": _amount(booking["vat_amount"]),
                "price_incl_vat": _amount(booking["price_incl_vat"]),
                "cancellation_fee": _amount(booking["cancellation_fee"]),
                "refunded_amount": _amount(booking["refunded_amount"]),
                "state_reason": booking["state_reason"],
                "invoice": booking["invoice_id"],
                "created_at": _moment(booking["created_at"], zone),
            }
        )
    return rows


class BookingCreateSerializer(serializers.Serializer):
    room = serializers.IntegerField()
    title = serializers.CharField(max_length=200)
    date = serializers.DateField(
        validators=[BOOKING_DATE],
        help_text=_("On the site's wall clock (Europe/Brussels); at most ten years ahead."),
    )
    start_time = serializers.TimeField()
    end_time = serializers.TimeField()
    activity = serializers.IntegerField(required=False)
    organisation = serializers.IntegerField(required=False, help_text=_("Managers only."))
    contact_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    repeat = serializers.ChoiceField(choices=BookingSeries.Frequency.choices, required=False)
    until = serializers.DateField(required=False, validators=[BOOKING_DATE])
    count = serializers.IntegerField(required=False, min_value=1)
    book_free_only = serializers.BooleanField(default=False)


class MoveSerializer(serializers.Serializer):
    room = serializers.IntegerField(
        required=False, help_text=_("Another room of the same site; the same room if left out.")
    )
    date = serializers.DateField(
        validators=[BOOKING_DATE],
        help_text=_("On the site's wall clock (Europe/Brussels); at most ten years ahead."),
    )
    start_time = serializers.TimeField()
    end_time = serializers.TimeField()
    title = serializers.CharField(max_length=200, required=False)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True)
    waive_fee = serializers.BooleanField(default=False)
    rest_of_series = serializers.BooleanField(default=False)


class RefuseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class SiteViewSet(viewsets.ReadOnlyModelViewSet):
    """Sites with their opening hours."""

    serializer_class = SiteSerializer
    permission_classes = [IsMemberOrSpaceManager]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Site.objects.none()
        return selectors.sites_visible_to(self.request.user).prefetch_related("opening_hours")


class RoomViewSet(viewsets.ReadOnlyModelViewSet):
    """Rooms with their rules and prices; free/busy times and a search for free rooms."""

    serializer_class = RoomSerializer
    permission_classes = [IsMemberOrSpaceManager]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Room.objects.none()
        return selectors.rooms_visible_to(self.request.user).order_by("site", "floor", "name")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(selectors.room_list(request.user, columns=ROOM_COLUMNS))
        return self.get_paginated_response(room_rows(page))

    def retrieve(self, request, *args, **kwargs):
        room = get_object_or_404(room_values(self.get_queryset()), pk=kwargs["pk"])
        return Response(room_rows([room])[0])

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATETIME, required=True),
            OpenApiParameter("end", OpenApiTypes.DATETIME, required=True),
        ],
        responses=BusySerializer(many=True),
    )
    @action(detail=True)
    def busy(self, request, pk=None):
        """Times the room is taken (buffers included), without saying by whom."""
        room = get_object_or_404(self.get_queryset().values_list("pk", flat=True), pk=pk)
        window = BusySerializer(data=request.query_params)
        window.is_valid(raise_exception=True)
        start, end = window.validated_data["start"], window.validated_data["end"]
        if end <= start or end - start > datetime.timedelta(days=62):
            raise BookingError(
                _("Ask for a window of at most 62 days, ending after it starts."), code="window"
            )
        busy = selectors.busy_ranges(rooms=[room], start=start, end=end)
        zone = timezone.get_current_timezone()
        return Response(
            [
                {"start": _moment(blocked.lower, zone), "end": _moment(blocked.upper, zone)}
                for blocked in busy.values_list("blocked_during", flat=True)
            ]
        )

    @extend_schema(parameters=[SearchSerializer], responses=RoomSerializer(many=True))
    @action(detail=False)
    def free(self, request):
        """Bookable rooms free for a slot, by capacity, kind and site, a page at a time."""
        search = SearchSerializer(data=request.query_params)
        search.is_valid(raise_exception=True)
        data = search.validated_data
        sites = selectors.sites_visible_to(request.user)
        site = sites.filter(pk=data["site"]).first() if data.get("site") else sites.first()
        rooms = []
        if site is not None:
            start = times.local_datetime(site=site, date=data["date"], time=data["start_time"])
            start = start.astimezone(datetime.UTC)
            rooms = selectors.free_room_values(
                user=request.user,
                columns=ROOM_COLUMNS,
                start=start,
                end=start + datetime.timedelta(minutes=data["duration_minutes"]),
                site=site if data.get("site") else None,
                capacity=data.get("capacity"),
                kind=data.get("kind"),
            )
        page = self.paginate_queryset(rooms)
        return self.get_paginated_response(room_rows(page))


class BookingFilterSerializer(serializers.Serializer):
    room = serializers.IntegerField(required=False, min_value=1)
    ends_after = serializers.DateTimeField(required=False)
    starts_before = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        after, before = attrs.get("ends_after"), attrs.get("starts_before")
        if after and before and before <= after:
            raise serializers.ValidationError(_("The window must end after it starts."))
        return attrs


class BookingViewSet(
    IdempotentCreationMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Bookings the user made or pays for (managers: all); create, approve, cancel, check in."""

    serializer_class = BookingSerializer
    permission_classes = [IsMemberOrSpaceManager]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Booking.objects.none()
        return selectors.bookings_visible_to(self.request.user).order_by("during", "pk")

    @extend_schema(parameters=[BookingFilterSerializer])
    def list(self, request, *args, **kwargs):
        """Bookings, soonest first; filter by room and by a time window to narrow them."""
        window = BookingFilterSerializer(data=request.query_params)
        window.is_valid(raise_exception=True)
        data = window.validated_data
        # Each filter narrows the list through an index: (room, time) or the time range. The
        # statements are written once per process (building them with the ORM cost the list
        # more than running them); a list that may hold a million bookings never counts more
        # than 10,001 of them.
        during = None
        if data.get("ends_after") or data.get("starts_before"):
            during = DateTimeTZRange(data.get("ends_after"), data.get("starts_before"))
        bookings = selectors.booking_list(
            request.user, room=data.get("room"), during=during, cap=CappedCountPaginator.CAP
        )
        page = self.paginate_queryset(bookings)
        return self.get_paginated_response(booking_rows(page))

    def retrieve(self, request, *args, **kwargs):
        booking = get_object_or_404(booking_values(self.get_queryset()), pk=kwargs["pk"])
        return Response(booking_rows([booking])[0])

    @extend_schema(request=BookingCreateSerializer, responses={201: BookingSerializer(many=True)})
    def create(self, request, *args, **kwargs):
        """Book a room, or every occurrence of a repeating booking; returns what was booked."""
        serializer = BookingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        room = selectors.rooms_visible_to(request.user).filter(pk=data["room"]).first()
        if room is None:
            raise BookingError(_("Unknown room."), code="room", field="room")
        is_manager = selectors.is_space_manager(request.user)
        activity = organisation = None
        if data.get("activity"):
            activities = (
                Activity.objects.all() if is_manager else Activity.objects.of_user(request.user)
            )
            activity = activities.filter(pk=data["activity"]).first()
            if activity is None:
                raise BookingError(_("Unknown Activity."), code="activity", field="activity")
        if data.get("organisation"):
            organisation = cooperative_clients().filter(pk=data["organisation"]).first()
            if organisation is None or not is_manager:
                raise BookingError(
                    _("Unknown organisation."), code="organisation", field="organisation"
                )
        booker = {
            "activity": activity,
            "organisation": organisation,
            "contact_name": data.get("contact_name", ""),
            "contact_email": data.get("contact_email", ""),
            "contact_phone": data.get("contact_phone", ""),
        }
        if data.get("repeat"):
            result = recurring.book_series(
                actor=request.user,
                room=room,
                date=data["date"],
                start_time=data["start_time"],
                end_time=data["end_time"],
                title=data["title"],
                frequency=data["repeat"],
                until=data.get("until"),
                count=data.get("count"),
                book_free_only=data["book_free_only"],
                **booker,
            )
            bookings = result.bookings
        else:
            start, end = times.booking_range(
                site=room.site,
                date=data["date"],
                start_time=data["start_time"],
                end_time=data["end_time"],
            )
            bookings = [
                lifecycle.book_room(
                    actor=request.user,
                    room=room,
                    start=start,
                    end=end,
                    title=data["title"],
                    **booker,
                )
            ]
        return Response(BookingSerializer(bookings, many=True).data, status=status.HTTP_201_CREATED)

    def _answer(self, booking: Booking) -> Response:
        return Response(booking_rows([booking_values(self.get_queryset()).get(pk=booking.pk)])[0])

    @extend_schema(request=None, responses=BookingSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._answer(
            lifecycle.approve_booking(actor=request.user, booking=self.get_object())
        )

    @extend_schema(request=RefuseSerializer, responses=BookingSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        serializer = RefuseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = lifecycle.refuse_booking(
            actor=request.user,
            booking=self.get_object(),
            reason=serializer.validated_data["reason"],
        )
        return self._answer(booking)

    @extend_schema(request=CancelSerializer, responses=BookingSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        booking = self.get_object()
        service = (
            recurring.cancel_rest_of_series if data["rest_of_series"] else lifecycle.cancel_booking
        )
        service(
            actor=request.user,
            booking=booking,
            reason=data.get("reason", ""),
            waive_fee=data["waive_fee"],
        )
        return self._answer(booking)

    @extend_schema(request=MoveSerializer, responses=BookingSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Managers: move a confirmed booking to another slot or room; returns the new booking.

        The old booking is cancelled free of fee and the same booker gets the new slot, priced
        again; if the new slot is refused, nothing changes.
        """
        serializer = MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        booking = self.get_object()
        site = booking.room.site
        room = booking.room
        if data.get("room"):
            room = site.rooms.filter(pk=data["room"], is_bookable=True).first()
            if room is None:
                raise BookingError(_("Unknown room."), code="room", field="room")
        start, end = times.booking_range(
            site=site, date=data["date"], start_time=data["start_time"], end_time=data["end_time"]
        )
        moved = lifecycle.move_booking(
            actor=request.user,
            booking=booking,
            room=room,
            start=start,
            end=end,
            title=data.get("title", ""),
        )
        return self._answer(moved)

    @extend_schema(request=None, responses=BookingSerializer)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        booking = lifecycle.check_in_booking(actor=request.user, booking=self.get_object())
        return self._answer(booking)


def register(router) -> None:
    """Add this app's viewsets to the API router."""
    router.register("sites", SiteViewSet, basename="site")
    router.register("rooms", RoomViewSet, basename="room")
    router.register("bookings", BookingViewSet, basename="booking")
