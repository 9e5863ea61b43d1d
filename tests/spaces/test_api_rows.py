"""The spaces API's rows are written straight from the attributes (spaces.api.DirectRead): they
must stay exactly what DRF's generic path gives, and a booking list reads no more than it shows.
"""

import datetime
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from psycopg.types.range import Range
from rest_framework import serializers

from spaces import selectors
from spaces.api import BookingSerializer, PriceSerializer, RoomSerializer, SiteSerializer
from spaces.models import Booking
from tests.conftest import api_client_for
from tests.spaces.conftest import at, make_room
from tests.spaces.test_occupancy import add

FUTURE = datetime.date(2030, 3, 12)


def generic(serializer_class, instance) -> dict:
    """What DRF's own Serializer.to_representation gives for the instance."""
    return serializers.Serializer.to_representation(serializer_class(instance), instance)


def test_rows_are_what_drf_gives(
    space_manager, site, member, activity, organisation, house_activity
):
    room = make_room(site, name="Salle Verte", amenities=["projector", "piano"])
    booked = add(
        room, at(FUTURE, 10), at(FUTURE, 12), "confirmed", member=member, activity=activity
    )
    renter = Booking.objects.create(
        room=room,
        during=Range(at(FUTURE, 14), at(FUTURE, 15, 30)),
        blocked_during=Range(at(FUTURE, 14), at(FUTURE, 15, 30)),
        title="Festival",
        state="tentative",
        organisation=organisation,
        contact_name="Jan",
        created_by=space_manager,
        tier="external",
        price_excl_vat=Decimal("37.50"),
        vat_rate=Decimal("21.00"),
        vat_amount=Decimal("7.88"),
        price_incl_vat=Decimal("45.38"),
        state_reason="Awaiting a deposit",
    )
    bookings = selectors.bookings_visible_to(space_manager)
    for booking in (bookings.get(pk=booked.pk), bookings.get(pk=renter.pk)):
        assert BookingSerializer(booking).data == generic(BookingSerializer, booking)
    shown = selectors.rooms_visible_to(space_manager).get(pk=room.pk)
    assert RoomSerializer(shown).data == generic(RoomSerializer, shown)
    assert RoomSerializer(shown).data["amenities"] == ["projector", "piano"]
    for price in shown.price_list:
        assert PriceSerializer(price).data == generic(PriceSerializer, price)
    site.refresh_from_db()
    assert SiteSerializer(site).data == generic(SiteSerializer, site)


def test_booking_list_reads_no_national_number(space_manager, site, member, activity):
    room = make_room(site, name="Salle Verte", horizon_days=10000)
    add(room, at(FUTURE, 10), at(FUTURE, 12), "confirmed", member=member, activity=activity)
    api = api_client_for(space_manager)
    with CaptureQueriesContext(connection) as captured:
        body = api.get("/api/v1/bookings/").json()
    assert [row["booker"] for row in body["results"]] == ["Ana Peeters"]
    assert not [query for query in captured if '"niss"' in query["sql"]]
