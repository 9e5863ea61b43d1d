"""The way in and the menus: each role sees pages that lead somewhere, someone who is not yet a
member sees their checklist, and the Activities page lists the user's Activities."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from members import services
from members.models import LedgerEntryKind, LedgerStage
from members.selectors import onboarding_of
from tests.conftest import PASSWORD, make_member, make_user, pagination_link

APPLICANT_NISS = "90020112305"
STEPS = ["apply", "approval", "share", "activity", "invoice"]


def _menu_links(page: str) -> list[str]:
    """The addresses of the header's main menu and account links, as shown on wide screens."""
    menu = page.split('class="site-menu wide"')[1].split("</details>")[0]
    menu = menu.split('class="site-menu narrow"')[0]
    return re.findall(r'<a href="([^"]+)"', menu)


def _step_states(page: str) -> list[str]:
    """Each checklist step's state (done, current, todo), in order."""
    return re.findall(r'<li class="step (done|current|todo)"', page)


@pytest.fixture
def applicant(db):
    return make_member(
        "noa@coop.test", legal_name="Noa Janssens", niss=APPLICANT_NISS, active=False
    )


@pytest.fixture
def signed_up(db):
    return make_user("new@coop.test")


@pytest.mark.parametrize(
    ("persona", "menu"),
    [
        ("signed_up", ["/", "/profile/", "/accounts/logout/"]),
        ("applicant", ["/", "/profile/", "/accounts/logout/"]),
        (
            "member",
            [
                "/",
                "/activities/",
                "/invoices/",
                "/contracts/",
                "/payslips/",
                "/bookings/",
                "/profile/",
                "/accounts/logout/",
            ],
        ),
        (
            "space_manager",
            ["/", "/bookings/", "/bookings/queue/", "/profile/", "/accounts/logout/"],
        ),
        (
            "staff",
            [
                "/",
                "/invoices/",
                "/contracts/",
                "/bookings/",
                "/bookings/queue/",
                "/profile/",
                "/admin/",
                "/accounts/logout/",
            ],
        ),
    ],
)
def test_each_role_has_its_menu_and_every_link_answers(db, client, request, persona, menu):
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)
    if user.is_staff:
        from allauth.mfa.totp.internal.auth import TOTP

        TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(user)
    page = client.get("/").content.decode()
    assert '<a class="brand" href="/">coop</a>' in page
    assert _menu_links(page) == menu
    for link in menu:
        assert client.get(link).status_code == 200, link
    # The phone menu holds the same links behind its button.
    narrow = page.split('class="site-menu narrow"')[1].split("</details>")[0]
    assert "<summary>Menu</summary>" in narrow
    assert re.findall(r'<a href="([^"]+)"', narrow) == menu


@pytest.mark.parametrize("persona", ["signed_up", "applicant"])
def test_pages_that_need_a_member_lead_the_newcomer_to_their_checklist(
    db, client, request, persona
):
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)
    client.force_login(user)
    home = client.get("/").content.decode()
    for address in ("/activities/new/", "/invoices/new/", "/contracts/new/"):
        assert f'href="{address}"' not in home
        response = client.get(address)
        assert response.status_code == 302, address
        assert response["Location"] == "/"
        page = client.get("/").content.decode()
        if persona == "signed_up":
            assert "Become a member first: apply for membership" in page
        else:
            assert "This page opens to you once your membership has started" in page
        assert "Becoming a member, step by step" in page
    # A post is refused the same way and creates nothing.
    response = client.post("/activities/new/", {"name": "Pottery", "description": ""})
    assert response.status_code == 302
    if persona == "applicant":
        assert not user.member.activities.exists()


def test_a_suspended_member_is_still_refused_opening_an_activity(client, member, staff):
    services.suspend_member(member=member, actor=staff, reason="Unpaid fees")
    client.force_login(member.user)
    response = client.get("/activities/new/")
    assert response.status_code == 403


def test_checklist_of_someone_who_signed_up(client, signed_up):
    client.force_login(signed_up)
    page = client.get("/").content.decode()
    assert _step_states(page) == ["current", "todo", "todo", "todo", "todo"]
    assert 'aria-current="step"' in page
    assert f'href="{reverse("members:apply")}"' in page
    assert "Each share costs 30.00\u00a0€" in page
    assert "Your share payment is due" not in page


def test_checklist_of_an_applicant_waiting_for_approval(client, applicant):
    client.force_login(applicant.user)
    page = client.get("/").content.decode()
    assert _step_states(page) == ["done", "current", "todo", "todo", "todo"]
    assert "Staff are reviewing your application" in page
    # The share can already be paid: how much and where.
    assert "Payment due: 30.00\u00a0€ for 1 share." in page
    assert "BE71 0961 2345 6769" in page
    assert "Shares Noa Janssens" in page
    assert "your share payment is due" not in page


