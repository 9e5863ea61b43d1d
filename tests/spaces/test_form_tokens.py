"""The booking form posted twice with its one-time token books once."""

import uuid

from django.urls import reverse

from spaces.models import Booking
from tests.spaces.test_browser import FUTURE


def test_the_booking_form_posted_twice_books_once(client, member, activity, long_horizon_room):
    client.force_login(member.user)
    url = reverse("spaces:room_detail", args=[long_horizon_room.pk])
    assert b'name="form_token"' in client.get(url).content
    form = {
        "form_token": uuid.uuid4().hex,
        "title": "Portfolio review",
        "date": FUTURE.isoformat(),
        "start_time": "14:00",
        "end_time": "15:30",
        "activity": activity.pk,
    }
    first = client.post(url, form)
    second = client.post(url, form)

    booking = Booking.objects.get()
    assert first["Location"] == second["Location"]
    assert first["Location"] == reverse("spaces:booking_detail", args=[booking.pk])
