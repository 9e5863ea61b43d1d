"""Sessions end 12 hours after signing in; staff and space managers also after 30 idle minutes."""

import time

from members.middleware import LAST_ACTIVITY, SIGNED_IN_AT


def set_session(client, **values) -> None:
    session = client.session
    session.update(values)
    session.save()


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_staff_idle_for_thirty_minutes_is_signed_out(client, staff, settings):
    assert settings.COOP_STAFF_IDLE_TIMEOUT == 30 * 60
    client.force_login(staff)
    now = int(time.time())
    set_session(client, **{SIGNED_IN_AT: now - 3600, LAST_ACTIVITY: now - 31 * 60})
    response = client.get("/", follow=True)
    assert not is_signed_in(client)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "You were signed out after 30 minutes without activity." in response.content.decode()


def test_space_manager_idle_for_thirty_minutes_is_signed_out(client, space_manager):
    client.force_login(space_manager)
    now = int(time.time())
    set_session(client, **{SIGNED_IN_AT: now - 3600, LAST_ACTIVITY: now - 31 * 60})
    client.get("/")
    assert not is_signed_in(client)


def test_staff_active_within_thirty_minutes_stays_and_activity_is_saved_once_a_minute(
    client, staff
):
    client.force_login(staff)
    now = int(time.time())
    set_session(client, **{SIGNED_IN_AT: now - 3600, LAST_ACTIVITY: now - 29 * 60})
    assert client.get("/").status_code == 200
    assert is_signed_in(client)
    refreshed = client.session[LAST_ACTIVITY]
    assert refreshed >= now

    set_session(client, **{LAST_ACTIVITY: refreshed - 30})
    client.get("/")
    assert client.session[LAST_ACTIVITY] == refreshed - 30


def test_a_member_is_not_signed_out_for_idling(client, member):
    client.force_login(member.user)
    now = int(time.time())
    set_session(client, **{SIGNED_IN_AT: now - 3600, LAST_ACTIVITY: now - 5 * 3600})
    assert client.get("/").status_code == 200
    assert is_signed_in(client)
    assert client.session[LAST_ACTIVITY] == now - 5 * 3600


def test_every_session_ends_twelve_hours_after_signing_in(client, member, settings):
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    client.force_login(member.user)
    client.get("/")
    assert client.session[SIGNED_IN_AT] >= int(time.time()) - 5
    set_session(client, **{SIGNED_IN_AT: int(time.time()) - 12 * 3600 - 1})
    response = client.get("/", follow=True)
    assert not is_signed_in(client)
    assert "Your session ended. Please sign in again." in response.content.decode()


def test_staff_api_session_is_refused_after_idling(client, staff):
    client.force_login(staff)
    now = int(time.time())
    set_session(client, **{SIGNED_IN_AT: now - 3600, LAST_ACTIVITY: now - 31 * 60})
    assert client.get("/api/v1/me").status_code in (401, 403)
    assert not is_signed_in(client)
