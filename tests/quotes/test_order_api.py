# ruff: noqa: F811 (the fixtures imported are arguments of the tests)
"""The orders API: a member's confirmed quotes with what is invoiced and left, and the invoices
drawn up from them, never beyond what was ordered."""

import pytest

from invoicing.models import Invoice
from invoicing.services.credit import request_credit_note
from invoicing.services.issue import approve_invoice, submit_invoice
from quotes import orders
from quotes.models import OrderInvoice
from tests.conftest import api_client_for
from tests.quotes.orders_helpers import NOW, TODAY, make_quote
from tests.quotes.test_orders import no_review, order_client  # noqa: F401 (fixtures)


@pytest.fixture
def order(activity, order_client, member, staff):
    quote = make_quote(
        activity=activity,
        client=order_client,
        user=member.user,
        deposit_percent="25",
        schedule=[{"label": "Deposit", "percent": "25", "due": "order"}],
    )
    return orders.confirm_order(staff_user=staff, quote=quote, now=NOW)


def test_orders_list_and_detail_with_what_is_left(member, order, activity, order_client):
    accepted = make_quote(activity=activity, client=order_client, user=member.user)
    api = api_client_for(member.user)
    response = api.post(f"/api/v1/orders/{order.pk}/invoices/", {"part": "deposit"}, format="json")
    assert response.status_code == 201
    link = OrderInvoice.objects.get(quote=order)
    assert response.json()["invoice"] == link.invoice_id
    assert (response.json()["part"], response.json()["amount_excl_vat"]) == ("deposit", "250.00")
    assert response.json()["number"] is None

    rows = api.get("/api/v1/orders/").json()["results"]
    assert [row["pk"] for row in rows] == [order.pk]  # the accepted quote is no order yet
    assert accepted.pk not in [row["pk"] for row in rows]
    detail = api.get(f"/api/v1/orders/{order.pk}/").json()
    assert {
        key: detail[key]
        for key in (
            "number",
            "ordered_excl_vat",
            "invoiced_excl_vat",
            "in_draft_excl_vat",
            "remaining_excl_vat",
            "guaranteed",
            "client_po_number",
        )
    } == {
        "number": order.number,
        "ordered_excl_vat": "1000.00",
        "invoiced_excl_vat": "0.00",
        "in_draft_excl_vat": "250.00",
        "remaining_excl_vat": "750.00",
        "guaranteed": "1000.00",
        "client_po_number": "PO-4471",
    }
    assert [(row["part"], row["invoice_status"]) for row in detail["invoices"]] == [
        ("deposit", "draft")
    ]


def test_invoicing_beyond_the_order_is_a_400_and_writes_nothing(member, order):
    api = api_client_for(member.user)
    assert (
        api.post(f"/api/v1/orders/{order.pk}/invoices/", {"part": "balance"}, format="json")
    ).status_code == 201
    before = Invoice.objects.count()
    response = api.post(
        f"/api/v1/orders/{order.pk}/invoices/",
        {"part": "instalment", "schedule_index": 0},
        format="json",
    )
    assert response.status_code == 400
    assert "more than remains" in str(response.json())
    assert Invoice.objects.count() == before
    assert OrderInvoice.objects.count() == 1
    assert (
        api.post(
            f"/api/v1/orders/{order.pk}/invoices/", {"part": "gift"}, format="json"
        ).status_code
        == 400
    )


def test_another_member_sees_no_order(other_member, order):
    api = api_client_for(other_member.user)
    assert api.get("/api/v1/orders/").json()["results"] == []
    assert api.get(f"/api/v1/orders/{order.pk}/").status_code == 404
    response = api.post(f"/api/v1/orders/{order.pk}/invoices/", {"part": "deposit"})
    assert response.status_code == 404
    assert not OrderInvoice.objects.exists()


def test_an_invoice_asked_twice_with_one_idempotency_key_is_drawn_up_once(member, order):
    api = api_client_for(member.user)
    url = f"/api/v1/orders/{order.pk}/invoices/"
    headers = {"HTTP_IDEMPOTENCY_KEY": "deposit-of-the-order-1"}
    first = api.post(url, {"part": "deposit"}, format="json", **headers)
    again = api.post(url, {"part": "deposit"}, format="json", **headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert OrderInvoice.objects.filter(quote=order).count() == 1
    # Another key is another request: the balance is drawn up beside the deposit.
    other = api.post(url, {"part": "balance"}, format="json", HTTP_IDEMPOTENCY_KEY="balance-1")
    assert other.status_code == 201
    assert OrderInvoice.objects.filter(quote=order).count() == 2


def test_an_order_tells_its_version_credits_and_steps(member, order, staff, no_review):
    api = api_client_for(member.user)
    response = api.post(f"/api/v1/orders/{order.pk}/invoices/", {"part": "deposit"}, format="json")
    assert (response.json()["schedule_step"], response.json()["credited_excl_vat"]) == (0, "0.00")
    # The deposit is the schedule's first step: asking for that step again is a 400.
    again = api.post(
        f"/api/v1/orders/{order.pk}/invoices/",
        {"part": "instalment", "schedule_index": 0},
        format="json",
    )
    assert again.status_code == 400
    assert OrderInvoice.objects.filter(quote=order).count() == 1
    link = OrderInvoice.objects.get(quote=order)
    issued = submit_invoice(user=member.user, invoice=link.invoice, today=TODAY, now=NOW)
    note = request_credit_note(user=member.user, invoice=issued, reason="Cancelled")
    approve_invoice(staff_user=staff, invoice=note, today=TODAY, now=NOW)
    detail = api.get(f"/api/v1/orders/{order.pk}/").json()
    assert {
        key: detail[key]
        for key in (
            "ordered_version",
            "invoiced_excl_vat",
            "credited_excl_vat",
            "remaining_excl_vat",
            "guaranteed",
        )
    } == {
        "ordered_version": 1,
        "invoiced_excl_vat": "0.00",
        "credited_excl_vat": "250.00",
        "remaining_excl_vat": "1000.00",
        "guaranteed": "1000.00",
    }
    assert [(row["invoice_status"], row["credited_excl_vat"]) for row in detail["invoices"]] == [
        ("credited", "250.00")
    ]
