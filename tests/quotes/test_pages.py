"""Member pages and the client's public page of quotes, through the browser's requests."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from quotes import services
from quotes.models import Quote, QuoteEvent
from tests.conftest import api_client_for
from tests.invoicing.conftest import french_client  # noqa: F401
from tests.quotes.conftest import form_data as _form
from tests.quotes.conftest import make_draft, send

UA = "Mozilla/5.0 (Client browser)"
IP = "203.0.113.50"


def public(token: str) -> str:
    return reverse("quotes:public", args=[token])


def test_member_lists_drafts_and_sees_details(client, member, draft):
    client.force_login(member.user)
    page = client.get(reverse("quotes:quote_list"))
    assert page.status_code == 200
    assert "Affiches de la saison" in page.text
    assert "Théâtre des Galeries SA" in page.text
    detail = client.get(reverse("quotes:quote_detail", args=[draft.pk]))
    assert detail.status_code == 200
    assert "Send to the client" in detail.text
    assert "178.56" in detail.text.replace(",", ".").replace("\u202f", "")


def test_an_empty_list_says_how_to_start(client, member, activity):
    client.force_login(member.user)
    page = client.get(reverse("quotes:quote_list"))
    assert "You have not drawn up any quote yet" in page.text


def test_another_member_gets_404(client, other_member, draft):
    client.force_login(other_member.user)
    for name in ("quote_detail", "quote_edit", "quote_delete"):
        assert client.get(reverse(f"quotes:{name}", args=[draft.pk])).status_code == 404
    for name in ("quote_send", "quote_revoke", "quote_new_version", "quote_resend"):
        assert client.post(reverse(f"quotes:{name}", args=[draft.pk])).status_code == 404
    assert client.get(reverse("quotes:quote_pdf", args=[draft.pk, 1])).status_code == 404
    assert Quote.objects.get().status == Quote.Status.DRAFT


def test_creating_a_quote_through_the_form(client, member, activity, quote_client):
    client.force_login(member.user)
    form = client.get(reverse("quotes:quote_create"))
    assert form.status_code == 200
    response = client.post(reverse("quotes:quote_create"), _form(activity, quote_client))
    quote = Quote.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("quotes:quote_detail", args=[quote.pk])
    version = quote.current_version
    assert (version.total_excl_vat, version.total_vat, version.total_incl_vat) == (
        Decimal("900.00"),
        Decimal("189.00"),
        Decimal("1089.00"),
    )
    assert version.schedule[1] == {"label": "Solde", "percent": "70.00", "due": "delivery"}


def test_form_errors_are_shown_not_raised(client, member, activity, quote_client):
    client.force_login(member.user)
    response = client.post(
        reverse("quotes:quote_create"),
        _form(
            activity, quote_client, schedule="Acompte; 30; order", **{"lines-0-unit_price": "1.001"}
        ),
    )
    assert response.status_code == 200
    assert "The draft was not saved" in response.text
    response = client.post(
        reverse("quotes:quote_create"), _form(activity, quote_client, schedule="Acompte; 30; order")
    )
    assert response.status_code == 200
    assert "add up to 30.00\u00a0%" in response.text
    assert not Quote.objects.exists()


def test_sending_from_the_detail_page(client, member, draft, django_capture_on_commit_callbacks):
    client.force_login(member.user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("quotes:quote_send", args=[draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Quote.Status.SENT
    assert len(callbacks) == 2  # the PDF, then the e-mail
    again = client.post(reverse("quotes:quote_send", args=[draft.pk]), follow=True)
    assert "This quote was already sent." in again.text


def test_client_accepts_on_the_public_page(client, sent):
    quote, token = sent
    page = client.get(public(token), HTTP_USER_AGENT=UA, REMOTE_ADDR=IP)
    assert page.status_code == 200
    assert quote.number in page.text
    # In the quote's language (Dutch here) unless the client switches.
    assert 'lang="nl"' in page.text
    assert client.get(public(token) + "?lang=en").status_code == 200
    assert QuoteEvent.objects.filter(quote=quote, kind="viewed", ip=IP, user_agent=UA).count() == 1
    pdf = client.get(reverse("quotes:public_pdf", args=[token]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    missing = client.post(
        public(token) + "?lang=en",
        {"action": "accept", "accept-name": "", "accept-conditions": ""},
        HTTP_USER_AGENT=UA,
        REMOTE_ADDR=IP,
    )
    assert missing.status_code == 400
    assert "This field is required." in missing.text
    response = client.post(
        public(token) + "?lang=en",
        {
            "action": "accept",
            "accept-name": "Jan Janssens",
            "accept-function": "Zaakvoerder",
            "accept-po_number": "PO-4411",
            "accept-conditions": "on",
            "accept-signature": "",
        },
        HTTP_USER_AGENT=UA,
        REMOTE_ADDR=IP,
    )
    assert response.status_code == 302
    quote.refresh_from_db()
    version = quote.current_version
    assert quote.status == Quote.Status.ACCEPTED
    assert (version.accepted_by_name, version.client_po_number) == ("Jan Janssens", "PO-4411")
    event = QuoteEvent.objects.get(quote=quote, kind="accepted")
    assert (event.ip, event.user_agent) == (IP, UA)
    after = client.get(public(token) + "?lang=en")
    assert "Accepted by Jan Janssens" in after.text
    assert "data-accept-form" not in after.text


def test_client_declines_and_the_member_is_told(client, sent, django_capture_on_commit_callbacks):
    quote, token = sent
    empty = client.post(public(token), {"action": "decline", "decline-reason": " "})
    assert empty.status_code == 400
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            public(token), {"action": "decline", "decline-reason": "Te duur"}, REMOTE_ADDR=IP
        )
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.status == Quote.Status.DECLINED
    assert quote.current_version.decline_reason == "Te duur"
    assert len(callbacks) == 1


def test_change_request_then_new_version_replaces_the_old_link_once_sent(
    client, member, sent, django_capture_on_commit_callbacks
):
    quote, token = sent
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            public(token), {"action": "change", "change-message": "Vier affiches"}
        )
    assert response.status_code == 302
    client.force_login(member.user)
    response = client.post(reverse("quotes:quote_new_version", args=[quote.pk]))
    assert response.url == reverse("quotes:quote_edit", args=[quote.pk])
    client.logout()
    # Until the new version is sent, the old link shows what the client answered.
    old = client.get(public(token) + "?lang=en")
    assert old.status_code == 200
    assert "You asked for a change" in old.text
    assert "Draft" not in old.text
    mail.outbox.clear()
    quote, token2 = send(quote, member.user, capture=django_capture_on_commit_callbacks)
    # The new e-mail carries the new link, and the old one says it was replaced.
    assert public(token2) in mail.outbox[-1].body
    assert public(token) not in mail.outbox[-1].body
    old = client.get(public(token) + "?lang=en")
    assert old.status_code == 410
    assert "This quote was replaced by a newer version" in old.text
    assert f"replaced this version of quote {quote.number} by a newer version" in old.text
    assert client.get(public(token2)).status_code == 200


@pytest.mark.parametrize("state", ["unknown", "revoked", "expired", "other"])
def test_refused_links(
    client, member, activity, quote_client, sent, state, django_capture_on_commit_callbacks
):
    quote, token = sent
    if state == "unknown":
        response = client.get(public("x" * 43))
        assert response.status_code == 404
        return
    if state == "revoked":
        services.revoke_link(user=member.user, quote=quote)
    elif state == "expired":
        from quotes.models import QuoteLink

        QuoteLink.objects.update(expires_at=services.timezone.now() - datetime.timedelta(seconds=1))
    else:
        # Another quote's token opens that quote only, never this one.
        other = make_draft(member, activity, quote_client, title="Autre")
        other, other_token = send(other, member.user, capture=django_capture_on_commit_callbacks)
        page = client.get(public(other_token))
        assert page.status_code == 200
        assert other.number in page.text and quote.number not in page.text
        return
    response = client.get(public(token))
    assert response.status_code == 410
    answer = client.post(
        public(token),
        {"action": "accept", "accept-name": "Jan", "accept-conditions": "on"},
    )
    assert answer.status_code == 410
    assert client.get(reverse("quotes:public_pdf", args=[token])).status_code == 410
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT


def test_public_page_is_throttled(client, sent, settings, monkeypatch):
    _quote, token = sent
    from quotes import views

    monkeypatch.setattr(views, "PUBLIC_READS_PER_WINDOW", 2)
    assert client.get(public(token)).status_code == 200
    assert client.get(public(token)).status_code == 200
    assert client.get(public(token)).status_code == 429


def test_api_drafts_sends_and_versions(
    member, activity, quote_client, django_capture_on_commit_callbacks
):
    api = api_client_for(member.user)
    body = {
        "activity": activity.pk,
        "client": quote_client.pk,
        "title": "Logo",
        "deposit_percent": "30.00",
        "schedule": [
            {"label": "Acompte", "percent": "30", "due": "order"},
            {"label": "Solde", "percent": "70", "due": "delivery"},
        ],
        "lines": [
            {
                "description": "Logo",
                "quantity": "1",
                "unit": "piece",
                "unit_price": "800.00",
                "vat_rate": "21",
            }
        ],
    }
    created = api.post("/api/v1/quotes/", body, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["pk"]
    assert created.json()["current_version"]["total_incl_vat"] == "968.00"
    body["lines"][0]["unit_price"] = "1000.00"
    updated = api.put(f"/api/v1/quotes/{pk}/", body, format="json")
    assert updated.status_code == 200
    assert updated.json()["current_version"]["total_incl_vat"] == "1210.00"
    bad = api.put(f"/api/v1/quotes/{pk}/", {**body, "title": ""}, format="json")
    assert bad.status_code == 400
    with django_capture_on_commit_callbacks(execute=False):
        sent = api.post(f"/api/v1/quotes/{pk}/send/")
    assert sent.status_code == 200
    assert sent.json()["status"] == "sent"
    assert "/q/" in sent.json()["link"]
    again = api.post(f"/api/v1/quotes/{pk}/send/")
    assert again.status_code == 400
    versioned = api.post(f"/api/v1/quotes/{pk}/new-version/")
    assert versioned.status_code == 200
    assert versioned.json()["current_version"]["version"] == 2
    detail = api.get(f"/api/v1/quotes/{pk}/")
    assert detail.json()["versions"] == [1, 2]
    listed = api.get("/api/v1/quotes/")
    assert [row["pk"] for row in listed.json()["results"]] == [pk]


def test_api_another_member_sees_nothing(other_member, draft):
    api = api_client_for(other_member.user)
    assert api.get(f"/api/v1/quotes/{draft.pk}/").status_code == 404
    assert api.post(f"/api/v1/quotes/{draft.pk}/send/").status_code == 404
    assert api.get("/api/v1/quotes/").json()["results"] == []


def test_the_email_names_the_quote_and_carries_the_link(sent):
    quote, token = sent
    [message] = mail.outbox
    assert quote.number in message.subject
    assert f"http://testserver{public(token)}" in message.body or public(token) in message.body


def test_a_second_answer_is_refused_with_a_message(client, sent):
    quote, token = sent
    services.accept_quote(
        link=services.find_link(token), name="Jan", conditions_accepted=True, ip=None, user_agent=""
    )
    response = client.post(
        public(token) + "?lang=en", {"action": "decline", "decline-reason": "Changed my mind"}
    )
    assert response.status_code == 400
    assert "This quote was already answered: Accepted." in response.text
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED
    assert quote.current_version.decline_reason == ""


def test_a_draft_warns_of_belgian_vat_on_a_service_to_a_business_elsewhere_in_the_eu(
    client,
    member,
    activity,
    draft,
    french_client,  # noqa: F811
):
    """Checked as an invoice's draft is, before the client accepts a quote with the wrong VAT."""
    client.force_login(member.user)
    warning = "Belgian VAT on a service to a business established in another EU country"
    # A Belgian client: Belgian VAT is right, no warning.
    page = client.get(reverse("quotes:quote_detail", args=[draft.pk]))
    assert warning not in page.content.decode()
    abroad = make_draft(member, activity, french_client)
    page = client.get(reverse("quotes:quote_detail", args=[abroad.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.context["place_of_supply_warning"].startswith(warning)
    assert warning in page.content.decode()
