"""Space managers move bookings to another slot or room, free of fee and priced again."""

import pytest
from django.urls import reverse

from invoicing.models import Invoice
from spaces.errors import BookingError
from spaces.models import Booking, BookingEvent
from spaces.services import lifecycle
from tests.spaces.conftest import DAY, at, make_room
from tests.spaces.test_billing import book, charges
from tests.spaces.test_browser import FUTURE


def move(actor, booking, start, end, *, room=None, title=""):
    return lifecycle.move_booking(
        actor=actor,
        booking=booking,
        room=room or booking.room,
        start=start,
        end=end,
        title=title,
        now=at(DAY, 8),
    )


def test_manager_moves_a_member_booking_which_is_priced_again(
    space_manager, member, activity, room
):
    booking = book(member.user, room, at(DAY, 10), at(DAY, 12), activity=activity)

    moved = move(space_manager, booking, at(DAY, 14), at(DAY, 17))

    booking.refresh_from_db()
    assert booking.state == "cancelled"
    assert booking.state_reason == "Moved to Salle Verte, 03/10/2026 14:00–17:00."
    assert (str(booking.cancellation_fee), str(booking.refunded_amount)) == ("0.00", "24.00")
    assert (moved.state, moved.title, moved.activity, moved.member) == (
        "confirmed",
        "Workshop",
        activity,
        member,
    )
    assert (moved.start, moved.end) == (at(DAY, 14), at(DAY, 17))
    assert str(moved.price_excl_vat) == "36.00"
    # The old charge refunded in full, the new slot charged.
    assert charges(activity) == ["-24.00", "24.00", "-36.00"]


def test_a_booking_can_grow_over_its_own_slot_and_change_room(
    space_manager, member, activity, room, site
):
    booking = book(member.user, room, at(DAY, 10), at(DAY, 12), activity=activity)
    other_room = make_room(site, name="Studio")

    longer = move(space_manager, booking, at(DAY, 10), at(DAY, 13), title="Longer workshop")
    elsewhere = move(space_manager, longer, at(DAY, 10), at(DAY, 13), room=other_room)

    assert (longer.room, longer.title) == (room, "Longer workshop")
    assert (elsewhere.room, elsewhere.title, elsewhere.state) == (
        other_room,
        "Longer workshop",
        "confirmed",
    )
    assert Booking.objects.filter(state="confirmed").get() == elsewhere


def test_a_move_onto_a_taken_slot_changes_nothing(
    space_manager, member, activity, other_member, other_activity, room
):
    booking = book(member.user, room, at(DAY, 10), at(DAY, 12), activity=activity)
    book(other_member.user, room, at(DAY, 14), at(DAY, 16), activity=other_activity)
    events = BookingEvent.objects.count()

    with pytest.raises(BookingError) as caught:
        move(space_manager, booking, at(DAY, 15), at(DAY, 17))

    assert caught.value.code == "conflict"
    booking.refresh_from_db()
    assert booking.state == "confirmed"
    assert Booking.objects.count() == 2
    assert BookingEvent.objects.count() == events
    assert charges(activity) == ["-24.00"]


def test_members_do_not_move_bookings(member, activity, room):
    booking = book(member.user, room, at(DAY, 10), at(DAY, 12), activity=activity)

    with pytest.raises(BookingError) as caught:
        move(member.user, booking, at(DAY, 14), at(DAY, 16))

    assert caught.value.code == "forbidden"
    booking.refresh_from_db()
    assert booking.state == "confirmed"


def test_moving_an_outside_renter_replaces_the_pending_invoice(space_manager, room, organisation):
    booking = book(space_manager, room, at(DAY, 10), at(DAY, 13), organisation=organisation)
    first = Invoice.objects.get(pk=booking.invoice_id)

    moved = move(space_manager, booking, at(DAY, 14), at(DAY, 15))

    first.refresh_from_db()
    assert first.status == "rejected"
    invoice = Invoice.objects.get(pk=moved.invoice_id)
    assert invoice.client == organisation
    assert (str(invoice.total_excl_vat), str(invoice.total_vat)) == ("25.00", "5.25")
    assert (moved.organisation, moved.contact_name) == (organisation, booking.contact_name)


def test_manager_moves_a_booking_in_the_browser(
    client, space_manager, member, activity, long_horizon_room
):
    room = long_horizon_room
    booking = book(member.user, room, at(FUTURE, 10), at(FUTURE, 12), activity=activity)
    client.force_login(space_manager)
    url = reverse("spaces:booking_detail", args=[booking.pk])
    move_url = reverse("spaces:booking_move", args=[booking.pk])
    page = client.get(url).content.decode()
    assert f'action="{move_url}"' in page
    assert 'value="10:00"' in page

    data = {"room": room.pk, "date": FUTURE.isoformat(), "title": "Workshop"}
    response = client.post(move_url, {**data, "start_time": "09:00", "end_time": "08:00"})
    assert response.status_code == 200
    assert "The end must be after the start." in response.content.decode()
    assert Booking.objects.get().state == "confirmed"

    response = client.post(move_url, {**data, "start_time": "14:00", "end_time": "15:00"})
    moved = Booking.objects.get(state="confirmed")
    assert response.url == reverse("spaces:booking_detail", args=[moved.pk])
    assert (moved.start, moved.end) == (at(FUTURE, 14), at(FUTURE, 15))
    page = client.get(url).content.decode()
    assert "Moved to Salle Bleue, 03/12/2030 14:00–15:00." in page


def test_members_see_no_move_form(client, member, activity, long_horizon_room):
    room = long_horizon_room
    booking = book(member.user, room, at(FUTURE, 10), at(FUTURE, 12), activity=activity)
    client.force_login(member.user)
    move_url = reverse("spaces:booking_move", args=[booking.pk])

    page = client.get(reverse("spaces:booking_detail", args=[booking.pk])).content.decode()
    assert move_url not in page

    response = client.post(
        move_url,
        {
            "room": room.pk,
            "date": FUTURE.isoformat(),
            "start_time": "14:00",
            "end_time": "15:00",
            "title": "Workshop",
        },
    )
    assert response.status_code == 302
    assert "Only space managers move bookings." in client.get(response.url).content.decode()
    assert Booking.objects.get().state == "confirmed"
