"""Sending refuses the VAT an invoice may not carry; a sent version stays answerable until a
newer version is sent, and no longer after."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.db import DatabaseError, transaction
from django.urls import reverse

from invoicing.services.drafts import LineInput
from quotes import services
from quotes.errors import QuotingError
from quotes.models import Quote, QuoteEvent, QuoteLine, QuoteVersion
from tests.invoicing.conftest import french_client  # noqa: F401
from tests.quotes.conftest import TODAY, make_draft, png, send

EU_REFUSAL = (
    "Belgian VAT on a service to a business established in another EU country: such a "
    "service is taxed where the client is established (art. 21 §2 of the VAT Code). "
    "Choose AE (reverse charge); if an exception applies, ask staff."
)


def test_sending_refuses_belgian_vat_on_a_service_to_a_business_elsewhere_in_the_eu(
    member,
    activity,
    french_client,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    draft = make_draft(member, activity, french_client)
    with pytest.raises(QuotingError) as refused:
        services.send_quote(user=member.user, quote=draft)
    assert refused.value.message == EU_REFUSAL
    assert (refused.value.code, refused.value.field) == ("place_of_supply", "lines")
    draft.refresh_from_db()
    assert (draft.status, draft.sequence_number, draft.current_version.sent_at) == (
        Quote.Status.DRAFT,
        None,
        None,
    )
    # Reverse charged (AE), the same work is sent.
    reverse_charged = [
        LineInput(
            description="Illustrations",
            quantity=Decimal("3"),
            unit="day",
            unit_price=Decimal("19.99"),
            vat_category="AE",
            vat_rate=Decimal("0"),
        )
    ]
    draft = make_draft(member, activity, french_client, lines=reverse_charged)
    quote, _token = send(draft, member.user, capture=django_capture_on_commit_callbacks)
    assert quote.status == Quote.Status.SENT
    assert quote.current_version.total_incl_vat == Decimal("59.97")


def test_sending_checks_the_lines_again_against_the_client_as_it_is_now(
    member, activity, quote_client
):
    """A client who moved abroad after the draft: the lines are checked as an invoice's."""
    draft = make_draft(member, activity, quote_client)
    quote_client.country = "DE"
    quote_client.vat_number = "DE136695976"
    quote_client.save(update_fields=["country", "vat_number"])
    with pytest.raises(QuotingError, match="established in another EU country"):
        services.send_quote(user=member.user, quote=draft)
    assert Quote.objects.get().status == Quote.Status.DRAFT


def test_the_send_button_is_refused_on_the_page_with_the_same_message(
    client,
    member,
    activity,
    french_client,  # noqa: F811
):
    draft = make_draft(member, activity, french_client)
    client.force_login(member.user)
    page = client.get(reverse("quotes:quote_detail", args=[draft.pk]))
    assert page.context["place_of_supply_warning"] == EU_REFUSAL
    response = client.post(reverse("quotes:quote_send", args=[draft.pk]), follow=True)
    assert EU_REFUSAL in [str(message) for message in response.context["messages"]]
    assert Quote.objects.get().status == Quote.Status.DRAFT


def test_quote_errors_speak_of_a_quote(
    member,
    activity,
    quote_client,
    french_client,  # noqa: F811
):
    with pytest.raises(QuotingError) as refused:
        make_draft(member, activity, quote_client, lines=[])
    assert refused.value.message == "Add at least one line to the quote."
    negative = LineInput(
        description="x", quantity=Decimal("1"), unit="hour", unit_price=Decimal("-5")
    )
    with pytest.raises(QuotingError) as refused:
        make_draft(member, activity, quote_client, lines=[negative])
    assert refused.value.message == "Line 1: the unit price cannot be negative."
    french_client.vat_number = ""
    french_client.save(update_fields=["vat_number"])
    reverse_charged = LineInput(
        description="x",
        quantity=Decimal("1"),
        unit="hour",
        unit_price=Decimal("5"),
        vat_category="AE",
        vat_rate=Decimal("0"),
    )
    with pytest.raises(QuotingError) as refused:
        make_draft(member, activity, french_client, lines=[reverse_charged])
    assert refused.value.message == (
        "Reverse charge and intra-EU quotes need the client's VAT number."
    )
    assert not Quote.objects.exists()


def _accept(token, **changes):
    fields = {"name": "Jan", "conditions_accepted": True, "ip": None, "user_agent": ""}
    return services.accept_quote(link=services.find_link(token), **{**fields, **changes})


