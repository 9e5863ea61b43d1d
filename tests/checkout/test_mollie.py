"""Mollie through its official client, against recorded exchanges: creating a payment, and its
webhooks verified, fetched back and recorded exactly once."""

import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from checkout.links import pay_token
from checkout.models import OnlinePayment
from invoicing.models import Invoice, Payment
from invoicing.services.payments import record_payment
from members.models import LedgerEntry
from tests.checkout.conftest import (
    MOLLIE_ID,
    REFERENCE,
    WEBHOOK_SECRET,
    placeholders,
    replay,
)
from tests.conftest import NOW, run_at_once
from tests.invoicing.conftest import TODAY

WEBHOOK = "/checkout/webhook/mollie/"
CHECKOUT = "https://www.mollie.com/checkout/select-method/WDqYK6vllg"


def start(client, invoice):
    return client.post(reverse("checkout:pay_online", kwargs={"token": pay_token(invoice)}))


def ledger(invoice):
    return list(
        LedgerEntry.objects.filter(reference=invoice.number)
        .order_by("pk")
        .values_list("kind", "stage", "amount")
    )


@pytest.fixture
def started(client, open_invoice, mollie, fixed_reference):
    """A Mollie payment of the 123.45 due, created through the pay page."""
    replay(mollie, "create_payment", **placeholders(open_invoice))
    assert start(client, open_invoice).status_code == 302
    return OnlinePayment.objects.get()


def test_paying_online_creates_the_payment_mollie_recorded(
    client, open_invoice, mollie, fixed_reference
):
    sent = []
    exchange = replay(mollie, "create_payment", sent=sent, **placeholders(open_invoice))

    response = start(client, open_invoice)

    assert (response.status_code, response["Location"]) == (302, CHECKOUT)
    assert len(sent) == 1
    body = sent[0]["body"]
    assert body == exchange["request"]["body"]
    assert body["amount"] == {"currency": "EUR", "value": "123.45"}
    assert body["description"] == f"Facture {open_invoice.number}"
    assert body["redirectUrl"] == (
        f"http://testserver/pay/{pay_token(open_invoice)}/return/{REFERENCE}/"
    )
    assert body["webhookUrl"] == "https://coop.example.be/checkout/webhook/mollie/"
    assert body["metadata"] == {
        "invoice": open_invoice.number,
        "invoice_id": open_invoice.pk,
        "reference": str(REFERENCE),
    }
    assert sent[0]["headers"]["Idempotency-Key"] == str(REFERENCE)
    online = OnlinePayment.objects.get()
    assert (
        online.invoice,
        online.provider,
        online.provider_payment_id,
        online.amount,
        online.status,
        online.checkout_url,
        online.payment,
        online.reference,
    ) == (open_invoice, "mollie", MOLLIE_ID, Decimal("123.45"), "open", CHECKOUT, None, REFERENCE)
    assert AuditEvent.objects.filter(
        object_type="checkout.onlinepayment", object_pk=str(online.pk), action="created"
    ).exists()


def test_a_double_click_reuses_the_open_payment(client, open_invoice, mollie, fixed_reference):
    sent = []
    replay(mollie, "create_payment", sent=sent, **placeholders(open_invoice))

    first = start(client, open_invoice)
    second = start(client, open_invoice)

    assert first["Location"] == second["Location"] == CHECKOUT
    assert len(sent) == 1
    assert OnlinePayment.objects.count() == 1


def test_mollie_refusing_the_payment_writes_nothing(client, open_invoice, mollie):
    replay(mollie, "create_payment_refused")

    response = start(client, open_invoice)

    assert response.status_code == 400
    assert "bank transfer" in response.content.decode() or "virement" in response.content.decode()
    assert OnlinePayment.objects.count() == 0


