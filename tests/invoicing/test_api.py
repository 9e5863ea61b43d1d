"""The invoicing API: clients, drafts, submission, documents, credit notes, payments."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from invoicing.models import Client, Invoice, Payment
from invoicing.services.documents import render_document
from invoicing.services.issue import submit_invoice
from members.models import Activity
from tests.conftest import NOW, make_api_token
from tests.invoicing.conftest import TODAY, make_draft


def api_for(user) -> APIClient:
    client = APIClient()
    client.cookies["coop_language"] = "en"
    client.credentials(HTTP_AUTHORIZATION=f"Token {make_api_token(user)}")
    return client


CLIENT = {
    "kind": "company",
    "name": "Théâtre des Galeries SA",
    "street": "Galerie du Roi 32",
    "postal_code": "1000",
    "city": "Bruxelles",
    "country": "BE",
    "email": "compta@galeries.example",
    "language": "fr",
    "vat_number": "BE 1000.000.021",
}


def draft_payload(activity, buyer, **changes):
    return {
        "activity": activity.pk,
        "client": buyer.pk,
        "buyer_reference": "PO-77",
        "lines": [
            {
                "description": "Lighting design",
                "quantity": "3",
                "unit": "hour",
                "unit_price": "19.99",
                "vat_category": "S",
                "vat_rate": "21",
            }
        ],
        **changes,
    }


def test_client_is_created_then_found_again_by_vat_number(member, other_member):
    response = api_for(member.user).post("/api/v1/clients/", CLIENT, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["vat_number"], body["enterprise_number"], body["peppol_id"]) == (
        "BE1000000021",
        "1000000021",
        "0208:1000000021",
    )
    again = api_for(member.user).post(
        "/api/v1/clients/", {**CLIENT, "name": "Other name"}, format="json"
    )
    assert again.status_code == 200
    assert again.json()["pk"] == body["pk"]
    assert again.json()["name"] == "Théâtre des Galeries SA"
    # Another member's post of the same VAT number makes their own record.
    theirs = api_for(other_member.user).post(
        "/api/v1/clients/", {**CLIENT, "name": "Other name"}, format="json"
    )
    assert theirs.status_code == 201
    assert theirs.json()["pk"] != body["pk"] and theirs.json()["name"] == "Other name"
    assert Client.objects.count() == 2


def test_invalid_vat_number_is_a_400_with_a_message(member):
    response = api_for(member.user).post(
        "/api/v1/clients/", {**CLIENT, "vat_number": "BE0431150351"}, format="json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "urn:coop:problem:business-rule",
        "title": "Bad request",
        "status": 400,
        "detail": "This VAT number is not valid: check the country prefix and the digits.",
        "code": "vat_number",
        "field": "vat_number",
    }
    assert Client.objects.count() == 0


def test_client_search_survives_odd_input(member, belgian_client):
    api = api_for(member.user)
    assert api.get("/api/v1/clients/", {"search": "Gal\x00"}).json()["count"] == 1
    assert api.get("/api/v1/clients/", {"search": "1000.000.021"}).json()["count"] == 1


def test_clients_are_scoped(member, other_member, belgian_client):
    assert api_for(other_member.user).get("/api/v1/clients/").json()["count"] == 0
    assert (
        api_for(other_member.user).get(f"/api/v1/clients/{belgian_client.pk}/").status_code == 404
    )
    assert api_for(member.user).get("/api/v1/clients/").json()["count"] == 1


def test_draft_create_update_submit(member, activity, belgian_client, no_review):
    api = api_for(member.user)
    response = api.post("/api/v1/invoices/", draft_payload(activity, belgian_client), format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["number"], body["total_vat"], body["total_incl_vat"]) == (
        "draft",
        None,
        "12.59",
        "72.56",
    )
    url = f"/api/v1/invoices/{body['pk']}/"
    updated = api.put(url, draft_payload(activity, belgian_client, notes="Thanks"), format="json")
    assert updated.status_code == 200 and updated.json()["notes"] == "Thanks"

    submitted = api.post(f"{url}submit/")
    assert submitted.status_code == 200
    assert (submitted.json()["status"], submitted.json()["number"]) == ("issued", "2026-000001")
    again = api.post(f"{url}submit/")
    assert again.status_code == 400
    assert again.json()["code"] == "already_submitted"
    assert api.put(url, draft_payload(activity, belgian_client), format="json").status_code == 400
    assert api.delete(url).status_code == 400
    assert Invoice.objects.get().number is not None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"lines": []}, "empty"),
        (
            {"lines": [{"description": "x", "quantity": "0", "unit": "hour", "unit_price": "1"}]},
            "quantity",
        ),
    ],
)
def test_bad_drafts_are_400_and_nothing_is_written(
    member, activity, belgian_client, change, expected
):
    response = api_for(member.user).post(
        "/api/v1/invoices/", draft_payload(activity, belgian_client, **change), format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == expected
    assert Invoice.objects.count() == 0


def test_three_decimals_are_refused_by_the_serializer(member, activity, belgian_client):
    payload = draft_payload(activity, belgian_client)
    payload["lines"][0]["unit_price"] = "19.999"
    response = api_for(member.user).post("/api/v1/invoices/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "lines.0.unit_price": ["Ensure that there are no more than 2 decimal places."]
    }
    assert Invoice.objects.count() == 0


def test_unknown_client_or_activity_is_a_400(member, activity, other_activity, belgian_client):
    api = api_for(member.user)
    payload = draft_payload(activity, belgian_client, client=999999)
    assert api.post("/api/v1/invoices/", payload, format="json").json() == {
        "type": "urn:coop:problem:validation",
        "title": "Bad request",
        "status": 400,
        "detail": "Unknown client.",
        "code": "invalid",
        "errors": {"client": ["Unknown client."]},
    }
    payload = draft_payload(other_activity, belgian_client)
    assert api.post("/api/v1/invoices/", payload, format="json").json()["errors"] == {
        "activity": ["Unknown Activity."]
    }


def test_invoices_are_scoped_and_filtered(
    member, other_member, activity, belgian_client, no_review
):
    issued = submit_invoice(
        user=member.user,
        invoice=make_draft(member, activity, belgian_client),
        today=TODAY,
        now=NOW,
    )
    draft = make_draft(member, activity, belgian_client)
    api = api_for(member.user)
    listed = api.get("/api/v1/invoices/").json()
    # Drafts first, then the newest issued; one page, no count.
    assert [row["pk"] for row in listed["results"]] == [draft.pk, issued.pk]
    assert (listed["next"], listed["previous"], "count" in listed) == (None, None, False)
    issued_only = api.get("/api/v1/invoices/", {"status": "issued"}).json()
    assert [row["number"] for row in issued_only["results"]] == ["2026-000001"]
    assert api.get("/api/v1/invoices/", {"issued_from": "2026-03-03"}).json()["results"] == []
    assert api.get("/api/v1/invoices/", {"status": "nonsense"}).status_code == 400
    other = api_for(other_member.user)
    assert other.get("/api/v1/invoices/").json()["results"] == []
    assert other.get(f"/api/v1/invoices/{issued.pk}/").status_code == 404
    assert other.get(f"/api/v1/invoices/{issued.pk}/pdf/").status_code == 404


def test_documents_download_once_ready(member, draft, no_review, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    api = api_for(member.user)
    pending = api.get(f"/api/v1/invoices/{invoice.pk}/pdf/")
    assert pending.status_code == 404
    assert pending.json()["detail"] == "This document is being prepared: try again in a moment."
    for document in invoice.documents.all():
        render_document(document=document)
    pdf = api.get(f"/api/v1/invoices/{invoice.pk}/pdf/")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")
    ubl = api.get(f"/api/v1/invoices/{invoice.pk}/ubl/")
    assert b"<Invoice" in b"".join(ubl.streaming_content)
    assert 'filename="2026-000001.xml"' in ubl["Content-Disposition"]


def test_credit_note_request_and_staff_payments(member, staff, draft, no_review):
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    api = api_for(member.user)
    response = api.post(
        f"/api/v1/invoices/{invoice.pk}/credit-notes/", {"reason": "Cancelled"}, format="json"
    )
    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["status"]) == ("credit_note", "pending_review")

    payment = {"amount": "72.56", "received_on": "2026-03-02"}
    refused = api.post(f"/api/v1/invoices/{invoice.pk}/payments/", payment, format="json")
    assert refused.status_code == 403
    assert Payment.objects.count() == 0
    accepted = api_for(staff).post(
        f"/api/v1/invoices/{invoice.pk}/payments/", payment, format="json"
    )
    assert accepted.status_code == 201
    assert [row["amount"] for row in accepted.json()] == ["72.56"]
    assert api.get(f"/api/v1/invoices/{invoice.pk}/").json()["status"] == "paid"


def test_an_invoices_payments_are_listed_in_the_same_few_queries_however_many(
    member, staff, draft, no_review
):
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)  # 72.56
    api, url = api_for(member.user), f"/api/v1/invoices/{invoice.pk}/payments/"

    def listed():
        with CaptureQueriesContext(connection) as queries:
            response = api.get(url)
        assert response.status_code == 200
        return [row["amount"] for row in response.json()], len(queries)

    Payment.objects.create(
        invoice=invoice, amount=Decimal("1.00"), received_on=TODAY, recorded_by=staff
    )
    listed()  # the first request of a token also records its use
    amounts, one = listed()
    assert amounts == ["1.00"]
    for day in range(1, 11):
        Payment.objects.create(
            invoice=invoice,
            amount=Decimal("2.00"),
            received_on=TODAY + datetime.timedelta(day),
            recorded_by=staff,
        )
    amounts, eleven = listed()
    assert amounts == ["1.00"] + ["2.00"] * 10
    assert eleven == one <= 12


def test_a_payment_beyond_what_is_due_is_a_400_and_the_invoice_still_reads(
    member, staff, draft, no_review
):
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)  # 72.56
    payments = f"/api/v1/invoices/{invoice.pk}/payments/"
    refused = api_for(staff).post(
        payments, {"amount": "9999999999.99", "received_on": "2026-03-02"}, format="json"
    )
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json() == {
        "type": "urn:coop:problem:business-rule",
        "title": "Bad request",
        "status": 400,
        "detail": f"Only 72.56\u00a0€ is still due on invoice {invoice.number}: a payment recorded "
        "by hand cannot be more (9,999,999,999.99\u00a0€).",
        "code": "over_payment",
        "field": "amount",
    }
    assert Payment.objects.count() == 0
    api = api_for(member.user)
    detail = api.get(f"/api/v1/invoices/{invoice.pk}/")
    assert (detail.status_code, detail.json()["amount_due"]) == (200, "72.56")
    assert api.get("/api/v1/invoices/").status_code == 200


def test_amounts_the_database_holds_always_render(member, staff, draft, no_review):
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)  # 72.56
    # Money that did arrive, however absurd: two bank payments of the largest storable amount.
    for _ in range(2):
        Payment.objects.create(
            invoice=invoice,
            amount=Decimal("9999999999.99"),
            received_on=TODAY,
            method=Payment.Method.BANK_STATEMENT,
            recorded_by=staff,
        )
    api = api_for(member.user)
    detail = api.get(f"/api/v1/invoices/{invoice.pk}/")
    assert detail.status_code == 200
    body = detail.json()
    assert (body["amount_paid"], body["amount_due"], body["amount_to_refund"]) == (
        "19999999999.98",
        "0.00",
        "19999999927.42",
    )
    listed = api.get("/api/v1/invoices/")
    assert listed.status_code == 200
    assert [row["amount_paid"] for row in listed.json()["results"]] == ["19999999999.98"]


def test_an_empty_list_of_lines_to_credit_is_refused(member, draft, no_review):
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)

    response = api_for(member.user).post(
        f"/api/v1/invoices/{invoice.pk}/credit-notes/",
        {"reason": "Cancelled", "lines": []},
        format="json",
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["field"], body["detail"]) == (
        "empty",
        "lines",
        "Say which lines of the invoice to credit.",
    )
    assert not Invoice.objects.filter(kind="credit_note").exists()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, "Give a percentage or an amount: one of them is needed."),
        ({"percent": "5", "amount": "5"}, "Give a percentage or an amount, not both."),
    ],
)
def test_an_invoice_discount_needs_a_percentage_or_an_amount(
    member, activity, belgian_client, given, message
):
    payload = draft_payload(
        activity, belgian_client, allowance_charges=[{"reason": "Season discount", **given}]
    )

    response = api_for(member.user).post("/api/v1/invoices/", payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"allowance_charges.0.amount": [message]}
    assert not Invoice.objects.exists()


def test_invoices_come_a_page_at_a_time_across_activities(
    member, activity, belgian_client, no_review, settings
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "PAGE_SIZE": 3}
    second_activity = Activity.objects.create(owner=member, name="Concerts")
    drafts = [
        make_draft(member, activity if index % 2 else second_activity, belgian_client)
        for index in range(7)
    ]
    api = api_for(member.user)
    pages = [api.get("/api/v1/invoices/").json()]
    while pages[-1]["next"]:
        pages.append(api.get(pages[-1]["next"]).json())
    listed = [[row["pk"] for row in page["results"]] for page in pages]
    newest_first = sorted((draft.pk for draft in drafts), reverse=True)
    assert listed == [newest_first[0:3], newest_first[3:6], newest_first[6:7]]
    assert pages[0]["previous"] is None
    back = api.get(pages[2]["previous"]).json()
    assert [row["pk"] for row in back["results"]] == newest_first[3:6]
    response = api.get("/api/v1/invoices/", {"cursor": "not-a-cursor"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_invoice_pages_walk_from_drafts_to_the_oldest_issued_and_back(
    member, activity, belgian_client, no_review, settings
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "PAGE_SIZE": 1}
    issued = [
        submit_invoice(
            user=member.user,
            invoice=make_draft(member, activity, belgian_client),
            today=TODAY + datetime.timedelta(days=offset),
            now=NOW + datetime.timedelta(days=offset),
        )
        for offset in (0, 1, 1)
    ]
    drafts = [make_draft(member, activity, belgian_client) for _index in range(2)]
    expected = [drafts[1].pk, drafts[0].pk, issued[2].pk, issued[1].pk, issued[0].pk]
    api = api_for(member.user)
    pages = [api.get("/api/v1/invoices/").json()]
    while pages[-1]["next"]:
        pages.append(api.get(pages[-1]["next"]).json())
    assert [row["pk"] for page in pages for row in page["results"]] == expected
    backwards = [pages[-1]]
    while backwards[-1]["previous"]:
        backwards.append(api.get(backwards[-1]["previous"]).json())
    assert [row["pk"] for page in backwards for row in page["results"]] == expected[::-1]
