"""Reads scoped to the requesting user: members never learn who booked a slot."""

import datetime
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum

from coop.db import reads_from_replica
from members.models import Activity, User
from spaces.apps import SPACE_MANAGERS_GROUP
from spaces.models import (
    ACTIVE_STATES,
    Booking,
    ClosedDay,
    FeedToken,
    Lease,
    LeaseCharge,
    Room,
    Site,
)


def is_space_manager(user: User) -> bool:
    """Tell whether the user manages the sites (space managers and staff)."""
    if not user.is_authenticated:
        return False
    if user.is_staff or user.has_perm("spaces.manage_bookings"):
        return True
    return user.groups.filter(name=SPACE_MANAGERS_GROUP).exists()


def sites_visible_to(user: User) -> QuerySet[Site]:
    """Active sites; managers also see inactive ones."""
    if is_space_manager(user):
        return Site.objects.all()
    return Site.objects.filter(is_active=True)


def rooms_visible_to(user: User) -> QuerySet[Room]:
    """Rooms of the sites the user sees, with their prices."""
    return (
        Room.objects.filter(site__in=sites_visible_to(user))
        .select_related("site")
        .prefetch_related("prices")
    )


def bookings_visible_to(user: User) -> QuerySet[Booking]:
    """Managers: every booking. Members: bookings they made or that their Activities pay."""
    bookings = Booking.objects.select_related(
        "room__site", "member", "activity", "organisation", "series"
    )
    if is_space_manager(user):
        return bookings
    return bookings.filter(
        Q(created_by=user) | Q(activity__in=Activity.objects.of_user(user).values("pk"))
    )


def busy_ranges(
    *, rooms: QuerySet[Room] | list[Room], start: datetime.datetime, end: datetime.datetime
) -> QuerySet[Booking]:
    """Active bookings of the rooms meeting [start, end): for free/busy displays."""
    return (
        Booking.objects.filter(
            room__in=rooms, state__in=ACTIVE_STATES, blocked_during__overlap=(start, end)
        )
        .select_related("member", "organisation", "activity")
        .order_by("room_id", "during")
        .only(
            "pk",
            "room_id",
            "during",
            "blocked_during",
            "state",
            "title",
            "member__legal_name",
            "organisation__name",
            "activity__name",
        )
    )


def busy_times(
    *, rooms: QuerySet[Room] | list[Room], start: datetime.datetime, end: datetime.datetime
) -> list[dict]:
    """Active bookings meeting [start, end) as plain rows, for calendars of many rooms.

    Rows, not model instances: a week of 60 busy rooms holds thousands of bookings.
    """
    return list(
        Booking.objects.filter(
            room__in=rooms, state__in=ACTIVE_STATES, blocked_during__overlap=(start, end)
        )
        .order_by("room_id", "during")
        .annotate(start=F("during__startswith"), end=F("during__endswith"))
        .values("pk", "room_id", "state", "title", "start", "end")
    )


def week_summary(
    *, rooms: list[Room], start: datetime.datetime, end: datetime.datetime, zone: str
) -> dict[tuple[int, datetime.date], str]:
    """One line of booked times per room and local day, aggregated by PostgreSQL.

    A week of 60 busy rooms holds thousands of bookings: the database folds them into at most
    rooms × 7 lines ("08:00–09:00, 10:00–12:00?"; "?" marks a request awaiting approval).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT room_id, (lower(during) AT TIME ZONE %(zone)s)::date,
                string_agg(
                    to_char(lower(during) AT TIME ZONE %(zone)s, 'HH24:MI') || '–'
                    || to_char(upper(during) AT TIME ZONE %(zone)s, 'HH24:MI')
                    || CASE WHEN state = 'tentative' THEN '?' ELSE '' END,
                    ', ' ORDER BY lower(during))
            FROM spaces_booking
            WHERE room_id = ANY(%(rooms)s) AND state = ANY(%(states)s)
                AND blocked_during && tstzrange(%(start)s, %(end)s)
            GROUP BY 1, 2
            """,
            {
                "zone": zone,
                "rooms": [room.pk for room in rooms],
                "states": [str(state) for state in ACTIVE_STATES],
                "start": start,
                "end": end,
            },
        )
        return {(room_id, day): text for room_id, day, text in cursor.fetchall()}


