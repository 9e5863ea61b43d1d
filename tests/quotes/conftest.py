"""Quote fixtures: a client of the member persona, a draft, a sent quote and its link."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from invoicing.services.clients import create_client
from invoicing.services.drafts import LineInput
from quotes import documents, services
from quotes.models import QuoteDocument, QuoteLink

# Quotes live in real time: their links expire after the validity date, on the clock.
NOW = timezone.now()
TODAY = timezone.localdate(NOW)
LINES = [
    LineInput(
        description="Illustrations", quantity=Decimal("3"), unit="day", unit_price=Decimal("19.99")
    ),
    LineInput(
        description="Print files",
        quantity=Decimal("1"),
        unit="piece",
        unit_price=Decimal("100.00"),
        vat_rate=Decimal("6"),
    ),
]


@pytest.fixture
def quote_client(member):
    client, _created = create_client(
        owner=member.user,
        kind="company",
        name="Théâtre des Galeries SA",
        street="Galerie du Roi 32",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="compta@galeries.example",
        language="nl",
        vat_number="BE1000000021",
    )
    return client


def terms(**changes) -> services.QuoteTerms:
    values = {
        "title": "Affiches de la saison",
        "description": "Trois affiches",
        "valid_until": TODAY + datetime.timedelta(days=30),
        "deposit_percent": Decimal("30"),
        "schedule": [
            {"label": "Acompte", "percent": "30", "due": "order"},
            {"label": "Solde", "percent": "70", "due": "delivery"},
        ],
    }
    values.update(changes)
    return services.QuoteTerms(**values)


def make_draft(member, activity, client, *, lines=LINES, **changes):
    return services.save_draft(
        user=member.user,
        activity=activity,
        client=client,
        lines=list(lines),
        terms=terms(**changes),
        today=TODAY,
    )


def send(quote, user, *, capture, now=None):
    """Send the quote, render its PDF and e-mail it, as the tasks would; return the token."""
    with capture(execute=False):
        quote, token = services.send_quote(user=user, quote=quote, now=now)
    version = quote.current_version
    documents.render_document(document=QuoteDocument.objects.get(version=version))
    link = QuoteLink.objects.filter(version=version).latest("created_at")
    documents.send_quote_email(link_pk=link.pk, token=token)
    return quote, token


@pytest.fixture
def draft(member, activity, quote_client):
    return make_draft(member, activity, quote_client)


@pytest.fixture
def sent(member, draft, django_capture_on_commit_callbacks):
    return send(draft, member.user, capture=django_capture_on_commit_callbacks)


def png(width: int = 4, height: int = 2) -> bytes:
    """A whole PNG (a grey rectangle), as a drawn signature sends."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = b"".join(b"\x00" + b"\x80" * width for _row in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def form_data(activity, quote_client, **changes):
    """The quote form's fields as the browser posts them."""
    data = {
        "activity": activity.pk,
        "client": quote_client.pk,
        "title": "Décor",
        "description": "",
        "valid_until": (TODAY + datetime.timedelta(days=20)).isoformat(),
        "payment_terms_days": "30",
        "deposit_percent": "",
        "schedule": "Acompte; 30; order\nSolde; 70; delivery",
        "work_start": "",
        "work_end": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
        "lines-0-description": "Peinture",
        "lines-0-quantity": "2",
        "lines-0-unit": "day",
        "lines-0-unit_price": "450.00",
        "lines-0-supply_kind": "services",
        "lines-0-vat_category": "S",
        "lines-0-vat_rate": "21.00",
        "save": "1",
    }
    data.update(changes)
    return data
