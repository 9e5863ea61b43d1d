"""Pages: booking form, free/busy, manager calendar, queue, search, feeds, occupancy, roles."""

import datetime

import pytest
from django.urls import reverse
from icalendar import Calendar

from spaces.models import Booking, FeedToken, Site
from spaces.services import feed_tokens, lifecycle
from tests.conftest import NOW, PASSWORD
from tests.spaces.conftest import DAY, at, make_room

FUTURE = datetime.date(2030, 3, 12)  # a Tuesday far enough ahead for real clocks


def sign_in(client, user):
    assert client.login(email=user.email, password=PASSWORD)
    return client


def existing_booking(user, room, activity, day=DAY, hour=10):
    return lifecycle.book_room(
        actor=user,
        room=room,
        start=at(day, hour),
        end=at(day, hour + 2),
        title="Secret rehearsal",
        activity=activity,
        now=NOW,
    )


def test_member_books_through_the_form(client, member, activity, long_horizon_room):
    sign_in(client, member.user)
    url = reverse("spaces:room_detail", args=[long_horizon_room.pk])
    response = client.post(
        url,
        {
            "title": "Portfolio review",
            "date": FUTURE.isoformat(),
            "start_time": "14:00",
            "end_time": "15:30",
            "activity": activity.pk,
        },
    )
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("spaces:booking_detail", args=[booking.pk])
    assert booking.state == "confirmed"
    assert str(booking.price_excl_vat) == "18.00"


def test_form_shows_the_rule_that_refused(client, member, activity, long_horizon_room):
    sign_in(client, member.user)
    response = client.post(
        reverse("spaces:room_detail", args=[long_horizon_room.pk]),
        {
            "title": "Too early",
            "date": FUTURE.isoformat(),
            "start_time": "06:00",
            "end_time": "07:00",
            "activity": activity.pk,
        },
    )
    assert response.status_code == 200
    assert "is open from 08:00 to 22:00" in response.content.decode()
    assert not Booking.objects.exists()


def test_form_refuses_a_series_without_end(client, member, activity, long_horizon_room):
    sign_in(client, member.user)
    response = client.post(
        reverse("spaces:room_detail", args=[long_horizon_room.pk]),
        {
            "title": "Weekly",
            "date": FUTURE.isoformat(),
            "start_time": "10:00",
            "end_time": "11:00",
            "activity": activity.pk,
            "repeat": "weekly",
        },
    )
    assert "needs an end" in response.content.decode()
    assert not Booking.objects.exists()


def test_member_cannot_choose_another_members_activity(
    client, member, other_activity, long_horizon_room
):
    sign_in(client, member.user)
    response = client.post(
        reverse("spaces:room_detail", args=[long_horizon_room.pk]),
        {
            "title": "Borrowed budget",
            "date": FUTURE.isoformat(),
            "start_time": "10:00",
            "end_time": "11:00",
            "activity": other_activity.pk,
        },
    )
    assert response.status_code == 200
    assert not Booking.objects.exists()


def test_members_see_busy_slots_but_not_who_booked(
    client, member, other_member, other_activity, room
):
    existing_booking(other_member.user, room, other_activity)
    sign_in(client, member.user)
    response = client.get(reverse("spaces:room_detail", args=[room.pk]), {"date": DAY.isoformat()})
    page = response.content.decode()
    assert "10:00–12:00" in page
    assert "Secret rehearsal" not in page
    assert "Lucas" not in page


def test_members_cannot_open_others_bookings(client, member, other_member, other_activity, room):
    booking = existing_booking(other_member.user, room, other_activity)
    sign_in(client, member.user)
    assert client.get(reverse("spaces:booking_detail", args=[booking.pk])).status_code == 404
    response = client.post(reverse("spaces:booking_cancel", args=[booking.pk]))
    assert response.status_code == 404
    booking.refresh_from_db()
    assert booking.state == "confirmed"


def test_member_cancels_own_booking(client, member, activity, long_horizon_room):
    booking = existing_booking(member.user, long_horizon_room, activity, day=FUTURE)
    sign_in(client, member.user)
    client.post(reverse("spaces:booking_cancel", args=[booking.pk]), {"reason": "Ill"})
    booking.refresh_from_db()
    assert booking.state == "cancelled"
    assert booking.state_reason == "Ill"


@pytest.mark.parametrize("name", ["spaces:queue", "spaces:calendar", "spaces:occupancy"])
def test_manager_pages_are_closed_to_members(client, member, site, name):
    sign_in(client, member.user)
    args = [] if name == "spaces:queue" else [site.pk]
    assert client.get(reverse(name, args=args)).status_code == 403


def test_manager_calendar_day_and_week(client, space_manager, member, activity, room, site):
    make_room(site, name="Salle Rouge")
    existing_booking(member.user, room, activity)
    sign_in(client, space_manager)
    url = reverse("spaces:calendar", args=[site.pk])
    day = client.get(url, {"date": DAY.isoformat()}).content.decode()
    assert "Salle Verte" in day and "Salle Rouge" in day
    assert "Secret rehearsal" in day
    week = client.get(url, {"date": DAY.isoformat(), "view": "week"}).content.decode()
    assert "10:00–12:00" in week
    assert "Secret rehearsal" not in week  # titles show in the day view


