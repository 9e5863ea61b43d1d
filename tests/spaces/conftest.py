"""Spaces fixtures: LaVallée open 08:00–22:00 Monday to Saturday, a meeting room, prices."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from invoicing.services.clients import create_client
from members import services as member_services
from spaces.models import OpeningHours, Room, RoomPrice, Site
from tests.conftest import make_member

BRUSSELS = ZoneInfo("Europe/Brussels")
# NOW is Monday 2 March 2026, 10:00 in Brussels; bookings go to the following week.
DAY = datetime.date(2026, 3, 10)  # a Tuesday


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """An aware moment on Brussels' wall clock."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), BRUSSELS)


@pytest.fixture
def house_activity(db, staff):
    house = make_member(
        "lavallee@coop.test", legal_name="LaVallée", niss="90010100123", approver=staff
    )
    return member_services.create_activity(owner=house, name="LaVallée rentals")


@pytest.fixture
def site(house_activity):
    site = Site.objects.create(
        name="LaVallée",
        street="Rue Adolphe Lavallée 39",
        postal_code="1080",
        city="Molenbeek-Saint-Jean",
        income_activity=house_activity,
    )
    for weekday in range(6):
        OpeningHours.objects.create(
            site=site,
            weekday=weekday,
            opens_at=datetime.time(8, 0),
            closes_at=datetime.time(22, 0),
        )
    return site


def make_room(site, name="Salle Verte", **rules) -> Room:
    defaults = {
        "kind": Room.Kind.MEETING_ROOM,
        "area_m2": Decimal("45.0"),
        "capacity": 20,
        "lead_time_minutes": 60,
        "horizon_days": 90,
    }
    room = Room.objects.create(site=site, name=name, **{**defaults, **rules})
    RoomPrice.objects.create(
        room=room,
        tier="member",
        per_hour=Decimal("12.00"),
        per_half_day=Decimal("40.00"),
        per_day=Decimal("70.00"),
    )
    RoomPrice.objects.create(
        room=room, tier="resident", per_hour=Decimal("9.00"), per_month=Decimal("450.00")
    )
    RoomPrice.objects.create(
        room=room,
        tier="external",
        per_hour=Decimal("25.00"),
        per_half_day=Decimal("90.00"),
        per_day=Decimal("160.00"),
    )
    return room


@pytest.fixture
def room(site):
    return make_room(site)


@pytest.fixture
def organisation(space_manager):
    client, _created = create_client(
        owner=None,
        kind="company",
        name="Kunstenfestival vzw",
        street="Quai du Commerce 18",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="admin@kfda.example",
        language="nl",
        vat_number="BE0403019261",
    )
    return client


@pytest.fixture
def long_horizon_room(site):
    """A room bookable years ahead, for tests that go through the real clock."""
    return make_room(site, name="Salle Bleue", horizon_days=10000, requires_approval=False)
