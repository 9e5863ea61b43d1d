"""The layout's header and footer, rendered once per language and role (coop/templatetags/
layout.py), are the markup templates/base.html wrote for each request."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.template import Context, RequestContext, Template
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from django.utils import translation

from coop.templatetags import layout
from tests.conftest import make_user

# The header and the footer as templates/base.html wrote them on every request.
BASE_HEADER = """{% load i18n %}{% get_current_language as LANGUAGE_CODE %}  <a class="skip-link" href="#main">{% translate "Skip to content" %}</a>
  <header class="site-header">
    <div class="bar">
      <a class="brand" href="{{ nav.members_dashboard }}">coop</a>
      {% if user.is_authenticated %}
      <nav aria-label="{% translate 'Main' %}">
        <ul class="nav">
          <li><a href="{{ nav.members_dashboard }}"{% if request.path == nav.members_dashboard %} aria-current="page"{% endif %}>{% translate "Dashboard" %}</a></li>
          <li><a href="{{ nav.members_dashboard }}#activities">{% translate "Activities" %}</a></li>
          <li><a href="{{ nav.invoicing_invoice_list }}"{% if request.resolver_match.app_name == "invoicing" %} aria-current="page"{% endif %}>{% translate "Invoices" %}</a></li>
          <li><a href="{{ nav.contracts_index }}"{% if request.path == nav.contracts_index %} aria-current="page"{% endif %}>{% translate "Contracts" %}</a></li>
          <li><a href="{{ nav.contracts_payslips }}"{% if request.path == nav.contracts_payslips %} aria-current="page"{% endif %}>{% translate "Payslips" %}</a></li>
          <li><a href="{{ nav.spaces_index }}"{% if request.path == nav.spaces_index %} aria-current="page"{% endif %}>{% translate "Bookings" %}</a></li>
        </ul>
      </nav>
      {% endif %}
      <div class="tools">
        <form class="language-switcher" action="{{ nav.set_language }}" method="post">
          {% csrf_token %}
          <input name="next" type="hidden" value="{{ request.get_full_path }}">
          <label for="language-select" class="visually-hidden">{% translate "Language" %}</label>
          <select id="language-select" name="language">
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
    </div>
  </header>"""  # noqa: E501
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


def _rendered(context) -> tuple[str, str, str, str]:
    header, tag_header, footer, tag_footer = BOTH.render(context).split(SPLIT)
    return header, tag_header, footer, tag_footer


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_header_and_footer_are_base_html_s_markup_everywhere(member, staff, language):
    people = [AnonymousUser(), member.user, staff, make_user("plain@coop.test")]
    headers = []
    with translation.override(language):
        for _round in range(2):  # rendered the first time, reused the second
            for user in people:
                for path in PATHS:
                    request = _request(path, user)
                    header, tag_header, footer, tag_footer = _rendered(RequestContext(request, {}))
                    assert tag_header == header, (user, path)
                    assert tag_footer == footer
                    # Asking for the token sets the CSRF cookie, as {% csrf_token %} does.
                    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
                    headers.append(tag_header)
    # Every variant was met: each current item, the admin link, signed out, escaped addresses.
    assert (
        sum('aria-current="page"' in header for header in headers) == 2 * 3 * 6
    )  # signed in, on the six menu pages
    assert sum('href="/admin/"' in header for header in headers) == 2 * len(PATHS)
    assert sum('href="/accounts/signup/"' in header for header in headers) == 2 * len(PATHS)
    assert sum("%22%3E%3Cscript%3E" in header and "&amp;lang=" in header for header in headers) == (
        2 * len(people)
    )


def test_each_request_gets_its_own_token_and_address(member):
    first = _request("/invoices/?page=2", member.user)
    second = _request("/invoices/?page=3", member.user)
    first_header = _rendered(RequestContext(first, {}))[1]
    second_header = _rendered(RequestContext(second, {}))[1]
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
    _rendered(RequestContext(_request("/", member.user), {}))
    assert layout._rendered
    settings.LANGUAGES = [("fr", "French"), ("nl", "Dutch")]
    assert not layout._rendered
    with translation.override("fr"):
        header, tag_header, _footer, _tag_footer = _rendered(
            RequestContext(_request("/", member.user), {})
        )
    assert tag_header == header
    assert 'lang="en"' not in tag_header
