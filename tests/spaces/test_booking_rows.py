"""The bookings list's rows written in Python read exactly as the template loop they replace."""

import datetime
from decimal import Decimal

import pytest
from django.template import engines
from django.utils import translation

from spaces.templatetags.booking_rows import booking_list_rows

UTC = datetime.UTC

# templates/spaces/_booking_rows.html's loop before the tag.
LOOP = """{% load i18n money %}{% for booking in bookings %}
    <tr>
      <td><a href="{{ booking.url }}">{{ booking.start|date:"D j N Y, H:i" }}–{{ booking.end|date:"H:i" }}</a></td>
      <td>{{ booking.room__name }}</td>
      <td>{{ booking.title }}{% if booking.series_id %} <span class="badge">{% translate "series" %}</span>{% endif %}</td>
      <td>{% if booking.activity__name is not None %}{{ booking.activity__name }}{% else %}{{ booking.organisation__name }}{% endif %}</td>
      <td class="number">{{ booking.price_incl_vat|euro }}</td>
      <td><span class="badge booking-{{ booking.state }}">{{ booking.state_label }}</span></td>
    </tr>
  {% endfor %}"""  # noqa: E501


def row(pk, start, hours, **values):
    return {
        "pk": pk,
        "url": f"/bookings/{pk}/?a=1&b=<2>",
        "start": start,
        "end": start + datetime.timedelta(hours=hours),
        "title": 'Répétition <b>"Lumière"</b> & co',
        "state": "confirmed",
        "state_label": "Confirmée & <ok>",
        "series_id": None,
        "price_incl_vat": Decimal("1234.50"),
        "room__name": "Salle <Verte> & d'été",
        "activity__name": "Illustration & <Son>",
        "organisation__name": None,
        **values,
    }


ROWS = [
    row(1, datetime.datetime(2026, 3, 30, 22, 30, tzinfo=UTC), 3),  # the next day in Brussels
    row(2, datetime.datetime(2026, 3, 29, 0, 30, tzinfo=UTC), 2, series_id=7),  # DST change
    row(
        3,
        datetime.datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        1,
        activity__name=None,
        organisation__name="Théâtre <des> Galeries",
        state="tentative",
        price_incl_vat=None,
    ),
    row(4, datetime.datetime(2026, 12, 1, 9, 15, tzinfo=UTC), 1, activity__name=""),
    row(5, datetime.datetime(2027, 1, 5, 13, 0, tzinfo=UTC), 1, activity__name=None),
    row(6, datetime.datetime(2026, 5, 7, 7, 0, tzinfo=UTC), 1, price_incl_vat=Decimal("-5.10")),
]


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_rows_read_as_the_template_loop(language):
    with translation.override(language):
        expected = engines["django"].from_string(LOOP).render({"bookings": ROWS})
        assert booking_list_rows(ROWS) == expected
        assert booking_list_rows([]) == ""
