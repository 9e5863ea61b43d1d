"""API: rooms, free/busy, search, bookings created and acted on, scoped by role."""

import datetime

import pytest
from rest_framework.test import APIClient

from spaces.models import Booking
from spaces.services import lifecycle
from tests.conftest import NOW
from tests.spaces.conftest import DAY, at, make_room

FUTURE = datetime.date(2030, 3, 12)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def far_room(site):
    return make_room(site, name="Salle Bleue", horizon_days=10000)


def as_user(api, user):
    api.force_authenticate(user)
    return api


def payload(room, activity, **overrides):
    return {
        "room": room.pk,
        "title": "API booking",
        "date": FUTURE.isoformat(),
        "start_time": "10:00",
        "end_time": "12:00",
        "activity": activity.pk,
        **overrides,
    }


def test_member_books_and_lists_own_bookings(api, member, activity, far_room):
    response = as_user(api, member.user).post(
        "/api/v1/bookings/", payload(far_room, activity), format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()[0]["price_excl_vat"] == "24.00"
    listing = api.get("/api/v1/bookings/").json()
    assert [item["title"] for item in listing["results"]] == ["API booking"]


def test_bad_input_is_a_400_with_a_message(api, member, activity, far_room):
    as_user(api, member.user)
    cases = [
        (payload(far_room, activity, start_time="06:00", end_time="07:00"), "outside_opening"),
        (payload(far_room, activity, end_time="09:00"), "end_before_start"),
        (payload(far_room, activity, end_time="10:00"), "end_before_start"),
        ({**payload(far_room, activity), "room": 999999}, "room"),
        (payload(far_room, activity, repeat="weekly"), "no_end"),
        (
            payload(far_room, activity, date="2031-03-30", start_time="02:30", end_time="04:00"),
            "nonexistent_time",
        ),
    ]
    for body, code in cases:
        response = api.post("/api/v1/bookings/", body, format="json")
        assert response.status_code == 400, body
        assert response.json()["code"].startswith(code), response.json()
        assert response.json()["detail"]
    assert not Booking.objects.exists()


def test_member_cannot_use_another_members_activity(api, member, other_activity, far_room):
    response = as_user(api, member.user).post(
        "/api/v1/bookings/", payload(far_room, other_activity), format="json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "activity"
    assert not Booking.objects.exists()


def test_busy_times_hide_the_booker(api, member, other_member, other_activity, room):
    lifecycle.book_room(
        actor=other_member.user,
        room=room,
        start=at(DAY, 10),
        end=at(DAY, 12),
        title="Private",
        activity=other_activity,
        now=NOW,
    )
    response = as_user(api, member.user).get(
        f"/api/v1/rooms/{room.pk}/busy/",
        {"start": at(DAY, 0).isoformat(), "end": at(DAY, 23).isoformat()},
    )
    assert response.status_code == 200
    assert len(response.json()) == 1
    assert set(response.json()[0]) == {"start", "end"}
    # And the booking itself is not reachable.
    booking = Booking.objects.get()
    assert api.get(f"/api/v1/bookings/{booking.pk}/").status_code == 404
    assert api.post(f"/api/v1/bookings/{booking.pk}/cancel/", {}).status_code == 404


def test_free_room_search(api, member, site, far_room):
    make_room(site, name="Tiny", capacity=2)
    response = as_user(api, member.user).get(
        "/api/v1/rooms/free/",
        {"date": FUTURE.isoformat(), "start_time": "10:00", "duration_minutes": 60, "capacity": 5},
    )
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert [room["name"] for room in response.json()["results"]] == ["Salle Bleue"]


def test_manager_approves_and_member_cannot(api, member, activity, site, space_manager):
    hall = make_room(site, name="Hall", requires_approval=True, horizon_days=10000)
    created = as_user(api, member.user).post(
        "/api/v1/bookings/", payload(hall, activity), format="json"
    )
    pk = created.json()[0]["pk"]
    assert created.json()[0]["state"] == "tentative"
    assert api.post(f"/api/v1/bookings/{pk}/approve/").status_code == 400
    response = as_user(api, space_manager).post(f"/api/v1/bookings/{pk}/approve/")
    assert response.status_code == 200
    assert response.json()["state"] == "confirmed"


def test_member_cancels_through_the_api(api, member, activity, far_room):
    created = as_user(api, member.user).post(
        "/api/v1/bookings/", payload(far_room, activity), format="json"
    )
    pk = created.json()[0]["pk"]
    response = api.post(f"/api/v1/bookings/{pk}/cancel/", {"reason": "Moved"}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"


def test_anonymous_and_strangers_are_refused(api, db, site):
    assert api.get("/api/v1/rooms/").status_code in (401, 403)


def test_schema_lists_the_booking_endpoints(client, db):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert {
        "/api/v1/sites/",
        "/api/v1/rooms/",
        "/api/v1/rooms/free/",
        "/api/v1/rooms/{id}/busy/",
        "/api/v1/bookings/",
        "/api/v1/bookings/{id}/approve/",
        "/api/v1/bookings/{id}/cancel/",
        "/api/v1/bookings/{id}/check-in/",
    } <= set(paths)


def test_manager_moves_a_booking_through_the_api(api, member, activity, space_manager, far_room):
    created = as_user(api, member.user).post(
        "/api/v1/bookings/", payload(far_room, activity), format="json"
    )
    pk = created.json()[0]["pk"]
    move = {"date": FUTURE.isoformat(), "start_time": "14:00", "end_time": "17:00"}

    refused = api.post(f"/api/v1/bookings/{pk}/move/", move, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "forbidden"

    response = as_user(api, space_manager).post(f"/api/v1/bookings/{pk}/move/", move, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["pk"] != pk
    assert (body["state"], body["title"]) == ("confirmed", "API booking")
    assert Booking.objects.get(pk=pk).state == "cancelled"
    assert Booking.objects.get(pk=body["pk"]).start == at(FUTURE, 14)

    unknown_room = api.post(
        f"/api/v1/bookings/{body['pk']}/move/", {**move, "room": 999999}, format="json"
    )
    assert unknown_room.status_code == 400
    assert unknown_room.json()["field"] == "room"


def test_an_applicant_sees_rooms_but_books_none(db, room):
    from tests.conftest import make_member

    applicant = make_member(
        "noah@coop.test", legal_name="Noah Janssens", niss="85073003328", active=False
    )
    api = APIClient()
    api.force_authenticate(applicant.user)
    assert api.get(f"/api/v1/rooms/{room.pk}/").status_code == 200
    response = api.post(
        "/api/v1/bookings/",
        {"room": room.pk, "date": "2026-03-10", "start_time": "10:00", "end_time": "12:00"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "Only active members and space managers book rooms."
    assert not Booking.objects.exists()
