"""``{% site_header %}`` and ``{% site_footer %}``: the layout's header and footer, each rendered
once per process for every variant instead of on every request.

The header (templates/layout/site_header.html) depends on the request only through the
language, whether someone is signed in and in which roles (a member, a space manager, staff),
which menu item is the current page, its CSRF token and the address to come back to after
switching language. It is rendered once per language, roles and current item with markers in
place of the token and the address, which each request fills in, escaped as the template would
escape them. The footer depends on the language only. Both templates see only the variables
given here, never the request or the user, so nothing of one person can reach another's page.
"""

import re

from django import template
from django.core.signals import setting_changed
from django.utils import translation
from django.utils.autoreload import file_changed
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from members.models import Member
from members.selectors import has_elevated_powers, member_of

register = template.Library()

HEADER = "layout/site_header.html"
FOOTER = "layout/site_footer.html"
# Markers rendered in place of the per-request values: plain letters, left alone by escaping.
CSRF_MARK = "coopLayoutCsrfTokenMark"
NEXT_MARK = "coopLayoutNextPathMark"
_MARKS = re.compile(f"({CSRF_MARK}|{NEXT_MARK})")
# The menu items that may be marked as the current page.
CURRENT_ITEMS = (
    "dashboard",
    "activities",
    "invoices",
    "contracts",
    "payslips",
    "bookings",
    "queue",
)
# The pages of the Activities menu item.
ACTIVITY_PAGES = ("activity_list", "activity_detail", "activity_create")

# (template, variant) -> the rendered fragment, split at its markers.
_rendered: dict[tuple, list[str]] = {}


def _forget(**kwargs) -> None:
    _rendered.clear()


# A setting changed in a test, or a template edited under the development server.
setting_changed.connect(_forget, dispatch_uid="coop.layout.setting_changed")
file_changed.connect(_forget, dispatch_uid="coop.layout.file_changed")


def _text(value) -> str:
    """A template variable's text: missing values are the empty string (string_if_invalid)."""
    return "" if value is None else str(value)


def _fragment(context, name: str, variant: tuple, variables) -> list[str]:
    """The fragment for this variant, rendered with ``variables()`` the first time."""
    key = (name, context.autoescape, variant)
    pieces = _rendered.get(key)
    if pieces is None:
        fragment = context.template.engine.get_template(name)
        text = fragment.render(template.Context(variables(), autoescape=context.autoescape))
        # The template file's final newline is not part of the fragment.
        pieces = _MARKS.split(text.removesuffix("\n"))
        if len(_rendered) > 500:
            _rendered.clear()
        _rendered[key] = pieces
    return pieces


def menu_roles(user) -> dict[str, bool]:
    """Which menus a signed-in user sees: ``member`` (a member past the application, whose
    own pages have something to show), ``manager`` (runs the sites: space managers and staff)
    and ``staff``; someone in none of them is still on their way in.

    Asks nothing of the database: the member profile and whether the user holds permissions
    were read with the user (members.backends).
    """
    member = member_of(user)
    return {
        "member": member is not None and member.status != Member.Status.APPLICANT,
        "manager": has_elevated_powers(user),
        "staff": bool(user.is_staff),
    }


@register.simple_tag(takes_context=True)
def site_header(context) -> SafeString:
    """The skip link and the header: brand, menu, language switcher, account links."""
    request = context.get("request")
    user = context.get("user")
    nav = context.get("nav") or {}
    signed_in = bool(getattr(user, "is_authenticated", False))
    roles = menu_roles(user) if signed_in else {"member": False, "manager": False, "staff": False}
    path = _text(getattr(request, "path", None))
    resolver_match = getattr(request, "resolver_match", None)
    app_name = _text(getattr(resolver_match, "app_name", None))
    url_name = _text(getattr(resolver_match, "url_name", None))
    current = (
        path == _text(nav.get("members_dashboard")),
        app_name == "members" and url_name in ACTIVITY_PAGES,
        app_name in ("invoicing", "quotes", "orders"),
        path == _text(nav.get("contracts_index")),
        path == _text(nav.get("contracts_payslips")),
        path == _text(nav.get("spaces_index")),
        path == _text(nav.get("spaces_queue")),
    )
    # Read as {% csrf_token %} reads it (asking for it sets the CSRF cookie); without a token
    # the tag writes nothing.
    csrf_token = context.get("csrf_token")
    has_token = bool(csrf_token) and csrf_token != "NOTPROVIDED"  # noqa: S105 (Django's marker)
    language = translation.get_language()

    def variables() -> dict:
        return {
            "signed_in": signed_in,
            "staff": roles["staff"],
            "menu": roles,
            "current": dict(zip(CURRENT_ITEMS, current, strict=True)),
            "nav": nav,
            "LANGUAGE_CODE": language,
            "next_path": NEXT_MARK,
            "csrf_token": CSRF_MARK if has_token else "NOTPROVIDED",
        }

    variant = (language, signed_in, tuple(roles.values()), current, has_token, tuple(nav.items()))
    pieces = _fragment(context, HEADER, variant, variables)
    values = {
        CSRF_MARK: conditional_escape(csrf_token) if has_token else "",
        NEXT_MARK: conditional_escape(request.get_full_path()) if request is not None else "",
    }
    return mark_safe(  # noqa: S308 (the template's output; the values filled in are escaped)
        "".join(values[piece] if index % 2 else piece for index, piece in enumerate(pieces))
    )


@register.simple_tag(takes_context=True)
def site_footer(context) -> SafeString:
    """The footer: the platform's line and the link to the API documentation."""
    nav = context.get("nav") or {}
    language = translation.get_language()
    pieces = _fragment(
        context,
        FOOTER,
        (language, tuple(nav.items())),
        lambda: {"nav": nav, "LANGUAGE_CODE": language},
    )
    return mark_safe("".join(pieces))  # noqa: S308 (the template's output, no marker in it)
