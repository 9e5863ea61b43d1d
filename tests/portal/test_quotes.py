"""The portal's list of quotes: the address's sent quotes from every member, never a draft, nor
another address's, nor a new version the member is still drafting."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from quotes import services as quote_services
from quotes.documents import render_document
from quotes.orders import confirm_order
from tests.portal.conftest import SHARED, portal_browser
from tests.quotes.conftest import make_draft
from tests.quotes.orders_helpers import make_quote as make_order_quote

pytestmark = pytest.mark.django_db


def send(member, quote, capture):
    with capture(execute=False):
        quote, _token = quote_services.send_quote(user=member.user, quote=quote)
    return quote


def test_the_quote_list_shows_the_address_sent_quotes_only(
    client, member, activity, shared_client, different_client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    sent = send(
        member, make_draft(member, activity, shared_client, title="Season posters"), capture
    )
    make_draft(member, activity, shared_client, title="Draft only")
    send(member, make_draft(member, activity, different_client, title="Other address"), capture)
    portal_browser(client, SHARED)
    url = reverse("portal:quote_list")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert len(captured) <= 12
    rows = response.context["rows"]
    assert [(row["number"], row["title"], row["member_name"]) for row in rows] == [
        (sent.number, "Season posters", "Ana Peeters")
    ]
    assert rows[0]["total_incl_vat"] == sent.current_version.total_incl_vat
    text = response.content.decode()
    assert "Draft only" not in text and "Other address" not in text


def test_the_client_downloads_the_pdf_of_their_quote_only(
    client, member, activity, shared_client, different_client, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    mine = send(member, make_draft(member, activity, shared_client, title="Posters"), capture)
    other = send(member, make_draft(member, activity, different_client, title="Other"), capture)
    for quote in (mine, other):
        render_document(document=quote.current_version.document)
    portal_browser(client, SHARED)
    listed = client.get(reverse("portal:quote_list")).content.decode()
    assert reverse("portal:quote_pdf", args=[mine.pk]) in listed
    response = client.get(reverse("portal:quote_pdf", args=[mine.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{mine.number}-v1.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="downloaded", object_pk=str(mine.pk)).exists()
    # Another address's quote, a draft's id and an id beyond bigint: the same 404.
    draft = make_draft(member, activity, shared_client, title="Draft")
    for pk in (other.pk, draft.pk, 2**63):
        assert client.get(f"/portal/quotes/{pk}/pdf/").status_code == 404


def test_an_order_stays_listed_while_the_member_drafts_a_new_version(
    client, member, activity, shared_client, staff
):
    order = make_order_quote(activity=activity, client=shared_client, user=member.user)
    confirm_order(staff_user=staff, quote=order)
    quote_services.new_version(user=member.user, quote=order)
    order.refresh_from_db()
    assert order.status == "draft" and order.ordered_version_id is not None
    portal_browser(client, SHARED)
    rows = client.get(reverse("portal:quote_list")).context["rows"]
    assert [(row["pk"], row["status_label"]) for row in rows] == [(order.pk, "Confirmed order")]
