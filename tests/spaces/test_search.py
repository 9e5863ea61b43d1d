"""The free-room search page: one site at a time, the first one by default, paginated."""

import datetime
import re

import pytest
from django.urls import reverse

from spaces import views
from spaces.models import Site
from spaces.services import lifecycle
from tests.conftest import NOW, PASSWORD
from tests.spaces.conftest import at, make_room

FUTURE = datetime.date(2030, 3, 12)
SLOT = {"date": FUTURE.isoformat(), "start_time": "11:00", "duration_minutes": 60}


@pytest.fixture
def north(db):
    # Sorts before "LaVallée": the default site of the search.
    return Site.objects.create(
        name="Atelier Nord", street="Rue du Nord 1", postal_code="1000", city="Bruxelles"
    )


def sign_in(client, user):
    assert client.login(email=user.email, password=PASSWORD)
    return client


def room_names(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/bookings/rooms/\d+/[^"]*">([^<]+)</a>', html)


def test_the_first_site_is_searched_by_default(client, space_manager, site, north):
    make_room(site, name="Salle Verte")
    make_room(north, name="Studio Nord")
    sign_in(client, space_manager)

    empty = client.get(reverse("spaces:search")).content.decode()
    assert f'<option value="{north.pk}" selected>Atelier Nord</option>' in empty
    assert f'<option value="{site.pk}">LaVallée</option>' in empty

    # A link from before the selector, without a site, searches the default site.
    page = client.get(reverse("spaces:search"), SLOT).content.decode()
    assert room_names(page) == ["Studio Nord"]


def test_a_manager_searches_each_site(client, space_manager, member, activity, site, north):
    make_room(site, name="Salle Verte")
    taken = make_room(site, name="Salle Prise", horizon_days=10000)
    make_room(north, name="Studio Nord")
    lifecycle.book_room(
        actor=member.user,
        room=taken,
        start=at(FUTURE, 11),
        end=at(FUTURE, 12),
        title="Rehearsal",
        activity=activity,
        now=NOW,
    )
    sign_in(client, space_manager)

    response = client.get(reverse("spaces:search"), {**SLOT, "site": site.pk})

    page = response.content.decode()
    assert room_names(page) == ["Salle Verte"]
    assert f'<option value="{site.pk}" selected>LaVallée</option>' in page
    north_page = client.get(reverse("spaces:search"), {**SLOT, "site": north.pk})
    assert room_names(north_page.content.decode()) == ["Studio Nord"]


@pytest.mark.parametrize("value", ["abc", "999999", "-1", "99999999999999999999", "1.5"])
def test_an_unknown_site_is_a_form_error(client, space_manager, site, value):
    make_room(site, name="Salle Verte")
    sign_in(client, space_manager)

    response = client.get(reverse("spaces:search"), {**SLOT, "site": value})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose one of the sites in the list." in page
    assert room_names(page) == []
    assert "No room is free for this slot." not in page


def test_members_cannot_search_an_inactive_site(client, member, site, north):
    north.is_active = False
    north.save()
    make_room(north, name="Studio Nord")
    sign_in(client, member.user)

    page = client.get(reverse("spaces:search"), {**SLOT, "site": north.pk}).content.decode()

    assert "Choose one of the sites in the list." in page
    assert "Atelier Nord" not in page
    assert room_names(page) == []


def test_pages_keep_the_site_and_the_slot(client, space_manager, site, north, monkeypatch):
    monkeypatch.setattr(views, "ROOMS_PER_PAGE", 2)
    for name in ("Salle A", "Salle B", "Salle C"):
        make_room(site, name=name)
    make_room(north, name="Studio Nord")
    sign_in(client, space_manager)
    query = {**SLOT, "site": site.pk, "capacity": 10}

    first = client.get(reverse("spaces:search"), query).content.decode()

    assert room_names(first) == ["Salle A", "Salle B"]
    assert "Page 1 of 2" in first
    next_link = re.search(r'<a href="\?([^"]+)" rel="next">', first).group(1)
    assert sorted(next_link.replace("&amp;", "&").split("&")) == sorted(
        [
            f"date={FUTURE.isoformat()}",
            "start_time=11%3A00",
            "duration_minutes=60",
            f"site={site.pk}",
            "capacity=10",
            "page=2",
        ]
    )
    second = client.get(reverse("spaces:search"), {**query, "page": 2}).content.decode()
    assert room_names(second) == ["Salle C"]
    assert "Page 2 of 2" in second