def test_an_invoice_with_nothing_due_starts_no_payment(client, open_invoice, staff, mollie):
    record_payment(
        invoice=open_invoice, amount=Decimal("123.45"), received_on=TODAY, actor=staff, now=NOW
    )
    sent = []
    replay(mollie, "create_payment", sent=sent, **placeholders(open_invoice))

    response = start(client, open_invoice)

    assert response.status_code == 400
    assert 'data-pay-state="paid"' in response.content.decode()
    assert sent == []
    assert OnlinePayment.objects.count() == 0


def test_a_paid_webhook_records_one_payment_with_the_ledger_entries(client, started, mollie):
    invoice = started.invoice
    before = ledger(invoice)
    fetched = []
    replay(mollie, "get_payment_paid", sent=fetched, **placeholders(invoice))

    # The notifications come in English; the entries are worded in the member's French.
    responses = [
        client.post(WEBHOOK, {"id": MOLLIE_ID}, HTTP_ACCEPT_LANGUAGE="en") for _time in range(3)
    ]

    assert [response.status_code for response in responses] == [200, 200, 200]
    assert invoice.activity.owner.preferred_language == "fr"
    assert list(
        LedgerEntry.objects.filter(activity=invoice.activity)
        .order_by("-pk")
        .values_list("description", flat=True)[:3]
    ) == [
        "Contribution à la coopérative 6.5 %",
        "Paiement reçu (HTVA)",
        "Paiement reçu\u00a0: n’est plus prévu",
    ]
    # Every notification is checked against the API: three of them, three fetches.
    assert len(fetched) == 3
    payment = Payment.objects.get(method="online")
    assert (payment.invoice, payment.amount, payment.received_on, payment.recorded_by) == (
        invoice,
        Decimal("123.45"),
        TODAY,
        None,
    )
    assert payment.note == f"mollie {MOLLIE_ID}"
    # The same entries as a bank-statement payment of what was left: the rest of the income
    # (1,000.00 − 897.98 already available) and the fee on it (65.00 − 58.37).
    assert ledger(invoice)[len(before) :] == [
        ("client_income", "planned", Decimal("-102.02")),
        ("client_income", "available", Decimal("102.02")),
        ("cooperative_fee", "available", Decimal("-6.63")),
    ]
    online = OnlinePayment.objects.get()
    assert (online.status, online.payment, online.needs_review, online.method) == (
        "paid",
        payment,
        False,
        "bancontact",
    )
    assert online.paid_at.isoformat() == "2026-03-02T09:03:27+00:00"
    assert online.raw_status["details"]["cardNumber"] == "6787"
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


@pytest.mark.django_db(transaction=True)
def test_concurrent_webhooks_record_the_payment_once(started, mollie):
    invoice = started.invoice
    replay(mollie, "get_payment_paid", **placeholders(invoice))

    def deliver() -> str:
        return str(Client().post(WEBHOOK, {"id": MOLLIE_ID}).status_code)

    assert run_at_once(deliver, times=4) == ["200", "200", "200", "200"]
    assert Payment.objects.filter(method="online").count() == 1
    assert list(
        LedgerEntry.objects.filter(reference=invoice.number, kind="cooperative_fee")
        .order_by("pk")
        .values_list("amount", flat=True)
    ) == [Decimal("-58.37"), Decimal("-6.63")]


def test_a_failed_payment_records_nothing_and_a_new_one_can_start(
    client, started, mollie, fixed_reference
):
    replay(mollie, "get_payment_failed", **placeholders(started.invoice))

    assert client.post(WEBHOOK, {"id": MOLLIE_ID}).status_code == 200

    started.refresh_from_db()
    assert (started.status, started.payment) == ("failed", None)
    assert not Payment.objects.filter(method="online").exists()


def test_an_open_status_changes_nothing(client, started, mollie):
    replay(mollie, "get_payment_open", **placeholders(started.invoice))

    assert client.post(WEBHOOK, {"id": MOLLIE_ID}).status_code == 200

    started.refresh_from_db()
    assert (started.status, started.payment) == ("open", None)


