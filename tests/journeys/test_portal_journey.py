"""A client of two members, in the portal: signs in by e-mail link, reads and downloads an
invoice, sees how to pay it, asks a question; the member sees the question and marks it answered."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from invoicing.services.issue import submit_invoice
from members import services as member_services
from portal.models import PortalQuestion
from tests.conftest import PASSWORD, make_member, make_user
from tests.invoicing.conftest import line, make_draft
from tests.journeys import pages
from tests.journeys.conftest import DESKTOP, PHONE
from tests.portal.conftest import make_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIENT_EMAIL = "compta@galeries.example"


def issued_invoices(settings):
    """One invoice from each of two members to the same buyer address."""
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    staff = make_user("staff@coop.test", is_staff=True, is_superuser=True)
    invoices = []
    for email, name, niss in (
        ("ana@coop.test", "Ana Peeters", "85073003328"),
        ("lucas@coop.test", "Lucas Dubois", "17073003384"),
    ):
        member = make_member(email, legal_name=name, niss=niss, approver=staff)
        activity = member_services.create_activity(owner=member, name=f"Work of {name}")
        client = make_client(member, name="Théâtre des Galeries SA", email=CLIENT_EMAIL)
        draft = make_draft(member, activity, client, [line("Lighting design", "2", price="80.00")])
        invoices.append((member, submit_invoice(user=member.user, invoice=draft)))
    return invoices


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_client_reads_downloads_and_asks_member_answers(open_page, settings, viewport):
    (member, invoice), (_other, other_invoice) = issued_invoices(settings)
    mail.outbox.clear()

    # The client asks for a link in a browser of its own and opens it from the e-mail.
    client = open_page(language="en", viewport=viewport)
    pages.ask_for_portal_link(client, email=CLIENT_EMAIL.upper())
    pages.expect_message(
        client,
        "If this address has documents from our members, we sent it a sign-in link. It works "
        "once, for 30 minutes.",
    )
    (message,) = [sent for sent in mail.outbox if sent.to == [CLIENT_EMAIL]]
    link = re.search(r"https?://\S+/portal/sign-in/\S+/", message.body).group(0)
    pages.open_portal_link(client, link)

    # Both members' invoices, and what is open.
    main = client.locator("main")
    expect(main).to_contain_text(f"Invoice {invoice.number}")
    expect(main).to_contain_text(f"Invoice {other_invoice.number}")
    expect(main).to_contain_text(pages.euro(invoice.total_incl_vat * 2, "en"))
    assert pages.page_width(client) <= viewport["width"]

    pages.open_portal_document(client, f"Invoice {invoice.number}")
    expect(main).to_contain_text(invoice.structured_communication)
    expect(client.locator(".portal-qr svg")).to_be_visible()
    download = pages.download_portal_pdf(client)
    assert download.suggested_filename == f"{invoice.number}.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read(4) == b"%PDF"

    pages.ask_portal_question(client, "Can we pay in two parts?")
    pages.expect_message(client, "Your question was sent. The member will answer you.")
    question = PortalQuestion.objects.get()
    assert (question.invoice_id, question.email) == (invoice.pk, CLIENT_EMAIL)
    assert [sent.to for sent in mail.outbox if "Can we pay" in sent.body] == [[member.user.email]]

    # The member, in another browser, sees it on the invoice's page and marks it answered.
    member_page = open_page(language="en", viewport=viewport)
    pages.sign_in(member_page, email=member.user.email, password=PASSWORD)
    member_page.goto(reverse("invoicing:invoice_detail", kwargs={"pk": invoice.pk}))
    expect(member_page.locator("main")).to_contain_text("Can we pay in two parts?")
    pages.mark_question_answered(member_page)
    pages.expect_message(member_page, "The question is marked answered.")
    question.refresh_from_db()
    assert question.answered_by == member.user

    # The client signs out: the portal asks for a link again.
    client.locator("header").get_by_role("button", name="Sign out").click()
    client.goto(reverse("portal:home"))
    expect(client).to_have_url(re.compile(re.escape(reverse("portal:start")) + "$"))


def test_portal_pages_have_no_serious_accessibility_violation(open_page, settings):
    """axe on the portal's sign-in form, home, list and invoice page, in French."""
    from django.utils import timezone

    from portal import services
    from tests.journeys.test_accessibility import blocking_violations

    (_member, invoice), _other = issued_invoices(settings)
    client = open_page(language="fr")
    violations = blocking_violations(client, reverse("portal:start"))
    token = services._create_token(
        kind="sign_in",
        email=CLIENT_EMAIL,
        lifetime=services.SIGN_IN_LINK_LIFETIME,
        now=timezone.now(),
    )
    violations += blocking_violations(client, reverse("portal:sign_in", args=[token]))
    client.locator("main form button[type=submit]").click()
    client.wait_for_load_state()
    for url in (
        reverse("portal:home"),
        reverse("portal:document_list"),
        reverse("portal:document_detail", args=[invoice.pk]),
    ):
        violations += blocking_violations(client, url)
    assert violations == [], "\n".join(violations)
