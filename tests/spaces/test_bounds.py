"""Booking dates have bounds whatever a room's horizon: refused with a message, nothing booked."""

import datetime

import pytest
from django.urls import reverse
from django.utils import formats, timezone
from rest_framework.test import APIClient

from spaces.models import Booking
from tests.spaces.conftest import make_room


def limit() -> str:
    latest = timezone.localdate() + datetime.timedelta(days=10 * 366)
    return formats.date_format(latest, "SHORT_DATE_FORMAT")


@pytest.fixture
def endless_room(site):
    return make_room(site, name="Salle Sans Fin", horizon_days=1_000_000)


@pytest.mark.parametrize("field", ["date", "until"])
def test_api_refuses_a_booking_in_year_9999(member, activity, endless_room, field):
    api = APIClient()
    api.force_authenticate(member.user)
    body = {
        "room": endless_room.pk,
        "title": "Far away",
        "date": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
        "start_time": "10:00",
        "end_time": "11:00",
        "activity": activity.pk,
        "repeat": "weekly",
        field: "9999-12-31",
    }
    response = api.post("/api/v1/bookings/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        field: [f"Rooms are booked at most ten years ahead: choose a date before {limit()}."]
    }
    assert not Booking.objects.exists()


def test_api_free_room_search_refuses_year_9999(member, endless_room):
    api = APIClient()
    api.force_authenticate(member.user)
    response = api.get(
        "/api/v1/rooms/free/", {"date": "9999-12-31", "start_time": "10:00", "duration_minutes": 60}
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["date"]


def test_booking_form_refuses_year_9999(client, member, activity, endless_room):
    client.force_login(member.user)
    response = client.post(
        reverse("spaces:room_detail", args=[endless_room.pk]),
        {
            "title": "Far away",
            "date": "9999-12-31",
            "start_time": "10:00",
            "end_time": "11:00",
            "activity": activity.pk,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "date": [f"Rooms are booked at most ten years ahead: choose a date before {limit()}."]
    }
    assert not Booking.objects.exists()
