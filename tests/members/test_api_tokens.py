"""API tokens: hashed, expiring, listed and revoked by their owner; staff need a second factor."""

import datetime
import hashlib
import importlib
import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.apps import apps as django_apps
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from members import services
from members.authentication import ApiTokenAuthentication
from members.models import ApiToken
from members.services import MembersError
from tests.conftest import PASSWORD, make_api_token


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def with_authenticator(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def api_with(key: str, keyword: str = "Token") -> APIClient:
    client = APIClient()
    client.cookies["coop_language"] = "en"
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    return client


def test_member_creates_a_token_whose_key_is_shown_once_and_stored_hashed(client, member):
    client.force_login(member.user)
    response = client.post("/profile/tokens/", {"name": "Accounting export", "lifetime_days": "90"})
    assert response.status_code == 200
    key = response.context["new_key"]
    token = ApiToken.objects.get(user=member.user)
    assert token.name == "Accounting export"
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:8]
    assert token.expires_at - token.created_at == datetime.timedelta(days=90)
    assert token.second_factor_verified is False
    assert key in response.content.decode()
    event = AuditEvent.objects.get(object_type="members.apitoken", object_pk=str(token.pk))
    assert (event.action, event.actor, event.changes["name"]) == (
        "created",
        member.user,
        [None, "Accounting export"],
    )
    assert key not in str(event.changes) and key not in event.object_repr
    assert "no-store" in response["Cache-Control"]
    again = client.get("/profile/tokens/")
    assert key not in again.content.decode()
    assert f"{key[:8]}…" in again.content.decode()
    me = api_with(key).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["email"] == "ana@coop.test"


def test_member_token_cannot_outlive_the_limit(client, member):
    client.force_login(member.user)
    response = client.post("/profile/tokens/", {"name": "Forever", "lifetime_days": "3650"})
    assert response.status_code == 200
    assert response.context["form"].errors["lifetime_days"]
    with pytest.raises(MembersError, match="between 1 and 90 days"):
        services.create_api_token(user=member.user, name="Forever", lifetime_days=91)
    assert not ApiToken.objects.exists()


def test_bearer_keyword_is_accepted_too(member):
    key = make_api_token(member.user)
    assert api_with(key, "Bearer").get("/api/v1/me").status_code == 200


def test_expired_and_revoked_tokens_get_a_clear_401(member):
    expired = make_api_token(member.user, name="old")
    ApiToken.objects.filter(name="old").update(
        created_at=timezone.now() - datetime.timedelta(days=10),
        expires_at=timezone.now() - datetime.timedelta(seconds=1),
    )
    response = api_with(expired).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["detail"] == "This token has expired."
    assert response["WWW-Authenticate"] == "Token"

    revoked = make_api_token(member.user, name="gone")
    services.revoke_api_token(user=member.user, token=ApiToken.objects.get(name="gone"))
    response = api_with(revoked).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["detail"] == "This token was revoked."


def test_last_use_is_written_at_most_once_a_minute(member):
    key = make_api_token(member.user)
    now = timezone.now()
    authentication = ApiTokenAuthentication()
    _user, token = authentication.authenticate_key(key, now=now)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == now
    authentication.authenticate_key(key, now=now + datetime.timedelta(seconds=59))
    assert ApiToken.objects.get(pk=token.pk).last_used_at == now
    later = now + datetime.timedelta(seconds=61)
    authentication.authenticate_key(key, now=later)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == later


def test_staff_without_authenticator_cannot_create_a_token(client, staff):
    client.force_login(staff)
    page = client.get("/profile/tokens/")
    assert page.context["needs_authenticator"] is True
    assert "Set up an authenticator app" in page.content.decode()
    client.post("/profile/tokens/", {"name": "Admin script", "lifetime_days": "30"})
    with pytest.raises(MembersError, match="need an authenticator app"):
        services.create_api_token(user=staff, name="Admin script", lifetime_days=30)
    assert not ApiToken.objects.exists()


