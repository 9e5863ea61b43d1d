"""Every API error is an RFC 9457 problem document, and the schema says so."""

import pytest
from rest_framework.test import APIClient

from members import selectors
from tests.invoicing.test_api import api_for

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"] and body["detail"] and body["type"]
    return body


def test_unknown_api_address_is_a_problem(member):
    body = assert_problem(api_for(member.user).get("/api/v1/no-such-thing/"), 404, "not_found")
    assert body["type"] == "about:blank"


def test_missing_credentials_are_a_401_problem_with_the_scheme_to_use(db):
    response = APIClient().get("/api/v1/me")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_messages_are_in_the_readers_language(db):
    response = APIClient().get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="fr")
    body = assert_problem(response, 401, "not_authenticated")
    assert body["detail"] == "Informations d'authentification non fournies."


def test_wrong_method_is_a_405_problem_with_the_allowed_methods(member, activity):
    response = api_for(member.user).patch("/api/v1/invoices/1/", {}, format="json")
    assert_problem(response, 405, "method_not_allowed")
    assert "PUT" in response["Allow"]


def test_unsupported_media_type_is_a_415_problem(member, activity):
    response = api_for(member.user).post(
        "/api/v1/invoices/", "activity=1", content_type="text/plain"
    )
    assert_problem(response, 415, "unsupported_media_type")


def test_malformed_json_is_a_400_problem(member, activity):
    response = api_for(member.user).post(
        "/api/v1/invoices/", '{"activity": ', content_type="application/json"
    )
    assert_problem(response, 400, "parse_error")


def test_an_unacceptable_accept_header_still_gets_a_json_problem(member):
    response = api_for(member.user).get("/api/v1/me", HTTP_ACCEPT="image/png")
    assert_problem(response, 406, "not_acceptable")


def test_too_many_requests_is_a_429_problem_saying_when_to_retry(member, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    # The rates are read into the class when it is defined: patch them there, for this test only.
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/hour"})
    api = api_for(member.user)
    assert [api.get("/api/v1/me").status_code for _ in range(2)] == [200, 200]
    response = api.get("/api/v1/me")
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_validation_errors_name_each_field_by_its_path(member, activity):
    response = api_for(member.user).post(
        "/api/v1/invoices/",
        {"activity": activity.pk, "lines": [{"quantity": "x"}]},
        format="json",
    )
    body = assert_problem(response, 400, "invalid")
    assert body["type"] == "urn:coop:problem:validation"
    assert body["errors"]["client"] == ["This field is required."]
    assert body["errors"]["lines.0.quantity"] == ["A valid number is required."]
    assert body["errors"]["lines.0.description"] == ["This field is required."]
    assert body["detail"].startswith("Some fields are not valid: ")


def test_a_bug_is_a_500_problem_that_shows_no_internals(member, monkeypatch):
    def broken(user):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "activities_visible_to", broken)
    response = api_for(member.user).get("/api/v1/activities/")
    body = assert_problem(response, 500, "server_error")
    assert "secret" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["detail"].startswith("Something went wrong on our side")


@pytest.fixture
def schema(client, db):
    return client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def test_schema_documents_every_problem_of_every_operation(schema):
    assert schema["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
        "code",
    ]
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) >= 40
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, method, operation in operations:
        for status in ("400", "401", "403", "404", "429"):
            content = operation["responses"][status]["content"]
            assert content == {PROBLEM: {"schema": problem}}, (path, method, status)
        names = [parameter["name"] for parameter in operation.get("parameters", [])]
        assert ("Idempotency-Key" in names) == (method == "post"), (path, method)
        if method == "post":
            assert "422" in operation["responses"], path


def test_schema_says_free_rooms_come_a_page_at_a_time(schema):
    response = schema["paths"]["/api/v1/rooms/free/"]["get"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PaginatedRoomList"
    }


def test_a_body_over_the_upload_limit_is_a_413_problem(member, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_for(member.user).post("/api/v1/invoices/", {"notes": "n" * 2000}, format="json")
    assert_problem(response, 413, "too_large")


def test_json_nested_too_deeply_is_a_400_problem(member):
    body = '{"a":' * 3000 + "1" + "}" * 3000
    response = api_for(member.user).generic(
        "POST", "/api/v1/clients/", body, content_type="application/json"
    )
    assert_problem(response, 400, "parse_error")
    assert response.json()["detail"] == "The JSON document is nested too deeply."


def test_an_unknown_object_is_a_404_in_the_readers_language(member):
    api = api_for(member.user)
    api.cookies["coop_language"] = "fr"
    response = api.get("/api/v1/clients/999999/")
    assert_problem(response, 404, "not_found")
    assert response.json()["detail"] == "Introuvable."