def test_approved_applicant_is_told_the_share_payment_is_due(client, applicant, staff):
    services.approve_application(member=applicant, actor=staff)
    client.force_login(applicant.user)
    page = client.get("/").content.decode()
    assert _step_states(page) == ["done", "done", "current", "todo", "todo"]
    assert "Your application is approved: your share payment is due" in page
    assert "as soon as the cooperative receives 30.00\u00a0€ for your shares" in page
    assert "BE71 0961 2345 6769" in page
    profile = client.get(reverse("members:profile")).content.decode()
    assert "Application approved: your share payment is due" in profile


def test_paying_the_share_ends_the_checklist(client, applicant, staff):
    services.approve_application(member=applicant, actor=staff)
    services.record_share_payment(
        subscription=applicant.shares.get(), paid_on=timezone.localdate(), actor=staff
    )
    client.force_login(applicant.user)
    page = client.get("/").content.decode()
    assert _step_states(page) == []  # an active member's dashboard, not the checklist
    assert "Becoming a member, step by step" not in page


def test_onboarding_steps_follow_activities_and_the_first_invoice(member, staff):
    assert [step.done for step in onboarding_of(member.user, member).steps] == [
        True,
        True,
        True,
        False,
        False,
    ]
    activity = services.create_activity(owner=member, name="Pottery", description="")
    steps = onboarding_of(member.user, member).steps
    assert [step.key for step in steps] == STEPS
    assert [step.done for step in steps] == [True, True, True, True, False]
    assert [step.current for step in steps] == [False, False, False, False, True]
    services.post_ledger_entry(
        activity=activity,
        kind=LedgerEntryKind.CLIENT_INCOME,
        stage=LedgerStage.PLANNED,
        amount=Decimal("100.00"),
        reference="2026-0001",
        author=None,
    )
    onboarding = onboarding_of(member.user, member)
    assert all(step.done for step in onboarding.steps)
    assert onboarding.share_due == Decimal("0.00")


def test_nothing_is_read_for_someone_without_a_profile(signed_up, django_assert_num_queries):
    with django_assert_num_queries(0):
        onboarding = onboarding_of(signed_up, None)
    assert [step.current for step in onboarding.steps] == [True, False, False, False, False]
    assert onboarding.share_due == Decimal("0.00")


def test_activities_page_lists_own_and_shared_activities_newest_first(
    client, member, other_member, settings
):
    older = services.create_activity(owner=member, name="Pottery", description="")
    theirs = services.create_activity(owner=other_member, name="Theatre", description="")
    theirs.co_members.add(member)
    services.create_activity(owner=other_member, name="Not shared", description="")
    type(older).objects.filter(pk=older.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=3)
    )
    client.force_login(member.user)
    page = client.get(reverse("members:activity_list")).content.decode()
    assert re.findall(r'<th scope="row"><a href="/activities/\d+/">([^<]+)</a>', page) == [
        "Theatre",
        "Pottery",
    ]
    assert "Lucas Dubois" in page  # the shared one's owner
    assert "Not shared" not in page
    assert 'aria-current="page">Activities<' in page
    assert f'href="{reverse("members:activity_create")}"' in page


def test_activities_page_is_paginated(client, member, monkeypatch):
    from members import views

    monkeypatch.setattr(views, "ACTIVITY_PAGE_SIZE", 2)
    for number in range(3):
        services.create_activity(owner=member, name=f"Activity {number}", description="")
    client.force_login(member.user)
    first = client.get(reverse("members:activity_list")).content.decode()
    assert "Activity 2" in first and "Activity 1" in first and "Activity 0" not in first
    older = pagination_link(first, "next")
    second = client.get(reverse("members:activity_list") + older).content.decode()
    assert "Activity 0" in second and "Activity 1" not in second
    assert pagination_link(second, "next") is None


def test_activities_page_empty_states(client, member, applicant):
    client.force_login(member.user)
    page = client.get(reverse("members:activity_list")).content.decode()
    assert "You have no Activity yet. An Activity is the budget" in page
    assert "Open my first Activity" in page
    client.force_login(applicant.user)
    page = client.get(reverse("members:activity_list")).content.decode()
    assert "Members open Activities once their membership has started" in page
    assert f'href="{reverse("members:activity_create")}"' not in page


def test_favicon(client, member):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.svg"
    assert finders.find("favicon.svg")
    client.force_login(member.user)
    page = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page


def test_signed_in_message_is_in_the_members_language(client, member, settings):
    # No language chosen in this browser, which asks for English: the member prefers French.
    del client.cookies[settings.LANGUAGE_COOKIE_NAME]
    response = client.post(
        reverse("account_login"),
        {"login": "ana@coop.test", "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    page = response.content.decode()
    assert '<html lang="fr">' in page
    assert "Connexion avec ana@coop.test réussie." in page
    assert "Successfully signed in" not in page


@pytest.mark.parametrize(
    ("language", "app", "model"),
    [
        ("fr", "Authentification à deux facteurs", "authentificateurs"),
        ("nl", "Tweefactorauthenticatie", "authenticators"),
    ],
)
def test_the_two_factor_app_is_named_in_the_language(language, app, model):
    from allauth.mfa.models import Authenticator
    from django.apps import apps
    from django.utils import translation

    with translation.override(language):
        assert str(apps.get_app_config("mfa").verbose_name) == app
        assert str(Authenticator._meta.verbose_name_plural) == model
