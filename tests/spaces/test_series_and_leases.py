"""Recurring bookings, their conflicts and cancellation; leases and their monthly rent."""

import datetime
from decimal import Decimal

import pytest

from members.models import LedgerEntry
from spaces.errors import BookingError
from spaces.models import Booking, BookingSeries, LeaseCharge
from spaces.services import leasing, lifecycle, recurring
from tests.conftest import NOW
from tests.spaces.conftest import DAY, at, make_room

TEN, NOON = datetime.time(10), datetime.time(12)


def series(member, activity, room, **kwargs):
    options = {
        "frequency": "weekly",
        "count": 4,
        "date": DAY,
        "start_time": TEN,
        "end_time": NOON,
        **kwargs,
    }
    return recurring.book_series(
        actor=member.user, room=room, title="Weekly class", activity=activity, now=NOW, **options
    )


def test_weekly_series_books_every_occurrence(member, activity, room):
    result = series(member, activity, room)
    starts = [booking.start.astimezone(at(DAY, 0).tzinfo) for booking in result.bookings]
    assert starts == [at(DAY + datetime.timedelta(weeks=week), 10) for week in range(4)]
    assert {booking.series for booking in result.bookings} == {result.series}
    assert LedgerEntry.objects.filter(kind="booking_charge").count() == 4


def test_series_keeps_the_wall_clock_across_the_clock_change(member, activity, room):
    result = series(member, activity, room, date=datetime.date(2026, 3, 24), count=2)
    first, second = (booking.start for booking in result.bookings)
    assert first.astimezone(datetime.UTC).hour == 9  # 10:00 winter time
    assert second.astimezone(datetime.UTC).hour == 8  # 10:00 summer time


def test_conflicts_refuse_the_whole_series_by_default(
    member, activity, other_member, other_activity, room
):
    lifecycle.book_room(
        actor=other_member.user,
        room=room,
        start=at(DAY + datetime.timedelta(weeks=2), 11),
        end=at(DAY + datetime.timedelta(weeks=2), 12),
        title="Meeting",
        activity=other_activity,
        now=NOW,
    )
    with pytest.raises(BookingError) as caught:
        series(member, activity, room)
    assert caught.value.code == "series_conflicts"
    assert "1 of 4 occurrences" in caught.value.message
    assert "03/24/2026" in caught.value.message
    assert Booking.objects.count() == 1
    assert not BookingSeries.objects.exists()


def test_book_the_free_ones(member, activity, other_member, other_activity, room, site):
    lifecycle.book_room(
        actor=other_member.user,
        room=room,
        start=at(DAY + datetime.timedelta(weeks=1), 10),
        end=at(DAY + datetime.timedelta(weeks=1), 11),
        title="Meeting",
        activity=other_activity,
        now=NOW,
    )
    site.closed_days.create(date=DAY + datetime.timedelta(weeks=3), reason="Easter")
    result = series(member, activity, room, book_free_only=True)
    assert len(result.bookings) == 2
    assert [occurrence.start.date() for occurrence in result.skipped] == [
        DAY + datetime.timedelta(weeks=1),
        DAY + datetime.timedelta(weeks=3),
    ]
    assert "Easter" in result.skipped[1].problem


def test_series_with_two_ends_is_refused(member, activity, room):
    with pytest.raises(BookingError) as caught:
        series(member, activity, room, until=datetime.date(2026, 4, 30))
    assert caught.value.code == "two_ends"


def test_series_without_end_is_refused(member, activity, room):
    with pytest.raises(BookingError) as caught:
        series(member, activity, room, count=None)
    assert caught.value.code == "no_end"
    assert not Booking.objects.exists()


def test_series_with_too_many_occurrences_is_refused(member, activity, room):
    with pytest.raises(BookingError) as caught:
        series(member, activity, room, count=None, until=datetime.date(2030, 1, 1))
    assert caught.value.code == "count"


