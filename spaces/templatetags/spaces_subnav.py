"""``{% spaces_subnav section %}``: the markup of spaces/_subnav.html written in Python.

Every bookings page starts with this menu of five links; through the template it costs five
URL reversals and as many tests per request. The tag reverses the links once per process and
writes the very same markup (tests/spaces/test_room_rows.py compares it with the template, in
each language).
"""

import functools

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_noop

register = template.Library()

# The menu's entries: section, URL name, label (translated when written), managers' only.
_ENTRIES = [
    ("mine", "spaces:index", gettext_noop("My bookings"), False),
    ("rooms", "spaces:room_list", gettext_noop("Rooms"), False),
    ("search", "spaces:search", gettext_noop("Find a free room"), False),
    ("queue", "spaces:queue", gettext_noop("Requests to approve"), True),
    ("feeds", "spaces:feeds", gettext_noop("Calendar feeds"), False),
]


@functools.lru_cache(maxsize=8)
def _links(script_prefix: str, urlconf: str | None) -> tuple[str, ...]:
    return tuple(
        conditional_escape(reverse(name, urlconf=urlconf)) for _section, name, *_rest in _ENTRIES
    )


@register.simple_tag(takes_context=True)
def spaces_subnav(context, section: str, is_manager: bool | None = None) -> SafeString:
    """The bookings menu, ``section`` marked as the current page; the managers' entry shown
    when ``is_manager`` (by default, the template's ``is_manager``)."""
    if is_manager is None:
        is_manager = context.get("is_manager")
    items = []
    for (entry, _name, label, managers_only), link in zip(
        _ENTRIES, _links(get_script_prefix(), get_urlconf()), strict=True
    ):
        current = ' aria-current="page"' if section == entry else ""
        item = f'<li><a href="{link}"{current}>{conditional_escape(gettext(label))}</a></li>'
        if managers_only:
            items.append(f"  {item if is_manager else ''}\n")
        else:
            items.append(f"  {item}\n")
    return mark_safe(  # noqa: S308 (every value is escaped above)
        f'<nav class="subnav" aria-label="{conditional_escape(gettext("Bookings"))}"><ul>\n'
        f"{''.join(items)}</ul></nav>\n"
    )
