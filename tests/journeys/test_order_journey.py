"""From a quote to a paid deposit, each person in their own browser: the member sends a quote
with a 30 % deposit, the client accepts it with a purchase order number, staff confirm the order
from the admin's queue, the member invoices the deposit from the order, staff approve the
invoice (a new client's invoices are reviewed), and the client pays it online with the
simulated provider. The Activity's ledger shows the guaranteed budget, then the income once."""

import re
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.core import mail
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from checkout.models import OnlinePayment
from invoicing.models import Invoice, Payment
from members.models import LedgerEntry
from quotes.models import OrderInvoice, Quote
from tests.conftest import PASSWORD
from tests.journeys import pages
from tests.journeys.pages_admin import run_action
from tests.quotes.conftest import quote_client  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
CLIENT_EMAIL = "compta@galeries.example"


def _link_in_mail(pattern: str) -> str:
    """The last link matching ``pattern`` in the e-mails sent to the client."""
    bodies = [message.body for message in mail.outbox if message.to == [CLIENT_EMAIL]]
    return [found.group(0) for body in bodies if (found := re.search(pattern, body))][-1]


def test_a_quote_becomes_an_order_whose_deposit_is_invoiced_and_paid_online(
    open_page,
    settings,
    member,
    activity,
    staff,
    quote_client,  # noqa: F811
):
    settings.PAYMENT_PROVIDER = "simulated"
    TOTP.activate(staff, SECRET)

    # The member drafts a quote of 1,000.00 excl. VAT (21 %) with a 30 % deposit and sends it.
    member_page = open_page(language="en")
    pages.sign_in(member_page, email=member.user.email, password=PASSWORD)
    pages.fill_quote(
        member_page,
        header={
            "activity": str(activity.pk),
            "client": str(quote_client.pk),
            "title": "Scénographie du festival",
            "deposit_percent": "30",
            "schedule": "Acompte; 30; order\nSolde; 70; delivery",
        },
        lines=[
            {"description": "Scénographie", "quantity": "10", "unit": "hour", "unit_price": "100"}
        ],
    )
    pages.save_draft(member_page)
    pages.send_quote(member_page)
    pages.expect_message(
        member_page, "Quote sent: the client receives it by e-mail with the link to answer it."
    )
    quote = Quote.objects.get()

    # The client accepts on the public page, in a browser of their own.
    client = open_page(language="en")
    client.goto(_link_in_mail(r"https?://\S+/q/[\w-]+/") + "?lang=en")
    expect(client.locator("[data-total-incl-vat]")).to_contain_text(
        pages.euro(Decimal("1210.00"), "en")
    )
    pages.accept_quote(client, name="Jan Janssens", function="Zaakvoerder", po_number="PO-4411")
    pages.expect_message(client, "Thank you: you accepted the quote.")
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED

    # Staff, signed in with their authenticator, confirm it from the admin's queue.
    staff_page = open_page(language="en")
    pages.sign_in(staff_page, email=staff.email, password=PASSWORD)
    pages.give_authenticator_code(staff_page, pages.current_code(SECRET))
    queue = "/admin/quotes/quoteawaitingconfirmation/"
    staff_page.goto(queue)
    expect(staff_page.locator("#changelist tbody tr")).to_have_count(1)
    expect(staff_page.locator("#changelist tbody tr")).to_contain_text("PO-4411")
    run_action(staff_page, queue, quote.pk, "confirm")
    quote.refresh_from_db()
    assert quote.status == Quote.Status.CONFIRMED

    # The whole order is guaranteed budget on the member's Activity.
    member_page.goto(f"/activities/{activity.pk}/")
    expect(pages.figure(member_page, "Guaranteed")).to_have_text(
        pages.euro(Decimal("1000.00"), "en")
    )
    expect(pages.figure(member_page, "Planned")).to_have_text(pages.euro(Decimal("0.00"), "en"))

    # From the quote's page to the order's, the member invoices the deposit and submits it.
    member_page.goto(f"/quotes/{quote.pk}/")
    member_page.locator(f"main a[href='/orders/{quote.pk}/']").click()
    member_page.wait_for_load_state()
    expect(member_page.locator("main")).to_contain_text("PO-4411")
    pages.invoice_the_deposit(member_page, percent="30")
    deposit = OrderInvoice.objects.get(quote=quote)
    invoice = deposit.invoice
    assert (deposit.part, deposit.amount_excl_vat) == ("deposit", Decimal("300.00"))
    expect(member_page).to_have_url(re.compile(f"/invoices/{invoice.pk}/$"))
    pages.submit_invoice(member_page)
    invoice.refresh_from_db()
    # A first invoice to a new client waits for staff's review.
    assert invoice.status == Invoice.Status.PENDING_REVIEW

    run_action(staff_page, "/admin/invoicing/invoice/", invoice.pk, "approve")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total_excl_vat, invoice.total_incl_vat) == (
        Invoice.Status.ISSUED,
        Decimal("300.00"),
        Decimal("363.00"),
    )
    assert invoice.number

    # The client pays the deposit from the invoice e-mail's pay link, in a fresh browser.
    payer = open_page(language="en")
    payer.goto(_link_in_mail(r"https?://\S+/pay/\S+/"))
    amount = pages.euro(Decimal("363.00"), "en")
    main = payer.locator("main")
    expect(main.locator("[data-amount-due]")).to_have_text(amount)
    pay = pages.words(payer, "Pay %(amount)s online") % {"amount": amount}
    main.get_by_role("button", name=pay).click()
    payer.wait_for_load_state()
    expect(payer).to_have_url(re.compile(r"/checkout/simulated/sim_"))
    pages.press(payer, "Simulate a successful payment")
    expect(payer.locator("main [data-pay-state]")).to_have_attribute("data-pay-state", "paid")

    online = OnlinePayment.objects.get()
    assert (online.status, online.amount) == ("paid", Decimal("363.00"))
    assert Payment.objects.get().amount == Decimal("363.00")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID

    # The Activity: the income once (300.00 excl. VAT), less the 6.5 % fee (19.50), in
    # Available; the guarantee reduced by the deposit; nothing left planned.
    member_page.goto(f"/activities/{activity.pk}/")
    # Written by the provider's notification, the entry is worded in the member's language.
    with translation.override(activity.owner.preferred_language):
        income_words = gettext("Payment received (excl. VAT)")
    received = member_page.locator("main tbody tr", has_text=income_words)
    expect(received).to_have_count(1)
    expect(received).to_contain_text(pages.euro(Decimal("300.00"), "en"))
    expect(pages.figure(member_page, "Available")).to_have_text(pages.euro(Decimal("280.50"), "en"))
    expect(pages.figure(member_page, "Planned")).to_have_text(pages.euro(Decimal("0.00"), "en"))
    expect(pages.figure(member_page, "Guaranteed")).to_have_text(
        pages.euro(Decimal("700.00"), "en")
    )
    assert (
        LedgerEntry.objects.filter(
            activity=activity, kind="client_income", stage="available"
        ).count()
        == 1
    )

    # The order: 1,000.00 ordered, 300.00 invoiced (paid), 700.00 left and still guaranteed.
    member_page.goto(f"/orders/{quote.pk}/")
    for msgid, value in (
        ("Ordered (excl. VAT)", "1000.00"),
        ("Invoiced, net of credit notes", "300.00"),
        ("Drawn up, not issued yet", "0.00"),
        ("Left to invoice", "700.00"),
        ("Still guaranteed", "700.00"),
    ):
        expect(pages.figure(member_page, msgid)).to_have_text(pages.euro(Decimal(value), "en"))
    invoice_row = member_page.locator("main tbody tr", has_text=invoice.number)
    expect(invoice_row).to_contain_text(pages.words(member_page, "Paid"))
