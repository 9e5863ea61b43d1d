"""Membership lifecycle: applicant → active → suspended → left, each step recorded."""

import datetime

import pytest
from django.urls import reverse

from members import services
from members.models import Member, MembershipEvent, ShareSubscription
from members.services import MembersError
from tests.conftest import NOW, PASSWORD, make_member, make_user


def events_of(member: Member) -> list[tuple[str, str, str]]:
    return list(member.events.values_list("kind", "from_status", "to_status"))


def test_application_records_an_unpaid_share_at_the_nominal_value(db, settings):
    settings.COOP_SHARE_NOMINAL_VALUE = __import__("decimal").Decimal("30.00")
    member = make_member("a@coop.test", legal_name="Ana", niss="85073003328", active=False)
    assert member.status == Member.Status.APPLICANT
    subscription = member.shares.get()
    assert (subscription.number_of_shares, str(subscription.nominal_value)) == (1, "30.00")
    assert subscription.paid_on is None
    assert events_of(member) == [("applied", "applicant", "applicant")]


def test_approved_applicant_becomes_active_when_the_first_share_is_paid(db, staff):
    member = make_member("a@coop.test", legal_name="Ana", niss="85073003328", active=False)
    services.approve_application(member=member, actor=staff, reason="Portfolio checked", now=NOW)
    member.refresh_from_db()
    assert member.status == Member.Status.APPLICANT
    assert member.approved_by == staff

    services.record_share_payment(
        subscription=member.shares.get(), paid_on=NOW.date(), actor=staff, now=NOW
    )
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE
    assert events_of(member) == [
        ("applied", "applicant", "applicant"),
        ("approved", "applicant", "applicant"),
        ("activated", "applicant", "active"),
    ]
    approval = member.events.get(kind=MembershipEvent.Kind.APPROVED)
    assert (approval.actor, approval.reason, approval.created_at) == (
        staff,
        "Portfolio checked",
        NOW,
    )


def test_share_paid_before_approval_activates_on_approval(db, staff):
    member = make_member("a@coop.test", legal_name="Ana", niss="85073003328", active=False)
    services.record_share_payment(
        subscription=member.shares.get(), paid_on=NOW.date(), actor=staff, now=NOW
    )
    member.refresh_from_db()
    assert member.status == Member.Status.APPLICANT
    services.approve_application(member=member, actor=staff, now=NOW)
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE


def test_suspend_reinstate_and_leave_record_who_when_and_why(member, staff):
    later = NOW + datetime.timedelta(days=10)
    services.suspend_member(member=member, actor=staff, reason="Unpaid supplier", now=later)
    services.reinstate_member(member=member, actor=staff, reason="Settled", now=later)
    services.record_departure(member=member, actor=staff, reason="Moved abroad", now=later)
    member.refresh_from_db()
    assert member.status == Member.Status.LEFT
    assert list(member.events.values_list("kind", "from_status", "to_status", "reason"))[-3:] == [
        ("suspended", "active", "suspended", "Unpaid supplier"),
        ("reinstated", "suspended", "active", "Settled"),
        ("left", "active", "left", "Moved abroad"),
    ]
    assert set(member.events.filter(created_at=later).values_list("actor", flat=True)) == {staff.pk}


@pytest.mark.parametrize(
    ("action", "status"),
    [
        (services.suspend_member, Member.Status.APPLICANT),
        (services.reinstate_member, Member.Status.ACTIVE),
    ],
)
def test_invalid_transitions_are_refused_and_change_nothing(db, staff, action, status):
    member = make_member(
        "a@coop.test",
        legal_name="Ana",
        niss="85073003328",
        active=status == Member.Status.ACTIVE,
        approver=staff,
    )
    before = member.events.count()
    with pytest.raises(MembersError):
        action(member=member, actor=staff, reason="because")
    member.refresh_from_db()
    assert member.status == status
    assert member.events.count() == before


def test_status_change_without_reason_is_refused(member, staff):
    with pytest.raises(MembersError) as error:
        services.suspend_member(member=member, actor=staff, reason="  ")
    assert error.value.field == "reason"
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE


def test_approving_twice_is_refused(db, staff):
    member = make_member("a@coop.test", legal_name="Ana", niss="85073003328", active=False)
    services.approve_application(member=member, actor=staff)
    with pytest.raises(MembersError):
        services.approve_application(member=member, actor=staff)
    assert member.events.filter(kind="approved").count() == 1


def test_paying_the_same_shares_twice_is_refused(member, staff):
    subscription = member.shares.get()
    with pytest.raises(MembersError):
        services.record_share_payment(subscription=subscription, paid_on=NOW.date(), actor=staff)


def test_duplicate_national_number_is_refused_and_nothing_is_written(member):
    user = make_user("twin@coop.test")
    with pytest.raises(MembersError) as error:
        services.apply_for_membership(
            user=user,
            legal_name="Twin",
            street="x",
            postal_code="1000",
            city="Bruxelles",
            country="BE",
            phone="",
            preferred_language="nl",
            iban="BE71096123456769",
            niss="85.07.30-033.28",
            number_of_shares=1,
            today=NOW.date(),
        )
    assert error.value.field == "niss"
    assert not Member.objects.filter(user=user).exists()
    assert ShareSubscription.objects.count() == 1


def test_national_number_is_stored_encrypted(member):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT niss FROM members_member WHERE id = %s", [member.pk])
        (stored,) = cursor.fetchone()
    assert "85073003328" not in stored
    assert Member.objects.get(pk=member.pk).niss == "85073003328"
    assert member.niss_masked == "**.**.**-***.28"


def test_staff_approve_applications_in_the_admin(client, db):
    staff_user = make_user("boss@coop.test", is_staff=True, is_superuser=True)
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(staff_user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    applicant = make_member("a@coop.test", legal_name="Ana", niss="85073003328", active=False)
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:members_member_changelist"),
        {"action": "approve_applications", "_selected_action": [applicant.pk], "reason": "OK"},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 application approved." in response.content.decode()
    applicant.refresh_from_db()
    assert (applicant.approved_by, applicant.status) == (staff_user, Member.Status.APPLICANT)

    response = client.post(
        reverse("admin:members_sharesubscription_changelist"),
        {"action": "mark_paid_today", "_selected_action": [applicant.shares.get().pk]},
        follow=True,
    )
    applicant.refresh_from_db()
    assert applicant.status == Member.Status.ACTIVE


def test_member_applies_in_the_browser(client, db):
    user = make_user("new@coop.test")
    client.login(email="new@coop.test", password=PASSWORD)
    form = {
        "legal_name": "Emma Maes",
        "street": "Veldstraat 1",
        "postal_code": "9000",
        "city": "Gent",
        "country": "BE",
        "phone": "",
        "preferred_language": "nl",
        "iban": "BE71 0961 2345 6769",
        "niss": "85.07.30-033.28",
        "number_of_shares": "2",
        "accept_statutes": "on",
    }
    response = client.post(reverse("members:apply"), {**form, "iban": "BE68539007547034"})
    assert response.status_code == 200
    assert not Member.objects.filter(user=user).exists()
    assert "unknown country or bank" in response.content.decode()

    response = client.post(reverse("members:apply"), {**form, "niss": "12345678901"})
    assert "check digits are wrong" in response.content.decode()
    assert not Member.objects.filter(user=user).exists()

    response = client.post(reverse("members:apply"), form)
    assert response.status_code == 302
    member = Member.objects.get(user=user)
    assert (member.iban, member.niss, member.status) == (
        "BE71096123456769",
        "85073003328",
        "applicant",
    )
    assert member.shares.get().number_of_shares == 2
