"""Booking rules: opening hours, closed days, lead time, horizon, durations, buffers, DST."""

import datetime

import pytest
from django.utils import translation

from members.models import LedgerEntry
from spaces.errors import BookingError
from spaces.models import Booking, BookingEvent, ClosedDay
from spaces.services import lifecycle, times
from tests.conftest import NOW
from tests.spaces.conftest import DAY, at, make_room


def book(member, activity, room, start, end, **kwargs):
    return lifecycle.book_room(
        actor=member.user,
        room=room,
        start=start,
        end=end,
        title=kwargs.pop("title", "Rehearsal"),
        activity=activity,
        now=kwargs.pop("now", NOW),
        **kwargs,
    )


def assert_refused(code, member, activity, room, start, end, **kwargs):
    with pytest.raises(BookingError) as caught:
        book(member, activity, room, start, end, **kwargs)
    assert caught.value.code == code
    assert not Booking.objects.exists()
    assert not LedgerEntry.objects.filter(kind="booking_charge").exists()
    return caught.value


def test_member_books_a_free_slot_and_is_charged(member, activity, room):
    booking = book(member, activity, room, at(DAY, 10), at(DAY, 11, 30))

    assert booking.state == "confirmed"
    assert booking.member == member
    assert booking.tier == "member"
    assert booking.price_excl_vat == booking.price_incl_vat
    assert str(booking.price_excl_vat) == "18.00"
    entry = LedgerEntry.objects.get(activity=activity, kind="booking_charge")
    assert str(entry.amount) == "-18.00"
    assert entry.stage == "available"
    assert entry.reference == f"BOOKING-{booking.pk}"
    assert BookingEvent.objects.filter(booking=booking, to_state="confirmed").count() == 1


def test_overlap_is_refused_naming_the_slot(member, activity, other_member, other_activity, room):
    book(member, activity, room, at(DAY, 10), at(DAY, 12))

    with pytest.raises(BookingError) as caught:
        book(other_member, other_activity, room, at(DAY, 11), at(DAY, 13))

    assert caught.value.code == "conflict"
    assert caught.value.message == "Salle Verte is already booked from 03/10/2026 10:00 to 12:00."
    # The message names the slot, never who booked it.
    assert "Ana" not in caught.value.message
    assert Booking.objects.count() == 1


def test_buffer_after_keeps_the_room_free(member, activity, site):
    room = make_room(site, name="Studio", buffer_after_minutes=30)
    book(member, activity, room, at(DAY, 10), at(DAY, 12))

    with pytest.raises(BookingError) as caught:
        book(member, activity, room, at(DAY, 12), at(DAY, 13))
    assert caught.value.code == "conflict"
    assert caught.value.message == (
        "Studio is already booked from 03/10/2026 10:00 to 12:00 "
        "(with 0 min before and 30 min after kept free)."
    )
    with pytest.raises(BookingError):
        book(member, activity, room, at(DAY, 8), at(DAY, 10))

    later = book(member, activity, room, at(DAY, 12, 30), at(DAY, 13, 30))
    assert later.blocked_during.upper == at(DAY, 14)


def test_buffer_before_also_counts(member, activity, site):
    room = make_room(site, name="Hall", buffer_before_minutes=60)
    book(member, activity, room, at(DAY, 14), at(DAY, 16))
    with pytest.raises(BookingError):
        book(member, activity, room, at(DAY, 12), at(DAY, 13, 30))
    # The next booking's own buffer before needs the hour after 16:00 free too.
    with pytest.raises(BookingError):
        book(member, activity, room, at(DAY, 16), at(DAY, 17))
    assert book(member, activity, room, at(DAY, 17), at(DAY, 18)).start == at(DAY, 17)


@pytest.mark.parametrize(
    ("start", "end"),
    [((7, 0), (9, 0)), ((21, 0), (22, 30)), ((7, 30), (8, 30))],
)
def test_outside_opening_hours(member, activity, room, start, end):
    error = assert_refused(
        "outside_opening_hours", member, activity, room, at(DAY, *start), at(DAY, *end)
    )
    assert "08:00 to 22:00" in error.message


def test_closed_weekday_and_closed_day(member, activity, room, site):
    sunday = datetime.date(2026, 3, 15)
    assert_refused("closed_weekday", member, activity, room, at(sunday, 10), at(sunday, 11))
    ClosedDay.objects.create(site=site, date=DAY, reason="Works")
    error = assert_refused("closed_day", member, activity, room, at(DAY, 10), at(DAY, 11))
    assert "Works" in error.message


@pytest.mark.parametrize(
    ("language", "weekday"), [("en", "Tuesday"), ("fr", "mardi"), ("nl", "dinsdag")]
)
def test_opening_hours_name_the_weekday_as_the_language_writes_it(
    member, activity, room, language, weekday
):
    with translation.override(language):
        error = assert_refused(
            "outside_opening_hours", member, activity, room, at(DAY, 7), at(DAY, 9)
        )
    # English capitalises weekdays; French and Dutch write them in lower case.
    assert f" {weekday}" in error.message
    assert weekday.lower() not in error.message.replace(weekday, "")


