"""A member drafts and sends a quote; the client answers it on its public page, in another
browser context: accepts with a purchase order number, declines, or asks for a change."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from playwright.sync_api import expect

from quotes.models import Quote, QuoteEvent
from tests.conftest import PASSWORD
from tests.journeys import pages
from tests.journeys.conftest import PHONE
from tests.quotes.conftest import quote_client  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINES = [
    {"description": "Affiches de la saison", "quantity": "3", "unit": "day", "unit_price": "19.99"},
    {
        "description": "Fichiers d'impression",
        "quantity": "1",
        "unit": "piece",
        "unit_price": "100.00",
        "vat_rate": "6.00",
    },
]


def _to_client() -> list:
    """The e-mails sent to the client (members get their own notices too)."""
    return [message for message in mail.outbox if message.to == ["compta@galeries.example"]]


def _link_in(message) -> str:
    return re.search(r"https?://\S+/q/[\w-]+/", message.body).group(0)


def _draft_and_send(page, activity, quote_client) -> Quote:  # noqa: F811
    pages.fill_quote(
        page,
        header={
            "activity": str(activity.pk),
            "client": str(quote_client.pk),
            "title": "Affiches de la saison",
            "deposit_percent": "30",
            "schedule": "Acompte; 30; order\nSolde; 70; delivery",
        },
        lines=LINES,
    )
    pages.save_draft(page)
    pages.expect_message(page, "Draft saved. Check it, then send it to the client.")
    pages.send_quote(page)
    pages.expect_message(
        page, "Quote sent: the client receives it by e-mail with the link to answer it."
    )
    return Quote.objects.get()


def test_member_sends_and_the_client_accepts_with_a_po_number(
    open_page,
    member,
    activity,
    quote_client,  # noqa: F811
):
    page = open_page(language="en")
    pages.sign_in(page, email=member.user.email, password=PASSWORD)
    quote = _draft_and_send(page, activity, quote_client)
    assert quote.status == Quote.Status.SENT
    [message] = _to_client()
    assert message.attachments[0][1].startswith(b"%PDF")
    link = _link_in(message)

    # The client, on a phone, without any account: another browser context.
    client = open_page(language="en", viewport=PHONE)
    client.goto(link + "?lang=en")
    expect(client.locator("main")).to_contain_text(quote.number)
    expect(client.locator("[data-total-incl-vat]")).to_contain_text(
        pages.euro(Decimal("178.56"), "en")
    )
    assert pages.page_width(client) <= PHONE["width"]
    pages.accept_quote(client, name="Jan Janssens", function="Zaakvoerder", po_number="PO-4411")
    pages.expect_message(client, "Thank you: you accepted the quote.")

    quote.refresh_from_db()
    version = quote.current_version
    assert quote.status == Quote.Status.ACCEPTED
    assert (version.accepted_by_name, version.client_po_number) == ("Jan Janssens", "PO-4411")
    assert bytes(version.signature).startswith(b"\x89PNG")
    assert version.total_incl_vat == Decimal("178.56")
    event = QuoteEvent.objects.get(quote=quote, kind="accepted")
    assert event.ip == "127.0.0.1" and "Chrome" in event.user_agent

    # The member sees who accepted.
    page.reload()
    expect(page.locator("main")).to_contain_text("Accepted by Jan Janssens")


def test_the_client_declines(open_page, member, activity, quote_client):  # noqa: F811
    page = open_page(language="en")
    pages.sign_in(page, email=member.user.email, password=PASSWORD)
    quote = _draft_and_send(page, activity, quote_client)
    client = open_page(language="en")
    client.goto(_link_in(_to_client()[0]) + "?lang=en")
    pages.press(client, "Decline the quote")  # without a reason: refused, nothing recorded
    expect(client.locator("main .field.has-error .error").first).to_be_visible()
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT
    pages.decline_quote(client, reason="Budget spent for this season")
    pages.expect_message(client, "You declined the quote. Thank you for telling us why.")
    quote.refresh_from_db()
    assert quote.status == Quote.Status.DECLINED
    assert quote.current_version.decline_reason == "Budget spent for this season"


def test_a_change_request_leads_to_a_new_version(
    open_page,
    member,
    activity,
    quote_client,  # noqa: F811
):
    page = open_page(language="en")
    pages.sign_in(page, email=member.user.email, password=PASSWORD)
    quote = _draft_and_send(page, activity, quote_client)
    first_link = _link_in(_to_client()[0])
    client = open_page(language="en")
    client.goto(first_link + "?lang=en")
    pages.ask_for_change(client, message="Four posters instead of three, please.")
    pages.expect_message(client, "Your request was sent: you will receive a new version.")
    # The member is told, and makes a new version with four posters.
    assert any("Four posters" in message.body for message in mail.outbox)
    page.reload()
    expect(page.locator("main")).to_contain_text("Four posters instead of three, please.")
    pages.make_new_version(page)
    pages.fill_fields(page, {"lines-0-quantity": "4"})
    pages.save_draft(page)
    # Until the new version is sent, the first link still shows what the client answered.
    response = client.goto(first_link + "?lang=en")
    assert response.status == 200
    expect(client.locator("main")).to_contain_text("You asked for a change")
    pages.send_quote(page)
    quote.refresh_from_db()
    version = quote.current_version
    assert (quote.status, version.version, version.total_excl_vat) == (
        Quote.Status.SENT,
        2,
        Decimal("179.96"),
    )
    # The first link can no longer answer; the new one can.
    response = client.goto(first_link + "?lang=en")
    assert response.status == 410
    expect(client.locator("h1")).to_have_text("This quote was replaced by a newer version")
    second_link = _link_in(_to_client()[-1])
    assert second_link != first_link
    client.goto(second_link + "?lang=en")
    pages.accept_quote(client, name="Jan Janssens", function="", po_number="")
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED
    assert quote.current_version.version == 2


def test_a_long_title_wraps_on_the_clients_phone(
    open_page,
    member,
    activity,
    quote_client,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    from tests.quotes.conftest import make_draft, send

    title = "Affiches" + "-saison" * 27 + "x" * 3
    assert len(title) == 200
    draft = make_draft(member, activity, quote_client, title=title)
    _quote, token = send(draft, member.user, capture=django_capture_on_commit_callbacks)
    client = open_page(language="en", viewport=PHONE)
    client.goto(f"/q/{token}/?lang=en")
    expect(client.locator(".quote-title")).to_have_text(title)
    assert pages.page_width(client) <= PHONE["width"]
