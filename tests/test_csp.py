"""Content-Security-Policy: every page gets it, and no page or template runs an inline script."""

import re
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings as django_settings
from django.urls import reverse

from members.models import User
from tests.test_browser_pages import MEMBER, SPACE_MANAGER, demo, manager_pages, member_pages

__all__ = ["demo"]

TEMPLATES = Path(django_settings.BASE_DIR) / "templates"
# <script> types that hold data, which browsers never execute.
DATA_TYPES = {"application/json", "application/ld+json", "text/template"}


class ScriptFinder(HTMLParser):
    """Collect what a CSP without 'unsafe-inline' would block, and the external scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.sources: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.inline.append(f"<{tag} {name}=…>")
            if name in {"href", "src", "action", "formaction"} and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.inline.append(f"<{tag} {name}={value}>")
        if tag == "script":
            if attributes.get("src"):
                self.sources.append(attributes["src"])
            elif (attributes.get("type") or "").lower() not in DATA_TYPES and not attributes.get(
                "nonce"
            ):
                self._in_inline_script = True

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.inline.append(f"<script>{data.strip()[:60]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False


def scripts_of(html: str) -> ScriptFinder:
    finder = ScriptFinder()
    finder.feed(html)
    return finder


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_strict(response, url: str) -> None:
    policy = policy_of(response)
    assert policy["script-src"] == ["'self'"], url
    assert policy["object-src"] == ["'none'"], url
    assert policy["frame-ancestors"] == ["'none'"], url
    assert "'unsafe-inline'" not in policy.get("default-src", []), url
    finder = scripts_of(response.content.decode())
    assert finder.inline == [], url
    for source in finder.sources:
        assert source.startswith("/"), (url, source)


def test_the_policy_is_on_a_member_page(client, member):
    client.force_login(member.user)
    response = client.get("/")
    assert response.status_code == 200
    policy = policy_of(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    handler = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.DOTALL)
    for path in sorted(TEMPLATES.rglob("*.html")):
        if "pdf" in path.relative_to(TEMPLATES).parts:
            continue  # PDF layouts are rendered by WeasyPrint, which runs no script.
        text = path.read_text()
        finder = scripts_of(re.sub(r"{%.*?%}|{{.*?}}", "", text, flags=re.DOTALL))
        offenders += [f"{path.relative_to(TEMPLATES)}: {item}" for item in finder.inline]
        if handler.search(text):
            offenders.append(f"{path.relative_to(TEMPLATES)}: inline event handler")
    assert offenders == []


def test_the_finder_catches_inline_scripts_and_handlers():
    finder = scripts_of(
        '<script>alert(1)</script><button onclick="x()">b</button><a href="javascript:x()">a</a>'
        '<script type="application/json">{"a": 1}</script><script src="/static/js/a.js"></script>'
        '<script nonce="abc">ok()</script>'
    )
    assert finder.inline == [
        "<script>alert(1)",
        "<button onclick=…>",
        "<a href=javascript:x()>",
    ]
    assert finder.sources == ["/static/js/a.js"]


def test_demo_pages_run_only_our_own_script_files(client, demo):
    member = User.objects.get(email=MEMBER)
    client.force_login(member)
    urls = [*member_pages(member)]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response, url)
    invoice_form = client.get(reverse("invoicing:invoice_create")).content.decode()
    assert "/static/js/invoice-form.js" in scripts_of(invoice_form).sources
    contract_form = client.get(reverse("contracts:create")).content.decode()
    assert "/static/js/work-days.js" in scripts_of(contract_form).sources

    client.force_login(User.objects.get(email=SPACE_MANAGER))
    for url in manager_pages():
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response, url)


def test_sign_in_admin_and_api_pages_carry_the_policy(client, staff, member, settings):
    for url in ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response, url)

    settings.COOP_STAFF_REQUIRE_TWO_FACTOR = False
    client.force_login(staff)
    for url in [
        "/admin/",
        "/admin/members/member/",
        f"/admin/members/member/{member.pk}/change/",
        "/admin/members/user/add/",
        "/accounts/reauthenticate/",
        "/accounts/email/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response, url)

    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert_strict(docs, "/api/docs/")
    sources = scripts_of(docs.content.decode()).sources
    start_up = [source for source in sources if "script=" in source]
    assert len(start_up) == 1
    script = client.get(start_up[0])
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()

    browsable = client.get("/api/v1/me", HTTP_ACCEPT="text/html")
    assert browsable.status_code == 200
    assert_strict(browsable, "/api/v1/me (browsable)")
