"""The spaces API's rows are written from plain values (spaces.api.room_rows, booking_rows) and
from attributes (spaces.api.DirectRead): they must stay exactly what DRF's generic path of the
serializers gives, key for key and in the same order, and a booking list reads no more than it
shows.
"""

import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from psycopg.types.range import Range
from rest_framework import serializers

from audit.admin import CappedCountPaginator
from spaces import selectors
from spaces.api import (
    ROOM_COLUMNS,
    BookingSerializer,
    BusySerializer,
    PriceSerializer,
    RoomSerializer,
    SiteSerializer,
    booking_rows,
    booking_values,
    room_rows,
    room_values,
)
from spaces.models import Booking, BookingSeries, Room, RoomPrice, Site
from spaces.services import leasing
from tests.conftest import api_client_for
from tests.spaces.conftest import at, make_room
from tests.spaces.test_occupancy import add

FUTURE = datetime.date(2030, 3, 12)
SUMMER = datetime.date(2030, 7, 9)


def generic(serializer_class, instance) -> dict:
    """What DRF's own Serializer.to_representation gives for the instance."""
    return serializers.Serializer.to_representation(serializer_class(instance), instance)


def as_json(data) -> str:
    """The JSON text, keys in their order: equal dicts in another order are not the same."""
    return json.dumps(data, ensure_ascii=False)