def test_manager_approves_from_the_queue(client, space_manager, member, activity, site):
    hall = make_room(site, name="Event hall", requires_approval=True, horizon_days=10000)
    booking = existing_booking(member.user, hall, activity, day=FUTURE)
    sign_in(client, space_manager)
    assert "Secret rehearsal" in client.get(reverse("spaces:queue")).content.decode()
    client.post(reverse("spaces:booking_approve", args=[booking.pk]))
    booking.refresh_from_db()
    assert booking.state == "confirmed"


def test_search_lists_only_free_rooms(client, member, other_member, other_activity, site):
    taken = make_room(site, name="Taken room", horizon_days=10000)
    make_room(site, name="Free room", capacity=30)
    make_room(site, name="Small room", capacity=4)
    existing_booking(other_member.user, taken, other_activity, day=FUTURE)
    sign_in(client, member.user)
    page = client.get(
        reverse("spaces:search"),
        {"date": FUTURE.isoformat(), "start_time": "11:00", "duration_minutes": 60, "capacity": 10},
    ).content.decode()
    assert "Free room" in page
    assert "Taken room" not in page
    assert "Small room" not in page


def test_personal_feed_and_revocation(client, member, activity, long_horizon_room):
    existing_booking(member.user, long_horizon_room, activity, day=FUTURE)
    sign_in(client, member.user)
    client.post(reverse("spaces:feeds"))
    token = FeedToken.objects.get(user=member.user)
    client.logout()

    response = client.get(reverse("spaces:feed", args=[token.secret]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert [str(event["summary"]) for event in events] == ["Secret rehearsal"]

    sign_in(client, member.user)
    client.post(reverse("spaces:feeds"), {"revoke": token.pk})
    client.logout()
    assert client.get(reverse("spaces:feed", args=[token.secret])).status_code == 404
    assert client.get(reverse("spaces:feed", args=["not-a-token"])).status_code == 404


def test_members_cannot_subscribe_to_a_room_feed(client, member, room):
    sign_in(client, member.user)
    client.post(reverse("spaces:feeds"), {"room": room.pk})
    assert not FeedToken.objects.exists()


def test_manager_room_feed(client, space_manager, member, activity, long_horizon_room):
    existing_booking(member.user, long_horizon_room, activity, day=FUTURE)
    token = feed_tokens.create_feed_token(user=space_manager, room=long_horizon_room)
    response = client.get(reverse("spaces:feed", args=[token.secret]))
    assert b"Secret rehearsal" in response.content


def test_occupancy_dashboard(client, space_manager, member, activity, room, site):
    existing_booking(member.user, room, activity)
    sign_in(client, space_manager)
    response = client.get(reverse("spaces:occupancy", args=[site.pk]), {"date": DAY.isoformat()})
    page = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in page
    # 2 booked hours of 6 days × 14 open hours.
    assert "2.0 / 84" in page


def test_index_lists_my_bookings(client, member, activity, long_horizon_room):
    existing_booking(member.user, long_horizon_room, activity, day=FUTURE)
    sign_in(client, member.user)
    page = client.get(reverse("spaces:index")).content.decode()
    assert "Secret rehearsal" in page


@pytest.mark.parametrize("view", ["week", "day"])
def test_manager_calendar_queries_do_not_grow_with_rooms(
    client, space_manager, member, activity, room, site, view
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    existing_booking(member.user, room, activity)
    sign_in(client, space_manager)
    url = reverse("spaces:calendar", args=[site.pk])
    query = {"date": DAY.isoformat(), "view": view}
    client.get(url, query)  # sessions and permissions warm up alike for both counts
    with CaptureQueriesContext(connection) as few_rooms:
        assert client.get(url, query).status_code == 200
    for index in range(5):
        other = make_room(site, name=f"Salle {index}")
        existing_booking(member.user, other, activity)

    with CaptureQueriesContext(connection) as more_rooms:
        page = client.get(url, query).content.decode()

    assert len(more_rooms) == len(few_rooms), [q["sql"] for q in more_rooms]
    for name in ["Salle Verte", *(f"Salle {index}" for index in range(5))]:
        assert f"{name}<" in page
    if view == "week":
        assert page.count(">10:00–12:00</a>") == 6


@pytest.mark.parametrize("name", ["spaces:calendar", "spaces:occupancy"])
@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01", "2026-02-30"])
def test_manager_pages_answer_a_date_beyond_the_calendar_with_today(
    client, space_manager, site, name, date
):
    sign_in(client, space_manager)
    url = reverse(name, args=[site.pk])
    for period in ("", "week", "month"):
        response = client.get(url, {"date": date, "period": period, "view": period})
        assert response.status_code == 200


def test_inactive_sites_rooms_are_for_managers_only(client, member, space_manager, room):
    closed = Site.objects.create(
        name="Atelier Nord", street="Rue du Nord 1", postal_code="1000", city="Bruxelles"
    )
    closed.is_active = False
    closed.save()
    hidden = make_room(closed, name="Studio Nord")
    sign_in(client, member.user)
    assert client.get(reverse("spaces:room_detail", args=[hidden.pk])).status_code == 404
    rooms = client.get(reverse("spaces:room_list")).content.decode()
    assert "Salle Verte" in rooms
    assert "Studio Nord" not in rooms
    assert "Atelier Nord" not in rooms
    client.logout()

    sign_in(client, space_manager)
    assert client.get(reverse("spaces:room_detail", args=[hidden.pk])).status_code == 200
    rooms = client.get(reverse("spaces:room_list"), {"site": closed.pk}).content.decode()
    assert "Studio Nord" in rooms
    assert "Salle Verte" not in rooms
    assert f'<option value="{closed.pk}" selected>Atelier Nord</option>' in rooms
