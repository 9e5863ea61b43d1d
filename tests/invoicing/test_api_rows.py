"""The invoice API writes its answers from plain rows (invoicing/api_rows.py): byte for byte what
InvoiceSerializer writes of the same invoices, for every kind of invoice, in each language."""

from decimal import Decimal

import pytest
from django.utils import translation
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIRequestFactory

from invoicing.api import InvoiceSerializer
from invoicing.models import Invoice, InvoiceDocument
from invoicing.services.credit import CreditLineInput, request_credit_note
from invoicing.services.drafts import AllowanceChargeInput
from invoicing.services.issue import approve_invoice, reject_invoice, submit_invoice
from invoicing.services.payments import record_payment
from invoicing.services.refunds import request_refund
from tests.conftest import NOW, api_client_for
from tests.invoicing.conftest import TODAY, bank_line_matched_by_hand, line, make_draft

CLIENT_IBAN = "BE68068897250734"


def _issue(member, activity, client, lines, **extra):
    return submit_invoice(
        user=member.user,
        invoice=make_draft(member, activity, client, lines, **extra),
        today=TODAY,
        now=NOW,
    )


@pytest.fixture
def every_kind(
    settings, member, activity, staff, belgian_client, french_client, swiss_client, private_client
):
    """Drafts, invoices waiting, sent back, issued, paid, over-paid, credited and refunded."""
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    settings.COOP_INVOICE_REVIEW_THRESHOLD = Decimal("1000000")
    # Drafts: discounts by percentage and by amount, a charge, a period, notes; Belgian VAT on
    # a service to a French and to a Swiss business (each its own warning), goods exported.
    make_draft(
        member,
        activity,
        french_client,
        [
            line("Consulting", quantity="2.5", vat_rate=Decimal("21")),
            line(
                "Workshop",
                quantity="1",
                price="333.33",
                vat_rate=Decimal("6"),
                allowance_percent=Decimal("12.5"),
                allowance_reason="Early booking",
            ),
            line(
                "Sets",
                quantity="7",
                price="0.07",
                unit="piece",
                vat_rate=Decimal("21"),
                allowance_amount=Decimal("0.10"),
                allowance_reason="Rounded",
            ),
        ],
        allowance_charges=[
            AllowanceChargeInput(
                is_charge=False,
                reason="Loyalty",
                vat_category="S",
                vat_rate=Decimal("21"),
                percent=Decimal("10"),
                amount=None,
            ),
            AllowanceChargeInput(
                is_charge=True,
                reason="Transport",
                vat_category="S",
                vat_rate=Decimal("6"),
                percent=None,
                amount=Decimal("25.00"),
            ),
        ],
        period_start=TODAY.replace(day=1),
        period_end=TODAY,
        notes="Thank you & <see you> soon",
    )
    make_draft(member, activity, swiss_client, [line("Coaching", vat_rate=Decimal("21"))])
    make_draft(
        member,
        activity,
        swiss_client,
        [line("Sculpture", vat_category="G", vat_rate=Decimal("0"), supply_kind="goods")],
        supply_date=TODAY,
    )
    make_draft(member, activity, private_client, [line("Portrait")])
    # Waiting for review (reasons as codes, said in each language), then one sent back.
    settings.COOP_INVOICE_REVIEW_THRESHOLD = Decimal("10")
    _issue(member, activity, belgian_client, [line("Big job", price="999.99")])
    sent_back = _issue(member, activity, belgian_client, [line("Another big job")])
    reject_invoice(staff_user=staff, invoice=sent_back, reason="Wrong client, <b>check</b>")
    settings.COOP_INVOICE_REVIEW_THRESHOLD = Decimal("1000000")
    # Issued: unpaid (its documents pending, one ready), partly paid, paid then credited and
    # refunded, over-paid and refunded, credited while a credit note waits.
    unpaid = _issue(member, activity, belgian_client, [line("Rehearsal", vat_rate=Decimal("12"))])
    InvoiceDocument.objects.filter(invoice=unpaid, format="pdf").update(status="ready")
    partly = _issue(member, activity, belgian_client, [line("Lights")])
    record_payment(invoice=partly, amount=Decimal("10.01"), received_on=TODAY, actor=staff)
    paid = _issue(
        member,
        activity,
        belgian_client,
        [
            line("Rehearsal room", quantity="1", unit="piece", price="150.00", vat_rate=6),
            line("Lighting design", quantity="10", price="100.00", vat_rate=21),
        ],
    )
    record_payment(invoice=paid, amount=Decimal("1369.00"), received_on=TODAY, actor=staff)
    credit_note = request_credit_note(
        user=member.user,
        invoice=paid,
        reason="Room not used",
        lines=[CreditLineInput(position=1, amount=Decimal("150.00"))],
    )
    credit_note = approve_invoice(staff_user=staff, invoice=credit_note, today=TODAY, now=NOW)
    request_refund(
        staff_user=staff,
        credit_note=credit_note,
        amount=Decimal("9.00"),
        client_iban=CLIENT_IBAN,
        method="manual",
        now=NOW,
    )
    request_credit_note(user=member.user, invoice=paid, reason="Lights not used")
    over_paid = _issue(
        member, activity, belgian_client, [line("Room", quantity="1", price="150.00", vat_rate=6)]
    )
    bank_line_matched_by_hand(over_paid, staff, "200.00")
    request_refund(
        staff_user=staff,
        invoice=over_paid,
        amount=Decimal("41.00"),
        client_iban=CLIENT_IBAN,
        method="sepa_transfer",
        now=NOW,
    )
    return Invoice.objects.filter(activity=activity)


