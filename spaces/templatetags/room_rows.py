"""The rooms list's rows and site choices written in Python: the markup of their template loops.

A page of the list shows 25 rooms of six cells each, one of them their prices; through the
template engine each cell costs variable lookups, filters and escaping. These tags write the
very same markup (tests/spaces/test_room_rows.py compares them with the loops they replace, in
each language).
"""

from django import template
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from coop.templatetags.money import euro
from spaces.models import Room, Tier

register = template.Library()


def _text(value) -> str:
    """``{{ value }}``: localized, as text, escaped."""
    return conditional_escape(value if isinstance(value, str) else localize(value))


def _prices(prices: list[tuple[str, object]], tiers: dict) -> str:
    """A room's hourly prices but the residents', "Tier: amount/h" separated by "; "."""
    worded = []
    for position, (tier, per_hour) in enumerate(prices, start=1):
        if tier == Tier.RESIDENT:
            continue
        worded.append(f"{_text(str(tiers.get(tier, tier)))}: {_text(euro(per_hour))}/h")
        if position < len(prices):
            worded.append("; ")
    return "".join(worded)


@register.simple_tag
def room_list_rows(rooms: list[dict]) -> SafeString:
    """The rows of the rooms list (spaces/room_list.html), from selectors.RoomRows."""
    kinds = dict(Room.Kind.choices)
    tiers = dict(Tier.choices)
    leased = f' <span class="badge">{conditional_escape(gettext("leased"))}</span>'
    detail_prefix = reverse("spaces:room_list")  # spaces:room_detail is this and the number
    rows = []
    for room in rooms:
        name = _text(room["name"])
        if room["is_bookable"]:
            link = conditional_escape(f"{detail_prefix}{room['pk']}/")
            title = f'<a href="{link}">{name}</a>'
        else:
            title = f"{name}{leased}"
        rows.append(
            "\n    <tr>"
            f'\n      <th scope="row">{title}<br>'
            f'<span class="muted">{_text(room["site__name"])}</span></th>'
            f"\n      <td>{_text(str(kinds.get(room['kind'], room['kind'])))}</td>"
            f'\n      <td class="number">{_text(room["area_m2"])} m²</td>'
            f'\n      <td class="number">{_text(room["capacity"])}</td>'
            f"\n      <td>{_text(room['floor'])}</td>"
            f"\n      <td>{_prices(room['prices'], tiers)}</td>"
            "\n    </tr>\n  "
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value is escaped above)


@register.simple_tag
def site_options(sites: list[tuple[int, str]], selected: str | None) -> SafeString:
    """The options of the site filter, the site of ``selected`` (a pk as text) selected."""
    return mark_safe(  # noqa: S308 (every value is escaped)
        "".join(
            f'<option value="{_text(pk)}"{" selected" if selected == str(pk) else ""}>'
            f"{conditional_escape(name)}</option>"
            for pk, name in sites
        )
    )
