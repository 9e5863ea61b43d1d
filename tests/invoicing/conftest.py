"""Invoicing fixtures: clients and drafts belonging to the member persona."""

import datetime
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP

from invoicing.models import BankStatement, BankStatementLine
from invoicing.services.clients import create_client
from invoicing.services.drafts import LineInput, save_draft
from invoicing.services.payments import record_payment
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


@pytest.fixture
def german_client(member):
    client, _created = create_client(
        owner=member.user,
        kind="company",
        name="Bühnentechnik Köln GmbH",
        street="Domstraße 1",
        postal_code="50668",
        city="Köln",
        country="DE",
        email="rechnung@buehne.example",
        language="en",
        vat_number="DE136695976",
    )
    return client


@pytest.fixture
def swiss_client(member):
    client, _created = create_client(
        owner=member.user,
        kind="company",
        name="Festival Lumières Léman SA",
        street="Avenue de la Gare 12",
        postal_code="1003",
        city="Lausanne",
        country="CH",
        email="billing@leman.example",
        language="fr",
        vat_number="CHE116281710MWST",
    )
    return client


@pytest.fixture
def american_client(member):
    client, _created = create_client(
        owner=member.user,
        kind="company",
        name="Hudson Stage Supply Inc.",
        street="350 Fifth Avenue",
        postal_code="10118",
        city="New York",
        country="US",
        email="ap@hudson.example",
        language="en",
    )
    return client


@pytest.fixture
def private_client(member):
    client, _created = create_client(
        owner=member.user,
        kind="person",
        name="Jan Janssens",
        street="Kerkstraat 1",
        postal_code="9000",
        city="Gent",
        country="BE",
        email="jan@example.be",
        language="nl",
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
def two_rate_invoice(member, activity, belgian_client, no_review):
    """1 × 150.00 at 6 % (VAT 9.00) and 10 hours × 100.00 at 21 % (VAT 210.00): 1369.00."""
    from invoicing.services.issue import submit_invoice

    draft = make_draft(
        member,
        activity,
        belgian_client,
        [
            line("Rehearsal room", quantity="1", unit="piece", price="150.00", vat_rate=6),
            line("Lighting design", quantity="10", price="100.00", vat_rate=21),
        ],
    )
    return submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)


@pytest.fixture
def no_review(settings):
    """Issue submitted invoices at once: no staff review rule applies."""
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    settings.COOP_INVOICE_REVIEW_THRESHOLD = Decimal("1000000")


def days(count: int) -> datetime.timedelta:
    return datetime.timedelta(days=count)


@pytest.fixture
def staff_client(client, staff):
    """A browser signed in as staff, with the second factor the admin requires."""
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)
    return client


def bank_line_matched_by_hand(invoice, staff, amount):
    """Money received on the bank account, matched by hand: it may pay beyond the invoice."""
    statement, _created = BankStatement.objects.get_or_create(
        account_iban="BE71096123456769", statement_id="2026-100", defaults={"imported_by": staff}
    )
    line = BankStatementLine.objects.create(
        statement=statement,
        booking_date=TODAY,
        amount=Decimal(amount),
        is_credit=True,
        bank_reference=f"LINE-{statement.lines.count() + 1}",
        status=BankStatementLine.Status.MATCHED,
        invoice=invoice,
    )
    record_payment(
        invoice=invoice,
        amount=Decimal(amount),
        received_on=TODAY,
        actor=staff,
        method="bank_statement",
        bank_line=line,
        now=NOW,
    )
