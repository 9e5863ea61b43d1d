"""Anonymising a member who left: personal data replaced, records the law keeps kept."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import authenticate
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import record_event
from contracts.services.contracts import approve_contract, cancel_contract, submit_contract
from invoicing.models import Invoice
from invoicing.services.issue import submit_invoice
from invoicing.services.payments import record_payment
from members.models import ApiToken, Member, MembershipEvent, User
from members.services import MembersError, anonymise_member, record_departure
from tests.conftest import NOW, PASSWORD, make_api_token
from tests.contracts.conftest import TODAY, make_contract
from tests.invoicing.conftest import make_draft


def left(member, staff):
    return record_departure(member=member, actor=staff, reason="Retired", now=NOW)


def test_a_member_who_has_not_left_is_refused_and_nothing_changes(member, staff):
    with pytest.raises(MembersError, match="Only a member who has left"):
        anonymise_member(member=member, reason="Asked by e-mail", actor=staff, now=NOW)
    member.refresh_from_db()
    assert (member.legal_name, member.niss, member.anonymised_at) == (
        "Ana Peeters",
        "85073003328",
        None,
    )
    assert not AuditEvent.objects.filter(action="anonymised").exists()


def test_a_reason_is_required(member, staff):
    left(member, staff)
    with pytest.raises(MembersError, match="Give a reason"):
        anonymise_member(member=member, reason="  ", actor=staff, now=NOW)
    assert Member.objects.get(pk=member.pk).anonymised_at is None


def test_open_contracts_and_unpaid_invoices_block_anonymisation(
    member, staff, activity, belgian_client, no_review
):
    contract = make_contract(member, activity)
    submit_contract(user=member.user, contract=contract, today=TODAY, now=NOW)
    approve_contract(staff_user=staff, contract=contract, today=TODAY, now=NOW)
    invoice = make_draft(member, activity, belgian_client)
    submit_invoice(user=member.user, invoice=invoice, today=TODAY, now=NOW)
    left(member, staff)
    with pytest.raises(MembersError) as refused:
        anonymise_member(member=member, reason="Asked by e-mail", actor=staff, now=NOW)
    assert refused.value.message == (
        "Ana Peeters cannot be anonymised: 1 invoice is still unpaid or awaiting review."
        " 1 contract is still open."
    )
    assert Member.objects.get(pk=member.pk).legal_name == "Ana Peeters"

    cancel_contract(user=staff, contract=contract, reason="Left", today=TODAY, now=NOW)
    invoice.refresh_from_db()
    record_payment(
        invoice=invoice, amount=invoice.total_incl_vat, received_on=TODAY, actor=staff, now=NOW
    )
    invoice.refresh_from_db()
    frozen = (invoice.number, invoice.snapshot, invoice.total_incl_vat)
    anonymise_member(member=member, reason="Asked by e-mail", actor=staff, now=NOW)
    invoice.refresh_from_db()
    # The issued invoice is a frozen record kept ten years: anonymisation leaves it as it was.
    assert invoice.status == Invoice.Status.PAID
    assert (invoice.number, invoice.snapshot, invoice.total_incl_vat) == frozen
    assert Member.objects.get(pk=member.pk).legal_name == f"member-{member.pk}"


def test_anonymisation_replaces_personal_data_and_disables_the_account(member, staff):
    make_api_token(member.user)
    TOTP.activate(member.user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    record_event(action="viewed", obj=staff, actor=member.user)
    left(member, staff)

    anonymise_member(member=member, reason="Right to erasure request", actor=staff, now=NOW)

    member.refresh_from_db()
    user = User.objects.get(pk=member.user_id)
    placeholder = f"member-{member.pk}"
    assert (
        member.legal_name,
        member.street,
        member.postal_code,
        member.city,
        member.phone,
        member.iban,
        member.niss,
        member.niss_fingerprint,
        member.anonymised_at,
        member.status,
    ) == (placeholder, "", "", "", "", "", "", "", NOW, "left")
    assert (user.email, user.name, user.is_active, user.has_usable_password()) == (
        f"{placeholder}@anonymised.invalid",
        "",
        False,
        False,
    )
    assert authenticate(email="ana@coop.test", password=PASSWORD) is None
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not ApiToken.objects.filter(user=user).exists()
    assert not user.authenticator_set.exists()
    event = member.events.order_by("pk").last()
    assert (event.kind, event.actor, event.reason, event.from_status, event.to_status) == (
        MembershipEvent.Kind.ANONYMISED,
        staff,
        "Right to erasure request",
        "left",
        "left",
    )
    assert list(
        AuditEvent.objects.filter(action="anonymised").values_list(
            "actor__email", "object_type", "object_pk", "object_repr", "reason"
        )
    ) == [
        (
            "staff@coop.test",
            "members.member",
            str(member.pk),
            placeholder,
            "Right to erasure request",
        )
    ]
    # Earlier rows no longer name the person, but still say who did what and when.
    assert not AuditEvent.objects.filter(actor_label="ana@coop.test").exists()
    assert not AuditEvent.objects.filter(object_repr="Ana Peeters").exists()
    assert AuditEvent.objects.get(action="viewed").actor == user


def test_anonymising_twice_changes_nothing_the_second_time(member, staff):
    left(member, staff)
    anonymise_member(member=member, reason="Asked", actor=staff, now=NOW)
    counts = (AuditEvent.objects.count(), MembershipEvent.objects.count())
    again = anonymise_member(member=member, reason="Asked again", actor=staff, now=NOW)
    assert again.anonymised_at == NOW
    assert (AuditEvent.objects.count(), MembershipEvent.objects.count()) == counts


def test_the_admin_action_needs_the_permission_and_a_reason(client, member, staff):
    left(member, staff)
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)
    url = reverse("admin:members_member_changelist")
    data = {"action": "anonymise_members", "_selected_action": [member.pk], "reason": ""}
    page = client.post(url, data, follow=True).content.decode()
    assert "Give a reason" in page
    assert Member.objects.get(pk=member.pk).anonymised_at is None
    page = client.post(url, {**data, "reason": "Erasure request"}, follow=True).content.decode()
    assert "1 member anonymised" in page and "ten years" in page
    assert Member.objects.get(pk=member.pk).legal_name == f"member-{member.pk}"
