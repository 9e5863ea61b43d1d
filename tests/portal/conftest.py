"""Portal fixtures: two members, each with a client record of one shared buyer address (typed
in different cases), and the first member's client with another address."""

from decimal import Decimal

import pytest
from django.utils import timezone

from invoicing.services.clients import create_client
from invoicing.services.issue import submit_invoice
from portal import services
from tests.conftest import NOW
from tests.invoicing.conftest import TODAY, line, make_draft

SHARED = "compta@galeries.example"
OTHER = "factures@lumiere.example"


@pytest.fixture(autouse=True)
def _no_review(settings):
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    settings.COOP_INVOICE_REVIEW_THRESHOLD = Decimal("1000000")


def make_client(member, *, name: str, email: str, vat_number: str = "", language: str = "fr"):
    client, _created = create_client(
        owner=member.user,
        kind="company",
        name=name,
        street="Galerie du Roi 32",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email=email,
        language=language,
        vat_number=vat_number,
    )
    return client


def issue(member, activity, client, price="100.00"):
    draft = make_draft(member, activity, client, [line("Lighting design", "1", price=price)])
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    assert invoice.number is not None
    return invoice


@pytest.fixture
def shared_client(member):
    return make_client(member, name="Théâtre des Galeries SA", email=SHARED, language="nl")


@pytest.fixture
def other_members_client(other_member):
    # The other member typed the same address in capitals: the same portal identity.
    return make_client(other_member, name="Galeries (Lucas)", email="Compta@Galeries.EXAMPLE")


@pytest.fixture
def different_client(member):
    return make_client(member, name="Atelier Lumière SARL", email=OTHER)


@pytest.fixture
def world(
    member,
    other_member,
    activity,
    other_activity,
    shared_client,
    other_members_client,
    different_client,
):
    """Documents of the shared address from both members, one of the other address, a draft."""
    return {
        "mine": issue(member, activity, shared_client, "100.00"),
        "theirs": issue(other_member, other_activity, other_members_client, "250.00"),
        "different": issue(member, activity, different_client, "75.00"),
        "draft": make_draft(member, activity, shared_client),
    }


def portal_browser(client, email: str):
    """Sign ``client`` in to the portal as ``email`` through a sign-in link."""
    token = services._create_token(
        kind="sign_in", email=email, lifetime=services.SIGN_IN_LINK_LIFETIME, now=timezone.now()
    )
    from django.urls import reverse

    response = client.post(reverse("portal:sign_in", kwargs={"token": token}))
    assert response.status_code == 302, response.content
    return client


@pytest.fixture
def eager_tasks():
    """Run the tasks enqueued after commit at once, in the test."""
    from coop.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