def test_staff_token_needs_the_current_code_and_lives_at_most_thirty_days(client, staff):
    secret = with_authenticator(staff)
    client.force_login(staff)
    wrong = client.post(
        "/profile/tokens/", {"name": "Admin script", "lifetime_days": "30", "totp_code": "000000"}
    )
    assert "This authenticator code is not valid." in wrong.content.decode()
    assert not ApiToken.objects.exists()
    too_long = client.post(
        "/profile/tokens/",
        {"name": "Admin script", "lifetime_days": "90", "totp_code": current_code(secret)},
    )
    assert too_long.context["form"].errors["lifetime_days"]
    assert not ApiToken.objects.exists()

    created = client.post(
        "/profile/tokens/",
        {"name": "Admin script", "lifetime_days": "30", "totp_code": current_code(secret)},
    )
    token = ApiToken.objects.get(user=staff)
    assert token.second_factor_verified is True
    assert token.expires_at - token.created_at == datetime.timedelta(days=30)
    response = api_with(created.context["new_key"]).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["is_staff"] is True


def test_a_code_cannot_be_replayed_for_a_second_token(staff):
    secret = with_authenticator(staff)
    code = current_code(secret)
    services.create_api_token(user=staff, name="first", lifetime_days=7, totp_code=code)
    with pytest.raises(MembersError, match="not valid"):
        services.create_api_token(user=staff, name="second", lifetime_days=7, totp_code=code)
    assert ApiToken.objects.count() == 1


def test_member_promoted_to_staff_loses_api_access_with_the_old_token(member):
    key = make_api_token(member.user)
    assert api_with(key).get("/api/v1/me").status_code == 200
    member.user.is_staff = True
    member.user.save(update_fields=["is_staff"])
    response = api_with(key).get("/api/v1/me")
    assert response.status_code == 401
    assert "authenticator code" in response.json()["detail"]


def test_space_manager_needs_a_second_factor_token(space_manager):
    plain = make_api_token(space_manager, second_factor=False)
    assert api_with(plain).get("/api/v1/rooms/").status_code == 401
    checked = make_api_token(space_manager, second_factor=True)
    assert api_with(checked).get("/api/v1/rooms/").status_code == 200


def test_staff_token_older_than_the_staff_limit_is_refused(staff):
    key = make_api_token(staff, second_factor=True, lifetime_days=90)
    now = timezone.now() + datetime.timedelta(days=31)
    from rest_framework.exceptions import AuthenticationFailed

    with pytest.raises(AuthenticationFailed, match="expired"):
        ApiTokenAuthentication().authenticate_key(key, now=now)


def test_tokens_are_listed_and_revoked_through_the_api_by_their_owner_only(member, other_member):
    key = make_api_token(member.user, name="mine")
    other_key = make_api_token(other_member.user, name="theirs")
    api = api_with(key)
    listing = api.get("/api/v1/tokens/")
    assert listing.status_code == 200
    assert [row["name"] for row in listing.json()["results"]] == ["mine"]
    assert "key" not in listing.json()["results"][0]
    assert "key_hash" not in listing.json()["results"][0]

    theirs = ApiToken.objects.get(name="theirs")
    assert api.delete(f"/api/v1/tokens/{theirs.pk}/").status_code == 404
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None
    assert api_with(other_key).get("/api/v1/me").status_code == 200

    mine = ApiToken.objects.get(name="mine")
    assert api.delete(f"/api/v1/tokens/{mine.pk}/").status_code == 204
    assert ApiToken.objects.get(pk=mine.pk).revoked_at is not None
    assert api_with(key).get("/api/v1/me").status_code == 401
    revoked = AuditEvent.objects.filter(object_type="members.apitoken", action="cancelled")
    assert [(event.object_pk, event.actor, event.reason) for event in revoked] == [
        (str(mine.pk), member.user, "revoked")
    ]


