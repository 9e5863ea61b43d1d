"""The client portal: who sees what, sign-in links, sessions, questions."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from checkout.links import pay_url
from coop.models import RateWindow
from invoicing.models import InvoiceDocument
from invoicing.services.documents import render_document
from portal import selectors, services
from portal.models import PortalQuestion, PortalToken
from tests.portal.conftest import OTHER, SHARED, portal_browser

pytestmark = pytest.mark.django_db


def numbers(response) -> list[str]:
    return re.findall(r"(?:Invoice|Credit note) ([\w-]+)</a>", response.content.decode())


# --- who sees what --------------------------------------------------------------------------


def test_an_address_sees_the_issued_documents_of_every_member_with_that_address(world):
    identity = selectors.PortalIdentity(email=SHARED)
    listed = [row["number"] for row in selectors.document_rows(identity)]
    assert listed == [world["theirs"].number, world["mine"].number]
    other = selectors.PortalIdentity(email=OTHER)
    assert [row["number"] for row in selectors.document_rows(other)] == [world["different"].number]


def test_the_list_page_shows_exactly_the_address_documents_with_their_amounts(client, world):
    portal_browser(client, "COMPTA@galeries.example")
    response = client.get(reverse("portal:document_list"))
    assert response.status_code == 200
    assert numbers(response) == [world["theirs"].number, world["mine"].number]
    text = response.content.decode()
    assert "Lucas Dubois" in text and "Ana Peeters" in text
    assert world["different"].number not in text
    assert "Atelier Lumière" not in text


def test_the_home_page_shows_what_is_open(client, world):
    portal_browser(client, SHARED)
    response = client.get(reverse("portal:home"))
    # 100.00 + 21 % and 250.00 + 21 %, both past due on the real today.
    assert response.context["summary"] == selectors.Summary(
        open_count=2,
        open_amount=world["mine"].total_incl_vat + world["theirs"].total_incl_vat,
        overdue_count=2,
        overdue_amount=world["mine"].total_incl_vat + world["theirs"].total_incl_vat,
        document_count=2,
    )
    assert "€" in response.content.decode()


def test_another_address_document_is_not_found_everywhere(client, world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    different = world["different"]
    for document in different.documents.all():
        render_document(document=document)
    portal_browser(client, SHARED)
    for name in ("document_detail", "document_pdf", "document_ubl"):
        assert client.get(reverse(f"portal:{name}", kwargs={"pk": different.pk})).status_code == 404
    response = client.post(
        reverse("portal:document_question", kwargs={"pk": different.pk}), {"message": "Hello?"}
    )
    assert response.status_code == 404
    assert not PortalQuestion.objects.exists()
    # A draft of the same address is no document of the portal either.
    draft = world["draft"]
    assert client.get(reverse("portal:document_detail", kwargs={"pk": draft.pk})).status_code == 404


def test_the_client_downloads_its_pdf_and_ubl(client, world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    theirs = world["theirs"]
    for document in theirs.documents.all():
        render_document(document=document)
    portal_browser(client, SHARED)
    pdf = client.get(reverse("portal:document_pdf", kwargs={"pk": theirs.pk}))
    assert pdf.status_code == 200
    assert pdf["Content-Disposition"] == f'attachment; filename="{theirs.number}.pdf"'
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    ubl = client.get(reverse("portal:document_ubl", kwargs={"pk": theirs.pk}))
    assert ubl.status_code == 200
    assert theirs.number.encode() in b"".join(ubl.streaming_content)
    # Not rendered yet: being prepared, the same 404 as for another's.
    mine = world["mine"]
    assert InvoiceDocument.objects.filter(invoice=mine, status="pending").count() == 2
    assert client.get(reverse("portal:document_pdf", kwargs={"pk": mine.pk})).status_code == 404


def test_the_invoice_page_shows_how_to_pay_what_is_due(client, world, settings):
    settings.PAYMENT_PROVIDER = ""
    portal_browser(client, SHARED)
    invoice = world["mine"]
    response = client.get(reverse("portal:document_detail", kwargs={"pk": invoice.pk}))
    assert response.status_code == 200
    payment = response.context["payment"]
    assert payment["amount"] == invoice.total_incl_vat
    assert payment["communication"] == invoice.structured_communication
    assert payment["qr_svg"].startswith("<svg")
    assert response.context["online_payment"] is None
    assert response.context["payment_status"] == "overdue"
    assert invoice.structured_communication in response.content.decode()


def test_pages_without_a_portal_session_go_to_the_sign_in_page(client, world, member):
    # A member signed in to the site is no portal client.
    client.force_login(member.user)
    for name, kwargs in [
        ("home", {}),
        ("document_list", {}),
        ("document_detail", {"pk": world["mine"].pk}),
        ("document_pdf", {"pk": world["mine"].pk}),
    ]:
        response = client.get(reverse(f"portal:{name}", kwargs=kwargs))
        assert response.status_code == 302
        assert response["Location"] == reverse("portal:start")


# --- signing in ------------------------------------------------------------------------------


def test_the_request_form_answers_the_same_whether_the_address_has_documents(
    client, world, eager_tasks, django_capture_on_commit_callbacks
):
    answers = []
    for email in (SHARED, "nobody@nowhere.example"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("portal:start"), {"email": email})
        # The same page but for the CSRF token, which every answer renews.
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
        answers.append((response.status_code, page.replace(email, "")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 200
    # Only the client's address got a link.
    assert [message.to for message in mail.outbox] == [[SHARED]]
    assert PortalToken.objects.get().email == SHARED
    link = re.search(r"http://\S+/portal/sign-in/\S+/", mail.outbox[0].body).group(0)
    path = link.split("8000", 1)[-1] if "8000" in link else link
    # Opening the link changes nothing (mail scanners); pressing the button signs in.
    assert client.get(path).status_code == 200
    assert PortalToken.objects.get().used_at is None
    response = client.post(path)
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200


def test_a_used_expired_revoked_or_forged_token_is_refused(client, world):
    now = timezone.now()
    used = services._create_token(
        kind="sign_in", email=SHARED, lifetime=services.SIGN_IN_LINK_LIFETIME, now=now
    )
    services.use_token(token=used, now=now)
    expired = services._create_token(
        kind="sign_in",
        email=SHARED,
        lifetime=services.SIGN_IN_LINK_LIFETIME,
        now=now - datetime.timedelta(minutes=31),
    )
    revoked = services._create_token(
        kind="email", email=SHARED, lifetime=services.EMAIL_LINK_LIFETIME, now=now
    )
    PortalToken.objects.filter(token_hash=services.hash_token(revoked)).update(revoked_at=now)
    forged = "x" * 43
    for token in (used, expired, revoked, forged):
        response = client.post(reverse("portal:sign_in", kwargs={"token": token}))
        assert response.status_code == 400
        assert "This link is no longer valid" in response.content.decode()
        assert client.get(reverse("portal:home")).status_code == 302


def test_only_the_hash_of_a_token_is_stored(world):
    token = services._create_token(
        kind="sign_in", email=SHARED, lifetime=services.SIGN_IN_LINK_LIFETIME, now=timezone.now()
    )
    stored = PortalToken.objects.get()
    assert stored.token_hash == services.hash_token(token) != token
    assert len(token) >= 43


def test_an_email_link_works_again_until_it_expires(client, world):
    link = services.email_link(world["mine"], "Compta@Galeries.example")
    path = link.split("8000", 1)[-1]
    for _time in range(2):
        assert client.post(path).status_code == 302
        assert client.get(reverse("portal:home")).status_code == 200
    # A copy sent to another address gets no link into the client's portal.
    assert services.email_link(world["mine"], "accountant@example.com") == ""


def test_sign_out_ends_the_portal_session(client, world):
    portal_browser(client, SHARED)
    assert client.get(reverse("portal:home")).status_code == 200
    response = client.post(reverse("portal:sign_out"))
    assert response.status_code == 302
    assert client.get(reverse("portal:home")).status_code == 302


def test_the_portal_session_expires(client, world):
    portal_browser(client, SHARED)
    session = client.session
    session["portal"]["expires_at"] = (timezone.now() - datetime.timedelta(seconds=1)).isoformat()
    session.save()
    assert client.get(reverse("portal:home")).status_code == 302


def test_the_request_form_is_rate_limited_per_address(client, world):
    for _attempt in range(services.LINKS_PER_ADDRESS):
        assert client.post(reverse("portal:start"), {"email": SHARED}).status_code == 200
    response = client.post(reverse("portal:start"), {"email": SHARED.upper()})
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    # Another address is not held up by this one.
    assert client.post(reverse("portal:start"), {"email": OTHER}).status_code == 200
    assert RateWindow.objects.filter(key__startswith="portal-link-address:").count() == 2


def test_the_request_form_is_rate_limited_per_ip_address(client, world):
    for index in range(services.LINKS_PER_IP):
        email = f"someone{index}@example.com"
        assert client.post(reverse("portal:start"), {"email": email}).status_code == 200
    assert client.post(reverse("portal:start"), {"email": SHARED}).status_code == 429


# --- questions -------------------------------------------------------------------------------


def test_a_question_reaches_the_member(
    client, world, member, eager_tasks, django_capture_on_commit_callbacks
):
    portal_browser(client, SHARED)
    invoice = world["mine"]
    url = reverse("portal:document_question", kwargs={"pk": invoice.pk})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"message": "Can we pay in two parts?"})
    assert response.status_code == 302
    question = PortalQuestion.objects.get()
    assert (question.invoice, question.email, question.message) == (
        invoice,
        SHARED,
        "Can we pay in two parts?",
    )
    [message] = mail.outbox
    assert message.to == [member.user.email]
    assert message.reply_to == [SHARED]
    assert "Can we pay in two parts?" in message.body
    assert question.pk and PortalQuestion.objects.get().emailed_at is not None
    # The member sees it on the invoice page and marks it answered.
    client.logout()
    client.force_login(member.user)
    page = client.get(reverse("invoicing:invoice_detail", kwargs={"pk": invoice.pk}))
    assert "Can we pay in two parts?" in page.content.decode()
    response = client.post(reverse("portal:question_answered", kwargs={"pk": question.pk}))
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.answered_by == member.user and question.answered_at is not None


def test_another_member_cannot_mark_the_question_answered(client, world, other_member):
    question = PortalQuestion.objects.create(invoice=world["mine"], email=SHARED, message="Hi")
    client.force_login(other_member.user)
    response = client.post(reverse("portal:question_answered", kwargs={"pk": question.pk}))
    assert response.status_code == 404
    question.refresh_from_db()
    assert question.answered_at is None


def test_questions_are_bounded_and_rate_limited(client, world):
    portal_browser(client, SHARED)
    url = reverse("portal:document_question", kwargs={"pk": world["mine"].pk})
    assert client.post(url, {"message": "x" * 2001}).status_code == 400
    assert client.post(url, {"message": "   "}).status_code == 400
    for index in range(services.QUESTIONS_PER_HOUR):
        assert client.post(url, {"message": f"Question {index}"}).status_code == 302
    response = client.post(url, {"message": "One more"})
    assert response.status_code == 400
    assert "Too many requests" in response.content.decode()
    assert PortalQuestion.objects.count() == services.QUESTIONS_PER_HOUR


# --- the invoice e-mail ----------------------------------------------------------------------


def test_the_invoice_email_carries_a_view_online_link(world, tmp_path, settings):
    from invoicing.services.documents import send_dispatch

    settings.MEDIA_ROOT = tmp_path
    invoice = world["mine"]
    for document in invoice.documents.all():
        render_document(document=document)
    dispatch = invoice.dispatches.get(channel="email")
    assert send_dispatch(dispatch=dispatch)
    [message] = mail.outbox
    link = re.search(r"http://\S+/portal/sign-in/(\S+)/", message.body)
    assert link is not None
    stored = PortalToken.objects.get(token_hash=services.hash_token(link.group(1)))
    assert (stored.kind, stored.email) == ("email", SHARED)


def test_the_portal_speaks_the_client_language_until_another_is_chosen(world):
    from django.test import Client

    browser = portal_browser(Client(), SHARED)
    # The address's latest client record (the other member's) is French.
    assert 'lang="fr"' in browser.get(reverse("portal:home")).content.decode()
    browser.post(reverse("set_language"), {"language": "nl", "next": reverse("portal:home")})
    assert 'lang="nl"' in browser.get(reverse("portal:home")).content.decode()


def test_links_expired_a_month_ago_are_purged(world):
    now = timezone.now()
    for days in (0, 29, 31):
        services._create_token(
            kind="email",
            email=SHARED,
            lifetime=datetime.timedelta(days=1),
            now=now - datetime.timedelta(days=days + 1),
        )
    assert services.purge_expired_tokens(now=now) == 1
    assert PortalToken.objects.count() == 2


def test_a_credit_note_is_listed_and_asks_for_no_payment(client, world, member, staff):
    from decimal import Decimal

    from invoicing.services.credit import CreditLineInput, request_credit_note
    from invoicing.services.issue import approve_invoice
    from tests.conftest import NOW
    from tests.invoicing.conftest import TODAY

    note = request_credit_note(
        user=member.user,
        invoice=world["mine"],
        reason="Not needed",
        lines=[CreditLineInput(position=1, quantity=Decimal("1"))],
    )
    note = approve_invoice(staff_user=staff, invoice=note, today=TODAY, now=NOW)
    portal_browser(client, SHARED)
    listed = numbers(client.get(reverse("portal:document_list")))
    assert listed == [note.number, world["theirs"].number, world["mine"].number]
    response = client.get(reverse("portal:document_detail", kwargs={"pk": note.pk}))
    assert response.status_code == 200
    assert (response.context["payment_status"], response.context["payment"]) == (
        "credit_note",
        None,
    )
    # The invoice it credits in full has nothing left to pay.
    response = client.get(reverse("portal:document_detail", kwargs={"pk": world["mine"].pk}))
    assert response.context["payment"] is None


def test_a_payment_reminder_carries_a_view_online_link(world):
    from invoicing.models import Reminder
    from invoicing.services.documents import send_reminder_email

    invoice = world["theirs"]
    reminder = Reminder.objects.create(
        invoice=invoice, level=1, sent_on=timezone.localdate(), amount_due=invoice.total_incl_vat
    )
    assert send_reminder_email(reminder=reminder)
    [message] = mail.outbox
    token = re.search(r"http://\S+/portal/sign-in/(\S+)/", message.body).group(1)
    assert PortalToken.objects.get(token_hash=services.hash_token(token)).email == SHARED


def test_the_invoice_page_offers_to_pay_online_when_a_provider_is_configured(
    client, world, settings
):
    settings.PAYMENT_PROVIDER = "simulated"
    portal_browser(client, SHARED)
    invoice = world["mine"]
    response = client.get(reverse("portal:document_detail", kwargs={"pk": invoice.pk}))
    online = response.context["online_payment"]
    assert online == {
        "url": pay_url(invoice),
        "label": "Pay by Bancontact, card or direct debit (simulated: no money is taken)",
    }
    assert f'href="{pay_url(invoice)}"' in response.content.decode()
