"""Draft expense claims: receipts gathered over several visits, then sent to staff."""

import datetime
from decimal import Decimal as D

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from contracts.errors import ContractsError
from contracts.models import ExpenseClaim, ExpenseReceipt
from contracts.services import expenses

TODAY = datetime.date(2026, 3, 2)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
URL = "/api/v1/expense-claims/"


def staff_client_of(client, staff):
    """Sign staff in for the admin, which asks them for a second factor."""
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)
    return client


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def receipt(description="Gels", *, amount="60.50", vat="10.50", category="supplies"):
    return expenses.ReceiptInput(
        upload=SimpleUploadedFile(f"{description}.png", PNG),
        description=description,
        category=category,
        spent_on=datetime.date(2026, 2, 20),
        amount=D(amount),
        vat=D(vat),
    )


@pytest.fixture
def draft(member, activity):
    return expenses.start_expense_claim(
        user=member.user, activity=activity, description="Tour expenses"
    )


def test_receipts_are_added_to_a_draft_over_several_visits_then_sent(member, draft):
    assert (draft.status, draft.total, draft.submitted_at) == ("draft", D("0.00"), None)

    expenses.add_receipts(user=member.user, claim=draft, receipts=[receipt()], today=TODAY)
    expenses.add_receipts(
        user=member.user,
        claim=draft,
        receipts=[receipt("Train", amount="31.80", vat="1.80", category="travel")],
        today=TODAY,
    )
    draft.refresh_from_db()
    assert (draft.total, draft.total_vat, draft.status) == (D("92.30"), D("12.30"), "draft")
    assert sorted(draft.receipts.values_list("description", "category")) == [
        ("Gels", "supplies"),
        ("Train", "travel"),
    ]

    sent_at = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=datetime.UTC)
    expenses.submit_draft_claim(user=member.user, claim=draft, now=sent_at)
    draft.refresh_from_db()
    assert (draft.status, draft.submitted_at) == ("submitted", sent_at)


def test_a_sent_claim_no_longer_changes(member, draft):
    expenses.add_receipts(user=member.user, claim=draft, receipts=[receipt()], today=TODAY)
    expenses.submit_draft_claim(user=member.user, claim=draft)

    with pytest.raises(ContractsError) as error:
        expenses.add_receipts(user=member.user, claim=draft, receipts=[receipt()], today=TODAY)
    assert error.value.code == "not_draft"
    with pytest.raises(ContractsError):
        expenses.remove_receipt(user=member.user, receipt=draft.receipts.get())
    with pytest.raises(ContractsError):
        expenses.delete_draft_claim(user=member.user, claim=draft)
    assert draft.receipts.count() == 1


def test_an_empty_draft_cannot_be_sent(member, draft):
    with pytest.raises(ContractsError) as error:
        expenses.submit_draft_claim(user=member.user, claim=draft)

    assert error.value.code == "no_receipts"
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_only_the_member_who_made_the_draft_changes_it(other_member, draft):
    with pytest.raises(ContractsError) as error:
        expenses.add_receipts(
            user=other_member.user, claim=draft, receipts=[receipt()], today=TODAY
        )

    assert error.value.code == "forbidden"
    assert not ExpenseReceipt.objects.exists()


def test_a_bad_receipt_adds_none_of_the_batch(member, draft):
    with pytest.raises(ContractsError) as error:
        expenses.add_receipts(
            user=member.user,
            claim=draft,
            receipts=[receipt("Good"), receipt("Bad", category="champagne")],
            today=TODAY,
        )

    assert "Receipt 2" in error.value.message
    assert not ExpenseReceipt.objects.exists()


def test_removing_a_receipt_updates_the_totals_and_deleting_removes_the_files(
    member, draft, tmp_path
):
    expenses.add_receipts(
        user=member.user,
        claim=draft,
        receipts=[receipt("Gels"), receipt("Tape", amount="12.10", vat="2.10")],
        today=TODAY,
    )
    gels = draft.receipts.get(description="Gels")
    expenses.remove_receipt(user=member.user, receipt=gels)
    draft.refresh_from_db()
    assert (draft.total, draft.total_vat) == (D("12.10"), D("2.10"))
    assert [path.name for path in (tmp_path / "expenses" / str(draft.pk)).iterdir()] == ["Tape.png"]

    expenses.delete_draft_claim(user=member.user, claim=draft)
    assert not ExpenseClaim.objects.exists()
    assert list((tmp_path / "expenses" / str(draft.pk)).iterdir()) == []


def test_staff_cannot_decide_a_draft(staff, draft):
    with pytest.raises(ContractsError) as error:
        expenses.approve_expense_claim(staff_user=staff, claim=draft)

    assert error.value.code == "draft"


def test_the_database_refuses_a_sent_claim_without_amount_or_date(draft):
    with pytest.raises(IntegrityError), transaction.atomic():
        ExpenseClaim.objects.filter(pk=draft.pk).update(status="submitted")


