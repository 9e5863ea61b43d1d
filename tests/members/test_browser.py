"""Freelancer pages: dashboard, Activities, profile and shares, scoped to their owner."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from members import services
from members.models import LedgerEntry, LedgerEntryKind, LedgerStage, Member
from tests.conftest import make_user, pagination_link


def test_dashboard_requires_sign_in(client, db):
    response = client.get(reverse("members:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_dashboard_lists_own_activities_with_balances(client, member, activity, other_activity):
    services.post_ledger_entry(
        activity=activity,
        kind=LedgerEntryKind.CLIENT_INCOME,
        stage=LedgerStage.AVAILABLE,
        amount=Decimal("1234.50"),
        reference="INV-1",
        author=None,
    )
    client.force_login(member.user)
    response = client.get(reverse("members:dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Illustration" in page
    assert "1,234.50\u00a0€" in page
    assert "Stage lighting" not in page
    assert "INV-1" in page


def test_dashboard_empty_state_for_a_new_user(client, db):
    user = make_user("new@coop.test")
    client.force_login(user)
    page = client.get(reverse("members:dashboard")).content.decode()
    assert "Apply for membership" in page
    assert "Becoming a member, step by step" in page


def test_another_members_activity_is_a_404(client, member, other_activity):
    client.force_login(member.user)
    response = client.get(reverse("members:activity_detail", args=[other_activity.pk]))
    assert response.status_code == 404


def test_co_member_sees_a_shared_activity(client, other_member, activity):
    activity.co_members.add(other_member)
    client.force_login(other_member.user)
    response = client.get(reverse("members:activity_detail", args=[activity.pk]))
    assert response.status_code == 200
    assert "Ana Peeters" in response.content.decode()


def test_activity_ledger_is_paginated(client, member, activity):
    for index in range(30):
        services.post_ledger_entry(
            activity=activity,
            kind=LedgerEntryKind.ADJUSTMENT,
            stage=LedgerStage.AVAILABLE,
            amount=Decimal("1.00"),
            reference=f"REF-{index:02d}",
            author=None,
        )
    client.force_login(member.user)
    url = reverse("members:activity_detail", args=[activity.pk])
    first = client.get(url).content.decode()
    assert pagination_link(first, "prev") is None
    second = client.get(url + pagination_link(first, "next")).content.decode()
    assert "REF-29" in first and "REF-05" in first and "REF-04" not in first
    assert "REF-04" in second and "REF-00" in second and "REF-29" not in second
    assert pagination_link(second, "next") is None
    back = client.get(url + pagination_link(second, "prev")).content.decode()
    assert "REF-29" in back and "REF-05" in back and "REF-04" not in back
    assert pagination_link(back, "prev") is None
    # A cursor that was not made by the page starts at the newest entries.
    for wrong in ["x", "bnwxMjM", "b3x8MQ", "b3xub3QtYS1kYXRlfDE"]:
        response = client.get(url, {"cursor": wrong})
        assert response.status_code == 200
        assert "REF-29" in response.content.decode()


def test_member_opens_an_activity_and_duplicate_names_get_a_form_error(client, member):
    client.force_login(member.user)
    response = client.post(
        reverse("members:activity_create"), {"name": "Pottery", "description": ""}
    )
    assert response.status_code == 302
    response = client.post(
        reverse("members:activity_create"), {"name": "pottery", "description": ""}
    )
    assert response.status_code == 200
    assert "already have an Activity with this name" in response.content.decode()
    assert member.activities.count() == 1


def test_applicant_cannot_open_an_activity(client, db):
    from tests.conftest import make_member

    applicant = make_member("a@coop.test", legal_name="Ana", niss="85073003328", active=False)
    client.force_login(applicant.user)
    # Sent to the checklist of what is left before the membership starts.
    assert client.get(reverse("members:activity_create"))["Location"] == "/"
    response = client.post(reverse("members:activity_create"), {"name": "Pottery"}, follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert "This page opens to you once your membership has started" in response.content.decode()
    assert applicant.activities.count() == 0


def test_profile_shows_the_national_number_masked(client, member):
    client.force_login(member.user)
    page = client.get(reverse("members:profile")).content.decode()
    assert "**.**.**-***.28" in page
    assert "85073003328" not in page and "85.07.30" not in page
    assert "BE71 0961 2345 6769" in page


def test_profile_edit_validates_the_iban(client, member):
    client.force_login(member.user)
    data = {
        "street": "Rue Ransfort 27",
        "postal_code": "1080",
        "city": "Bruxelles",
        "country": "BE",
        "phone": "",
        "preferred_language": "nl",
        "iban": "BE71096123456768",
    }
    response = client.post(reverse("members:profile_edit"), data)
    assert response.status_code == 200
    assert "check digits are wrong" in response.content.decode()
    member.refresh_from_db()
    assert member.preferred_language == "fr"

    response = client.post(reverse("members:profile_edit"), {**data, "iban": "BE71096123456769"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.city, member.preferred_language) == ("Bruxelles", "nl")


@pytest.mark.parametrize(
    ("browsing", "chosen", "saved", "old"),
    [
        ("nl", "en", "Your profile was saved.", "Uw profiel is opgeslagen."),
        ("en", "nl", "Uw profiel is opgeslagen.", "Your profile was saved."),
        ("fr", "nl", "Uw profiel is opgeslagen.", "Votre profil a été enregistré."),
    ],
)
def test_saving_a_new_language_confirms_in_that_language(
    client, member, settings, browsing, chosen, saved, old
):
    client.force_login(member.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = browsing
    data = {
        "street": "Rue Ransfort 27",
        "postal_code": "1080",
        "city": "Bruxelles",
        "country": "BE",
        "phone": "",
        "preferred_language": chosen,
        "iban": "BE71096123456769",
    }

    response = client.post(reverse("members:profile_edit"), data, follow=True)

    page = response.content.decode()
    assert saved in page
    assert old not in page
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == chosen


def test_the_admin_change_page_shows_the_national_number_masked(client, member, staff):
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)
    page = client.get(reverse("admin:members_member_change", args=[member.pk])).content.decode()
    assert "**.**.**-***.28" in page
    assert "85.07.30-033.28" not in page and "85073003328" not in page
    assert reverse("admin:members_member_national_number", args=[member.pk]) in page


def test_shares_page_totals(client, member, staff):
    services.subscribe_shares(
        member=member, number_of_shares=3, subscribed_on=member.created_at.date(), actor=staff
    )
    client.force_login(member.user)
    page = client.get(reverse("members:shares")).content.decode()
    assert "120.00\u00a0€" in page  # 4 shares × 30 €
    assert "awaiting payment" in page


def test_non_member_pages_answer_404_not_500(client, db):
    client.force_login(make_user("x@coop.test"))
    assert client.get(reverse("members:shares")).status_code == 404
    assert client.get(reverse("members:profile_edit")).status_code == 404
    assert Member.objects.count() == 0


def test_dashboard_merges_the_latest_entries_of_every_activity_newest_first(
    client, member, activity, other_member, other_activity
):
    """Each Activity's latest entries are read apart and merged: the ten newest overall."""
    owned_second = services.create_activity(owner=member, name="Workshops")
    other_activity.co_members.add(member)
    start = timezone.now() - datetime.timedelta(days=1)
    activities = [activity, owned_second, other_activity]
    for index in range(15):
        LedgerEntry.objects.create(
            activity=activities[index % 3],
            kind=LedgerEntryKind.GRANT,
            stage=LedgerStage.PLANNED,
            amount=Decimal("1.00"),
            reference=f"MERGED-{index:02d}",
            created_at=start + datetime.timedelta(minutes=index),
        )
    client.force_login(member.user)
    html = client.get(reverse("members:dashboard")).content.decode()
    shown = re.findall(r"MERGED-\d\d", html)
    assert shown == [f"MERGED-{index:02d}" for index in range(14, 4, -1)]
