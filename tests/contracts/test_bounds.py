"""Work days and receipt dates have bounds, refused with a message; nothing is written."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from contracts.models import Contract, ExpenseClaim
from tests.contracts.test_expenses_api import PNG, URL, api_for


def contract_body(activity, member, day: str, **changes) -> dict:
    return {
        "activity": activity.pk,
        "title": "Concert",
        "place": "Bozar",
        "kind": "artistic",
        "amount_to_invoice": "1500.00",
        "workers": [{"member": member.pk, "daily_wage": "300.00", "days": [{"date": day}]}],
        **changes,
    }


def test_api_refuses_a_work_day_in_year_9999(member, activity):
    response = api_for(member.user).post(
        "/api/v1/contracts/", contract_body(activity, member, "9999-12-31"), format="json"
    )
    assert response.status_code == 400
    [message] = response.json()["errors"]["workers.0.days.0.date"]
    assert message.startswith("A work day cannot be after ")
    assert not Contract.objects.exists()


def test_api_refuses_a_description_longer_than_the_bound(member, activity):
    tomorrow = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()
    body = contract_body(activity, member, tomorrow, description="d" * 2001)
    response = api_for(member.user).post("/api/v1/contracts/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "description": ["Ensure this field has no more than 2000 characters."]
    }
    assert not Contract.objects.exists()


def receipt_claim(activity, spent_on: datetime.date) -> dict:
    return {
        "activity": activity.pk,
        "description": "Paper",
        "receipts[0]file": SimpleUploadedFile("paper.png", PNG),
        "receipts[0]description": "Paper",
        "receipts[0]spent_on": spent_on.isoformat(),
        "receipts[0]amount": "12.10",
        "receipts[0]vat": "2.10",
    }


def test_api_refuses_receipts_from_the_future_or_older_than_two_years(member, activity):
    today = timezone.localdate()
    for spent_on, start in [
        (today + datetime.timedelta(days=1), "A receipt cannot be dated in the future"),
        (today - datetime.timedelta(days=2 * 366 + 1), "Receipts older than two years"),
    ]:
        response = api_for(member.user).post(
            URL, receipt_claim(activity, spent_on), format="multipart"
        )
        assert response.status_code == 400
        [message] = response.json()["errors"]["receipts.0.spent_on"]
        assert message.startswith(start), message
    assert not ExpenseClaim.objects.exists()
    response = api_for(member.user).post(URL, receipt_claim(activity, today), format="multipart")
    assert response.status_code == 201


def test_the_claim_form_shows_the_receipt_date_bound(client, member, activity):
    client.force_login(member.user)
    future = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post(
        reverse("contracts:expenses"),
        {
            "activity": activity.pk,
            "description": "Paper",
            "receipts-TOTAL_FORMS": "1",
            "receipts-INITIAL_FORMS": "0",
            "receipts-0-receipt": SimpleUploadedFile("paper.png", PNG),
            "receipts-0-receipt_description": "Paper",
            "receipts-0-category": "other",
            "receipts-0-spent_on": future.isoformat(),
            "receipts-0-amount": "12.10",
            "receipts-0-vat": "2.10",
        },
    )
    assert response.status_code == 200
    assert "A receipt cannot be dated in the future" in response.content.decode()
    assert not ExpenseClaim.objects.exists()
