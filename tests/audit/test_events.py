"""The rows the services, download views and admin write to the audit trail."""

import datetime
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from contracts.services.contracts import approve_contract, cancel_contract, submit_contract
from contracts.services.documents import render_payslip
from contracts.services.payroll import run_payroll
from invoicing.services.issue import approve_invoice, reject_invoice, submit_invoice
from invoicing.services.payments import record_payment
from members import services
from spaces.services import lifecycle
from tests.conftest import NOW, make_member, make_user
from tests.contracts.conftest import make_contract, worker
from tests.invoicing.conftest import TODAY
from tests.spaces.conftest import DAY, at


def rows(**filters) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(**filters)
        .order_by("pk")
        .values_list("actor__email", "action", "object_type", "object_pk", "changes", "reason")
    )


def _staff_client(client, user):
    TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(user)
    return client


def test_membership_application_approval_and_departure_are_recorded(staff):
    applicant = make_member("nora@coop.test", legal_name="Nora Janssens", niss="", active=False)
    services.approve_application(member=applicant, actor=staff, now=NOW)
    services.record_departure(member=applicant, actor=staff, reason="Moved abroad", now=NOW)
    pk = str(applicant.pk)
    assert rows(object_type="members.member", object_pk=pk) == [
        ("nora@coop.test", "created", "members.member", pk, {}, ""),
        ("staff@coop.test", "approved", "members.member", pk, {}, ""),
        (
            "staff@coop.test",
            "changed",
            "members.member",
            pk,
            {"status": ["applicant", "left"]},
            "Moved abroad",
        ),
    ]


