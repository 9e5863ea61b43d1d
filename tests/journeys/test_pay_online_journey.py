"""A client pays an invoice online from the link in its e-mail, with the simulated provider, and
the member's ledger shows the income once."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from checkout.models import OnlinePayment
from invoicing.models import Invoice, Payment
from invoicing.services.clients import create_client
from invoicing.services.drafts import LineInput, save_draft
from invoicing.services.issue import submit_invoice
from members.models import LedgerEntry
from members.services import create_activity
from tests.conftest import PASSWORD, make_member
from tests.journeys import pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "ana.peeters@example.be"


def issue_invoice(activity, member) -> Invoice:
    """What the member journey does in the pages: a 1,210.00 invoice issued to a client."""
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
    draft = save_draft(
        user=member.user,
        activity=activity,
        client=client,
        lines=[
            LineInput(
                description="Création lumière",
                quantity=Decimal("10"),
                unit="hour",
                unit_price=Decimal("100.00"),
            )
        ],
        buyer_reference="PO-2026-77",
        today=timezone.localdate(),
    )
    return submit_invoice(user=member.user, invoice=draft, today=timezone.localdate())


def test_a_client_pays_online_and_the_ledger_shows_the_income_once(open_page, settings):
    settings.PAYMENT_PROVIDER = "simulated"
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    member = make_member(EMAIL, legal_name="Ana Peeters", niss="85073003328")
    activity = create_activity(owner=member, name="Lumière", description="Création lumière")
    invoice = issue_invoice(activity, member)
    assert invoice.status == Invoice.Status.ISSUED

    # The invoice e-mail the client got carries the pay link.
    (message,) = [message for message in mail.outbox if message.to == [invoice.client.email]]
    link = re.search(r"https?://\S+/pay/\S+/", message.body).group(0)

    client = open_page(language="fr")
    client.goto(link)
    main = client.locator("main")
    amount = pages.euro(Decimal("1210.00"), "fr")
    expect(main.locator("[data-amount-due]")).to_have_text(amount)
    expect(main.locator("[data-ogm]")).to_have_text(invoice.structured_communication)
    # The stand-in says what it is before anyone clicks.
    expect(main.locator("[data-simulated]")).to_contain_text(
        pages.words(client, "Simulated provider (records, takes no money)")
    )
    pay = pages.words(client, "Pay %(amount)s online") % {"amount": amount}
    main.get_by_role("button", name=pay).click()
    client.wait_for_load_state()

    expect(client).to_have_url(re.compile(r"/checkout/simulated/sim_"))
    expect(client.locator("main [data-amount]")).to_have_text(amount)
    pages.press(client, "Simulate a successful payment")

    expect(client).to_have_url(re.compile(r"/pay/.+/return/"))
    expect(client.locator("main [data-pay-state]")).to_have_attribute("data-pay-state", "paid")
    client.goto(link)
    expect(client.locator("main [data-pay-state]")).to_have_attribute("data-pay-state", "paid")

    online = OnlinePayment.objects.get()
    assert (online.status, online.amount, online.provider) == (
        "paid",
        Decimal("1210.00"),
        "simulated",
    )
    assert Payment.objects.get().amount == Decimal("1210.00")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID

    # The member sees the income once on the Activity's ledger, less the fee.
    member_page = open_page(language="fr")
    pages.sign_in(member_page, email=EMAIL, password=PASSWORD)
    member_page.goto(f"/activities/{activity.pk}/")
    received = member_page.locator(
        "main tbody tr", has_text=pages.words(member_page, "Payment received (excl. VAT)")
    )
    expect(received).to_have_count(1)
    expect(received).to_contain_text(pages.euro(Decimal("1000.00"), "fr"))
    expect(member_page.locator("main")).to_contain_text(pages.euro(Decimal("935.00"), "fr"))
    assert (
        LedgerEntry.objects.filter(
            activity=activity, kind="client_income", stage="available"
        ).count()
        == 1
    )
