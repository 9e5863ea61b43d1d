"""The REST API: authentication, scoping and the shape of its answers."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from members import services
from members.models import LedgerEntryKind, LedgerStage
from tests.conftest import PASSWORD, make_api_token, make_user


def english_client() -> APIClient:
    client = APIClient()
    client.cookies["coop_language"] = "en"
    return client


@pytest.fixture
def api():
    return english_client()


def token_client(user) -> APIClient:
    client = english_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {make_api_token(user)}")
    return client


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/activities/", "/api/v1/activities/1/"])
def test_anonymous_calls_are_refused_with_json(api, db, path):
    response = api.get(path)
    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"]


def test_wrong_token_is_refused(api, db):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == {
        "type": "about:blank",
        "title": "Not authenticated",
        "status": 401,
        "detail": "Invalid token.",
        "code": "authentication_failed",
    }


def test_token_authentication_and_me(member):
    response = token_client(member.user).get("/api/v1/me")
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "ana@coop.test"
    assert body["member"]["status"] == "active"
    assert body["member"]["niss"] == "**.**.**-***.28"
    assert body["member"]["shares_subscribed"] == 1
    assert "85073003328" not in response.content.decode()


def test_session_authentication(api, member):
    assert api.login(email="ana@coop.test", password=PASSWORD)
    assert api.get("/api/v1/me").json()["email"] == "ana@coop.test"


def test_activity_list_is_scoped_and_has_balances(member, activity, other_activity):
    services.post_ledger_entry(
        activity=activity,
        kind=LedgerEntryKind.CLIENT_INCOME,
        stage=LedgerStage.PLANNED,
        amount=Decimal("2500.00"),
        reference="INV-7",
        author=None,
    )
    body = token_client(member.user).get("/api/v1/activities/").json()
    assert body["count"] == 1
    (row,) = body["results"]
    assert (row["pk"], row["name"], row["available_balance"], row["planned_balance"]) == (
        activity.pk,
        "Illustration",
        "0.00",
        "2500.00",
    )


def test_another_members_activity_and_ledger_are_404(member, other_activity):
    client = token_client(member.user)
    assert client.get(f"/api/v1/activities/{other_activity.pk}/").status_code == 404
    assert client.get(f"/api/v1/activities/{other_activity.pk}/ledger/").status_code == 404


def test_ledger_is_paginated_newest_first(member, activity, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "PAGE_SIZE": 50}
    for index in range(60):
        services.post_ledger_entry(
            activity=activity,
            kind=LedgerEntryKind.ADJUSTMENT,
            stage=LedgerStage.AVAILABLE,
            amount=Decimal("-1.50"),
            reference=f"R{index:02d}",
            author=None,
        )
    client = token_client(member.user)
    first = client.get(f"/api/v1/activities/{activity.pk}/ledger/").json()
    assert "count" not in first and first["previous"] is None
    assert len(first["results"]) == 50
    assert first["results"][0]["reference"] == "R59"
    assert first["results"][0]["amount"] == "-1.50"
    second = client.get(first["next"]).json()
    assert [row["reference"] for row in second["results"]] == [
        f"R{i:02d}" for i in range(9, -1, -1)
    ]
    assert second["next"] is None
    back = client.get(second["previous"]).json()
    assert back["results"] == first["results"]


def test_non_member_gets_403_with_a_message(db):
    client = token_client(make_user("visitor@coop.test"))
    response = client.get("/api/v1/activities/")
    assert response.status_code == 403
    assert response.json() == {
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "detail": "Only members of the cooperative can use this endpoint.",
        "code": "permission_denied",
    }
    assert client.get("/api/v1/me").json()["member"] is None


def test_unknown_activity_is_a_json_404(member):
    response = token_client(member.user).get("/api/v1/activities/999999/")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_api_is_read_only_here(member, activity):
    response = token_client(member.user).delete(f"/api/v1/activities/{activity.pk}/")
    assert response.status_code == 405


def test_openapi_schema_and_docs(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/me", "/api/v1/activities/", "/api/v1/activities/{id}/ledger/"} <= set(paths)
    # The lists that grow without bound are documented as keyset pages: a cursor, no count.
    components = schema.json()["components"]["schemas"]
    for path, page in [
        ("/api/v1/activities/{id}/ledger/", "PaginatedLedgerEntryList"),
        ("/api/v1/invoices/", "PaginatedInvoiceList"),
    ]:
        parameters = [parameter["name"] for parameter in paths[path]["get"]["parameters"]]
        assert "cursor" in parameters and "page" not in parameters
        assert set(components[page]["properties"]) == {"next", "previous", "results"}
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.content.decode()


def test_applicant_reads_what_is_theirs_but_creates_nothing(db):
    from invoicing.models import Client
    from tests.conftest import make_member

    applicant = make_member(
        "noah@coop.test", legal_name="Noah Janssens", niss="85073003328", active=False
    )
    client = token_client(applicant.user)
    assert client.get("/api/v1/me").json()["member"]["status"] == "applicant"
    assert client.get("/api/v1/clients/").json()["results"] == []
    response = client.post(
        "/api/v1/clients/",
        {
            "kind": "company",
            "name": "Théâtre des Galeries SA",
            "street": "Galerie du Roi 32",
            "postal_code": "1000",
            "city": "Bruxelles",
            "country": "BE",
            "email": "compta@galeries.example",
            "language": "fr",
            "vat_number": "BE1000000021",
        },
        format="json",
    )
    assert response.status_code == 403
    problem = response.json()
    assert (problem["status"], problem["code"], problem["detail"]) == (
        403,
        "permission_denied",
        "Only active members of the cooperative can make changes.",
    )
    assert not Client.objects.exists()


def test_ledger_rows_are_the_generic_serializers_output(member, activity, staff, settings):
    from rest_framework import serializers

    from members.api import LedgerEntrySerializer
    from members.selectors import ledger_entries_of

    settings.TIME_ZONE = "Europe/Brussels"
    amounts = [Decimal("1234567.89"), Decimal("-0.05"), Decimal("-1500.00"), Decimal("10")]
    kinds = list(LedgerEntryKind)
    for index, amount in enumerate(amounts * 4):
        services.post_ledger_entry(
            activity=activity,
            kind=kinds[index % len(kinds)],
            stage=list(LedgerStage)[index % 3],
            amount=amount,
            reference=f"INV-{index} <&>",
            description="Café « Zoë »" if index % 3 else "",
            author=staff if index % 2 else None,
        )
    entries = list(ledger_entries_of(activity).order_by("-created_at", "-pk"))
    assert {entry.stage for entry in entries} == set(LedgerStage)
    assert {entry.kind for entry in entries} == set(LedgerEntryKind)
    assert any(entry.author is None for entry in entries)

    fast = LedgerEntrySerializer(entries, many=True).data
    generic_row = LedgerEntrySerializer()
    generic = [serializers.ModelSerializer.to_representation(generic_row, e) for e in entries]
    assert fast == generic
    assert [list(row) for row in fast] == [list(row) for row in generic]
    assert {type(value) for row in fast for value in row.values()} <= {int, str, type(None)}
    assert fast[0]["author"] == "staff@coop.test" and fast[1]["author"] is None
    assert fast[0]["amount"] == "10.00" and fast[1]["amount"] == "-1500.00"
    assert fast[0]["created_at"].endswith(("+01:00", "+02:00"))

    # Another active time zone (and UTC, written "Z") is followed like DRF follows it.
    for zone in (zoneinfo.ZoneInfo("America/New_York"), datetime.UTC):
        with timezone.override(zone):
            rows = LedgerEntrySerializer(entries, many=True).data
            plain = serializers.ModelSerializer.to_representation
            assert rows == [plain(generic_row, entry) for entry in entries]
            assert rows[0]["created_at"].endswith(("-05:00", "-04:00", "Z"))

    client = token_client(member.user)
    response = client.get(f"/api/v1/activities/{activity.pk}/ledger/").json()
    assert response["results"] == generic
