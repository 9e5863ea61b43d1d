"""The occupancy dashboard: figures summed by PostgreSQL equal the old per-booking Python sums."""

import datetime
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from spaces import selectors
from spaces.models import Booking, ClosedDay, LeaseCharge
from tests.spaces.conftest import DAY, at, make_room

D = Decimal


def reference_occupancy(site, *, first, last):
    """The previous implementation: every booking of the period loaded and summed in Python."""
    zone = ZoneInfo(site.time_zone)
    start = datetime.datetime.combine(first, datetime.time(0), zone)
    end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time(0), zone)
    rooms = list(site.rooms.order_by("floor", "name"))
    available = selectors.open_hours(site, first, last)
    booked, revenue, room_revenue = defaultdict(Decimal), defaultdict(Decimal), defaultdict(Decimal)
    bookings = Booking.objects.filter(room__site=site, during__overlap=(start, end))
    for room_id, state, during, tier, price, fee in bookings.values_list(
        "room_id", "state", "during", "tier", "price_excl_vat", "cancellation_fee"
    ):
        if state in selectors.BILLED_STATES:
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


def add(room, start, end, state, *, member, activity, tier="member", price="10.00", fee="0"):
    return Booking.objects.create(
        room=room,
        during=DateTimeTZRange(start, end),
        blocked_during=DateTimeTZRange(start, end),
        title="t",
        state=state,
        member=member,
        activity=activity,
        created_by=member.user,
        tier=tier,
        price_excl_vat=D(price),
        vat_rate=D("21.00"),
        vat_amount=D("0"),
        price_incl_vat=D(price),
        cancellation_fee=D(fee),
    )


def varied_bookings(site, room, member, activity):
    other = make_room(site, name="Atelier 2")
    shut = make_room(site, name="Bureau", is_bookable=False)
    monday = DAY - datetime.timedelta(days=DAY.weekday())
    sunday = monday + datetime.timedelta(days=6)
    add(room, at(DAY, 10), at(DAY, 12, 15), "confirmed", member=member, activity=activity)
    add(
        room,
        at(DAY, 13),
        at(DAY, 13, 15),
        "checked_in",
        member=member,
        activity=activity,
        tier="resident",
        price="3.33",
    )
    add(room, at(DAY, 14), at(DAY, 15), "no_show", member=member, activity=activity)
    add(room, at(DAY, 14), at(DAY, 16), "cancelled", member=member, activity=activity, fee="4.50")
    add(room, at(DAY, 16), at(DAY, 17), "tentative", member=member, activity=activity)
    add(room, at(DAY, 17), at(DAY, 18), "refused", member=member, activity=activity)
    # Across the start and the end of the week: only the part inside counts.
    add(
        other,
        at(monday - datetime.timedelta(days=1), 20),
        at(monday, 9, 45),
        "confirmed",
        member=member,
        activity=activity,
        tier="external",
        price="99.99",
    )
    add(
        other,
        at(sunday, 23),
        at(sunday + datetime.timedelta(days=1), 2),
        "confirmed",
        member=member,
        activity=activity,
    )
    add(shut, at(DAY, 9), at(DAY, 10), "confirmed", member=member, activity=activity)
    # Weeks of the trend.
    for weeks_back in range(1, 8):
        day = DAY - datetime.timedelta(weeks=weeks_back)
        add(
            room, at(day, 8), at(day, 8 + weeks_back), "confirmed", member=member, activity=activity
        )
    ClosedDay.objects.create(site=site, date=DAY + datetime.timedelta(days=1), reason="Holiday")


def test_sql_figures_equal_the_per_booking_sums(site, room, member, activity):
    varied_bookings(site, room, member, activity)
    monday = DAY - datetime.timedelta(days=DAY.weekday())
    periods = [
        (monday, monday + datetime.timedelta(days=6)),
        (DAY.replace(day=1), datetime.date(2026, 3, 31)),
        (DAY, DAY),
    ]
    for first, last in periods:
        expected = reference_occupancy(site, first=first, last=last)
        got = selectors.occupancy(site, first=first, last=last)
        got.pop("trend_rates")
        assert got == expected, (first, last)
    week = reference_occupancy(site, first=monday, last=monday + datetime.timedelta(days=6))
    assert (week["booked_hours"], week["revenue"]) == (D("14.3"), D("147.82"))


def test_trend_rates_equal_each_weeks_own_figures(site, room, member, activity):
    varied_bookings(site, room, member, activity)
    monday = DAY - datetime.timedelta(days=DAY.weekday())
    weeks = [
        (monday - datetime.timedelta(weeks=back), monday - datetime.timedelta(weeks=back, days=-6))
        for back in range(7, -1, -1)
    ]
    got = selectors.occupancy(site, first=monday, last=weeks[-1][1], trend=weeks)
    assert got["trend_rates"] == [
        reference_occupancy(site, first=first, last=last)["rate"] for first, last in weeks
    ]
    assert got["trend_rates"][0] != got["trend_rates"][-1]


def test_occupancy_page_queries_do_not_grow_with_bookings_or_rooms(
    client, space_manager, site, room, member, activity
):
    url = reverse("spaces:occupancy", args=[site.pk])
    client.force_login(space_manager)
    add(room, at(DAY, 10), at(DAY, 12), "confirmed", member=member, activity=activity)
    client.get(url, {"date": DAY.isoformat()})  # sessions and permissions warm up
    with CaptureQueriesContext(connection) as one:
        assert client.get(url, {"date": DAY.isoformat()}).status_code == 200
    for index in range(49):
        extra = make_room(site, name=f"Salle {index}")
        add(extra, at(DAY, 8), at(DAY, 9), "confirmed", member=member, activity=activity)
        for weeks_back in range(1, 3):
            day = DAY - datetime.timedelta(weeks=weeks_back)
            add(extra, at(day, 8), at(day, 9), "confirmed", member=member, activity=activity)
    with CaptureQueriesContext(connection) as fifty:
        page = client.get(url, {"date": DAY.isoformat()}).content.decode()
    assert len(fifty) == len(one), [query["sql"] for query in fifty]
    assert "Salle 0<" in page and "Salle 48<" in page
    # 49 rooms booked one hour and one two hours, each open 84 hours.
    assert "51.0 / 4200" in page
    assert not any('FROM "spaces_booking"' in query["sql"] for query in fifty)
