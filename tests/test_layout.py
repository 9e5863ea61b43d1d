"""The layout's header and footer, rendered once per language and role (coop/templatetags/
layout.py), are the markup templates/base.html wrote for each request."""

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.contrib.sessions.backends.db import SessionStore
from django.template import Context, RequestContext, Template
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from django.utils import translation

from coop.templatetags import layout
from members.models import Member
from tests.conftest import make_member, make_user

# The header's menu as a template would write it on every request, from the request, the user and
# what the test knows of their roles (``is_member``, ``is_manager``), written twice (``place``).
BASE_MENU = """{% if user.is_authenticated %}
      <nav aria-label="{% translate 'Main' %}">
        <ul class="nav">
          <li><a href="{{ nav.members_dashboard }}"{% if request.path == nav.members_dashboard %} aria-current="page"{% endif %}>{% if is_member or is_manager %}{% translate "Dashboard" %}{% else %}{% translate "Getting started" %}{% endif %}</a></li>
          {% if is_member %}<li><a href="{{ nav.members_activity_list }}"{% if request.resolver_match.app_name == "members" and request.resolver_match.url_name in activity_pages %} aria-current="page"{% endif %}>{% translate "Activities" %}</a></li>{% endif %}
          {% if is_member or user.is_staff %}<li><a href="{{ nav.invoicing_invoice_list }}"{% if request.resolver_match.app_name == "invoicing" %} aria-current="page"{% endif %}>{% translate "Invoices" %}</a></li>
          <li><a href="{{ nav.contracts_index }}"{% if request.path == nav.contracts_index %} aria-current="page"{% endif %}>{% translate "Contracts" %}</a></li>{% endif %}
          {% if is_member %}<li><a href="{{ nav.contracts_payslips }}"{% if request.path == nav.contracts_payslips %} aria-current="page"{% endif %}>{% translate "Payslips" %}</a></li>{% endif %}
          {% if is_member or is_manager %}<li><a href="{{ nav.spaces_index }}"{% if request.path == nav.spaces_index %} aria-current="page"{% endif %}>{% translate "Bookings" %}</a></li>{% endif %}
          {% if is_manager %}<li><a href="{{ nav.spaces_queue }}"{% if request.path == nav.spaces_queue %} aria-current="page"{% endif %}>{% translate "Booking requests" %}</a></li>{% endif %}
        </ul>
      </nav>
      {% endif %}
      <div class="tools">
        <form class="language-switcher" action="{{ nav.set_language }}" method="post">
          {% csrf_token %}
          <input name="next" type="hidden" value="{{ request.get_full_path }}">
          <label for="language-select-PLACE" class="visually-hidden">{% translate "Language" %}</label>
          <select id="language-select-PLACE" name="language">
            {% get_available_languages as LANGUAGES %}
            {% get_language_info_list for LANGUAGES as languages %}
            {% for language in languages %}
            <option value="{{ language.code }}" lang="{{ language.code }}"{% if language.code == LANGUAGE_CODE %} selected{% endif %}>{{ language.name_local|capfirst }}</option>
            {% endfor %}
          </select>
          <button type="submit" class="button small">{% translate "Switch" %}</button>
        </form>
        {% if user.is_authenticated %}
        <nav aria-label="{% translate 'Account' %}">
          <ul class="nav">
            <li><a href="{{ nav.members_profile }}">{% translate "Profile" %}</a></li>
            {% if user.is_staff %}<li><a href="{{ nav.admin_index }}">{% translate "Admin" %}</a></li>{% endif %}
            <li><a href="{{ nav.account_logout }}">{% translate "Sign out" %}</a></li>
          </ul>
        </nav>
        {% else %}
        <nav aria-label="{% translate 'Account' %}">
          <ul class="nav">
            <li><a href="{{ nav.account_login }}">{% translate "Sign in" %}</a></li>
            <li><a href="{{ nav.account_signup }}">{% translate "Sign up" %}</a></li>
          </ul>
        </nav>
        {% endif %}
      </div>
"""  # noqa: E501
BASE_HEADER = (
    "{% load i18n %}{% get_current_language as LANGUAGE_CODE %}"
    """  <a class="skip-link" href="#main">{% translate "Skip to content" %}</a>
  <header class="site-header">
    <div class="bar">
      <a class="brand" href="{{ nav.members_dashboard }}">coop</a>
      <div class="site-menu wide">"""
    + BASE_MENU.replace("PLACE", "wide")
    + """</div>
      <details class="site-menu narrow">
        <summary>{% translate "Menu" %}</summary>
        <div class="site-menu-panel">"""
    + BASE_MENU.replace("PLACE", "narrow")
    + """</div>
      </details>
    </div>
  </header>"""
)
BASE_FOOTER = """{% load i18n %}  <footer class="site-footer">
    <p>{% blocktranslate %}coop — the platform of a cooperative of freelancers.{% endblocktranslate %}
      <a href="{{ nav.api_docs }}">{% translate "API" %}</a></p>
  </footer>"""  # noqa: E501
