"""Checkout fixtures: an open invoice, Mollie configured with its exchanges replayed."""

import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import responses

from checkout.links import pay_token
from invoicing.services.issue import submit_invoice
from invoicing.services.payments import record_payment
from tests.conftest import NOW
from tests.invoicing.conftest import TODAY, belgian_client, line, make_draft, no_review  # noqa: F401 - shared fixtures

RECORDINGS = Path(__file__).with_name("recordings")
API_KEY = "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"
SITE_URL = "https://coop.example.be"
REFERENCE = uuid.UUID("5f0c9a8e-3a1b-4c2d-9e7f-0a1b2c3d4e5f")
MOLLIE_ID = "tr_WDqYK6vllg"
WEBHOOK_SECRET = "whsec_9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"


@pytest.fixture
def issued(member, activity, belgian_client, no_review):  # noqa: F811
    """An issued invoice of 1,210.00 (1,000.00 excl. VAT) for a client writing French."""
    draft = make_draft(member, activity, belgian_client, [line(quantity="10", price="100.00")])
    return submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)


@pytest.fixture
def open_invoice(issued, staff):
    """The invoice with 1,086.55 already paid by transfer: 123.45 still due."""
    record_payment(
        invoice=issued, amount=Decimal("1086.55"), received_on=TODAY, actor=staff, now=NOW
    )
    issued.refresh_from_db()
    return issued


@pytest.fixture
def no_provider(settings):
    settings.PAYMENT_PROVIDER = ""
    settings.SITE_URL = SITE_URL


@pytest.fixture
def simulated(settings):
    settings.PAYMENT_PROVIDER = "simulated"
    settings.SITE_URL = SITE_URL


@pytest.fixture
def fixed_reference(monkeypatch):
    monkeypatch.setattr("checkout.services.uuid.uuid4", lambda: REFERENCE)
    return REFERENCE


@pytest.fixture
def mollie(settings):
    """Mollie configured; its API answers only the recorded exchanges a test replays."""
    settings.PAYMENT_PROVIDER = "mollie"
    settings.MOLLIE_API_KEY = API_KEY
    settings.MOLLIE_WEBHOOK_SECRET = ""
    settings.PAYMENT_METHODS = ["bancontact", "creditcard", "directdebit"]
    settings.SITE_URL = SITE_URL
    # Any request not replayed raises ConnectionError: nothing leaves the machine.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def recording(name: str, **values) -> dict:
    """Load a recorded exchange with its placeholders filled (see recordings/README.md)."""
    text = (RECORDINGS / f"{name}.json").read_text()
    for key, value in values.items():
        marker = f"__{key.upper()}__"
        text = text.replace(
            f'"{marker}"', json.dumps(value) if isinstance(value, int) else f'"{marker}"'
        )
        text = text.replace(marker, str(value))
    return json.loads(text)


def replay(mock: responses.RequestsMock, name: str, *, sent: list | None = None, **values) -> dict:
    """Answer the recorded request with the recorded response; keep what was sent in ``sent``.

    A request whose headers or JSON body differ from the recording gets a 599 answer, which
    the client takes for an error: the test sees it fail.
    """
    exchange = recording(name, **values)
    expected = exchange["request"]
    answer = exchange["response"]

    def callback(request):
        body = json.loads(request.body) if request.body else None
        if sent is not None:
            sent.append({"headers": dict(request.headers), "body": body})
        headers_differ = any(
            request.headers.get(header) != value
            for header, value in expected.get("headers", {}).items()
        )
        if headers_differ or ("body" in expected and body != expected["body"]):
            return (599, {}, json.dumps({"recorded": expected, "sent": body}))
        return (answer["status"], answer.get("headers", {}), json.dumps(answer["body"]))

    mock.add_callback(expected["method"], expected["url"], callback=callback)
    return exchange


def placeholders(invoice) -> dict:
    return {
        "number": invoice.number,
        "invoice_id": invoice.pk,
        "token": pay_token(invoice),
        "reference": str(REFERENCE),
    }
