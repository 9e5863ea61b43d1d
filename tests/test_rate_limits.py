"""Lock-outs and throttles live in PostgreSQL: per account and per IP, and a broker flush resets
nothing."""

import datetime

import redis
from django.conf import settings as django_settings
from django.core.cache import cache, caches
from django.db import connection
from django.utils import timezone
from rest_framework.throttling import UserRateThrottle

from coop.models import RateWindow
from coop.tasks import purge_expired_cache_task
from tests.conftest import PASSWORD, api_client_for

OFFICE_IP = "198.51.100.7"
LOCKED_MESSAGE = "Too many failed login attempts. Try again later."


def sign_in(client, email: str, password: str, ip: str = OFFICE_IP):
    return client.post("/accounts/login/", {"login": email, "password": password}, REMOTE_ADDR=ip)


def flush_broker_db() -> None:
    """Empty the broker's Redis database (the test run's own, from REDIS_URL)."""
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    broker.set("coop-test-marker", "1")
    broker.flushdb()
    assert broker.get("coop-test-marker") is None


def cache_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM coop_cache")
        return cursor.fetchone()[0]


def test_five_wrong_passwords_lock_that_account_only(client, member, other_member):
    for _attempt in range(5):
        response = sign_in(client, "ana@coop.test", "wrong-password")
        assert response.status_code == 200
        assert LOCKED_MESSAGE not in response.content.decode()

    locked = sign_in(client, "ana@coop.test", PASSWORD)
    assert locked.status_code == 200
    assert LOCKED_MESSAGE in locked.content.decode()
    assert "_auth_user_id" not in client.session

    # Another person at the same address signs in as usual.
    colleague = sign_in(client, "lucas@coop.test", PASSWORD)
    assert colleague.status_code == 302
    assert client.session["_auth_user_id"] == str(other_member.user.pk)


def test_the_lock_out_survives_a_broker_flush(client, member):
    for _attempt in range(5):
        sign_in(client, "ana@coop.test", "wrong-password")
    assert cache_rows() > 0
    flush_broker_db()
    locked = sign_in(client, "ana@coop.test", PASSWORD, ip="203.0.113.9")
    assert LOCKED_MESSAGE in locked.content.decode()


def test_the_lock_out_message_is_translated(client, member, settings):
    for _attempt in range(5):
        sign_in(client, "ana@coop.test", "wrong-password")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    locked = sign_in(client, "ana@coop.test", PASSWORD)
    assert "Trop de tentatives de connexion échouées" in locked.content.decode()


def test_fifty_failures_from_one_address_lock_that_address(client, member, settings):
    # The 30-per-minute limit on sign-in attempts would stop this loop first.
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": None}
    for number in range(50):
        sign_in(client, f"nobody-{number}@coop.test", "wrong-password")
    from_there = sign_in(client, "ana@coop.test", PASSWORD)
    assert LOCKED_MESSAGE in from_there.content.decode()
    elsewhere = sign_in(client, "ana@coop.test", PASSWORD, ip="203.0.113.9")
    assert elsewhere.status_code == 302


