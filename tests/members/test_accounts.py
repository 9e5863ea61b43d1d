"""Accounts: sign-up with e-mail verification, login, rate limiting, staff two-factor."""

import re

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.core import mail
from django.urls import reverse

from members.models import User
from tests.conftest import PASSWORD, make_user


def test_sign_up_needs_e_mail_verification(client, db):
    response = client.post(
        reverse("account_signup"),
        {"email": "New@Coop.test", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@coop.test")
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", mail.outbox[0].body)
    assert link

    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "new@coop.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")

    client.post(link.group(1))
    assert EmailAddress.objects.get(user=user).verified


def test_duplicate_account_is_refused(client, db):
    make_user("ana@coop.test")
    response = client.post(
        reverse("account_signup"),
        {"email": "ANA@coop.test", "password1": PASSWORD, "password2": PASSWORD},
    )
    # The answer does not reveal that the address is taken; its owner is told by e-mail.
    assert response.status_code == 302
    assert User.objects.count() == 1
    assert len(mail.outbox) == 1
    assert "already" in mail.outbox[0].body


def test_invalid_e_mail_is_refused(client, db):
    response = client.post(
        reverse("account_signup"),
        {"email": "not-an-address", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert User.objects.count() == 0


def test_login_and_logout(client, member):
    response = client.post(
        reverse("account_login"), {"login": "ana@coop.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("members:dashboard")).status_code == 200
    client.post(reverse("account_logout"))
    assert client.get(reverse("members:dashboard")).status_code == 302


def test_login_is_rate_limited_after_repeated_failures(client, member):
    for _attempt in range(5):
        response = client.post(
            reverse("account_login"), {"login": "ana@coop.test", "password": "wrong"}
        )
        assert response.status_code == 200
    response = client.post(
        reverse("account_login"), {"login": "ana@coop.test", "password": PASSWORD}
    )
    assert (
        response.status_code == 429 or "Too many failed login attempts" in response.content.decode()
    )
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_a_link(client, member):
    response = client.post(reverse("account_reset_password"), {"email": "ana@coop.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_staff_without_totp_are_sent_to_set_it_up(client, staff):
    client.force_login(staff)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))

    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    assert client.get(reverse("admin:index")).status_code == 200


def test_admin_login_goes_through_the_accounts_login(client, db):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_members_cannot_enter_the_admin(client, member):
    client.force_login(member.user)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 403


def test_staff_with_totp_must_give_a_code_at_login(client, staff):
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    response = client.post(
        reverse("account_login"), {"login": "staff@coop.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
