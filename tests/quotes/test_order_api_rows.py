# ruff: noqa: F811 (the fixtures imported are arguments of the tests)
"""The orders API writes its first page from rows read by compiled queries
(quotes/order_api_rows.py): byte for byte what OrderSerializer writes of the same orders, for a
member with two Activities, for the owner of the shared one and for staff, with invoices drafted,
issued, credited and none."""

import pytest
from django.db.models import Prefetch
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIRequestFactory

from invoicing.services.credit import request_credit_note
from invoicing.services.issue import approve_invoice, submit_invoice
from quotes import orders
from quotes.models import OrderInvoice, Quote
from quotes.order_api import OrderSerializer
from tests.conftest import api_client_for
from tests.quotes.orders_helpers import NOW, TODAY, make_quote
from tests.quotes.test_orders import no_review, order_client  # noqa: F401 (fixtures)

SCHEDULE = [
    {"label": "Deposit", "percent": "25", "due": "order"},
    {"label": "Premiere", "percent": "75", "due": "delivery"},
]


@pytest.fixture
def orders_in_every_state(member, activity, order_client, other_member, staff, no_review):
    """Orders without invoices, with a draft deposit, with an issued and credited invoice, one
    with a schedule and dates; on the member's Activity and on one they share; and an accepted
    quote that is no order yet."""
    shared = other_member.activities.create(name="Shared stage")
    shared.co_members.add(member)

    def confirmed(on, **options):
        quote = make_quote(activity=on, client=order_client, user=member.user, **options)
        return orders.confirm_order(staff_user=staff, quote=quote, now=NOW)

    confirmed(activity)
    drafted = confirmed(activity, deposit_percent="30", work_start=TODAY, work_end=TODAY)
    orders.create_order_invoice(user=member.user, quote=drafted, part="deposit", today=TODAY)
    credited = confirmed(shared, deposit_percent="25", schedule=SCHEDULE)
    link = orders.create_order_invoice(
        user=member.user, quote=credited, part="deposit", today=TODAY
    )
    issued = submit_invoice(user=member.user, invoice=link.invoice, today=TODAY, now=NOW)
    note = request_credit_note(user=member.user, invoice=issued, reason="Cancelled")
    approve_invoice(staff_user=staff, invoice=note, today=TODAY, now=NOW)
    balance = confirmed(shared, lines=(("Lights", "3", "99.99", "21"), ("Van", "1", "0.01", "0")))
    orders.create_order_invoice(user=member.user, quote=balance, part="balance", today=TODAY)
    make_quote(activity=activity, client=order_client, user=member.user)
    return list(Quote.objects.filter(ordered_version__isnull=False).order_by("-created_at", "-pk"))


def _reference(quotes: list[Quote], url: str) -> bytes:
    rows = (
        Quote.objects.filter(pk__in=[quote.pk for quote in quotes])
        .select_related("ordered_version")
        .prefetch_related(
            Prefetch(
                "order_invoices",
                queryset=OrderInvoice.objects.select_related("invoice").order_by(
                    "created_at", "pk"
                ),
            )
        )
        .order_by("-created_at", "-pk")
    )
    request = APIRequestFactory().get(url)
    return JSONRenderer().render(
        OrderSerializer(rows, many=True, context={"request": request}).data
    )


def _first_page(api) -> dict:
    response = api.get("/api/v1/orders/")
    assert response.status_code == 200
    return response.json()


def test_the_first_page_writes_what_the_serializer_writes(member, orders_in_every_state):
    api = api_client_for(member.user)
    answer = _first_page(api)
    assert len(answer["results"]) == len(orders_in_every_state) == 4
    assert (answer["next"], answer["previous"]) == (None, None)
    rendered = JSONRenderer().render(answer["results"])
    assert rendered == _reference(orders_in_every_state, "/api/v1/orders/")
    # The same page through the serializer (any query parameter takes the ORM's way).
    assert api.get("/api/v1/orders/?cursor=").json() == answer
    # What the fixture made is there to compare: invoices drafted, issued and credited.
    invoices = [row for order in answer["results"] for row in order["invoices"]]
    assert {(row["part"], row["invoice_status"]) for row in invoices} == {
        ("deposit", "draft"),
        ("deposit", "credited"),
        ("balance", "draft"),
    }
    assert all(row["invoice_url"].endswith(f"/invoices/{row['invoice']}/") for row in invoices)
    assert {order["credited_excl_vat"] for order in answer["results"]} == {"0.00", "250.00"}


def test_a_short_first_page_links_the_next_as_the_serializer_does(
    settings, member, orders_in_every_state
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "PAGE_SIZE": 3}
    api = api_client_for(member.user)
    answer = _first_page(api)
    assert [order["pk"] for order in answer["results"]] == [
        order.pk for order in orders_in_every_state[:3]
    ]
    assert answer == api.get("/api/v1/orders/?cursor=").json()
    following = api.get(answer["next"]).json()
    assert [order["pk"] for order in following["results"]] == [orders_in_every_state[3].pk]


def test_staff_and_the_shared_activity_owner_read_as_the_serializer_writes(
    staff, other_member, orders_in_every_state
):
    staff_answer = _first_page(api_client_for(staff))
    assert JSONRenderer().render(staff_answer["results"]) == _reference(
        orders_in_every_state, "/api/v1/orders/"
    )
    shared = [order for order in orders_in_every_state if order.activity.name == "Shared stage"]
    answer = _first_page(api_client_for(other_member.user))
    assert len(answer["results"]) == len(shared) == 2
    assert JSONRenderer().render(answer["results"]) == _reference(shared, "/api/v1/orders/")
