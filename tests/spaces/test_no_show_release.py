"""Automatic no-show release: a booking nobody checked in for frees the rest of its slot."""

import datetime
import threading

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection

from members.models import LedgerEntry
from spaces import tasks
from spaces.errors import BookingError
from spaces.models import Booking, BookingEvent
from spaces.services import lifecycle
from tests.conftest import NOW
from tests.spaces.conftest import DAY, at, make_room


@pytest.fixture
def graced_room(site):
    return make_room(site, name="Salle Grâce", check_in_grace_minutes=15)


def book(user, room, start, end, *, activity, now=NOW):
    return lifecycle.book_room(
        actor=user, room=room, start=start, end=end, title="Rehearsal", activity=activity, now=now
    )


def charges(activity) -> list[str]:
    return [
        str(amount)
        for amount in LedgerEntry.objects.filter(activity=activity)
        .order_by("pk")
        .values_list("amount", flat=True)
    ]


def test_released_once_the_grace_period_has_passed(member, activity, graced_room):
    booking = book(member.user, graced_room, at(DAY, 10), at(DAY, 12), activity=activity)

    assert lifecycle.release_no_shows(now=at(DAY, 10, 15)) == 1

    booking.refresh_from_db()
    assert booking.state == "no_show"
    # The booking keeps its time and its price: the booker is charged as for a manual no-show.
    assert (booking.start, booking.end) == (at(DAY, 10), at(DAY, 12))
    assert str(booking.price_excl_vat) == "24.00"
    assert charges(activity) == ["-24.00"]
    event = booking.events.get(to_state="no_show")
    assert event.from_state == "confirmed"
    assert event.actor is None
    assert event.created_at == at(DAY, 10, 15)
    assert event.note == (
        "Released automatically: nobody checked in within 15 minutes of the start."
    )


def test_not_released_before_the_grace_period_ends(member, activity, graced_room):
    booking = book(member.user, graced_room, at(DAY, 10), at(DAY, 12), activity=activity)

    assert lifecycle.release_no_shows(now=at(DAY, 10, 15) - datetime.timedelta(seconds=1)) == 0

    booking.refresh_from_db()
    assert booking.state == "confirmed"
    assert list(booking.events.values_list("to_state", flat=True)) == ["confirmed"]


def test_checked_in_bookings_are_kept(member, activity, graced_room):
    booking = book(member.user, graced_room, at(DAY, 10), at(DAY, 12), activity=activity)
    lifecycle.check_in_booking(actor=member.user, booking=booking, now=at(DAY, 10, 5))

    assert lifecycle.release_no_shows(now=at(DAY, 10, 30)) == 0

    booking.refresh_from_db()
    assert booking.state == "checked_in"
    assert not booking.events.filter(to_state="no_show").exists()


def test_only_confirmed_bookings_of_rooms_with_a_grace_period(
    member, activity, space_manager, site, graced_room
):
    plain_room = make_room(site, name="Salle Sans Règle")
    approval_room = make_room(
        site, name="Salle Demande", requires_approval=True, check_in_grace_minutes=15
    )
    without_rule = book(member.user, plain_room, at(DAY, 10), at(DAY, 12), activity=activity)
    tentative = book(member.user, approval_room, at(DAY, 10), at(DAY, 12), activity=activity)
    cancelled = book(member.user, graced_room, at(DAY, 10), at(DAY, 12), activity=activity)
    lifecycle.cancel_booking(actor=member.user, booking=cancelled, reason="", now=NOW)

    assert lifecycle.release_no_shows(now=at(DAY, 11)) == 0

    states = dict(
        Booking.objects.filter(pk__in=[without_rule.pk, tentative.pk, cancelled.pk]).values_list(
            "pk", "state"
        )
    )
    assert states == {
        without_rule.pk: "confirmed",
        tentative.pk: "tentative",
        cancelled.pk: "cancelled",
    }
    assert not BookingEvent.objects.filter(to_state="no_show").exists()


