"""Persona fixtures shared by every test: members, staff, a space manager."""

import datetime
import html as html_module
import importlib
import os
import re
import secrets
import threading
import uuid
from collections.abc import Callable

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone, translation
from rest_framework.test import APIClient

from members import services
from members.models import ApiToken, Member, User
from members.selectors import has_elevated_powers

PASSWORD = "a-long-test-password-42"
NOW = timezone.make_aware(datetime.datetime(2026, 3, 2, 10, 0))


@pytest.fixture(autouse=True)
def _isolated_settings(settings):
    """Fast password hashing, English messages, and a cache namespace of the test's own."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LANGUAGE_CODE = "en"
    translation.activate("en")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "KEY_PREFIX": f"test-{worker}-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture(autouse=True)
def _fresh_kept_figures():
    """Nothing a page keeps per process (payroll parameters shown, a member's open invoices)
    outlives a test."""
    from contracts import parameters
    from members import home

    parameters._SHOWN.clear()
    home._KEPT_RECEIVABLES.rows.clear()


# Reference rows written by data migrations, by the model that shows they are there, in
# migration order (the payroll year adds its rates to the first ones).
SEEDED_BY_MIGRATIONS = (
    ("contracts", "PayrollRate", "contracts.migrations.0002_payroll_parameters"),
    ("contracts", "AllowanceRate", "contracts.migrations.0011_allowance_rates"),
    ("contracts", "YearEndPremiumRule", "contracts.migrations.0013_payroll_year"),
    ("copyrights", "CopyrightParameters", "copyrights.migrations.0002_copyright_parameters_seed"),
    ("invoicing", "BankAccount", "invoicing.migrations.0008_seed_bank_accounts"),
)


def restore_rows_of_data_migrations() -> None:
    """Put back the rows data migrations wrote. A transactional test empties every table when
    it ends: post_migrate recreates groups, content types and permissions, not these."""
    from django.apps import apps

    for app_label, model_name, module in SEEDED_BY_MIGRATIONS:
        if not apps.get_model(app_label, model_name).objects.exists():
            importlib.import_module(module).seed(apps, None)


@pytest.fixture(autouse=True)
def _rows_of_data_migrations(request):
    """Transactional tests start with the rows of data migrations, whatever test emptied the
    tables before. (Journeys put them back in their own fixture, once Playwright's event loop
    allows ORM calls: see tests/journeys/conftest.py.)"""
    if "live_server" in request.fixturenames:
        return
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or (
        "transactional_db" in request.fixturenames
    )
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    restore_rows_of_data_migrations()


def make_user(email: str, **flags) -> User:
    """Create a user with a verified e-mail address."""
    user = User.objects.create_user(email=email, password=PASSWORD, **flags)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def make_member(
    email: str,
    *,
    legal_name: str,
    niss: str,
    iban: str = "BE71096123456769",
    active: bool = True,
    approver: User | None = None,
) -> Member:
    """Create an applicant, and make them active (approved, first share paid) unless told not to."""
    user = make_user(email)
    member = services.apply_for_membership(
        user=user,
        legal_name=legal_name,
        street="Rue Ransfort 27",
        postal_code="1080",
        city="Molenbeek-Saint-Jean",
        country="BE",
        phone="+32 2 542 10 80",
        preferred_language="fr",
        iban=iban,
        niss=niss,
        number_of_shares=1,
        today=NOW.date(),
        now=NOW,
    )
    if active:
        approver = approver or make_user(
            f"approver-{uuid.uuid4().hex[:8]}@coop.test", is_staff=True
        )
        services.approve_application(member=member, actor=approver, now=NOW)
        services.record_share_payment(
            subscription=member.shares.get(), paid_on=NOW.date(), actor=approver, now=NOW
        )
        member.refresh_from_db()
    return member


def run_at_once(action: Callable[[], str], *, times: int) -> list[str]:
    """Run ``action`` in ``times`` threads released together; return their outcomes, sorted.

    Each thread has its own database connection: the test needs ``transaction=True``.
    """
    barrier = threading.Barrier(times)
    outcomes: list[str] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(action())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _index in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


def make_api_token(
    user: User, *, second_factor: bool | None = None, lifetime_days: int = 30, name: str = "test"
) -> str:
    """Create an API token for the user and return its key.

    Staff and space managers get a token marked as created after a second-factor check (as
    the profile page does after their TOTP code) unless ``second_factor`` says otherwise.
    """
    key = secrets.token_urlsafe(30)
    if second_factor is None:
        second_factor = has_elevated_powers(user)
    ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[:8],
        key_hash=services.hash_api_key(key),
        created_at=timezone.now(),
        expires_at=timezone.now() + datetime.timedelta(days=lifetime_days),
        second_factor_verified=second_factor,
    )
    return key


def api_client_for(user: User) -> APIClient:
    """An API client in English that authenticates with a fresh token of the user."""
    client = APIClient()
    client.cookies["coop_language"] = "en"
    client.credentials(HTTP_AUTHORIZATION=f"Token {make_api_token(user)}")
    return client


@pytest.fixture
def staff(db) -> User:
    return make_user("staff@coop.test", is_staff=True, is_superuser=True, name="Camille Staff")


@pytest.fixture
def member(db, staff) -> Member:
    return make_member(
        "ana@coop.test", legal_name="Ana Peeters", niss="85073003328", approver=staff
    )


@pytest.fixture
def other_member(db, staff) -> Member:
    return make_member(
        "lucas@coop.test", legal_name="Lucas Dubois", niss="17073003384", approver=staff
    )


@pytest.fixture
def space_manager(db) -> User:
    user = make_user("spaces@coop.test", name="Sofia Space")
    user.groups.add(Group.objects.get_or_create(name="Space managers")[0])
    return user


@pytest.fixture
def activity(member):
    return services.create_activity(owner=member, name="Illustration", description="Drawings")


@pytest.fixture
def other_activity(other_member):
    return services.create_activity(owner=other_member, name="Stage lighting")


@pytest.fixture
def client(client, settings):
    """A browser that chose English, so assertions can read the interface's own words."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def pagination_link(html: str, rel: str) -> str | None:
    """The query string of the page's "newer" (prev) or "older" (next) link, or None."""
    found = re.search(rf'<a href="([^"]*)" rel="{rel}"', html)
    return html_module.unescape(found.group(1)) if found else None