def test_a_profile_edit_in_the_browser_records_the_changes_with_the_iban_masked(client, member):
    client.force_login(member.user)
    data = {
        "street": "Rue Ransfort 27",
        "postal_code": "1000",
        "city": "Bruxelles",
        "country": "BE",
        "phone": "+32 2 542 10 80",
        "preferred_language": "fr",
        "iban": "BE09734123456757",
    }
    response = client.post(reverse("members:profile_edit"), data, REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 302, response.context["form"].errors
    event = AuditEvent.objects.get(action="changed", actor=member.user)
    assert (event.actor, event.actor_label, event.ip) == (
        member.user,
        "ana@coop.test",
        "198.51.100.4",
    )
    assert event.changes == {
        "postal_code": ["1080", "1000"],
        "city": ["Molenbeek-Saint-Jean", "Bruxelles"],
        "iban": ["***", "***"],
    }


def test_reading_a_national_number_in_full_is_a_recorded_post(client, member, staff):
    url = reverse("admin:members_member_national_number", args=[member.pk])
    _staff_client(client, staff)
    page = client.get(url).content.decode()
    assert "85.07.30-033.28" not in page
    assert not AuditEvent.objects.filter(action="viewed").exists()
    for reason in ("", "   ", "x" * 501):
        refused = client.post(url, {"reason": reason}).content.decode()
        assert "85.07.30-033.28" not in refused
    assert "Say why you read this national register number" in client.post(url).content.decode()
    assert not AuditEvent.objects.filter(action="viewed").exists()
    page = client.post(url, {"reason": "Dimona check"}).content.decode()
    assert "85.07.30-033.28" in page
    assert rows(action="viewed") == [
        (
            "staff@coop.test",
            "viewed",
            "members.member",
            str(member.pk),
            {"niss": [None, None]},
            "Dimona check",
        )
    ]


def test_staff_without_the_permission_and_members_cannot_read_a_national_number(
    client, member, other_member
):
    url = reverse("admin:members_member_national_number", args=[member.pk])
    clerk = make_user("clerk@coop.test", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_member"))
    _staff_client(client, clerk)
    assert client.post(url, {"reason": "curious"}).status_code == 403
    client.force_login(other_member.user)
    response = client.post(url, {"reason": "curious"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not AuditEvent.objects.filter(action="viewed").exists()
    with pytest.raises(services.MembersError):
        services.reveal_national_number(member=member, actor=clerk, reason="curious")


def test_invoice_submission_review_and_payment_are_recorded(member, staff, draft):
    submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    approve_invoice(staff_user=staff, invoice=draft, today=TODAY, now=NOW)
    draft.refresh_from_db()
    payment = record_payment(
        invoice=draft, amount=draft.total_incl_vat, received_on=TODAY, actor=staff, now=NOW
    )
    pk = str(draft.pk)
    assert rows(object_type="invoicing.invoice") == [
        ("ana@coop.test", "created", "invoicing.invoice", pk, {}, ""),
        ("ana@coop.test", "submitted", "invoicing.invoice", pk, {}, "first invoice to this client"),
        ("staff@coop.test", "approved", "invoicing.invoice", pk, {}, ""),
        ("staff@coop.test", "issued", "invoicing.invoice", pk, {}, ""),
    ]
    assert rows(object_type="invoicing.payment") == [
        (
            "staff@coop.test",
            "created",
            "invoicing.payment",
            str(payment.pk),
            {"amount": [None, str(draft.total_incl_vat)]},
            "",
        )
    ]


def test_a_rejected_invoice_records_the_reason(member, staff, draft):
    submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    reject_invoice(staff_user=staff, invoice=draft, reason="Wrong VAT rate")
    assert rows(action="rejected") == [
        ("staff@coop.test", "rejected", "invoicing.invoice", str(draft.pk), {}, "Wrong VAT rate")
    ]


def test_contract_lifecycle_is_recorded(member, staff, activity):
    contract = make_contract(member, activity)
    submit_contract(user=member.user, contract=contract, today=TODAY, now=NOW)
    approve_contract(staff_user=staff, contract=contract, today=TODAY, now=NOW)
    cancel_contract(user=staff, contract=contract, reason="Show cancelled", today=TODAY, now=NOW)
    pk = str(contract.pk)
    assert [row[:2] + row[4:] for row in rows(object_type="contracts.contract")] == [
        ("ana@coop.test", "created", {}, ""),
        ("ana@coop.test", "submitted", {"status": ["draft", "submitted"]}, ""),
        ("staff@coop.test", "approved", {"status": ["submitted", "approved"]}, ""),
        ("staff@coop.test", "cancelled", {"status": ["approved", "cancelled"]}, "Show cancelled"),
    ]
    assert {row[3] for row in rows(object_type="contracts.contract")} == {pk}


def test_payroll_run_and_every_payslip_download_are_recorded(
    client, member, other_member, staff, activity
):
    start = timezone.localdate() + datetime.timedelta(days=14 - timezone.localdate().weekday())
    contract = make_contract(
        member, activity, workers=[worker(member, start=start, count=2)], today=timezone.localdate()
    )
    submit_contract(user=member.user, contract=contract, today=timezone.localdate())
    approve_contract(staff_user=staff, contract=contract, today=timezone.localdate())
    payroll = run_payroll(
        staff_user=staff,
        period_start=contract.first_work_day,
        period_end=contract.last_work_day,
        today=contract.last_work_day + datetime.timedelta(days=1),
    )
    payslip = payroll.payslips.get()
    render_payslip(payslip=payslip)
    assert rows(object_type="contracts.payrollrun") == [
        (
            "staff@coop.test",
            "created",
            "contracts.payrollrun",
            str(payroll.pk),
            {"payslip_count": [None, 1], "total_net": [None, str(payroll.total_net)]},
            "",
        )
    ]
    url = reverse("contracts:payslip-download", args=[payslip.pk])
    client.force_login(member.user)
    assert client.get(url).status_code == 200
    client.force_login(other_member.user)
    assert client.get(url).status_code == 404
    _staff_client(client, staff)
    assert client.get(url).status_code == 200
    assert rows(object_type="contracts.payslip") == [
        ("ana@coop.test", "downloaded", "contracts.payslip", str(payslip.pk), {}, ""),
        ("staff@coop.test", "downloaded", "contracts.payslip", str(payslip.pk), {}, ""),
    ]


def test_booking_creation_cancellation_and_move_are_recorded(member, activity, room, space_manager):
    first = lifecycle.book_room(
        actor=member.user,
        room=room,
        start=at(DAY, 10),
        end=at(DAY, 12),
        title="Rehearsal",
        activity=activity,
        now=NOW,
    )
    moved = lifecycle.move_booking(
        actor=space_manager,
        booking=first,
        room=room,
        start=at(DAY, 14),
        end=at(DAY, 16),
        title="",
        now=NOW,
    )
    lifecycle.cancel_booking(actor=member.user, booking=moved, reason="Ill", now=NOW)
    got = [(row[0], row[1], row[3]) for row in rows(object_type="spaces.booking")]
    assert got == [
        ("ana@coop.test", "created", str(first.pk)),
        ("spaces@coop.test", "cancelled", str(first.pk)),
        ("spaces@coop.test", "created", str(moved.pk)),
        ("spaces@coop.test", "moved", str(first.pk)),
        ("ana@coop.test", "cancelled", str(moved.pk)),
    ]
    assert AuditEvent.objects.get(action="moved").changes == {"booking": [first.pk, moved.pk]}


def test_an_admin_edit_is_recorded_with_the_admin_message(client, member, staff):
    _staff_client(client, staff)
    url = reverse("admin:members_member_change", args=[member.pk])
    data = {
        "user": member.user.pk,
        "legal_name": "Ana Peeters-Claes",
        "street": member.street,
        "postal_code": member.postal_code,
        "city": member.city,
        "country": "BE",
        "phone": member.phone,
        "preferred_language": "fr",
        "new_iban": "BE09734123456757",
        "new_niss": "17.07.30-033.84",
        "shares-TOTAL_FORMS": "1",
        "shares-INITIAL_FORMS": "1",
        "shares-MIN_NUM_FORMS": "0",
        "shares-MAX_NUM_FORMS": "1000",
        "shares-0-id": member.shares.get().pk,
        "shares-0-member": member.pk,
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": str(member.events.count()),
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert rows(object_type="members.member", reason__startswith="admin") == [
        (
            "staff@coop.test",
            "changed",
            "members.member",
            str(member.pk),
            {
                "legal_name": ["Ana Peeters", "Ana Peeters-Claes"],
                "new_iban": [None, "***"],
                "new_niss": [None, "***"],
            },
            "admin: Changed Legal name, New IBAN and New national register number.",
        )
    ]
    member.refresh_from_db()
    assert (member.niss, member.iban) == ("17073003384", "BE09734123456757")
    written = [str(values) for values in AuditEvent.objects.values_list("changes", "reason")]
    assert not [text for text in written if "17073003384" in text or "BE09734123456757" in text]


def test_a_sign_in_is_recorded(client, member):
    from tests.conftest import PASSWORD

    assert client.login(email="ana@coop.test", password=PASSWORD)
    assert rows(action="signed_in") == [
        ("ana@coop.test", "signed_in", "members.user", str(member.user.pk), {}, "")
    ]


def test_a_bank_statement_import_and_its_matched_payment_are_recorded(
    member, staff, draft, no_review
):
    from invoicing.services.payments import import_bank_statement
    from tests.invoicing.test_payments import ENTRY, camt_file, structured

    submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    draft.refresh_from_db()
    data = camt_file(
        ENTRY.format(
            amount=str(draft.total_incl_vat),
            direction="CRDT",
            reference="B1",
            remittance=structured(draft.structured_communication),
        )
    )
    (statement,) = import_bank_statement(data=data, filename="march.xml", actor=staff, now=NOW)
    payment = draft.payments.get()
    assert rows(action__in=["imported", "created"], object_type__startswith="invoicing.")[-2:] == [
        (
            "staff@coop.test",
            "created",
            "invoicing.payment",
            str(payment.pk),
            {"amount": [None, str(draft.total_incl_vat)]},
            "",
        ),
        (
            "staff@coop.test",
            "imported",
            "invoicing.bankstatement",
            str(statement.pk),
            {},
            "march.xml",
        ),
    ]


def test_a_credit_note_request_and_issue_are_recorded(member, staff, draft, no_review):
    from invoicing.services.credit import request_credit_note

    submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    note = request_credit_note(user=member.user, invoice=draft, reason="Cancelled show", now=NOW)
    approve_invoice(staff_user=staff, invoice=note, today=TODAY, now=NOW)
    assert rows(object_pk=str(note.pk), object_type="invoicing.invoice") == [
        ("ana@coop.test", "requested", "invoicing.invoice", str(note.pk), {}, "Cancelled show"),
        ("staff@coop.test", "approved", "invoicing.invoice", str(note.pk), {}, ""),
        ("staff@coop.test", "issued", "invoicing.invoice", str(note.pk), {}, ""),
    ]


def test_expense_claims_and_every_receipt_download_are_recorded(
    client, member, staff, activity, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from contracts.services import expenses

    settings.MEDIA_ROOT = tmp_path
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    receipt = expenses.ReceiptInput(
        upload=SimpleUploadedFile("gels.png", png),
        description="Gels",
        category="supplies",
        spent_on=datetime.date(2026, 2, 20),
        amount=Decimal("60.50"),
        vat=Decimal("10.50"),
    )
    claim = expenses.submit_expense_claim(
        user=member.user,
        activity=activity,
        description="Tour",
        receipts=[receipt],
        today=TODAY,
        now=NOW,
    )
    expenses.reject_expense_claim(staff_user=staff, claim=claim, reason="No VAT number", now=NOW)
    assert rows(object_type="contracts.expenseclaim") == [
        ("ana@coop.test", "created", "contracts.expenseclaim", str(claim.pk), {}, ""),
        (
            "ana@coop.test",
            "submitted",
            "contracts.expenseclaim",
            str(claim.pk),
            {"total": [None, "60.50"]},
            "",
        ),
        (
            "staff@coop.test",
            "rejected",
            "contracts.expenseclaim",
            str(claim.pk),
            {},
            "No VAT number",
        ),
    ]
    stored = claim.receipts.get()
    url = reverse("contracts:expense-receipt-download", args=[stored.pk])
    client.force_login(member.user)
    assert client.get(url).status_code == 200
    _staff_client(client, staff)
    assert client.get(url).status_code == 200
    assert rows(action="downloaded") == [
        ("ana@coop.test", "downloaded", "contracts.expensereceipt", str(stored.pk), {}, ""),
        ("staff@coop.test", "downloaded", "contracts.expensereceipt", str(stored.pk), {}, ""),
    ]
