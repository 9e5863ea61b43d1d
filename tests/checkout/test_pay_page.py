"""The pay link: what the client sees, the simulated provider's round trip, the e-mail."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from checkout.links import invoice_for_token, pay_token
from checkout.models import OnlinePayment, SimulatedPayment
from checkout.services import payment_options_for
from coop.templatetags.money import euro
from invoicing.models import Invoice, Payment
from invoicing.services.credit import request_credit_note
from invoicing.services.documents import render_document, send_dispatch
from invoicing.services.issue import approve_invoice
from invoicing.services.payments import record_payment
from members.models import LedgerEntry
from tests.conftest import NOW
from tests.invoicing.conftest import TODAY, line, make_draft


def pay_page(client, invoice):
    return client.get(reverse("checkout:pay", kwargs={"token": pay_token(invoice)}))


def test_the_pay_page_shows_what_is_due_and_the_bank_transfer(client, open_invoice, simulated):
    response = pay_page(client, open_invoice)

    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r"data-amount-due>123\.45\s€<", html)
    assert "BE71096123456769" in html or "BE71 0961 2345 6769" in html
    assert f"data-ogm>{open_invoice.structured_communication}<" in html
    assert '<svg class="payment-qr"' in html or 'class="payment-qr"' in html
    assert reverse("checkout:pay_online", kwargs={"token": pay_token(open_invoice)}) in html
    assert "data-simulated" in html


def test_a_client_that_chose_no_language_reads_the_invoices(open_invoice, simulated):
    from django.test import Client

    html = pay_page(Client(), open_invoice).content.decode()

    assert '<html lang="fr">' in html
    assert re.search(r"data-amount-due>123,45\s€<", html)


def test_without_a_provider_the_page_offers_only_the_bank_transfer(
    client, open_invoice, no_provider
):
    response = pay_page(client, open_invoice)

    html = response.content.decode()
    assert response.status_code == 200
    assert "data-ogm" in html and 'class="payment-qr"' in html
    assert "/online/" not in html
    started = client.post(reverse("checkout:pay_online", kwargs={"token": pay_token(open_invoice)}))
    assert started.status_code == 404
    assert OnlinePayment.objects.count() == 0
    assert payment_options_for(open_invoice) == {
        "pay_url": f"https://coop.example.be/pay/{pay_token(open_invoice)}/",
        "online_available": False,
        "provider": "",
        "simulated": False,
    }


def test_a_paid_invoice_says_so_and_offers_nothing(client, open_invoice, staff, simulated):
    record_payment(
        invoice=open_invoice, amount=Decimal("123.45"), received_on=TODAY, actor=staff, now=NOW
    )

    html = pay_page(client, open_invoice).content.decode()

    assert 'data-pay-state="paid"' in html
    assert "data-ogm" not in html and "/online/" not in html
    assert payment_options_for(Invoice.objects.get(pk=open_invoice.pk)) is None


def test_a_credited_invoice_has_nothing_left_to_pay(client, issued, member, staff, simulated):
    credit_note = request_credit_note(user=member.user, invoice=issued, reason="Show cancelled")
    approve_invoice(staff_user=staff, invoice=credit_note, today=TODAY, now=NOW)
    issued.refresh_from_db()
    assert issued.status == "credited"

    html = pay_page(client, issued).content.decode()

    assert 'data-pay-state="closed"' in html
    assert "/online/" not in html


def test_forged_tokens_and_another_invoices_token_are_404(
    client, open_invoice, member, activity, belgian_client, simulated
):
    other = make_draft(member, activity, belgian_client, [line()])
    good = pay_token(open_invoice)
    key, signature = good.split(".")
    forged = [
        f"{other.pk}.{signature}",  # this signature on another invoice
        f"{key}.{signature[:-1]}A" if signature[-1] != "A" else f"{key}.{signature[:-1]}B",
        f"{key}.",
        key,
        "not-a-token",
        f"{10**30}.{signature}",
    ]
    for token in forged:
        assert invoice_for_token(token) is None, token
        assert client.get(f"/pay/{token}/").status_code == 404, token
        assert client.post(f"/pay/{token}/online/").status_code == 404, token
    # A draft has no number and so no link.
    assert client.get(f"/pay/{other.pk}.{signature}/").status_code == 404
    assert invoice_for_token(good) == open_invoice


def test_paying_with_the_simulated_provider_records_the_payment_once(
    client, open_invoice, simulated
):
    token = pay_token(open_invoice)
    response = client.post(reverse("checkout:pay_online", kwargs={"token": token}))
    simulated_payment = SimulatedPayment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/checkout/simulated/{simulated_payment.payment_id}/"
    assert simulated_payment.amount == Decimal("123.45")
    online = OnlinePayment.objects.get()
    processing = client.get(
        reverse("checkout:pay_return", kwargs={"token": token, "reference": online.reference})
    )
    assert 'data-pay-state="processing"' in processing.content.decode()

    page = client.get(response["Location"])
    assert "Simulated provider (records, takes no money)" in page.content.decode()
    paid = client.post(response["Location"], {"outcome": "paid"})
    again = client.post(response["Location"], {"outcome": "paid"})

    assert paid.status_code == again.status_code == 302
    assert paid["Location"] == (f"http://testserver/pay/{token}/return/{online.reference}/")
    back = client.get(paid["Location"])
    assert 'data-pay-state="paid"' in back.content.decode()
    payment = Payment.objects.get(method="online")
    assert payment.amount == Decimal("123.45")
    online.refresh_from_db()
    assert (online.status, online.payment, online.provider) == ("paid", payment, "simulated")
    assert (
        LedgerEntry.objects.filter(
            reference=open_invoice.number, kind="client_income", stage="available"
        ).count()
        == 2  # the transfer's and the online payment's
    )


def test_a_failed_simulated_payment_records_nothing(client, open_invoice, simulated):
    token = pay_token(open_invoice)
    checkout_page = client.post(reverse("checkout:pay_online", kwargs={"token": token}))["Location"]
    back = client.get(client.post(checkout_page, {"outcome": "failed"})["Location"])

    assert 'data-pay-state="failed"' in back.content.decode()
    assert not Payment.objects.filter(method="online").exists()
    # Not reused: the next click starts a new payment.
    client.post(reverse("checkout:pay_online", kwargs={"token": token}))
    assert OnlinePayment.objects.count() == 2


def test_the_simulated_page_is_404_when_another_provider_is_configured(
    client, open_invoice, simulated, settings
):
    client.post(reverse("checkout:pay_online", kwargs={"token": pay_token(open_invoice)}))
    payment = SimulatedPayment.objects.get()
    settings.PAYMENT_PROVIDER = ""

    url = reverse("checkout:simulated", kwargs={"payment_id": payment.payment_id})
    assert client.get(url).status_code == 404
    assert client.post(url, {"outcome": "paid"}).status_code == 404
    assert not Payment.objects.filter(method="online").exists()


def test_a_forged_simulated_webhook_is_refused(client, open_invoice, simulated):
    client.post(reverse("checkout:pay_online", kwargs={"token": pay_token(open_invoice)}))
    payment = SimulatedPayment.objects.get()

    response = client.post(
        "/checkout/webhook/simulated/",
        {"id": payment.payment_id},
        headers={"X-Simulated-Signature": "0" * 64},
    )

    assert response.status_code == 401
    assert OnlinePayment.objects.get().status == "open"


def send_invoice_email(invoice):
    for document in invoice.documents.all():
        render_document(document=document, now=NOW)
    mail.outbox.clear()
    assert send_dispatch(dispatch=invoice.dispatches.get(channel="email"), now=NOW) is True
    return mail.outbox[0].body


@pytest.mark.parametrize("provider", ["simulated", ""])
def test_the_invoice_email_carries_the_pay_link(issued, settings, provider):
    settings.PAYMENT_PROVIDER = provider
    settings.SITE_URL = "https://coop.example.be"

    body = send_invoice_email(issued)

    assert f"https://coop.example.be/pay/{pay_token(issued)}/" in body
    assert ("Bancontact" in body) is bool(provider)


def test_the_reminder_carries_the_pay_link(issued, settings):
    from invoicing.services.documents import send_reminder_email
    from invoicing.services.reminders import send_due_reminders

    settings.PAYMENT_PROVIDER = "simulated"
    settings.SITE_URL = "https://coop.example.be"
    assert send_due_reminders(today=issued.due_date + datetime.timedelta(days=7), now=NOW) == 1
    mail.outbox.clear()

    assert send_reminder_email(reminder=issued.reminders.get(), now=NOW) is True

    assert f"https://coop.example.be/pay/{pay_token(issued)}/" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("provider", "api_key", "ids"),
    [
        ("", "", []),
        ("simulated", "", []),
        ("mollie", "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM", []),
        ("mollie", "", ["checkout.E002"]),
        ("stripe", "", ["checkout.E001"]),
    ],
)
def test_the_configured_provider_is_checked(settings, provider, api_key, ids):
    from checkout.checks import check_payment_provider

    settings.PAYMENT_PROVIDER = provider
    settings.MOLLIE_API_KEY = api_key

    assert [message.id for message in check_payment_provider()] == ids


def test_an_open_payment_the_provider_let_expire_is_not_reused(client, open_invoice, simulated):
    url = reverse("checkout:pay_online", kwargs={"token": pay_token(open_invoice)})
    first = client.post(url)["Location"]
    OnlinePayment.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=30))
    SimulatedPayment.objects.update(status="expired")

    second = client.post(url)["Location"]

    assert first != second
    assert list(OnlinePayment.objects.order_by("pk").values_list("status", flat=True)) == [
        "expired",
        "open",
    ]
    # Still open at the provider half an hour later: reused.
    OnlinePayment.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=30))
    assert client.post(url)["Location"] == second
    assert OnlinePayment.objects.count() == 2


def pay_simulated(client, invoice, **changes) -> OnlinePayment:
    """Start a simulated payment, let the "bank" change it, then click paid."""
    checkout_page = client.post(
        reverse("checkout:pay_online", kwargs={"token": pay_token(invoice)})
    )["Location"]
    SimulatedPayment.objects.update(**changes)
    client.post(checkout_page, {"outcome": "paid"})
    return OnlinePayment.objects.get()


def test_another_amount_than_asked_is_recorded_for_staff_review(client, open_invoice, simulated):
    online = pay_simulated(client, open_invoice, amount=Decimal("100.00"))

    assert online.payment.amount == Decimal("100.00")
    assert online.needs_review is True
    assert online.review_note == (
        f"The provider reports {euro(Decimal('100.00'))} paid where {euro(Decimal('123.45'))} "
        f"was asked. Partial payment: {euro(Decimal('23.45'))} still due."
    )
    amounts = Invoice.objects.with_amounts().get(pk=open_invoice.pk)
    assert (amounts.status, amounts.amount_due) == ("partially_paid", Decimal("23.45"))


def test_money_in_another_currency_is_left_to_staff_and_not_recorded(
    client, open_invoice, simulated
):
    online = pay_simulated(client, open_invoice, currency="USD")

    assert (online.status, online.payment, online.needs_review) == ("paid", None, True)
    assert "USD" in online.review_note
    assert not Payment.objects.filter(method="online").exists()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_clicks_start_one_payment(open_invoice, simulated):
    from django.test import Client

    from tests.conftest import run_at_once

    url = reverse("checkout:pay_online", kwargs={"token": pay_token(open_invoice)})

    def click() -> str:
        return Client().post(url)["Location"]

    locations = run_at_once(click, times=3)

    assert len(set(locations)) == 1
    assert OnlinePayment.objects.count() == SimulatedPayment.objects.count() == 1


def test_a_payment_paid_without_its_webhook_is_recorded_when_the_client_clicks_again(
    client, open_invoice, simulated
):
    url = reverse("checkout:pay_online", kwargs={"token": pay_token(open_invoice)})
    client.post(url)
    online = OnlinePayment.objects.get()
    OnlinePayment.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=30))
    # Paid at the "bank", but the webhook never arrived.
    SimulatedPayment.objects.update(status="paid", paid_at=timezone.now())

    response = client.post(url)

    assert response["Location"] == reverse(
        "checkout:pay_return",
        kwargs={"token": pay_token(open_invoice), "reference": online.reference},
    )
    assert Payment.objects.get(method="online").amount == Decimal("123.45")
    assert OnlinePayment.objects.count() == 1
    assert 'data-pay-state="paid"' in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("language", "title", "button"),
    [
        (
            "fr",
            "Prestataire simulé (enregistre, ne prélève aucun argent)",
            "Simuler un paiement réussi",
        ),
        (
            "nl",
            "Gesimuleerde aanbieder (registreert, int geen geld)",
            "Een geslaagde betaling simuleren",
        ),
        ("en", "Simulated provider (records, takes no money)", "Simulate a successful payment"),
    ],
)
def test_the_simulated_providers_page_speaks_the_invoices_language(
    open_invoice, simulated, language, title, button
):
    """As a real provider's page does: the language it was asked for (the invoice's)."""
    from django.conf import settings
    from django.test import Client

    from checkout.services import LOCALES

    browser = Client()
    started = browser.post(
        reverse("checkout:pay_online", kwargs={"token": pay_token(open_invoice)})
    )
    SimulatedPayment.objects.update(locale=LOCALES[language])
    html = browser.get(started["Location"]).content.decode()
    assert f'<html lang="{language}">' in html
    assert title in html and button in html
    # A language the client chose on the site wins.
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert '<html lang="en">' in browser.get(started["Location"]).content.decode()