@pytest.mark.parametrize(
    ("language", "stored", "shown"),
    [
        ("en", "New Year's Day", "New Year's Day"),
        ("fr", "New Year's Day", "Nouvel An"),
        ("nl", "New Year's Day", "Nieuwjaar"),
        ("en", "Nieuwjaar", "New Year's Day"),
        ("fr", "Nieuwjaar", "Nouvel An"),
        ("fr", "Fermeture annuelle", "Fermeture annuelle"),
        ("nl", "Works", "Works"),
    ],
)
def test_public_holidays_are_named_in_the_language_and_custom_reasons_as_entered(
    member, activity, room, site, language, stored, shown
):
    new_year = datetime.date(2027, 1, 1)
    ClosedDay.objects.create(site=site, date=new_year, reason=stored)
    with translation.override(language):
        error = assert_refused(
            "closed_day", member, activity, room, at(new_year, 10), at(new_year, 11)
        )
    written = {"fr": "01/01/2027", "nl": "1-1-2027", "en": "01/01/2027"}[language]
    assert error.message.endswith(f"{written} ({shown}).")


def test_past_and_lead_time(member, activity, room):
    today = NOW.date()
    assert_refused("past", member, activity, room, at(today, 9), at(today, 10))
    assert_refused("lead_time", member, activity, room, at(today, 10, 30), at(today, 11, 30))
    assert book(member, activity, room, at(today, 11), at(today, 12)).state == "confirmed"


def test_manager_skips_lead_time_but_not_opening_hours(space_manager, activity, room):
    today = NOW.date()
    booking = lifecycle.book_room(
        actor=space_manager,
        room=room,
        start=at(today, 10, 30),
        end=at(today, 11, 30),
        title="Walk-in",
        activity=activity,
        now=NOW,
    )
    assert booking.state == "confirmed"
    assert booking.member == activity.owner
    with pytest.raises(BookingError) as caught:
        lifecycle.book_room(
            actor=space_manager,
            room=room,
            start=at(today, 22),
            end=at(today, 23),
            title="Late",
            activity=activity,
            now=NOW,
        )
    assert caught.value.code == "outside_opening_hours"


def test_horizon(member, activity, room):
    far = NOW.date() + datetime.timedelta(days=92)
    assert_refused("horizon", member, activity, room, at(far, 10), at(far, 11))


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        ((10, 0), (10, 0), "end_before_start"),
        ((11, 0), (10, 0), "end_before_start"),
        ((10, 0), (10, 30), "too_short"),
        ((8, 0), (21, 0), "too_long"),
        ((10, 15), (11, 15), "granularity"),
        ((10, 0), (11, 10), "granularity"),
    ],
)
def test_durations_and_granularity(member, activity, room, start, end, code):
    assert_refused(code, member, activity, room, at(DAY, *start), at(DAY, *end))


def test_dst_gap_is_refused(site):
    with pytest.raises(BookingError) as caught:
        times.local_datetime(site=site, date=datetime.date(2026, 3, 29), time=datetime.time(2, 30))
    assert caught.value.code == "nonexistent_time"
    assert "02:30 on 03/29/2026 does not exist" in caught.value.message


def test_dst_repeated_hour_is_refused(site):
    with pytest.raises(BookingError) as caught:
        times.local_datetime(site=site, date=datetime.date(2026, 10, 25), time=datetime.time(2, 30))
    assert caught.value.code == "ambiguous_time"


def test_booking_across_the_clock_change_is_priced_on_real_hours(member, activity, site):
    site.opening_hours.create(
        weekday=6, opens_at=datetime.time(0, 0), closes_at=datetime.time(23, 59)
    )
    room = make_room(site, name="Night studio", slot_minutes=60)
    start, end = times.booking_range(
        site=site,
        date=datetime.date(2026, 3, 29),
        start_time=datetime.time(1, 0),
        end_time=datetime.time(4, 0),
    )
    booking = book(member, activity, room, start, end)
    # 01:00–04:00 on the night clocks go forward lasts two real hours.
    assert booking.end - booking.start == datetime.timedelta(hours=2)
    assert str(booking.price_excl_vat) == "24.00"


def test_not_bookable_room(member, activity, site):
    atelier = make_room(site, name="Atelier 12", kind="atelier", is_bookable=False)
    assert_refused("not_bookable", member, activity, atelier, at(DAY, 10), at(DAY, 11))


def test_member_cannot_book_for_another_members_activity(member, other_activity, room):
    error = assert_refused(
        "foreign_activity", member, other_activity, room, at(DAY, 10), at(DAY, 11)
    )
    assert error.field == "activity"


def test_member_cannot_book_for_an_organisation(member, room, organisation):
    with pytest.raises(BookingError) as caught:
        lifecycle.book_room(
            actor=member.user,
            room=room,
            start=at(DAY, 10),
            end=at(DAY, 11),
            title="Festival",
            organisation=organisation,
            now=NOW,
        )
    assert caught.value.code == "external_needs_manager"


def test_empty_title(member, activity, room):
    assert_refused("title", member, activity, room, at(DAY, 10), at(DAY, 11), title="  ")