def test_api_throttle_counters_survive_a_broker_flush(member, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/hour"})
    api = api_client_for(member.user)
    assert [api.get("/api/v1/me").status_code for _call in range(3)] == [200, 200, 200]
    flush_broker_db()
    throttled = api.get("/api/v1/me")
    assert throttled.status_code == 429
    assert "Request was throttled" in throttled.json()["detail"]


def test_api_rate_is_counted_per_user_in_a_window_that_ends(member, other_member, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/hour"})
    api = api_client_for(member.user)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'coop_ratewindow'")
        assert cursor.fetchone() == ("u",)
    assert [api.get("/api/v1/me").status_code for _call in range(2)] == [200, 200]
    throttled = api.get("/api/v1/me")
    assert throttled.status_code == 429
    # The window opened with the first request: about an hour remains.
    assert 3590 <= int(throttled["Retry-After"]) <= 3600
    window = RateWindow.objects.get()
    assert window.hits == 3
    assert api_client_for(other_member.user).get("/api/v1/me").status_code == 200

    # Once the window has ended, the count starts again, in a window of its own.
    RateWindow.objects.filter(pk=window.pk).update(
        ends_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert api.get("/api/v1/me").status_code == 200
    window.refresh_from_db()
    assert window.hits == 1
    assert window.ends_at > timezone.now() + datetime.timedelta(minutes=59)

    RateWindow.objects.exclude(pk=window.pk).update(
        ends_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert purge_expired_cache_task() == 1
    assert list(RateWindow.objects.values_list("pk", flat=True)) == [window.pk]


def test_a_new_rate_counts_in_a_window_of_its_own_length(member, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/hour"})
    api = api_client_for(member.user)
    assert [api.get("/api/v1/me").status_code for _call in range(3)] == [200, 200, 429]
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})
    assert [api.get("/api/v1/me").status_code for _call in range(4)] == [200, 200, 200, 429]
    api.cookies["coop_language"] = "nl"
    throttled = api.get("/api/v1/me")
    assert 50 <= int(throttled["Retry-After"]) <= 60
    seconds = throttled["Retry-After"]
    assert throttled.json()["detail"] == (
        f"Aanvraag was verstikt. Probeer het opnieuw over {seconds} seconden."
    )


def test_cache_writes_are_upserts_and_expired_rows_are_purged(db):
    cache.set("kept", {"n": 1}, timeout=3600)
    cache.set("kept", {"n": 2}, timeout=3600)
    assert cache.get("kept") == {"n": 2}
    assert cache.add("kept", "other") is False
    assert cache.add("fresh", "yes", timeout=3600) is True
    assert cache.touch("fresh", timeout=60) is True
    assert cache.touch("missing") is False
    cache.set("stale", "old", timeout=3600)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE coop_cache SET expires = now() - interval '1 second' WHERE cache_key LIKE %s",
            ["%:stale"],
        )
    assert cache.get("stale") is None
    assert cache.add("stale", "new", timeout=3600) is True
    assert cache.get("stale") == "new"
    cache.set("forever", 1, timeout=None)
    assert cache.get("forever") == 1

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE coop_cache SET expires = now() - interval '1 second' WHERE cache_key LIKE %s",
            ["%:fresh"],
        )
    assert cache_rows() == 4
    assert purge_expired_cache_task() == 1
    assert cache_rows() == 3
    assert caches["default"].purge_expired(now=timezone.now() + datetime.timedelta(hours=2)) == 2
    assert cache.get("forever") == 1


def test_the_cache_is_not_redis():
    assert django_settings.CACHES["default"]["BACKEND"] == "coop.cache.DatabaseCache"


def test_the_account_lock_out_is_the_same_under_every_host_name(client, member, settings):
    settings.ALLOWED_HOSTS = ["coop.example", "www.coop.example"]
    for number in range(5):
        host = "coop.example" if number % 2 else "www.coop.example"
        client.post(
            "/accounts/login/",
            {"login": "ANA@coop.test", "password": "wrong-password"},
            REMOTE_ADDR=f"203.0.113.{number}",
            HTTP_HOST=host,
        )
    locked = client.post(
        "/accounts/login/",
        {"login": "ana@coop.test", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.200",
        HTTP_HOST="coop.example",
    )
    assert LOCKED_MESSAGE in locked.content.decode()


def test_behind_the_proxy_each_client_address_has_its_own_limit(client, member, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed": "3/15m/ip,5/15m/key",
    }
    proxy = "10.0.0.2"
    for number in range(3):
        client.post(
            "/accounts/login/",
            {"login": f"nobody-{number}@coop.test", "password": "wrong-password"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="198.51.100.1",
        )
    same_client = client.post(
        "/accounts/login/",
        {"login": "ana@coop.test", "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    assert LOCKED_MESSAGE in same_client.content.decode()
    other_client = client.post(
        "/accounts/login/",
        {"login": "ana@coop.test", "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="198.51.100.2",
    )
    assert other_client.status_code == 302