SPLIT = "\n=====\n"
BOTH = Template(
    BASE_HEADER
    + SPLIT
    + "{% load layout %}  {% site_header %}"
    + SPLIT
    + BASE_FOOTER
    + SPLIT
    + "{% load layout %}  {% site_footer %}"
)
PATHS = [
    "/",
    "/activities/",
    "/bookings/queue/",
    "/invoices/",
    "/invoices/clients/",
    "/contracts/",
    "/payslips/",
    "/bookings/",
    "/profile/",
    '/profile/?next="><script>alert(1)</script>&lang=é',
    "/nowhere/",
]


def _request(path: str, user):
    request = RequestFactory().get(path)
    request.user = user
    request.session = SessionStore()
    try:
        request.resolver_match = resolve(request.path)
    except Resolver404:
        request.resolver_match = None  # as on a 404 page
    return request


def _roles(user) -> dict:
    """What the reference template is told of the user's roles, asked of the database."""
    if not user.is_authenticated:
        return {}
    return {
        "is_member": Member.objects.filter(user=user).exclude(status="applicant").exists(),
        "is_manager": user.is_staff
        or Permission.objects.filter(user=user).exists()
        or Permission.objects.filter(group__user=user).exists(),
        "activity_pages": ["activity_list", "activity_detail", "activity_create"],
    }


def _context(request) -> RequestContext:
    return RequestContext(request, _roles(request.user))


def _rendered(context) -> tuple[str, str, str, str]:
    header, tag_header, footer, tag_footer = BOTH.render(context).split(SPLIT)
    return header, tag_header, footer, tag_footer


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_header_and_footer_are_base_html_s_markup_everywhere(
    member, staff, space_manager, language
):
    applicant = make_member("new@coop.test", legal_name="Noa", niss="90020112305", active=False)
    people = {
        "anonymous": AnonymousUser(),
        "member": member.user,
        "staff": staff,
        "signed up": make_user("plain@coop.test"),
        "applicant": applicant.user,
        "space manager": space_manager,
    }
    headers = {}
    with translation.override(language):
        for _round in range(2):  # rendered the first time, reused the second
            for name, user in people.items():
                for path in PATHS:
                    request = _request(path, user)
                    header, tag_header, footer, tag_footer = _rendered(_context(request))
                    assert tag_header == header, (name, path)
                    assert tag_footer == footer
                    # Asking for the token sets the CSRF cookie, as {% csrf_token %} does.
                    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
                    headers.setdefault((name, path), []).append(tag_header)
    # The current item of each role's menu, on its pages (the menu is written twice).
    current = {
        name: {
            path
            for (who, path), [header, _] in headers.items()
            if who == name and header.count('aria-current="page"') == 2
        }
        for name in people
    }
    assert current == {
        "anonymous": set(),
        "member": {
            "/",
            "/activities/",
            "/invoices/",
            "/invoices/clients/",
            "/contracts/",
            "/payslips/",
            "/bookings/",
        },
        "staff": {
            "/",
            "/invoices/",
            "/invoices/clients/",
            "/contracts/",
            "/bookings/",
            "/bookings/queue/",
        },
        "signed up": {"/"},
        "applicant": {"/"},
        "space manager": {"/", "/bookings/", "/bookings/queue/"},
    }
    menus = {name: headers[(name, "/profile/")][0] for name in people}
    for name in ("signed up", "applicant"):
        assert "Getting started" in menus[name] or language != "en"
        for address in ("/activities/", "/invoices/", "/contracts/", "/payslips/", "/bookings/"):
            assert f'href="{address}"' not in menus[name], (name, address)
    assert 'href="/activities/"' in menus["member"]
    assert "#activities" not in menus["member"]
    assert 'href="/bookings/queue/"' in menus["space manager"]
    assert 'href="/invoices/"' not in menus["space manager"]
    all_headers = [header for pair in headers.values() for header in pair]
    assert sum('href="/admin/"' in header for header in all_headers) == 2 * len(PATHS)
    assert sum('href="/accounts/signup/"' in header for header in all_headers) == 2 * len(PATHS)
    assert sum(
        "%22%3E%3Cscript%3E" in header and "&amp;lang=" in header for header in all_headers
    ) == 2 * len(people)


def test_each_request_gets_its_own_token_and_address(member):
    first = _request("/invoices/?page=2", member.user)
    second = _request("/invoices/?page=3", member.user)
    first_header = _rendered(_context(first))[1]
    second_header = _rendered(_context(second))[1]
    assert 'value="/invoices/?page=2"' in first_header
    assert 'value="/invoices/?page=3"' in second_header
    assert first.META["CSRF_COOKIE"] != second.META["CSRF_COOKIE"]
    token = 'name="csrfmiddlewaretoken" value="'
    assert first_header.split(token)[1][:64] != second_header.split(token)[1][:64]


def test_without_a_request_the_layout_is_base_html_s_too(db):
    for context in (Context({}), Context({"csrf_token": "NOTPROVIDED"})):
        header, tag_header, footer, tag_footer = _rendered(context)
        assert tag_header == header
        assert tag_footer == footer
        assert "csrfmiddlewaretoken" not in tag_header


def test_a_changed_setting_renders_the_fragments_again(member, settings):
    _rendered(_context(_request("/", member.user)))
    assert layout._rendered
    settings.LANGUAGES = [("fr", "French"), ("nl", "Dutch")]
    assert not layout._rendered
    with translation.override("fr"):
        header, tag_header, _footer, _tag_footer = _rendered(_context(_request("/", member.user)))
    assert tag_header == header
    assert 'lang="en"' not in tag_header
