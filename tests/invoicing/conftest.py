"""Invoicing fixtures: clients and drafts belonging to the member persona."""

import datetime
from decimal import Decimal

import pytest

from invoicing.services.clients import create_client
from invoicing.services.drafts import LineInput, save_draft
from tests.conftest import NOW

TODAY = NOW.date()


@pytest.fixture
def belgian_client(member):
    client, _created = create_client(
        owner=member.user,
        kind="company",
        name="Théâtre des Galeries SA",
        street="Galerie du Roi 32",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="compta@galeries.example",
        language="fr",
        vat_number="BE1000000021",
    )
    return client


@pytest.fixture
def french_client(member):
    client, _created = create_client(
        owner=member.user,
        kind="company",
        name="Atelier Lumière SARL",
        street="12 rue de la Paix",
        postal_code="75002",
        city="Paris",
        country="FR",
        email="factures@lumiere.example",
        language="en",
        vat_number="FR40303265045",
    )
    return client


def line(description="Lighting design", quantity="3", unit="hour", price="19.99", **extra):
    return LineInput(
        description=description,
        quantity=Decimal(quantity),
        unit=unit,
        unit_price=Decimal(price),
        **extra,
    )


def make_draft(member, activity, client, lines=None, **extra):
    # Clients reached on Peppol need a reference of theirs (PEPPOL-EN16931-R003).
    extra.setdefault("buyer_reference", "PO-2026-77")
    return save_draft(
        user=member.user,
        activity=activity,
        client=client,
        lines=lines or [line()],
        today=TODAY,
        **extra,
    )


@pytest.fixture
def draft(member, activity, belgian_client):
    return make_draft(member, activity, belgian_client)


@pytest.fixture
def no_review(settings):
    """Issue submitted invoices at once: no staff review rule applies."""
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    settings.COOP_INVOICE_REVIEW_THRESHOLD = Decimal("1000000")


def days(count: int) -> datetime.timedelta:
    return datetime.timedelta(days=count)
