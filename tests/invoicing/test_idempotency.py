"""Creating requests are safe to send twice: Idempotency-Key in the API, one-time form tokens."""

import datetime
import threading
import time
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from contracts.models import ExpenseClaim
from coop.idempotency import IdempotentCreationMixin, one_time_form, purge_expired_keys
from coop.models import IdempotencyKey
from invoicing.models import Invoice
from invoicing.services import drafts
from members.models import Activity
from tests.contracts.test_expenses_api import URL as CLAIMS
from tests.contracts.test_expenses_api import claim_data
from tests.invoicing.test_api import api_for, draft_payload
from tests.invoicing.test_browser import draft_data, row

URL = "/api/v1/invoices/"


def post(api, payload, key):
    return api.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_with_the_same_key_replays_the_first_answer(member, activity, belgian_client):
    api = api_for(member.user)
    first = post(api, draft_payload(activity, belgian_client), "retry-1")
    again = post(api, draft_payload(activity, belgian_client), "retry-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Invoice.objects.count() == 1


def test_the_key_may_be_sent_as_a_quoted_string(member, activity, belgian_client):
    api = api_for(member.user)
    post(api, draft_payload(activity, belgian_client), '"quoted"')
    again = post(api, draft_payload(activity, belgian_client), "quoted")
    assert again["Idempotent-Replayed"] == "true"
    assert Invoice.objects.count() == 1


def test_the_same_key_with_another_body_is_a_422_problem(member, activity, belgian_client):
    api = api_for(member.user)
    post(api, draft_payload(activity, belgian_client), "reused")
    other = post(api, draft_payload(activity, belgian_client, notes="Other"), "reused")

    assert other.status_code == 422
    assert other["Content-Type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key_reused"
    assert Invoice.objects.count() == 1


def test_the_same_key_on_another_operation_is_a_422_problem(member, activity, draft):
    api = api_for(member.user)
    api.post(f"{URL}{draft.pk}/submit/", HTTP_IDEMPOTENCY_KEY="one")
    response = api.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="one")
    assert response.status_code == 422


def test_a_refused_request_keeps_nothing_and_the_key_can_be_used_again(
    member, activity, belgian_client
):
    api = api_for(member.user)
    refused = post(api, draft_payload(activity, belgian_client, lines=[]), "fix-and-retry")
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()

    fixed = post(api, draft_payload(activity, belgian_client), "fix-and-retry")
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed
    assert Invoice.objects.count() == 1


def test_keys_belong_to_their_user(member, other_member, activity, belgian_client):
    post(api_for(member.user), draft_payload(activity, belgian_client), "shared-key")
    other_activity = Activity.objects.create(owner=other_member, name="Sound")
    response = post(api_for(other_member.user), {"activity": other_activity.pk}, "shared-key")
    assert response.status_code == 400  # Their own request, refused on its own merits.
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "tab\there"])
def test_a_malformed_key_is_a_400_problem(member, activity, belgian_client, key):
    response = post(api_for(member.user), draft_payload(activity, belgian_client), key)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["Idempotency-Key"]
    assert Invoice.objects.count() == 0


def test_a_key_older_than_a_day_is_forgotten(member, activity, belgian_client):
    api = api_for(member.user)
    post(api, draft_payload(activity, belgian_client), "old")
    IdempotencyKey.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
    again = post(api, draft_payload(activity, belgian_client), "old")
    assert "Idempotent-Replayed" not in again
    assert Invoice.objects.count() == 2

    IdempotencyKey.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
    post(api, draft_payload(activity, belgian_client), "recent")
    assert purge_expired_keys(now=timezone.now()) == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["recent"]


