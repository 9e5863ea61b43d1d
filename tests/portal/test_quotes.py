"""The portal's list of quotes: the address's sent quotes from every member, never a draft, nor
another address's, nor a new version the member is still drafting."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from quotes import services as quote_services
from tests.portal.conftest import SHARED, portal_browser
from tests.quotes.conftest import make_draft

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