def signature(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def nothing_written(online: OnlinePayment, ledger_before: list) -> bool:
    online.refresh_from_db()
    return (
        online.status == "open"
        and online.payment is None
        and not Payment.objects.filter(method="online").exists()
        and ledger(online.invoice) == ledger_before
    )


def test_with_a_signing_secret_forged_and_unsigned_webhooks_are_refused(
    client, started, mollie, settings
):
    settings.MOLLIE_WEBHOOK_SECRET = WEBHOOK_SECRET
    before = ledger(started.invoice)
    fetched = []
    replay(mollie, "get_payment_paid", sent=fetched, **placeholders(started.invoice))
    body = f"id={MOLLIE_ID}"
    form = "application/x-www-form-urlencoded"

    unsigned = client.post(WEBHOOK, body, content_type=form)
    forged = client.post(
        WEBHOOK,
        body,
        content_type=form,
        headers={"X-Mollie-Signature": signature(body.encode(), "whsec_guessed")},
    )
    tampered = client.post(
        WEBHOOK,
        "id=tr_Other12345",
        content_type=form,
        headers={"X-Mollie-Signature": signature(body.encode())},
    )

    assert [unsigned.status_code, forged.status_code, tampered.status_code] == [401, 401, 401]
    assert fetched == []
    assert nothing_written(started, before)

    # Mollie's signed next-gen event names the payment; it is still fetched before anything.
    event = json.dumps(
        {
            "resource": "event",
            "id": "event_GvJ8WHrp5isUdRub9CJyH",
            "type": "payment.paid",
            "entityId": MOLLIE_ID,
            "createdAt": "2026-03-02T09:03:28+00:00",
        }
    ).encode()
    signed = client.post(
        WEBHOOK,
        event,
        content_type="application/json",
        headers={"X-Mollie-Signature": signature(event)},
    )
    assert signed.status_code == 200
    assert len(fetched) == 1
    assert Payment.objects.filter(method="online").count() == 1


def test_unknown_or_malformed_payment_ids_are_refused_and_nothing_is_written(
    client, started, mollie
):
    before = ledger(started.invoice)
    fetched = []
    replay(mollie, "get_payment_paid", sent=fetched, **placeholders(started.invoice))

    unknown = client.post(WEBHOOK, {"id": "tr_NeverMade99"})
    malformed = client.post(WEBHOOK, {"id": "../payments"})
    empty = client.post(WEBHOOK, {})
    other_provider = client.post("/checkout/webhook/simulated/", {"id": MOLLIE_ID})
    read = client.get(WEBHOOK)

    assert [
        unknown.status_code,
        malformed.status_code,
        empty.status_code,
        other_provider.status_code,
        read.status_code,
    ] == [404, 400, 400, 404, 405]
    assert fetched == []
    assert nothing_written(started, before)


def test_mollie_out_of_reach_answers_503_so_that_it_retries(client, started, mollie):
    # Nothing replayed for GET: the request cannot leave the machine.
    response = client.post(WEBHOOK, {"id": MOLLIE_ID})

    assert response.status_code == 503
    started.refresh_from_db()
    assert (started.status, started.payment) == ("open", None)


def test_money_paid_online_after_the_invoice_was_paid_goes_to_staff_review(
    client, started, mollie, staff
):
    invoice = started.invoice
    # The client also paid the rest by transfer before confirming the online payment.
    record_payment(
        invoice=invoice, amount=Decimal("123.45"), received_on=TODAY, actor=staff, now=NOW
    )
    before = ledger(invoice)
    replay(mollie, "get_payment_paid", **placeholders(invoice))

    assert client.post(WEBHOOK, {"id": MOLLIE_ID}).status_code == 200

    started.refresh_from_db()
    # Money that arrived is recorded as it is: an over-payment to refund, no extra income.
    assert started.payment.amount == Decimal("123.45")
    assert started.needs_review is True
    assert invoice.number in started.review_note
    amounts = Invoice.objects.with_amounts().get(pk=invoice.pk)
    assert (amounts.status, amounts.amount_due, amounts.amount_to_refund) == (
        "paid",
        Decimal("-123.45"),
        Decimal("123.45"),
    )
    assert ledger(invoice) == before