def test_a_multipart_claim_is_replayed_by_its_content(member, activity):
    api = api_for(member.user)
    first = api.post(CLAIMS, claim_data(activity), format="multipart", HTTP_IDEMPOTENCY_KEY="c")
    again = api.post(CLAIMS, claim_data(activity), format="multipart", HTTP_IDEMPOTENCY_KEY="c")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert ExpenseClaim.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_one_invoice(member, activity, belgian_client, monkeypatch):
    original = drafts.save_draft.__wrapped__

    def slow_save_draft(**arguments):
        time.sleep(0.5)  # Both requests are in flight at once.
        return original(**arguments)

    monkeypatch.setattr(drafts, "save_draft", slow_save_draft)
    monkeypatch.setattr("invoicing.api.save_draft", slow_save_draft)
    payload = draft_payload(activity, belgian_client)
    responses = []

    def send():
        try:
            responses.append(post(api_for(member.user), payload, "concurrent"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(response.status_code for response in responses) == [201, 201]
    assert responses[0].json()["pk"] == responses[1].json()["pk"]
    assert sorted(response.get("Idempotent-Replayed", "") for response in responses) == [
        "",
        "true",
    ]
    assert Invoice.objects.count() == 1


def _api_views(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and (prefix + str(pattern.pattern)).startswith(
            "api/v1/"
        ):
            yield prefix + str(pattern.pattern), pattern.callback


def test_every_api_view_that_takes_a_post_honours_the_idempotency_key():
    checked = []
    for route, callback in _api_views():
        view_class = getattr(callback, "cls", None)
        actions = getattr(callback, "actions", None) or {}
        takes_post = "post" in actions or (not actions and hasattr(view_class, "post"))
        if takes_post:
            assert issubclass(view_class, IdempotentCreationMixin), route
            checked.append(route)
    assert len(checked) >= 15


# Browser forms


def draft_form(activity, client, token):
    return draft_data(activity, client, [row()], form_token=token)


def test_the_new_invoice_form_posted_twice_makes_one_draft(
    client, member, activity, belgian_client
):
    client.force_login(member.user)
    page = client.get("/invoices/new/")
    assert b'name="form_token"' in page.content
    token = uuid.uuid4().hex
    first = client.post("/invoices/new/", draft_form(activity, belgian_client, token))
    assert first.status_code == 302, first.content.decode()[:3000]
    second = client.post("/invoices/new/", draft_form(activity, belgian_client, token), follow=True)

    assert Invoice.objects.count() == 1
    assert second.redirect_chain[0][0] == first["Location"]
    assert "This form was already sent: here is what it created." in second.content.decode()


def test_two_new_invoice_forms_make_two_drafts(client, member, activity, belgian_client):
    client.force_login(member.user)
    for _ in range(2):
        response = client.post(
            "/invoices/new/", draft_form(activity, belgian_client, uuid.uuid4().hex)
        )
        assert response.status_code == 302
    assert Invoice.objects.count() == 2


def test_a_form_refused_for_its_errors_keeps_its_token_usable(
    client, member, activity, belgian_client
):
    client.force_login(member.user)
    token = uuid.uuid4().hex
    refused = client.post(
        "/invoices/new/", {**draft_form(activity, belgian_client, token), "due_date": "9999-12-31"}
    )
    assert refused.status_code == 200
    assert f'value="{token}"'.encode() in refused.content
    assert (
        client.post("/invoices/new/", draft_form(activity, belgian_client, token)).status_code
        == 302
    )
    assert Invoice.objects.count() == 1


def test_the_new_activity_form_posted_twice_makes_one_activity(client, member):
    client.force_login(member.user)
    token = uuid.uuid4().hex
    before = Activity.objects.count()
    for _ in range(2):
        response = client.post(
            "/activities/new/", {"form_token": token, "name": "Murals", "description": ""}
        )
        assert response.status_code == 302
    assert Activity.objects.count() == before + 1


def test_a_refusal_behind_a_one_time_form_is_not_chained_to_the_token_check(rf, member):
    """A view refusing a page (403) is called outside the token's ``except ValueError``, so
    the log shows the refusal alone, not "during handling of the above exception…"."""

    @one_time_form
    def refusing_view(request):
        raise PermissionDenied("not yours")

    request = rf.get("/invoices/new/")
    request.user = member.user
    with pytest.raises(PermissionDenied) as refused:
        refusing_view(request)
    assert refused.value.__context__ is None
