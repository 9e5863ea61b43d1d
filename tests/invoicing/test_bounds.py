"""Dates and texts of invoices have bounds, refused with a message; nothing is cut short."""

import datetime

import pytest
from django.utils import formats, timezone

from coop import bounds
from invoicing.errors import InvoicingError
from invoicing.models import Invoice
from invoicing.services.drafts import save_draft
from tests.invoicing.conftest import TODAY, line
from tests.invoicing.test_api import api_for, draft_payload
from tests.invoicing.test_browser import draft_data, row


def short(date: datetime.date) -> str:
    return formats.date_format(date, "SHORT_DATE_FORMAT")


def today() -> datetime.date:
    return timezone.localdate()


def year_ahead() -> str:
    return short(today() + datetime.timedelta(days=366))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "due_date",
            "9999-12-31",
            lambda: (
                f"The due date must be on or before {year_ahead()}, a year after the invoice date."
            ),
        ),
        (
            "due_date",
            "2001-01-01",
            lambda: f"The due date cannot be before the invoice date ({short(today())}).",
        ),
        (
            "supply_date",
            "0001-01-01",
            lambda: f"The date of supply cannot be before {short(datetime.date(2000, 1, 1))}.",
        ),
        (
            "supply_date",
            "9999-12-31",
            lambda: f"The date of supply cannot be after {year_ahead()}.",
        ),
        ("notes", "n" * 100_000, lambda: "Ensure this field has no more than 1000 characters."),
        (
            "buyer_reference",
            "r" * 101,
            lambda: "Ensure this field has no more than 100 characters.",
        ),
    ],
)
def test_api_refuses_out_of_bounds_drafts(member, activity, belgian_client, field, value, message):
    response = api_for(member.user).post(
        "/api/v1/invoices/",
        draft_payload(activity, belgian_client, **{field: value}),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message()]}
    assert not Invoice.objects.exists()


def test_api_accepts_the_longest_notes_in_full(member, activity, belgian_client):
    notes = "n" * bounds.NOTES_MAX_LENGTH
    response = api_for(member.user).post(
        "/api/v1/invoices/", draft_payload(activity, belgian_client, notes=notes), format="json"
    )
    assert response.status_code == 201
    assert Invoice.objects.get().notes == notes


def test_api_refuses_a_payment_dated_in_the_future(staff, member, activity, draft):
    response = api_for(staff).post(
        f"/api/v1/invoices/{draft.pk}/payments/",
        {"amount": "10.00", "received_on": "9999-12-31"},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["received_on"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"due_date": "9999-12-31"}, "due_date"),
        ({"supply_date": "1999-12-31"}, "supply_date"),
        ({"notes": "n" * 1001}, "notes"),
    ],
)
def test_the_draft_form_shows_the_bound_and_saves_nothing(
    client, member, activity, belgian_client, changes, field
):
    client.force_login(member.user)
    response = client.post(
        "/invoices/new/", draft_data(activity, belgian_client, [row()], **changes)
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert not Invoice.objects.exists()


def test_the_service_refuses_long_texts_rather_than_cutting_them(member, activity, belgian_client):
    cases = [
        ({"notes": "n" * 1001}, "notes"),
        ({"buyer_reference": "r" * 101}, "buyer_reference"),
        ({"lines": [line(description="d" * 301)]}, "lines"),
        ({"due_date": datetime.date(9999, 12, 31)}, "due_date"),
        ({"supply_date": datetime.date(1, 1, 1)}, "supply_date"),
    ]
    for changes, field in cases:
        arguments = {
            "user": member.user,
            "activity": activity,
            "client": belgian_client,
            "lines": [line()],
            "today": TODAY,
            **changes,
        }
        with pytest.raises(InvoicingError) as refused:
            save_draft(**arguments)
        assert refused.value.field == field
    assert not Invoice.objects.exists()