def test_member_keeps_a_draft_in_the_browser_and_sends_it_later(client, member, activity):
    client.force_login(member.user)
    response = client.post(
        reverse("contracts:expenses"),
        {
            "activity": activity.pk,
            "description": "Tour expenses",
            "draft": "1",
            "receipts-TOTAL_FORMS": "1",
            "receipts-INITIAL_FORMS": "0",
            # An untouched row, as the browser sends it.
            "receipts-0-category": "",
            "receipts-0-vat": "0.00",
        },
    )
    claim = ExpenseClaim.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("contracts:expense-claim", args=[claim.pk])
    page = client.get(response.url).content.decode()
    assert "No receipt yet" in page
    assert "Send the claim" in page

    response = client.post(
        response.url,
        {
            "receipts-TOTAL_FORMS": "1",
            "receipts-INITIAL_FORMS": "0",
            "receipts-0-receipt": SimpleUploadedFile("r.pdf", PDF),
            "receipts-0-receipt_description": "Train to Antwerp",
            "receipts-0-category": "travel",
            "receipts-0-spent_on": "2026-01-05",
            "receipts-0-amount": "31.80",
            "receipts-0-vat": "1.80",
        },
    )
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "Train to Antwerp" in page
    assert "Travel and transport" in page

    response = client.post(reverse("contracts:expense-claim-submit", args=[claim.pk]))
    assert response.url == reverse("contracts:expenses")
    claim.refresh_from_db()
    assert (claim.status, claim.total) == ("submitted", D("31.80"))
    page = client.get(reverse("contracts:expense-claim", args=[claim.pk])).content.decode()
    assert "Send the claim" not in page


def test_member_deletes_a_draft_after_confirming(client, member, draft):
    client.force_login(member.user)
    url = reverse("contracts:expense-claim-delete", args=[draft.pk])
    assert "cannot be undone" in client.get(url).content.decode()

    assert client.post(url).status_code == 302
    assert not ExpenseClaim.objects.exists()


def test_another_members_draft_is_not_found(client, other_member, draft):
    client.force_login(other_member.user)

    for name in ["contracts:expense-claim-submit", "contracts:expense-claim-delete"]:
        assert client.post(reverse(name, args=[draft.pk])).status_code == 404
    assert client.get(reverse("contracts:expense-claim", args=[draft.pk])).status_code == 404
    assert ExpenseClaim.objects.filter(pk=draft.pk).exists()


def test_draft_through_the_api(member, activity):
    api = APIClient()
    api.force_authenticate(member.user)
    body = api.post(
        URL,
        {"activity": activity.pk, "description": "Tour expenses", "draft": "true"},
        format="multipart",
    ).json()
    assert (body["status"], body["total"], body["receipts"]) == ("draft", "0.00", [])

    response = api.post(
        f"{URL}{body['pk']}/receipts/",
        {
            "receipts[0]file": SimpleUploadedFile("a.png", PNG),
            "receipts[0]description": "Gels",
            "receipts[0]category": "supplies",
            "receipts[0]spent_on": "2026-01-05",
            "receipts[0]amount": "60.50",
            "receipts[0]vat": "10.50",
            "receipts[1]file": SimpleUploadedFile("b.pdf", PDF),
            "receipts[1]description": "Train",
            "receipts[1]category": "travel",
            "receipts[1]spent_on": "2026-01-06",
            "receipts[1]amount": "31.80",
            "receipts[1]vat": "1.80",
        },
        format="multipart",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] == "92.30"
    assert [(r["description"], r["category"]) for r in body["receipts"]] == [
        ("Gels", "supplies"),
        ("Train", "travel"),
    ]

    train = body["receipts"][1]["pk"]
    body = api.delete(f"{URL}{body['pk']}/receipts/{train}/").json()
    assert (body["total"], len(body["receipts"])) == ("60.50", 1)

    body = api.post(f"{URL}{body['pk']}/submit/").json()
    assert body["status"] == "submitted"
    assert body["submitted_at"] is not None

    response = api.delete(f"{URL}{body['pk']}/")
    assert response.status_code == 400
    assert response.json()["code"] == "not_draft"
    assert ExpenseClaim.objects.filter(pk=body["pk"]).exists()


def test_api_deletes_a_draft_and_refuses_an_unknown_category(member, draft):
    api = APIClient()
    api.force_authenticate(member.user)
    response = api.post(
        f"{URL}{draft.pk}/receipts/",
        {
            "receipts[0]file": SimpleUploadedFile("a.png", PNG),
            "receipts[0]description": "Gels",
            "receipts[0]category": "champagne",
            "receipts[0]spent_on": "2026-01-05",
            "receipts[0]amount": "60.50",
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert not ExpenseReceipt.objects.exists()

    assert api.delete(f"{URL}{draft.pk}/").status_code == 204
    assert not ExpenseClaim.objects.exists()


def test_receipts_download_for_their_member_and_staff_only(
    client, member, other_member, staff, draft
):
    expenses.add_receipts(user=member.user, claim=draft, receipts=[receipt()], today=TODAY)
    stored = draft.receipts.get()
    url = reverse("contracts:expense-receipt-download", args=[stored.pk])

    client.force_login(member.user)
    assert url in client.get(reverse("contracts:expense-claim", args=[draft.pk])).content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="Gels.png"'

    client.force_login(other_member.user)
    assert client.get(url).status_code == 404

    client.force_login(staff)
    assert client.get(url).status_code == 200


def test_the_admin_links_receipts_to_the_checked_download(client, staff, member, draft):
    expenses.add_receipts(user=member.user, claim=draft, receipts=[receipt()], today=TODAY)
    stored = draft.receipts.get()
    staff_client = staff_client_of(client, staff)

    page = staff_client.get(
        reverse("admin:contracts_expenseclaim_change", args=[draft.pk])
    ).content.decode()

    assert reverse("contracts:expense-receipt-download", args=[stored.pk]) in page
    assert "/media/" not in page
