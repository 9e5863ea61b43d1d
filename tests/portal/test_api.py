"""The portal's read-only API: a client's documents, by portal session or e-mail link token."""

from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from portal import services
from portal.models import PortalToken
from tests.conftest import api_client_for
from tests.portal.conftest import SHARED

pytestmark = pytest.mark.django_db


def link_token(email: str, kind: str = "email") -> str:
    return services._create_token(
        kind=kind, email=email, lifetime=services.EMAIL_LINK_LIFETIME, now=timezone.now()
    )


def test_an_email_link_token_reads_the_address_documents(world):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Portal {link_token(SHARED)}")
    response = api.get("/api/v1/portal/documents/")
    assert response.status_code == 200
    theirs, mine = world["theirs"], world["mine"]
    assert [row["number"] for row in response.json()["results"]] == [theirs.number, mine.number]
    row = api.get(f"/api/v1/portal/documents/{mine.pk}/").json()
    assert row == {
        "id": mine.pk,
        "kind": "invoice",
        "number": mine.number,
        "issue_date": mine.issue_date.isoformat(),
        "due_date": mine.due_date.isoformat(),
        "member_name": "Ana Peeters",
        "total_incl_vat": "121.00",
        "amount_paid": "0.00",
        "amount_due": "121.00",
        "payment_status": "overdue",
    }
    assert Decimal(row["amount_due"]) == mine.total_incl_vat
    assert api.get(f"/api/v1/portal/documents/{world['different'].pk}/").status_code == 404
    assert api.get(f"/api/v1/portal/documents/{world['draft'].pk}/").status_code == 404


def test_refused_credentials(world, member):
    api = APIClient()
    revoked = link_token(SHARED)
    PortalToken.objects.filter(token_hash=services.hash_token(revoked)).update(
        revoked_at=timezone.now()
    )
    # A sign-in link is for the browser only; a forged token; a revoked one.
    for token in (link_token(SHARED, kind="sign_in"), "forged-token", revoked):
        api.credentials(HTTP_AUTHORIZATION=f"Portal {token}")
        response = api.get("/api/v1/portal/documents/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Portal"
    # A member's token is no portal credential.
    assert api_client_for(member.user).get("/api/v1/portal/documents/").status_code == 401
