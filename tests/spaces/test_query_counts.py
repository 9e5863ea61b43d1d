"""Spaces pages and API lists: the number of queries does not grow with the rows shown.

Complements tests/test_query_counts.py (member bookings, rooms, API bookings and rooms) with the
managers' pages, the search and the lists it did not cover: same count at 1 and at 50 rows.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateRange
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from spaces.models import Lease, OpeningHours, Site
from tests.conftest import api_client_for
from tests.spaces.conftest import DAY, at, make_room
from tests.spaces.test_occupancy import add

MANY = 50
FUTURE = datetime.date(2030, 3, 12)  # a Tuesday
WEEK_OF_FUTURE = FUTURE - datetime.timedelta(days=FUTURE.weekday())


def slot(index: int, day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The index-th free hour of the week of ``day`` (Monday to Saturday, 08:00–22:00)."""
    monday = day - datetime.timedelta(days=day.weekday())
    start_day = monday + datetime.timedelta(days=index // 14)
    return at(start_day, 8 + index % 14), at(start_day, 9 + index % 14)


class Grower:
    def __init__(self, site, room, member, activity, manager):
        self.site, self.room, self.member, self.activity = site, room, member, activity
        self.manager = manager
        self.count = 0

    def _bookings(self, number, *, state="confirmed", day=FUTURE, created_by=None, room=None):
        for _index in range(number):
            start, end = slot(self.count, day)
            booking = add(
                room or self.room, start, end, state, member=self.member, activity=self.activity
            )
            if created_by is not None:
                booking.created_by = created_by
                booking.save(update_fields=["created_by"])
            self.count += 1

    def tentative(self, number):
        self._bookings(number, state="tentative")

    def managers_own(self, number):
        self._bookings(number, created_by=self.manager)

    def week_bookings(self, number):
        self._bookings(number)

    def rooms(self, number):
        for _index in range(number):
            self.count += 1
            make_room(self.site, name=f"Room {self.count}")

    def leases(self, number):
        for _index in range(number):
            self.count += 1
            room = make_room(self.site, name=f"Atelier {self.count}", is_bookable=False)
            Lease.objects.create(
                room=room,
                member=self.member,
                activity=self.activity,
                starts_on=DAY,
                period=DateRange(DAY, None),
                monthly_rent=Decimal("450.00"),
                created_by=self.manager,
            )

    def sites(self, number):
        for _index in range(number):
            self.count += 1
            site = Site.objects.create(
                name=f"Site {self.count}", street="Rue 1", postal_code="1000", city="Bruxelles"
            )
            OpeningHours.objects.create(
                site=site, weekday=0, opens_at=datetime.time(8), closes_at=datetime.time(18)
            )


SEARCH = {"date": FUTURE.isoformat(), "start_time": "11:00", "duration_minutes": 60}

# (case, who, what to grow, address, API)
CASES = [
    ("queue", "manager", "tentative", lambda g: reverse("spaces:queue"), False),
    ("manager's own bookings", "manager", "managers_own", lambda g: reverse("spaces:index"), False),
    (
        "lease list",
        "manager",
        "leases",
        lambda g: reverse("spaces:lease_list", args=[g.site.pk]),
        False,
    ),
    (
        "calendar week",
        "manager",
        "week_bookings",
        lambda g: (
            reverse("spaces:calendar", args=[g.site.pk]) + f"?view=week&date={FUTURE.isoformat()}"
        ),
        False,
    ),
    (
        "calendar day",
        "manager",
        "week_bookings",
        lambda g: reverse("spaces:calendar", args=[g.site.pk]) + f"?date={FUTURE.isoformat()}",
        False,
    ),
    (
        "search",
        "member",
        "rooms",
        lambda g: reverse("spaces:search") + "?" + "&".join(f"{k}={v}" for k, v in SEARCH.items()),
        False,
    ),
    (
        "room week",
        "member",
        "week_bookings",
        lambda g: reverse("spaces:room_detail", args=[g.room.pk]) + f"?date={FUTURE.isoformat()}",
        False,
    ),
    ("api manager bookings", "manager", "tentative", lambda g: "/api/v1/bookings/", True),
    (
        "api bookings of a room in a window",
        "manager",
        "week_bookings",
        lambda g: (
            f"/api/v1/bookings/?room={g.room.pk}"
            f"&ends_after={WEEK_OF_FUTURE.isoformat()}T00:00:00Z"
            f"&starts_before={(WEEK_OF_FUTURE + datetime.timedelta(days=7)).isoformat()}T00:00:00Z"
        ),
        True,
    ),
    (
        "api free rooms",
        "member",
        "rooms",
        lambda g: "/api/v1/rooms/free/?" + "&".join(f"{k}={v}" for k, v in SEARCH.items()),
        True,
    ),
    ("api sites", "member", "sites", lambda g: "/api/v1/sites/", True),
]


def _count(browser, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(url)
    assert response.status_code == 200, (url, response.content[:500])
    return len(captured), response.content.decode()


@pytest.mark.parametrize(
    ("who", "grow", "url_of", "api"),
    [pytest.param(who, grow, url_of, api, id=case) for case, who, grow, url_of, api in CASES],
)
def test_spaces_query_count_does_not_grow_with_the_rows(
    client, site, member, activity, space_manager, who, grow, url_of, api
):
    room = make_room(site, name="Salle Verte", horizon_days=10000, requires_approval=False)
    grower = Grower(site, room, member, activity, space_manager)
    user = space_manager if who == "manager" else member.user
    if api:
        browser = api_client_for(user)
    else:
        browser = client
        browser.force_login(user)
    getattr(grower, grow)(1)
    url = url_of(grower)
    browser.get(url)  # warm the per-process caches (content types, sessions)
    with_one, _page = _count(browser, url)
    getattr(grower, grow)(MANY - 1)
    with_many, page = _count(browser, url)
    # A numbered list that fills its first page adds its COUNT(*) (coop.pagination): one
    # query, whatever the number of rows; an N+1 would add dozens.
    assert with_many in (with_one, with_one + 1)
    assert with_many <= 12
    if api:
        assert '"count":' in page


def test_bookings_api_filters_by_room_and_window(site, member, activity, space_manager):
    room = make_room(site, name="Salle Verte", horizon_days=10000, requires_approval=False)
    other = make_room(site, name="Salle Rouge", horizon_days=10000, requires_approval=False)
    inside = add(
        room, at(FUTURE, 10), at(FUTURE, 11), "confirmed", member=member, activity=activity
    )
    add(room, at(DAY, 10), at(DAY, 11), "confirmed", member=member, activity=activity)
    add(other, at(FUTURE, 10), at(FUTURE, 11), "confirmed", member=member, activity=activity)
    api = api_client_for(space_manager)
    window = (
        f"ends_after={FUTURE.isoformat()}T00:00:00Z&starts_before={FUTURE.isoformat()}T23:00:00Z"
    )
    body = api.get(f"/api/v1/bookings/?room={room.pk}&{window}").json()
    assert (body["count"], [row["pk"] for row in body["results"]]) == (1, [inside.pk])
    assert api.get("/api/v1/bookings/").json()["count"] == 3
    refused = api.get(
        f"/api/v1/bookings/?ends_after={FUTURE.isoformat()}T10:00:00Z"
        f"&starts_before={FUTURE.isoformat()}T09:00:00Z"
    )
    assert refused.status_code == 400
    assert "The window must end after it starts." in refused.content.decode()
    assert api.get("/api/v1/bookings/?room=abc").status_code == 400


def test_a_room_comes_with_its_prices_and_its_sites_hours_in_one_query(
    room, member, space_manager, django_assert_num_queries
):
    from members.backends import ModelBackend
    from spaces import selectors

    other_site = Site.objects.create(name="Closed site", city="Liège", is_active=False)
    hidden = make_room(other_site, name="Cellar")
    # The request's user, as the backend loads it: its role is known without a query.
    user = ModelBackend().get_user(member.user.pk)
    with django_assert_num_queries(1):
        found = selectors.room_of(user, room.pk)
        hours = selectors.opening_hours_of(found.site)
        prices = [(price.tier, price.per_hour, price.per_month) for price in found.price_list]
    assert (found.name, found.site.name) == ("Salle Verte", "LaVallée")
    assert prices == [
        ("external", Decimal("25.00"), None),
        ("member", Decimal("12.00"), None),
        ("resident", Decimal("9.00"), Decimal("450.00")),
    ]
    assert all(price.room is found for price in found.price_list)
    assert [(hour.weekday, hour.opens_at, hour.closes_at) for hour in hours] == [
        (weekday, datetime.time(8, 0), datetime.time(22, 0)) for weekday in range(6)
    ]
    # A room of an inactive site: a member does not see it, a manager sees it without hours.
    assert selectors.room_of(member.user, hidden.pk) is None
    managed = selectors.room_of(space_manager, hidden.pk)
    assert managed.name == "Cellar" and managed.site.hours_list == []
    assert len(managed.price_list) == 3
    assert selectors.room_of(member.user, 2**31 - 1) is None
