"""Persona fixtures shared by every test: members, staff, a space manager."""

import datetime
import os
import uuid

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.utils import timezone, translation

from members import services
from members.models import Member, User

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
