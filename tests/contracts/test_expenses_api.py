"""Expense claims through the REST API: receipts, scoping, decisions by staff."""

from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from contracts.models import ExpenseClaim, ExpenseReceipt

URL = "/api/v1/expense-claims/"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def receipt_fields(position: int, *, name: str, content: bytes, amount: str, vat: str) -> dict:
    return {
        f"receipts[{position}]file": SimpleUploadedFile(name, content),
        f"receipts[{position}]description": f"Receipt {name}",
        f"receipts[{position}]spent_on": "2026-01-05",
        f"receipts[{position}]amount": amount,
        f"receipts[{position}]vat": vat,
    }


def claim_data(activity, *, second: bytes = PDF) -> dict:
    return {
        "activity": activity.pk,
        "description": "Exhibition supplies",
        **receipt_fields(0, name="paper.png", content=PNG, amount="60.50", vat="10.50"),
        **receipt_fields(1, name="frames.pdf", content=second, amount="121.00", vat="21.00"),
    }


def create_claim(member, activity) -> dict:
    response = api_for(member.user).post(URL, claim_data(activity), format="multipart")
    assert response.status_code == 201, response.content
    return response.json()


def test_member_claims_two_receipts(member, activity, tmp_path):
    body = create_claim(member, activity)
    claim = ExpenseClaim.objects.get()
    assert body["pk"] == claim.pk
    assert body["status"] == "submitted"
    assert (body["total"], body["total_vat"]) == ("181.50", "31.50")
    assert body["activity"] == activity.pk
    assert body["payslip"] is None
    assert [
        (receipt["description"], receipt["amount"], receipt["vat"], receipt["content_type"])
        for receipt in body["receipts"]
    ] == [
        ("Receipt paper.png", "60.50", "10.50", "image/png"),
        ("Receipt frames.pdf", "121.00", "21.00", "application/pdf"),
    ]
    assert (claim.member, claim.total, claim.total_vat) == (member, D("181.50"), D("31.50"))
    stored = sorted(path.name for path in (tmp_path / "expenses" / str(claim.pk)).iterdir())
    assert stored == ["frames.pdf", "paper.png"]


def test_member_lists_and_reads_own_claims(member, activity):
    body = create_claim(member, activity)
    api = api_for(member.user)
    assert [claim["pk"] for claim in api.get(URL).json()["results"]] == [body["pk"]]
    assert api.get(f"{URL}{body['pk']}/").json() == body


def test_another_members_claim_is_not_found(member, other_member, activity):
    body = create_claim(member, activity)
    api = api_for(other_member.user)
    assert api.get(URL).json()["results"] == []
    assert api.get(f"{URL}{body['pk']}/").status_code == 404


def test_claim_on_another_members_activity_is_refused(member, other_activity):
    response = api_for(member.user).post(URL, claim_data(other_activity), format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"] == {"activity": ["Unknown Activity."]}
    assert not ExpenseClaim.objects.exists()


def test_claim_without_receipts_is_refused(member, activity):
    data = {"activity": activity.pk, "description": "Nothing"}
    response = api_for(member.user).post(URL, data, format="multipart")
    assert response.status_code == 400
    assert response.json() == {
        "type": "urn:coop:problem:business-rule",
        "title": "Bad request",
        "status": 400,
        "detail": "Add at least one receipt.",
        "code": "no_receipts",
        "field": "receipts",
    }
    assert not ExpenseClaim.objects.exists()


def test_text_file_named_pdf_is_refused_and_nothing_written(member, activity, tmp_path):
    data = claim_data(activity, second=b"just some text, not a receipt\n")
    response = api_for(member.user).post(URL, data, format="multipart")
    assert response.status_code == 400
    assert response.json() == {
        "type": "urn:coop:problem:business-rule",
        "title": "Bad request",
        "status": 400,
        "detail": "Receipt 2: upload a PDF, PNG or JPEG file.",
        "code": "file_type",
        "field": "receipts",
    }
    assert not ExpenseClaim.objects.exists()
    assert not ExpenseReceipt.objects.exists()
    assert list(tmp_path.iterdir()) == []


def test_members_cannot_decide_claims(member, activity):
    body = create_claim(member, activity)
    response = api_for(member.user).post(f"{URL}{body['pk']}/approve/")
    assert response.status_code == 403
    assert ExpenseClaim.objects.get().status == ExpenseClaim.Status.SUBMITTED


def test_staff_approves_a_claim_once(staff, member, activity):
    body = create_claim(member, activity)
    api = api_for(staff)
    response = api.post(f"{URL}{body['pk']}/approve/")
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    claim = ExpenseClaim.objects.get()
    assert (claim.status, claim.decided_by) == (ExpenseClaim.Status.APPROVED, staff)
    again = api.post(f"{URL}{body['pk']}/approve/")
    assert again.status_code == 400
    assert again.json() == {
        "type": "urn:coop:problem:business-rule",
        "title": "Bad request",
        "status": 400,
        "detail": "This claim was already decided.",
        "code": "invalid_transition",
    }


def test_staff_rejects_a_claim_with_a_reason(staff, member, activity):
    body = create_claim(member, activity)
    api = api_for(staff)
    assert api.post(f"{URL}{body['pk']}/reject/", {"reason": ""}).status_code == 400
    response = api.post(f"{URL}{body['pk']}/reject/", {"reason": "No receipt for the frames."})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["reason"]) == (
        "rejected",
        "No receipt for the frames.",
    )
