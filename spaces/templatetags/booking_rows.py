"""The bookings list's rows written in Python: the markup of its template loop, faster.

The bookings page lists up to 70 bookings of six cells each, two of them dates; through the
template engine each cell costs variable lookups, filters and escaping. This tag writes the very
same markup (tests/spaces/test_booking_rows.py compares it with the loop it replaces, in each
language).
"""

from django import template
from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext

from coop.templatetags.money import euro

register = template.Library()


@register.simple_tag
def booking_list_rows(bookings: list[dict]) -> SafeString:
    """The rows of spaces/_booking_rows.html, from selectors.booking_rows with their "url"."""
    series_badge = f' <span class="badge">{conditional_escape(gettext("series"))}</span>'
    # ``{{ start|date:"D j N Y, H:i" }}``: the day's part formatted once per local day.
    days: dict = {}
    rows = []
    for booking in bookings:
        start, end = template_localtime(booking["start"]), template_localtime(booking["end"])
        day = days.get(start.date())
        if day is None:
            day = days[start.date()] = conditional_escape(date_format(start, "D j N Y"))
        if booking["activity__name"] is not None:
            payer = booking["activity__name"]
        else:
            payer = booking["organisation__name"]
        rows.append(
            "\n    <tr>"
            f'\n      <td><a href="{conditional_escape(booking["url"])}">'
            f"{day}, {start:%H:%M}–{end:%H:%M}</a></td>"
            f"\n      <td>{conditional_escape(booking['room__name'])}</td>"
            f"\n      <td>{conditional_escape(booking['title'])}"
            f"{series_badge if booking['series_id'] else ''}</td>"
            f"\n      <td>{conditional_escape(payer)}</td>"
            f'\n      <td class="number">{conditional_escape(euro(booking["price_incl_vat"]))}</td>'
            f'\n      <td><span class="badge booking-{conditional_escape(booking["state"])}">'
            f"{conditional_escape(booking['state_label'])}</span></td>"
            "\n    </tr>\n  "
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value is escaped above)
