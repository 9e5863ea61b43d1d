"""Staff find bookings in the admin by a part of the room's name or of the member's name,
through indexes: each name is looked up in its own table first."""

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members import services as member_services
from tests.conftest import make_member
from tests.spaces.conftest import DAY, at, make_room
from tests.spaces.test_booking_rules import book

URL = reverse("admin:spaces_booking_changelist")


@pytest.fixture
def staff_client(client, staff):
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)
    return client


@pytest.fixture
def bookings(site, room, member, activity, staff):
    """A booking of Ana Peeters in Salle Verte and one of Bob Lenoir in the Studio."""
    studio = make_room(site, name="Studio Rouge")
    bob = make_member("bob@coop.test", legal_name="Bob Lenoir", niss="", approver=staff)
    bobs = member_services.create_activity(owner=bob, name="Concerts")
    green = book(member, activity, room, at(DAY, 10), at(DAY, 12), title="Atelier vert")
    red = book(bob, bobs, studio, at(DAY, 10), at(DAY, 12), title="Répétition rouge")
    return green, red


def titles_found(staff_client, term: str) -> list[str]:
    page = staff_client.get(URL, {"q": term}).content.decode()
    return re.findall(r'class="field-title"><a [^>]*>([^<]+)</a>', page)


def test_staff_find_bookings_by_a_part_of_the_room_name(staff_client, bookings):
    assert titles_found(staff_client, "verte") == ["Atelier vert"]
    assert titles_found(staff_client, "STUDIO") == ["Répétition rouge"]
    assert titles_found(staff_client, "salle") == ["Atelier vert"]


def test_staff_still_find_bookings_by_the_members_name(staff_client, bookings):
    assert titles_found(staff_client, "lenoir") == ["Répétition rouge"]
    assert titles_found(staff_client, "peeters") == ["Atelier vert"]
    assert titles_found(staff_client, "nowhere") == []


def test_the_search_reads_bookings_by_their_indexes(staff_client, bookings):
    staff_client.get(URL)  # the session and the content types settle first
    with CaptureQueriesContext(connection) as captured:
        assert staff_client.get(URL, {"q": "verte"}).status_code == 200
    # The rooms and members are looked up first, each in its own table: no OR of the two
    # names across the joins, which would read every booking.
    searching = [query["sql"] for query in captured if "%verte%" in query["sql"].lower()]
    assert len(searching) == 2
    assert all('FROM "spaces_booking"' not in sql for sql in searching)
    # Then the bookings of those rooms (no member is named so), through the index of the key.
    listed = [
        query["sql"]
        for query in captured
        if query["sql"].startswith('SELECT "spaces_booking"."id", "spaces_booking"."room_id"')
    ]
    assert len(listed) == 1
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {listed[0]}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # An index scan or a bitmap scan of it, as the planner prefers for so few rows.
    assert re.search(r"Index Scan (using|on) spaces_booking_room_id", plan), plan
    assert "Seq Scan" not in plan, plan