def test_every_other_week_and_monthly(member, activity, room):
    fortnight = series(
        member, activity, room, frequency="biweekly", count=None, until=datetime.date(2026, 4, 7)
    )
    assert [b.start.date() for b in fortnight.bookings] == [
        datetime.date(2026, 3, 10),
        datetime.date(2026, 3, 24),
        datetime.date(2026, 4, 7),
    ]
    monthly = series(
        member,
        activity,
        room,
        frequency="monthly",
        count=2,
        start_time=datetime.time(14),
        end_time=datetime.time(15),
    )
    assert [b.start.date() for b in monthly.bookings] == [
        datetime.date(2026, 3, 10),
        datetime.date(2026, 4, 10),
    ]


def test_cancel_one_occurrence_or_the_rest(member, activity, room):
    bookings = series(member, activity, room).bookings
    lifecycle.cancel_booking(actor=member.user, booking=bookings[0], now=NOW)
    cancelled = recurring.cancel_rest_of_series(actor=member.user, booking=bookings[2], now=NOW)
    assert [booking.pk for booking in cancelled] == [bookings[2].pk, bookings[3].pk]
    states = list(Booking.objects.order_by("during").values_list("state", flat=True))
    assert states == ["cancelled", "confirmed", "cancelled", "cancelled"]


# Leases


@pytest.fixture
def atelier(site):
    return make_room(site, name="Atelier 7", kind="atelier", is_bookable=False)


def test_lease_at_resident_monthly_price_and_prorated_rent(space_manager, activity, atelier):
    lease = leasing.create_lease(
        actor=space_manager,
        room=atelier,
        activity=activity,
        starts_on=datetime.date(2026, 3, 16),
        ends_on=datetime.date(2026, 5, 10),
    )
    assert lease.monthly_rent == Decimal("450.00")
    assert str(leasing.rent_for_month(lease, datetime.date(2026, 3, 1))) == "232.26"  # 16/31
    assert str(leasing.rent_for_month(lease, datetime.date(2026, 4, 1))) == "450.00"
    assert str(leasing.rent_for_month(lease, datetime.date(2026, 5, 1))) == "145.16"  # 10/31
    assert leasing.rent_for_month(lease, datetime.date(2026, 6, 1)) == Decimal("0.00")


def test_monthly_rent_is_charged_once(space_manager, activity, atelier):
    lease = leasing.create_lease(
        actor=space_manager, room=atelier, activity=activity, starts_on=datetime.date(2026, 1, 1)
    )
    assert leasing.charge_due_leases(today=datetime.date(2026, 3, 5), now=NOW) == 1
    assert leasing.charge_due_leases(today=datetime.date(2026, 3, 20), now=NOW) == 0
    assert leasing.charge_lease_month(lease=lease, month=datetime.date(2026, 3, 1)) is None
    entry = LedgerEntry.objects.get(activity=activity)
    assert (entry.kind, str(entry.amount), entry.reference) == (
        "booking_charge",
        "-450.00",
        f"LEASE-{lease.pk}-2026-03",
    )
    assert LeaseCharge.objects.get().month == datetime.date(2026, 3, 1)


def test_leases_cannot_overlap(space_manager, activity, other_activity, atelier):
    leasing.create_lease(
        actor=space_manager,
        room=atelier,
        activity=activity,
        starts_on=datetime.date(2026, 1, 1),
        ends_on=datetime.date(2026, 6, 30),
    )
    with pytest.raises(BookingError) as caught:
        leasing.create_lease(
            actor=space_manager,
            room=atelier,
            activity=other_activity,
            starts_on=datetime.date(2026, 6, 30),
        )
    assert caught.value.code == "lease_overlap"


def test_only_managers_sign_leases(member, activity, atelier):
    with pytest.raises(BookingError) as caught:
        leasing.create_lease(
            actor=member.user, room=atelier, activity=activity, starts_on=datetime.date(2026, 4, 1)
        )
    assert caught.value.code == "forbidden"


def test_leased_room_cannot_be_booked(space_manager, member, activity, site):
    office = make_room(site, name="Office 2", kind="office")
    leasing.create_lease(
        actor=space_manager, room=office, activity=activity, starts_on=datetime.date(2026, 3, 1)
    )
    with pytest.raises(BookingError) as caught:
        lifecycle.book_room(
            actor=member.user,
            room=office,
            start=at(DAY, 10),
            end=at(DAY, 12),
            title="Meeting",
            activity=activity,
            now=NOW,
        )
    assert caught.value.code == "leased"