def test_the_sent_version_stays_answerable_while_the_new_one_is_a_draft(
    member, sent, django_capture_on_commit_callbacks
):
    quote, token = sent
    quote = services.new_version(user=member.user, quote=quote)
    draft = quote.current_version
    assert (draft.version, quote.status) == (2, Quote.Status.DRAFT)
    link = services.find_link(token)
    assert services.link_state(link, now=services.timezone.now()) == "open"
    assert services.public_status(quote, link.version) == Quote.Status.SENT
    quote = _accept(token, signature=png(), po_number="PO-9")
    # The acceptance binds: the unsent draft is set aside, the accepted version is current.
    assert quote.status == Quote.Status.ACCEPTED
    assert quote.current_version.version == 1
    assert quote.current_version.client_po_number == "PO-9"
    assert not QuoteVersion.objects.filter(pk=draft.pk).exists()
    assert not QuoteLine.objects.filter(version_id=draft.pk).exists()
    event = quote.events.get(kind=QuoteEvent.Kind.ACCEPTED)
    assert event.details["discarded_draft"] == 2
    # The history keeps that a new version was started.
    assert quote.events.filter(kind=QuoteEvent.Kind.NEW_VERSION).count() == 1
    # Database-enforced freezing stays.
    with pytest.raises(DatabaseError), transaction.atomic():
        QuoteVersion.objects.filter(pk=quote.current_version_id).update(title="Changed")


def test_declining_the_sent_version_leaves_the_members_new_draft(member, sent):
    quote, token = sent
    quote = services.new_version(user=member.user, quote=quote)
    quote = services.decline_quote(
        link=services.find_link(token), reason="Too dear", ip=None, user_agent=""
    )
    assert (quote.status, quote.current_version.version) == (Quote.Status.DRAFT, 2)
    first = QuoteVersion.objects.get(quote=quote, version=1)
    assert first.decline_reason == "Too dear"
    with pytest.raises(QuotingError, match="already answered: Declined"):
        _accept(token)


def test_once_the_new_version_is_sent_the_old_link_is_replaced(
    member, sent, django_capture_on_commit_callbacks
):
    quote, token = sent
    quote = services.new_version(user=member.user, quote=quote)
    mail.outbox.clear()
    quote, token2 = send(quote, member.user, capture=django_capture_on_commit_callbacks)
    assert quote.current_version.version == 2
    assert services.link_state(services.find_link(token), now=services.timezone.now()) == (
        "replaced"
    )
    with pytest.raises(QuotingError) as refused:
        _accept(token)
    assert refused.value.code == "replaced"
    assert "A newer version of this quote was sent to you" in refused.value.message
    assert Quote.objects.get().status == Quote.Status.SENT
    assert QuoteVersion.objects.get(quote=quote, version=1).accepted_at is None
    # The new e-mail carries the new link.
    assert len(mail.outbox) == 1
    assert services.find_link(token2).version.version == 2
    assert reverse("quotes:public", args=[token2]) in mail.outbox[0].body
    assert _accept(token2).status == Quote.Status.ACCEPTED


def test_an_old_version_answered_after_the_new_one_was_sent_is_refused_on_the_page(
    client, member, sent, django_capture_on_commit_callbacks
):
    quote, token = sent
    page = reverse("quotes:public", args=[token])
    services.new_version(user=member.user, quote=quote)
    assert client.get(page).status_code == 200
    send(Quote.objects.get(), member.user, capture=django_capture_on_commit_callbacks)
    response = client.post(
        page + "?lang=en",
        {"action": "accept", "accept-name": "Jan", "accept-conditions": "on"},
    )
    assert response.status_code == 410
    assert "This quote was replaced by a newer version" in response.text
    assert Quote.objects.get().status == Quote.Status.SENT


def test_new_version_is_valid_for_at_least_thirty_days(member, sent):
    quote, _token = sent
    quote = services.new_version(user=member.user, quote=quote)
    assert quote.current_version.valid_until >= TODAY + datetime.timedelta(days=30)


def test_the_member_can_still_withdraw_the_sent_versions_link_while_drafting(client, member, sent):
    quote, token = sent
    services.new_version(user=member.user, quote=quote)
    client.force_login(member.user)
    page = client.get(reverse("quotes:quote_detail", args=[quote.pk]))
    assert page.context["live_links"] is True
    client.post(reverse("quotes:quote_revoke", args=[quote.pk]))
    assert services.link_state(services.find_link(token), now=services.timezone.now()) == (
        "revoked"
    )
