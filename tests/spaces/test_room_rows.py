"""The rooms list's rows and site choices written in Python read exactly as the template loops
they replace."""

import datetime
from decimal import Decimal

import pytest
from django.template import Context, engines
from django.template.loader import render_to_string
from django.utils import translation

from spaces.models import Room, Tier
from spaces.templatetags.room_rows import room_list_rows, site_options
from spaces.templatetags.spaces_subnav import spaces_subnav

UTC = datetime.UTC

# templates/spaces/room_list.html's loops before the tags, the prices as the view worded them.
LOOP = """{% load i18n money %}{% for row in rooms %}{% with room=row.room %}
    <tr>
      <th scope="row">{% if room.is_bookable %}<a href="{{ row.url }}">{{ room.name }}</a>{% else %}{{ room.name }} <span class="badge">{% translate "leased" %}</span>{% endif %}<br><span class="muted">{{ room.site.name }}</span></th>
      <td>{{ row.kind }}</td>
      <td class="number">{{ room.area_m2 }} m²</td>
      <td class="number">{{ room.capacity }}</td>
      <td>{{ room.floor }}</td>
      <td>{% for price in row.prices %}{% if price.tier != "resident" %}{{ price.label }}: {{ price.per_hour|euro }}/h{% if not forloop.last %}; {% endif %}{% endif %}{% endfor %}</td>
    </tr>
  {% endwith %}{% endfor %}"""  # noqa: E501
OPTIONS = """{% for site in sites %}<option value="{{ site.pk }}"{% if request.GET.site == site.pk|stringformat:"s" %} selected{% endif %}>{{ site.name }}</option>{% endfor %}"""  # noqa: E501


def room(pk, *, prices, **values):
    return {
        "pk": pk,
        "name": "Salle <Verte> & d'été",
        "kind": Room.Kind.MEETING_ROOM,
        "area_m2": Decimal("1234.5"),
        "capacity": 12,
        "floor": -1,
        "is_bookable": True,
        "site__name": 'LaVallée "<Molenbeek>"',
        "prices": prices,
        **values,
    }


ROOMS = [
    room(1, prices=[(Tier.EXTERNAL, Decimal("40.00")), (Tier.MEMBER, Decimal("1250.50"))]),
    room(
        2,
        kind=Room.Kind.ATELIER,
        is_bookable=False,
        floor=3,
        prices=[(Tier.MEMBER, Decimal("10.00")), (Tier.RESIDENT, Decimal("5.00"))],
    ),
    room(3, prices=[(Tier.RESIDENT, Decimal("5.00")), (Tier.MEMBER, Decimal("7.25"))]),
    room(4, kind=Room.Kind.EVENT_HALL, area_m2=Decimal("80.0"), prices=[]),
]


def as_the_loop_saw_them(rooms):
    tiers = dict(Tier.choices)
    return [
        {
            "room": {
                **row,
                "site": {"name": row["site__name"]},
            },
            "url": f"/bookings/rooms/{row['pk']}/",
            "kind": dict(Room.Kind.choices)[row["kind"]],
            "prices": [
                {"tier": tier, "label": tiers[tier], "per_hour": per_hour}
                for tier, per_hour in row["prices"]
            ],
        }
        for row in rooms
    ]


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_rows_read_as_the_template_loop(language):
    with translation.override(language):
        expected = (
            engines["django"].from_string(LOOP).render({"rooms": as_the_loop_saw_them(ROOMS)})
        )
        assert room_list_rows(ROOMS) == expected
        assert room_list_rows([]) == ""


@pytest.mark.parametrize("selected", [None, "", "2", "12", "x"])
def test_the_site_options_read_as_the_template_loop(rf, selected):
    sites = [(2, "LaVallée <Molenbeek>"), (12, "Studio & co")]
    request = rf.get("/", {} if selected is None else {"site": selected})
    expected = (
        engines["django"]
        .from_string(OPTIONS)
        .render({"sites": [{"pk": pk, "name": name} for pk, name in sites]}, request=request)
    )
    assert site_options(sites, request.GET.get("site")) == expected


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_menu_reads_as_its_template(language):
    sections = ["mine", "rooms", "search", "queue", "feeds", "calendar", None]
    with translation.override(language):
        for section in sections:
            for is_manager in (True, False, None):
                context = {"section": section, "is_manager": is_manager}
                expected = render_to_string("spaces/_subnav.html", context)
                assert spaces_subnav(Context(context), section) == expected
                assert spaces_subnav(Context({}), section, is_manager) == expected