def free_rooms(
    *,
    user: User,
    start: datetime.datetime,
    end: datetime.datetime,
    site: Site | None = None,
    capacity: int | None = None,
    kind: str | None = None,
) -> QuerySet[Room]:
    """Bookable rooms with no active booking or lease over [start, end).

    Buffers are the service's business: a room listed here may still need its buffer free,
    which ``book_room`` checks.
    """
    rooms = rooms_visible_to(user).filter(is_bookable=True)
    if site is not None:
        rooms = rooms.filter(site=site)
    if capacity:
        rooms = rooms.filter(capacity__gte=capacity)
    if kind:
        rooms = rooms.filter(kind=kind)
    taken = Booking.objects.filter(
        room=OuterRef("pk"), state__in=ACTIVE_STATES, blocked_during__overlap=(start, end)
    )
    leased = Lease.objects.filter(room=OuterRef("pk"), period__contains=start.date())
    return rooms.filter(~Exists(taken), ~Exists(leased)).order_by("site__name", "floor", "name")


def tentative_queue() -> QuerySet[Booking]:
    """Requests waiting for a manager's decision, soonest first."""
    return (
        Booking.objects.filter(state="tentative")
        .select_related("room__site", "member", "activity", "organisation")
        .order_by("during")
    )


def feeds_of(user: User) -> QuerySet[FeedToken]:
    return FeedToken.objects.filter(user=user, revoked_at__isnull=True).select_related("room")


def leases_visible_to(user: User) -> QuerySet[Lease]:
    leases = Lease.objects.select_related("room__site", "member", "activity")
    if is_space_manager(user):
        return leases
    return leases.filter(activity__in=Activity.objects.of_user(user).values("pk"))


# Occupancy and cost recovery

BILLED_STATES = ["confirmed", "checked_in", "no_show"]


def open_hours(site: Site, first: datetime.date, last: datetime.date) -> Decimal:
    """Hours the site is open from ``first`` to ``last`` included, closed days excepted."""
    hours_by_weekday = {
        row.weekday: Decimal(
            (
                datetime.datetime.combine(first, row.closes_at)
                - datetime.datetime.combine(first, row.opens_at)
            ).seconds
        )
        / 3600
        for row in site.opening_hours.all()
    }
    closed = set(
        ClosedDay.objects.filter(site=site, date__range=(first, last)).values_list(
            "date", flat=True
        )
    )
    total = Decimal(0)
    day = first
    while day <= last:
        if day not in closed:
            total += hours_by_weekday.get(day.weekday(), Decimal(0))
        day += datetime.timedelta(days=1)
    return total


@reads_from_replica()
def occupancy(site: Site, *, first: datetime.date, last: datetime.date) -> dict:
    """Booked hours against open hours per bookable room, revenue by tier, and lease rent.

    A heavy read-only report: it reads from the replica when one is configured (coop.db).
    """
    zone = ZoneInfo(site.time_zone)
    start = datetime.datetime.combine(first, datetime.time(0), zone)
    end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time(0), zone)
    rooms = list(site.rooms.order_by("floor", "name"))
    available = open_hours(site, first, last)
    booked: dict[int, Decimal] = defaultdict(Decimal)
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    room_revenue: dict[int, Decimal] = defaultdict(Decimal)
    bookings = Booking.objects.filter(room__site=site, during__overlap=(start, end))
    for room_id, state, during, tier, price, fee in bookings.values_list(
        "room_id", "state", "during", "tier", "price_excl_vat", "cancellation_fee"
    ):
        if state in BILLED_STATES:
            lower, upper = max(during.lower, start), min(during.upper, end)
            booked[room_id] += Decimal((upper - lower).total_seconds()) / 3600
            revenue[tier] += price
            room_revenue[room_id] += price
        elif state == "cancelled" and fee:
            revenue[tier] += fee
            room_revenue[room_id] += fee
    leases = (
        LeaseCharge.objects.filter(
            lease__room__site=site, month__gte=first.replace(day=1), month__lte=last
        )
        .values("lease__room_id")
        .annotate(total=Sum("amount"))
    )
    lease_by_room = {row["lease__room_id"]: row["total"] for row in leases}
    rows = []
    for room in rooms:
        hours = booked.get(room.pk, Decimal(0))
        rows.append(
            {
                "room": room,
                "booked_hours": hours.quantize(Decimal("0.1")),
                "open_hours": available if room.is_bookable else None,
                "rate": (hours / available * 100).quantize(Decimal("1"))
                if room.is_bookable and available
                else None,
                "revenue": room_revenue.get(room.pk, Decimal("0.00")),
                "lease_rent": lease_by_room.get(room.pk, Decimal("0.00")),
            }
        )
    bookable = [row for row in rows if row["open_hours"] is not None]
    total_open = available * len(bookable)
    total_booked = sum((row["booked_hours"] for row in bookable), Decimal(0))
    return {
        "rows": rows,
        "open_hours": total_open,
        "booked_hours": total_booked,
        "rate": (total_booked / total_open * 100).quantize(Decimal("1")) if total_open else None,
        "revenue_by_tier": dict(revenue),
        "lease_rent": sum(lease_by_room.values(), Decimal("0.00")),
        "revenue": sum(revenue.values(), Decimal("0.00")),
    }
