"""A portal client who wants one sets a password from an e-mail link's session, then signs in
with the address and that password: rate limited, audited, scoped like the link's session."""

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from portal import sessions
from portal.models import PortalAccount
from tests.portal.conftest import OTHER, SHARED, portal_browser

PASSWORD = "Affiches-de-saison-2027"


def _set(client, password=PASSWORD, again=None):
    return client.post(
        reverse("portal:password"), {"password1": password, "password2": again or password}
    )


def _sign_in(client, email=SHARED, password=PASSWORD, **extra):
    return client.post(
        reverse("portal:password_sign_in"), {"email": email, "password": password}, **extra
    )


def test_a_client_signed_in_by_link_sets_a_password_then_signs_in_with_it(client, world):
    portal_browser(client, "COMPTA@galeries.example")
    assert client.get(reverse("portal:password")).status_code == 200
    response = _set(client)
    assert response.status_code == 302
    account = PortalAccount.objects.get()
    assert account.email == SHARED
    assert check_password(PASSWORD, account.password) and PASSWORD not in account.password
    assert AuditEvent.objects.filter(
        action="created", object_pk=str(account.pk), reason="password set"
    ).exists()

    browser = Client()
    signed_in = _sign_in(browser, email="Compta@Galeries.example")
    assert signed_in.status_code == 302 and signed_in.url == reverse("portal:home")
    # Exactly what the link's session sees: the address's documents of every member.
    listed = browser.get(reverse("portal:document_list")).content.decode()
    assert world["mine"].number in listed and world["theirs"].number in listed
    assert world["different"].number not in listed
    assert AuditEvent.objects.filter(
        action="signed_in", object_pk=str(account.pk), reason="password"
    ).exists()


def test_a_wrong_password_or_an_unknown_address_gets_one_answer(client, world):
    portal_browser(client, SHARED)
    _set(client)
    wrong = _sign_in(Client(), password="not-the-password")
    unknown = _sign_in(Client(), email=OTHER)
    assert wrong.status_code == unknown.status_code == 400
    message = "This e-mail address and password do not match."
    assert message in wrong.content.decode().replace("&#x27;", "'")
    assert message in unknown.content.decode().replace("&#x27;", "'")
    assert (
        AuditEvent.objects.filter(action="rejected", reason="password sign-in refused").count() == 2
    )
    browser = Client()
    _sign_in(browser, password="nope")
    assert browser.get(reverse("portal:home")).status_code == 302


def test_password_sign_in_is_rate_limited_per_address(client, world):
    portal_browser(client, SHARED)
    _set(client)
    for attempt in range(10):
        assert (
            _sign_in(
                Client(), password=f"wrong-{attempt}", REMOTE_ADDR=f"198.51.100.{attempt}"
            ).status_code
            == 400
        )
    # Even the right password waits for the window to end.
    assert _sign_in(Client(), REMOTE_ADDR="198.51.100.99").status_code == 429
    assert _sign_in(Client(), email=OTHER, REMOTE_ADDR="198.51.100.99").status_code == 400


def test_a_password_session_cannot_change_the_password(client, world):
    """A password is set or reset only from an e-mail link's session (the link proves the
    address): a stolen password does not let anyone lock the client out."""
    portal_browser(client, SHARED)
    _set(client)
    browser = Client()
    _sign_in(browser)
    page = browser.get(reverse("portal:password"))
    assert page.status_code == 200
    # The client reads the portal in their language (French here).
    assert "connectez-vous d’abord par un lien reçu par e-mail" in page.content.decode()
    refused = _set(browser, password="Un-autre-mot-de-passe-2027")
    assert refused.status_code == 400
    assert check_password(PASSWORD, PortalAccount.objects.get().password)
    # Reset: a new e-mail link's session sets a new one.
    portal_browser(Client(), SHARED)
    fresh = portal_browser(Client(), SHARED)
    assert _set(fresh, password="Un-autre-mot-de-passe-2027").status_code == 302
    assert check_password("Un-autre-mot-de-passe-2027", PortalAccount.objects.get().password)
    assert AuditEvent.objects.filter(action="changed", reason="password changed").count() == 1


@pytest.mark.parametrize(
    ("password", "again", "message"),
    [
        ("short", None, "This password is too short"),
        ("12345678901234", None, "This password is entirely numeric"),
        (PASSWORD, "something-else-2027", "The two passwords differ."),
    ],
)
def test_weak_or_mismatched_passwords_are_refused(client, world, password, again, message):
    portal_browser(client, SHARED)
    response = _set(client, password=password, again=again)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not PortalAccount.objects.exists()


def test_the_session_remembers_how_it_was_opened(client, world):
    portal_browser(client, SHARED)
    assert client.session[sessions.SESSION_KEY]["opened_by"] == "link"