def _as_the_serializer_writes(pks: list[int], request) -> list:
    invoices = Invoice.objects.with_amounts().with_refundable().select_related("client")
    by_pk = {invoice.pk: invoice for invoice in invoices.filter(pk__in=pks)}
    return InvoiceSerializer(
        [by_pk[pk] for pk in pks], many=True, context={"request": request, "format": None}
    ).data


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_list_and_each_invoice_read_as_the_serializer_writes_them(every_kind, member, language):
    api = api_client_for(member.user)
    api.cookies["coop_language"] = language
    response = api.get("/api/v1/invoices/")
    assert response.status_code == 200
    rows = response.json()["results"]
    pks = [row["pk"] for row in rows]
    assert len(pks) == every_kind.count() == 12
    with translation.override(language):
        expected = _as_the_serializer_writes(pks, response.wsgi_request)
        page = {"next": None, "previous": None, "results": expected}
        assert response.content == JSONRenderer().render(page)
        for pk, invoice in zip(pks, expected, strict=True):
            detail = api.get(f"/api/v1/invoices/{pk}/")
            assert detail.content == JSONRenderer().render(invoice)
    # What the comparison covers.
    kinds = {(row["kind"], row["status"]) for row in rows}
    assert kinds == {
        ("invoice", "draft"),
        ("invoice", "pending_review"),
        ("invoice", "rejected"),
        ("invoice", "issued"),
        ("invoice", "partially_paid"),
        ("invoice", "paid"),
        ("credit_note", "issued"),
        ("credit_note", "pending_review"),
    }
    assert sum(len(row["warnings"]) for row in rows) == 2
    assert {refund["amount"] for row in rows for refund in row["refunds"]} == {"9.00", "41.00"}
    assert any(row["amount_to_refund"] not in (None, "0.00") for row in rows)
    assert any(row["amount_refundable"] not in (None, "0.00") for row in rows)
    assert any(row["review_reason"] for row in rows if row["status"] == "pending_review")
    assert {"pdf": "ready", "ubl": "pending"} in [row["documents"] for row in rows]


def test_a_filtered_page_and_a_format_read_as_the_serializer_writes_them(every_kind, member):
    api = api_client_for(member.user)
    for query in ("?status=draft", "?kind=credit_note", "?format=json", "?issued_from=2000-01-01"):
        response = api.get(f"/api/v1/invoices/{query}")
        pks = [row["pk"] for row in response.json()["results"]]
        assert pks, query
        expected = _as_the_serializer_writes(pks, response.wsgi_request)
        assert response.json()["results"] == expected, query
    formatted = api.get("/api/v1/invoices/?format=json").json()["results"][0]["url"]
    assert formatted.endswith("/?format=json")


def test_a_draft_written_through_the_api_answers_as_the_serializer_writes_it(
    member, activity, belgian_client
):
    api = api_client_for(member.user)
    payload = {
        "activity": activity.pk,
        "client": belgian_client.pk,
        "buyer_reference": "PO-1",
        "lines": [
            {"description": "Design", "quantity": "3", "unit": "hour", "unit_price": "19.99"}
        ],
    }
    response = api.post("/api/v1/invoices/", payload, format="json")
    assert response.status_code == 201
    request = APIRequestFactory().get("/api/v1/invoices/")
    request.META["HTTP_HOST"] = "testserver"
    assert response.json() == _as_the_serializer_writes([response.json()["pk"]], request)[0]