def test_browser_revoke_touches_only_the_owners_tokens(client, member, other_member):
    make_api_token(other_member.user, name="theirs")
    theirs = ApiToken.objects.get(name="theirs")
    client.force_login(member.user)
    assert client.post(f"/profile/tokens/{theirs.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None

    make_api_token(member.user, name="mine")
    mine = ApiToken.objects.get(name="mine")
    response = client.post(f"/profile/tokens/{mine.pk}/revoke/", follow=True)
    assert "Token “mine” revoked." in response.content.decode()
    assert ApiToken.objects.get(pk=mine.pk).revoked_at is not None
    assert "mine" not in [token.name for token in response.context["tokens"]]


def test_active_tokens_per_user_are_capped(member, settings):
    settings.COOP_API_TOKENS_PER_USER = 2
    services.create_api_token(user=member.user, name="one", lifetime_days=7)
    services.create_api_token(user=member.user, name="two", lifetime_days=7)
    with pytest.raises(MembersError, match="revoke one"):
        services.create_api_token(user=member.user, name="three", lifetime_days=7)
    assert ApiToken.objects.count() == 2


def test_blank_name_is_refused(member):
    with pytest.raises(MembersError, match="Give the token a name"):
        services.create_api_token(user=member.user, name="   ", lifetime_days=7)


def test_anonymous_cannot_open_the_tokens_page(client, db):
    response = client.get("/profile/tokens/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_old_authtoken_keys_of_members_carry_over_and_staff_keys_are_dropped(
    member, staff, space_manager
):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY,"
            " created timestamptz NOT NULL, user_id bigint NOT NULL)"
        )
        for key, user in [("a" * 40, member.user), ("b" * 40, staff), ("c" * 40, space_manager)]:
            cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", [key, user.pk])
    migration = importlib.import_module("members.migrations.0004_carry_over_authtoken_tokens")
    with connection.schema_editor() as schema_editor:
        migration.carry_over_authtoken_tokens(django_apps, schema_editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    carried = ApiToken.objects.get()
    assert carried.user == member.user
    assert carried.expires_at - carried.created_at == datetime.timedelta(days=90)
    assert api_with("a" * 40).get("/api/v1/me").status_code == 200
    assert api_with("b" * 40).get("/api/v1/me").status_code == 401


def test_password_is_not_a_token(member):
    assert api_with(PASSWORD).get("/api/v1/me").status_code == 401


def test_staff_revoke_a_token_in_the_admin(client, staff, member):
    key = make_api_token(member.user, name="leaked")
    token = ApiToken.objects.get(name="leaked")
    with_authenticator(staff)
    client.force_login(staff)
    response = client.post(
        "/admin/members/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    assert "1 token revoked." in response.content.decode()
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert api_with(key).get("/api/v1/me").status_code == 401
    assert client.get("/admin/members/apitoken/add/").status_code == 403


def test_tokens_expired_or_revoked_long_ago_are_purged(member):
    now = timezone.now()
    for name in ["current", "expired-long-ago", "revoked-long-ago", "expired-recently"]:
        make_api_token(member.user, name=name)
    ApiToken.objects.filter(name="expired-long-ago").update(
        created_at=now - datetime.timedelta(days=200), expires_at=now - datetime.timedelta(days=91)
    )
    ApiToken.objects.filter(name="revoked-long-ago").update(
        revoked_at=now - datetime.timedelta(days=91)
    )
    ApiToken.objects.filter(name="expired-recently").update(
        created_at=now - datetime.timedelta(days=100), expires_at=now - datetime.timedelta(days=10)
    )
    from members.tasks import purge_api_tokens_task

    assert purge_api_tokens_task() == 2
    assert sorted(ApiToken.objects.values_list("name", flat=True)) == [
        "current",
        "expired-recently",
    ]


def test_wrong_authenticator_codes_are_limited_like_failed_sign_ins(client, staff):
    secret = with_authenticator(staff)
    client.force_login(staff)
    for _attempt in range(5):
        response = client.post(
            "/profile/tokens/", {"name": "script", "lifetime_days": "7", "totp_code": "000000"}
        )
        assert "This authenticator code is not valid." in response.content.decode()
    blocked = client.post(
        "/profile/tokens/",
        {"name": "script", "lifetime_days": "7", "totp_code": current_code(secret)},
    )
    assert "Too many attempts. Try again in a few minutes." in blocked.content.decode()
    assert blocked.context["new_key"] is None
    assert not ApiToken.objects.exists()
