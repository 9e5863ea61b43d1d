"""Two portal clients and every portal route: each sees its own documents, never the other's,
nothing internal, and a portal session opens nothing of the member side."""

import pytest
from django.urls import URLResolver, get_resolver, reverse

from invoicing.services.documents import render_document
from tests.portal.conftest import OTHER, SHARED, portal_browser

pytestmark = pytest.mark.django_db


# What the shared address must never read: the other address's client, its document, and
# what is internal to the members (their Activities, drafts, national numbers).
def secrets_of(world) -> list[str]:
    return [
        OTHER,
        "Atelier Lumière",
        world["different"].number,
        world["different"].structured_communication,
        "Illustration",  # the member's Activity
        "Stage lighting",  # the other member's Activity
        "85073003328",
        "17073003384",
    ]


def portal_routes() -> set[str]:
    names = set()
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == "portal":
            names |= {f"portal:{pattern.name}" for pattern in entry.url_patterns}
    return names


# Each document route, its method, and what a client gets on its own document and on another's.
DOCUMENT_ROUTES = {
    "portal:document_detail": ("get", 200, 404),
    "portal:document_pdf": ("get", 200, 404),
    "portal:document_ubl": ("get", 200, 404),
    "portal:document_question": ("post", 302, 404),
}
OTHER_ROUTES = {
    "portal:start",
    "portal:sign_in",
    "portal:sign_out",
    "portal:home",
    "portal:document_list",
    "portal:quote_list",
    # Its own test: tests/portal/test_quotes.py (a quote, not an invoice).
    "portal:quote_pdf",
    "portal:question_answered",
    "portal:password_sign_in",
    "portal:password",
}


def test_every_portal_route_is_walked_here():
    assert portal_routes() == set(DOCUMENT_ROUTES) | OTHER_ROUTES


def test_two_clients_see_only_their_own(client, world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    for invoice in world.values():
        for document in invoice.documents.all():
            render_document(document=document)
    mine, different = world["mine"], world["different"]
    portal_browser(client, SHARED)
    secrets = secrets_of(world)
    for name in ("portal:home", "portal:document_list", "portal:password"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        text = response.content.decode()
        assert [secret for secret in secrets if secret in text] == []
    for name, (method, own, others) in DOCUMENT_ROUTES.items():
        data = {"message": "When is it due?"} if method == "post" else None
        response = getattr(client, method)(reverse(name, kwargs={"pk": mine.pk}), data)
        assert response.status_code == own, name
        if not getattr(response, "streaming", False) and response.status_code == 200:
            text = response.content.decode()
            assert [secret for secret in secrets if secret in text] == [], name
        response = getattr(client, method)(reverse(name, kwargs={"pk": different.pk}), data)
        assert response.status_code == others, name
        response = getattr(client, method)(reverse(name, kwargs={"pk": world["draft"].pk}), data)
        assert response.status_code == 404, name
    # The API, with the same session.
    listed = client.get("/api/v1/portal/documents/").json()
    assert [row["number"] for row in listed["results"]] == [
        world["theirs"].number,
        mine.number,
    ]
    assert client.get(f"/api/v1/portal/documents/{different.pk}/").status_code == 404

    # The other client, in another browser, the other way round.
    from django.test import Client

    other = portal_browser(Client(HTTP_ACCEPT_LANGUAGE="en"), OTHER)
    assert (
        other.get(reverse("portal:document_detail", kwargs={"pk": different.pk})).status_code == 200
    )
    for name, (method, _own, others) in DOCUMENT_ROUTES.items():
        data = {"message": "Hello"} if method == "post" else None
        response = getattr(other, method)(reverse(name, kwargs={"pk": mine.pk}), data)
        assert response.status_code == others, name


def test_a_portal_session_opens_nothing_of_the_member_side(client, world, member):
    portal_browser(client, SHARED)
    response = client.get(reverse("invoicing:invoice_detail", kwargs={"pk": world["mine"].pk}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert client.get(reverse("invoicing:invoice_list")).status_code == 302
    assert client.get("/api/v1/invoices/").status_code == 401
    assert client.get("/api/v1/me").status_code == 401
    # Nor may it mark a question answered: that is the member's.
    from portal.models import PortalQuestion

    question = PortalQuestion.objects.create(invoice=world["mine"], email=SHARED, message="Hi")
    response = client.post(reverse("portal:question_answered", kwargs={"pk": question.pk}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    question.refresh_from_db()
    assert question.answered_at is None


def test_a_member_typing_a_client_address_exposes_only_their_own_documents(
    client, world, other_member, other_activity
):
    """The other member types the OTHER address on a record of theirs: that address now sees
    this member's documents for it, and still none of the first member's other clients."""
    from tests.portal.conftest import issue, make_client

    typed = make_client(other_member, name="Typed by Lucas", email=OTHER.upper())
    invoice = issue(other_member, other_activity, typed, "10.00")
    portal_browser(client, OTHER)
    listed = client.get("/api/v1/portal/documents/").json()["results"]
    assert sorted(row["number"] for row in listed) == sorted(
        [world["different"].number, invoice.number]
    )