def test_bookings_that_already_ended_are_left_to_a_manager(member, activity, graced_room):
    # A grace period set today must not rewrite past bookings nobody was asked to check in for.
    booking = book(member.user, graced_room, at(DAY, 10), at(DAY, 12), activity=activity)

    assert lifecycle.release_no_shows(now=at(DAY, 12)) == 0

    booking.refresh_from_db()
    assert booking.state == "confirmed"


def test_running_twice_changes_nothing_more(member, activity, space_manager, graced_room):
    booking = book(member.user, graced_room, at(DAY, 10), at(DAY, 12), activity=activity)
    assert lifecycle.release_no_shows(now=at(DAY, 10, 20)) == 1

    assert lifecycle.release_no_shows(now=at(DAY, 10, 25)) == 0
    assert lifecycle.release_no_shows(now=at(DAY, 10, 20)) == 0

    assert booking.events.filter(to_state="no_show").count() == 1
    assert charges(activity) == ["-24.00"]
    # A manager cannot record it a second time either.
    with pytest.raises(BookingError) as caught:
        lifecycle.mark_no_show(actor=space_manager, booking=booking, now=at(DAY, 10, 30))
    assert caught.value.code == "not_confirmed"


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_release_each_booking_once(member, activity, graced_room):
    booking = book(member.user, graced_room, at(DAY, 10), at(DAY, 12), activity=activity)
    runs = 4
    barrier = threading.Barrier(runs)
    results: list[object] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            result: object = lifecycle.release_no_shows(now=at(DAY, 10, 30))
        except Exception as error:  # reported by the assertions below
            result = repr(error)
        finally:
            connection.close()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run) for _index in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [0, 0, 0, 1], results
    assert booking.events.filter(to_state="no_show").count() == 1


def test_the_freed_remainder_can_be_booked(
    member, activity, other_member, other_activity, space_manager, graced_room
):
    book(member.user, graced_room, at(DAY, 10), at(DAY, 12), activity=activity)
    with pytest.raises(BookingError) as caught:
        book(space_manager, graced_room, at(DAY, 10, 30), at(DAY, 12), activity=other_activity)
    assert caught.value.code == "conflict"

    lifecycle.release_no_shows(now=at(DAY, 10, 20))

    walk_in = book(
        space_manager,
        graced_room,
        at(DAY, 10, 30),
        at(DAY, 12),
        activity=other_activity,
        now=at(DAY, 10, 20),
    )
    assert walk_in.state == "confirmed"
    # A member booking the rest of the day ahead of time is not blocked either.
    later = book(
        other_member.user,
        graced_room,
        at(DAY, 12),
        at(DAY, 13),
        activity=other_activity,
        now=at(DAY, 10, 20),
    )
    assert later.state == "confirmed"


def test_the_task_releases_and_is_scheduled(member, activity, graced_room, monkeypatch):
    booking = book(member.user, graced_room, at(DAY, 10), at(DAY, 12), activity=activity)
    monkeypatch.setattr(tasks.timezone, "now", lambda: at(DAY, 10, 40))

    assert tasks.release_no_shows_task() == 1
    assert tasks.release_no_shows_task() == 0

    booking.refresh_from_db()
    assert booking.state == "no_show"
    schedule = settings.CELERY_BEAT_SCHEDULE["release-no-shows"]
    assert schedule == {"task": "spaces.tasks.release_no_shows_task", "schedule": 5 * 60}


def test_grace_period_must_be_shorter_than_the_minimum_duration(site):
    room = make_room(site, name="Salle Courte", min_duration_minutes=60)
    room.check_in_grace_minutes = 60
    with pytest.raises(ValidationError) as caught:
        room.full_clean()
    assert caught.value.message_dict == {
        "check_in_grace_minutes": [
            "The grace period must be shorter than the minimum duration (60 minutes): "
            "a booking is released while it still runs."
        ]
    }
    room.check_in_grace_minutes = 59
    room.full_clean()
