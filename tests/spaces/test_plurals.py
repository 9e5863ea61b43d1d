"""Counts in messages agree with their number: "1 day", "2 days", "1.5 hours"."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from spaces.errors import BookingError
from spaces.services import lifecycle
from tests.conftest import NOW, PASSWORD
from tests.spaces.conftest import DAY, at, make_room


def refusal(member, activity, room, start, end) -> str:
    with pytest.raises(BookingError) as caught:
        lifecycle.book_room(
            actor=member.user,
            room=room,
            start=start,
            end=end,
            title="Rehearsal",
            activity=activity,
            now=NOW,
        )
    return caught.value.message


def test_horizon_of_one_day_is_singular(member, activity, site):
    room = make_room(site, horizon_days=1)
    message = refusal(member, activity, room, at(DAY, 10), at(DAY, 11))
    assert message == "Salle Verte can be booked at most 1 day ahead."


def test_horizon_of_several_days_is_plural(member, activity, site):
    room = make_room(site, horizon_days=3)
    message = refusal(member, activity, room, at(DAY, 10), at(DAY, 11))
    assert message == "Salle Verte can be booked at most 3 days ahead."


@pytest.mark.parametrize(
    ("lead_minutes", "expected"),
    [(60, "1 hour"), (90, "1.5 hours"), (120, "2 hours"), (30, "0.5 hours")],
)
def test_lead_time_in_hours(member, activity, site, lead_minutes, expected):
    room = make_room(site, lead_time_minutes=lead_minutes)
    start = NOW + datetime.timedelta(minutes=lead_minutes - 30)
    start = start.replace(minute=0) if start.minute < 30 else start.replace(minute=30)
    message = refusal(member, activity, room, start, start + datetime.timedelta(hours=1))
    assert message == f"Salle Verte must be booked at least {expected} ahead."


def test_duration_and_step_messages_count_minutes(member, activity, site):
    room = make_room(site, slot_minutes=1, min_duration_minutes=1)
    room.min_duration_minutes = 2
    room.save()
    message = refusal(member, activity, room, at(DAY, 10), at(DAY, 10, 1))
    assert message == "Salle Verte is booked for at least 2 minutes."
    room.min_duration_minutes = 1
    room.slot_minutes = 30
    room.save()
    message = refusal(member, activity, room, at(DAY, 10), at(DAY, 10, 1))
    assert message == ("Salle Verte is booked in steps of 30 minutes (for instance 10:00–11:30).")


def test_room_page_rules_agree_with_their_numbers(client, member, site):
    room = make_room(site, horizon_days=1, cancellation_notice_hours=1)
    assert client.login(email=member.user.email, password=PASSWORD)

    page = client.get(reverse("spaces:room_detail", args=[room.pk])).content.decode()

    assert "book at least 60 min and at most 1 day ahead." in page
    assert "Free up to 1 hour before the start; later, 50.00 % of the price is kept." in page
    room.horizon_days = 90
    room.cancellation_notice_hours = 48
    room.save()
    page = client.get(reverse("spaces:room_detail", args=[room.pk])).content.decode()
    assert "book at least 60 min and at most 90 days ahead." in page
    assert "Free up to 48 hours before the start; later, 50.00 % of the price is kept." in page


def test_one_occurrence_booked_is_singular(client, space_manager, activity, site):
    room = make_room(site, horizon_days=10000)
    assert client.login(email=space_manager.email, password=PASSWORD)

    response = client.post(
        reverse("spaces:room_detail", args=[room.pk]),
        {
            "title": "Weekly",
            "date": "2030-03-12",
            "start_time": "10:00",
            "end_time": "11:00",
            "activity": activity.pk,
            "repeat": "weekly",
            "count": 1,
        },
    )

    assert response.status_code == 302
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "1 occurrence booked, 0 skipped."
    ]