@pytest.fixture
def varied(space_manager, site, member, activity, other_member, organisation):
    """Rooms and bookings with every kind of value the rows write."""
    room = make_room(site, name="Salle Verte", amenities=["projector", "piano"])
    bare = make_room(
        site,
        name="Cave",
        kind=Room.Kind.STUDIO,
        area_m2=Decimal("100"),
        floor=-1,
        accessibility_notes="Stairs only <b>&</b> a ramp",
        is_bookable=False,
        requires_approval=True,
        cancellation_fee_percent=Decimal("12.5"),
    )
    bare.prices.all().delete()
    RoomPrice.objects.create(room=bare, tier="member", per_hour=Decimal("0"))
    make_room(site, name="Studio 3", area_m2=Decimal("7.25"))
    closed = Site.objects.create(name="Old depot", is_active=False, city="Anderlecht")
    make_room(closed, name="Depot")
    add(room, at(FUTURE, 10), at(FUTURE, 12), "confirmed", member=member, activity=activity)
    add(room, at(SUMMER, 9), at(SUMMER, 9, 30), "tentative", member=member, activity=activity)
    series = BookingSeries.objects.create(
        room=room, frequency="weekly", count=2, created_by=member.user
    )
    add(
        bare,
        at(FUTURE, 14),
        at(FUTURE, 15),
        "cancelled",
        member=other_member,
        activity=other_member.activities.create(name="Other"),
        fee="4.50",
    )
    Booking.objects.filter(room=bare).update(
        series=series, refunded_amount=Decimal("1.10"), state_reason="Ill « really »"
    )
    Booking.objects.create(
        room=room,
        during=Range(at(FUTURE, 14), at(FUTURE, 15, 30)),
        blocked_during=Range(at(FUTURE, 13, 45), at(FUTURE, 15, 45)),
        title="Festival <script>",
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
    return room


@pytest.mark.parametrize("zone", ["Europe/Brussels", "UTC", "America/St_Johns"])
def test_rows_are_what_the_serializers_write(varied, space_manager, zone):
    rooms = selectors.rooms_visible_to(space_manager).order_by("site", "floor", "name")
    assert rooms.count() == 4
    expected = [generic(RoomSerializer, room) for room in rooms]
    assert as_json(room_rows(list(room_values(rooms)))) == as_json(expected)
    bookings = selectors.bookings_visible_to(space_manager).order_by("during", "pk")
    assert bookings.count() == 4
    with timezone.override(zone):
        expected = [generic(BookingSerializer, booking) for booking in bookings]
        assert as_json(booking_rows(list(booking_values(bookings)))) == as_json(expected)
    written = {row["title"]: row for row in expected}
    assert written["Festival <script>"]["booker"] == "Kunstenfestival vzw"
    assert written["t"]["series"] is None


def test_the_api_answers_each_user_what_the_serializers_write(
    varied, space_manager, member, other_member
):
    """Members and managers see different rooms and bookings: each gets their own, written as
    the serializers write them."""
    for user in (space_manager, member.user, other_member.user):
        api = api_client_for(user)
        rooms = selectors.rooms_visible_to(user).order_by("site", "floor", "name")
        listed = api.get("/api/v1/rooms/").json()
        assert as_json(listed["results"]) == as_json([generic(RoomSerializer, r) for r in rooms])
        for room in rooms:
            answer = api.get(f"/api/v1/rooms/{room.pk}/").json()
            assert as_json(answer) == as_json(generic(RoomSerializer, room))
        bookings = selectors.bookings_visible_to(user).order_by("during", "pk")
        listed = api.get("/api/v1/bookings/").json()
        expected = [generic(BookingSerializer, booking) for booking in bookings]
        assert as_json(listed["results"]) == as_json(expected)
        assert listed["count"] == len(expected)
        for booking in bookings:
            answer = api.get(f"/api/v1/bookings/{booking.pk}/").json()
            assert as_json(answer) == as_json(generic(BookingSerializer, booking))
    assert api_client_for(member.user).get("/api/v1/rooms/").json()["count"] == 3
    assert api_client_for(space_manager).get("/api/v1/rooms/").json()["count"] == 4
    assert len(api_client_for(member.user).get("/api/v1/bookings/").json()["results"]) == 2
    assert len(api_client_for(space_manager).get("/api/v1/bookings/").json()["results"]) == 4


def test_free_and_busy_answers_are_what_the_serializers_write(varied, space_manager, member):
    # Without a site, the rooms of every site the user sees: the manager's include the closed one.
    for user, names in ((space_manager, ["Studio 3", "Depot"]), (member.user, ["Studio 3"])):
        api = api_client_for(user)
        free = api.get(
            "/api/v1/rooms/free/",
            {"date": FUTURE.isoformat(), "start_time": "14:00", "duration_minutes": 60},
        ).json()
        rooms = selectors.rooms_visible_to(user).filter(name__in=names).order_by("site__name")
        expected = [generic(RoomSerializer, room) for room in rooms]
        assert free["count"] == len(names)
        assert as_json(free["results"]) == as_json(expected)
        window = {"start": at(FUTURE, 0).isoformat(), "end": at(FUTURE, 23).isoformat()}
        busy = api.get(f"/api/v1/rooms/{varied.pk}/busy/", window).json()
        expected = BusySerializer(
            [
                {"start": at(FUTURE, 10), "end": at(FUTURE, 12)},
                {"start": at(FUTURE, 13, 45), "end": at(FUTURE, 15, 45)},
            ],
            many=True,
        ).data
        assert as_json(busy) == as_json(expected)
        assert busy[0] == {"start": "2030-03-12T10:00:00+01:00", "end": "2030-03-12T12:00:00+01:00"}


def test_rooms_of_an_inactive_site_are_not_found_by_members(varied, space_manager, member):
    depot = Room.objects.get(name="Depot")
    window = {"start": at(FUTURE, 0).isoformat(), "end": at(FUTURE, 23).isoformat()}
    member_api = api_client_for(member.user)
    assert member_api.get(f"/api/v1/rooms/{depot.pk}/").status_code == 404
    assert member_api.get(f"/api/v1/rooms/{depot.pk}/busy/", window).status_code == 404
    assert member_api.get("/api/v1/rooms/abc/busy/", window).status_code == 404
    manager_api = api_client_for(space_manager)
    assert manager_api.get(f"/api/v1/rooms/{depot.pk}/").json()["name"] == "Depot"
    assert manager_api.get(f"/api/v1/rooms/{depot.pk}/busy/", window).json() == []


def test_serializers_rows_are_what_drf_gives(
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


def test_booking_list_counts_from_the_index_alone_and_caps_the_count(
    space_manager, site, member, activity, monkeypatch
):
    room = make_room(site, name="Salle Verte", horizon_days=10000)
    for hour in range(8, 20):
        for day in range(5):
            moment = FUTURE + datetime.timedelta(days=day)
            add(
                room,
                at(moment, hour),
                at(moment, hour, 30),
                "confirmed",
                member=member,
                activity=activity,
            )
    api = api_client_for(space_manager)
    with CaptureQueriesContext(connection) as captured:
        body = api.get("/api/v1/bookings/").json()
    assert body["count"] == 60
    assert len(body["results"]) == 50
    counts = [query["sql"] for query in captured if "COUNT(" in query["sql"]]
    assert len(counts) == 1
    assert "JOIN" not in counts[0]
    second = api.get("/api/v1/bookings/?page=2").json()
    assert [row["pk"] for row in second["results"]] == list(
        Booking.objects.order_by("during", "pk").values_list("pk", flat=True)[50:]
    )
    monkeypatch.setattr(CappedCountPaginator, "CAP", 54)
    assert api.get("/api/v1/bookings/").json()["count"] == 55
    assert api.get("/api/v1/bookings/?page=2").json()["next"] is None


def test_free_room_values_are_free_rooms_values(
    varied, space_manager, member, activity, other_member
):
    """The written statement finds what the queryset finds, filter by filter, for each role."""
    site = varied.site
    make_room(site, name="Grande salle", kind=Room.Kind.EVENT_HALL, capacity=120)
    leased = make_room(site, name="Atelier 4", kind=Room.Kind.ATELIER, capacity=2)
    leasing.create_lease(
        actor=space_manager, room=leased, activity=activity, starts_on=datetime.date(2030, 1, 1)
    )
    # Ends as the slot starts: not in the way ([start, end) ranges).
    add(
        Room.objects.get(name="Studio 3"),
        at(FUTURE, 13),
        at(FUTURE, 14),
        "confirmed",
        member=member,
        activity=activity,
    )
    depot = Room.objects.get(name="Depot")
    slots = [
        (at(FUTURE, 14), at(FUTURE, 15)),
        (at(FUTURE, 9), at(FUTURE, 10, 30)),
        (at(FUTURE, 16), at(FUTURE, 17)),
    ]
    filters = [
        {},
        {"site": site},
        {"site": depot.site},
        {"capacity": 21},
        {"capacity": 20, "kind": Room.Kind.MEETING_ROOM},
        {"kind": Room.Kind.ATELIER},
    ]
    found = set()
    for user in (space_manager, member.user, other_member.user):
        for start, end in slots:
            for wanted in filters:
                expected = list(
                    selectors.free_rooms(user=user, start=start, end=end, **wanted).values(
                        *ROOM_COLUMNS
                    )
                )
                written = selectors.free_room_values(
                    user=user, columns=ROOM_COLUMNS, start=start, end=end, **wanted
                )
                assert written == expected, (user, start, wanted)
                found.update(row["name"] for row in written)
    assert found == {"Salle Verte", "Studio 3", "Depot", "Grande salle"}


def test_the_written_booking_list_is_the_visible_bookings(
    varied, space_manager, member, other_member
):
    """``selectors.booking_list`` (the API list's written statements) gives the rows and the
    count of ``bookings_visible_to`` with the same filters, for members and managers: a member
    never reads another's booking."""
    window = Range(at(FUTURE, 11), at(SUMMER, 9, 15))
    filters = [{}, {"room": varied.pk}, {"during": window}, {"room": varied.pk, "during": window}]
    for user in (space_manager, member.user, other_member.user):
        for given in filters:
            bookings = selectors.bookings_visible_to(user).order_by("during", "pk")
            if given.get("room"):
                bookings = bookings.filter(room_id=given["room"])
            if given.get("during"):
                bookings = bookings.filter(during__overlap=given["during"])
            written = selectors.booking_list(user, **given, cap=CappedCountPaginator.CAP)
            expected = list(booking_values(bookings))
            assert written[0:50] == expected
            assert written[1:3] == expected[1:3]
            assert written.count() == len(expected)
    assert selectors.booking_list(space_manager, cap=2).count() == 3
    assert {row["member_id"] for row in selectors.booking_list(member.user, cap=9)[0:9]} == {
        member.pk
    }


def test_the_written_room_list_is_the_visible_rooms(varied, space_manager, member):
    """``selectors.room_list`` gives the rows and count of ``room_values`` of the rooms the user
    sees, in their order: members none of an inactive site, managers every one."""
    for user, count in [(space_manager, 4), (member.user, 3)]:
        rooms = room_values(selectors.rooms_visible_to(user).order_by("site", "floor", "name"))
        written = selectors.room_list(user, columns=ROOM_COLUMNS)
        assert written.count() == count
        assert written[0:50] == list(rooms)
        assert written[1:3] == list(rooms)[1:3]
    assert {"projector", "piano"} <= {
        amenity for row in written[0:50] for amenity in row["amenities"]
    }
