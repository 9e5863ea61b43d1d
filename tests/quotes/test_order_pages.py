# ruff: noqa: F811 (the fixtures imported are arguments of the tests)
"""The member's order page, the contract drawn up from an order, the guaranteed budget on the
Activity's page and on the guarantee fund's."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from contracts.models import Contract
from contracts.services.contracts import create_contract_from_order
from invoicing import guarantee_fund
from invoicing.models import Invoice
from invoicing.services.issue import submit_invoice
from quotes import orders, pages, selectors
from quotes.models import OrderInvoice, Quote
from tests.quotes.orders_helpers import NOW, TODAY, make_quote
from tests.quotes.test_orders import no_review, order_client, staff_client  # noqa: F401 (fixtures)

D = Decimal


@pytest.fixture
def order(activity, order_client, member, staff):
    quote = make_quote(
        activity=activity,
        client=order_client,
        user=member.user,
        deposit_percent="30",
        work_start=TODAY + datetime.timedelta(days=14),
        work_end=TODAY + datetime.timedelta(days=20),
    )
    return orders.confirm_order(staff_user=staff, quote=quote, now=NOW)


def test_the_order_page_shows_ordered_invoiced_and_left(client, member, order, no_review):
    client.force_login(member.user)
    url = reverse("orders:order_detail", args=[order.pk])
    response = client.post(reverse("orders:order_invoice", args=[order.pk]), {"part": "deposit"})
    deposit = OrderInvoice.objects.get(quote=order)
    assert response["Location"] == reverse("invoicing:invoice_detail", args=[deposit.invoice_id])
    submit_invoice(user=member.user, invoice=deposit.invoice, today=TODAY, now=NOW)
    page = client.get(url).content.decode()
    assert "<dt>Ordered (excl. VAT)</dt><dd>1,000.00\xa0€</dd>" in page
    assert "<dt>Invoiced, net of credit notes</dt><dd>300.00\xa0€</dd>" in page
    assert "<dt>Left to invoice</dt><dd>700.00\xa0€</dd>" in page
    assert "<dt>Still guaranteed</dt><dd>700.00\xa0€</dd>" in page
    assert Invoice.objects.get(pk=deposit.invoice_id).number in page
    assert "Invoice the deposit" not in page  # drawn up already
    # The Activity's page shows what is still guaranteed beside Planned and Available.
    activity_page = client.get(
        reverse("members:activity_detail", args=[order.activity_id])
    ).content.decode()
    assert '<dt>Guaranteed</dt><dd class="positive">700.00\xa0€</dd>' in activity_page
    assert '<dt>Planned</dt><dd class="positive">300.00\xa0€</dd>' in activity_page


def test_another_members_order_is_not_found(client, other_member, order):
    client.force_login(other_member.user)
    assert client.get(reverse("orders:order_detail", args=[order.pk])).status_code == 404
    response = client.post(reverse("orders:order_invoice", args=[order.pk]), {"part": "balance"})
    assert response.status_code == 404
    assert not OrderInvoice.objects.exists()


def test_a_quote_not_confirmed_has_no_order_page(client, member, activity, order_client):
    quote = make_quote(activity=activity, client=order_client, user=member.user)
    client.force_login(member.user)
    assert client.get(reverse("orders:order_detail", args=[quote.pk])).status_code == 404


def test_invoicing_beyond_the_order_from_the_page_says_why(client, member, order):
    client.force_login(member.user)
    client.post(reverse("orders:order_invoice", args=[order.pk]), {"part": "balance"})
    response = client.post(
        reverse("orders:order_invoice", args=[order.pk]), {"part": "balance"}, follow=True
    )
    assert "Nothing remains to invoice on this order." in response.content.decode()
    assert OrderInvoice.objects.count() == 1


def test_a_contract_from_the_order_is_prefilled_and_linked(client, member, order):
    client.force_login(member.user)
    url = reverse("orders:order_contract", args=[order.pk])
    form = client.get(url).content.decode()
    ticked = re.findall(r'name="days" value="([0-9-]+)" checked', form)
    response = client.post(url, {"days": ticked})
    contract = Contract.objects.get(order=order)
    assert response["Location"] == reverse("contracts:edit", args=[contract.pk])
    version = order.ordered_version
    assert (contract.activity_id, contract.client_id, contract.title, contract.status) == (
        order.activity_id,
        order.client_id,
        "Scénographie du festival",
        "draft",
    )
    assert contract.amount_to_invoice == D("1000.00")
    worker = contract.workers.get()
    days = sorted(day.date for day in worker.days.all())
    weekdays = [
        version.work_start + datetime.timedelta(days=offset)
        for offset in range((version.work_end - version.work_start).days + 1)
        if (version.work_start + datetime.timedelta(days=offset)).weekday() < 5
    ]
    assert days == weekdays
    assert (contract.first_work_day, contract.last_work_day) == (weekdays[0], weekdays[-1])
    assert worker.member == member
    page = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert reverse("contracts:detail", args=[contract.pk]) in page


def test_staff_see_a_contracts_order(member, order, staff_client):
    contract = create_contract_from_order(user=member.user, order=order, today=TODAY)
    page = staff_client.get(
        reverse("admin:contracts_contract_change", args=[contract.pk])
    ).content.decode()
    assert order.number in page


def test_an_order_without_work_dates_makes_no_contract(
    client,
    member,
    activity,
    order_client,
    staff,
):
    quote = make_quote(activity=activity, client=order_client, user=member.user)
    orders.confirm_order(staff_user=staff, quote=quote, now=NOW)
    client.force_login(member.user)
    response = client.post(reverse("orders:order_contract", args=[quote.pk]), follow=True)
    assert "The order gives no work dates" in response.content.decode()
    assert not Contract.objects.exists()


def test_the_guarantee_fund_shows_guaranteed_orders_beside_receivables(
    member,
    order,
    no_review,
):
    deposit = orders.create_order_invoice(
        user=member.user, quote=order, part="deposit", today=TODAY
    )
    submit_invoice(user=member.user, invoice=deposit.invoice, today=TODAY, now=NOW)
    assert guarantee_fund.refresh(today=TODAY, now=NOW) is True
    figures = guarantee_fund.receivables()
    # The deposit is a receivable (incl. VAT); the rest of the order is guaranteed (excl. VAT).
    assert (figures.outstanding, figures.guaranteed) == (D("363.00"), D("700.00"))
    (row,) = figures.per_member.rows
    assert (row.name, row.outstanding, row.guaranteed) == ("Ana Peeters", D("363.00"), D("700.00"))


def test_a_member_with_only_guaranteed_orders_is_listed(member, order):
    guarantee_fund.refresh(today=TODAY, now=NOW)
    figures = guarantee_fund.receivables()
    assert (figures.count, figures.outstanding, figures.guaranteed) == (0, D("0.00"), D("1000.00"))
    assert [(row.name, row.count, row.guaranteed) for row in figures.per_member.rows] == [
        ("Ana Peeters", 0, D("1000.00"))
    ]


def test_credit_standing_counts_every_members_clients_of_the_buyer(
    member,
    order,
    no_review,
    other_member,
):
    deposit = orders.create_order_invoice(
        user=member.user, quote=order, part="deposit", today=TODAY
    )
    submit_invoice(user=member.user, invoice=deposit.invoice, today=TODAY, now=NOW)
    standing = guarantee_fund.credit_standing(client_ids=[order.client_id], today=TODAY)[
        order.client_id
    ]
    assert (standing.is_buyer, standing.open_count, standing.exposure, standing.overdue) == (
        True,
        1,
        D("363.00"),
        D("0.00"),
    )
    later = guarantee_fund.credit_standing(
        client_ids=[order.client_id], today=TODAY + datetime.timedelta(days=31)
    )[order.client_id]
    assert later.overdue == D("363.00")
    assert later.behaviour == "—"
    assert Quote.objects.get(pk=order.pk).status == "confirmed"


def _fields(instance):
    return {name: value for name, value in vars(instance).items() if name != "_state"}


def test_the_order_pages_compiled_reads_answer_as_the_orm(
    client, member, other_member, staff, order, no_review
):
    """The order, its invoices and contracts read by queries compiled once per process are the
    rows the ORM reads, for the owner, another member and staff, the ordered version included
    while a newer version of the quote is under way."""
    deposit = orders.create_order_invoice(
        user=member.user, quote=order, part="deposit", today=TODAY
    )
    submit_invoice(user=member.user, invoice=deposit.invoice, today=TODAY, now=NOW)
    orders.create_order_invoice(user=member.user, quote=order, part="balance", today=TODAY)
    create_contract_from_order(user=member.user, order=order, today=TODAY)
    Quote.objects.filter(pk=order.pk).update(status=Quote.Status.SENT)
    for user in (member.user, other_member.user, staff):
        expected = (
            selectors.quotes_visible_to(user)
            .filter(pk=order.pk, ordered_version__isnull=False)
            .select_related("client", "activity", "current_version", "ordered_version")
            .defer(
                "current_version__snapshot",
                "current_version__signature",
                "ordered_version__snapshot",
                "ordered_version__signature",
            )
            .first()
        )
        found = pages.order_shown_to(user, order.pk)
        if expected is None:
            assert found is None and user == other_member.user
            continue
        assert _fields(found) == _fields(expected)
        for related in ("client", "activity", "current_version", "ordered_version"):
            assert _fields(getattr(found, related)) == _fields(getattr(expected, related))
        assert found.status == Quote.Status.SENT and found.ordered_version.version == 1
    invoices = pages.order_invoices_of(order)
    assert [(_fields(row), _fields(row.invoice)) for row in invoices] == [
        (_fields(row), _fields(row.invoice)) for row in orders.order_invoices_of(order)
    ]
    assert [(row.part, row.invoice.status) for row in invoices] == [
        ("deposit", "issued"),
        ("balance", "draft"),
    ]
    contracts = Contract.objects.filter(order=order).order_by("pk")
    assert len(contracts) == 1
    assert [(c.pk, c.title, c.status) for c in pages.contracts_of(order)] == [
        (c.pk, c.title, c.status) for c in contracts
    ]
    assert pages.order_shown_to(member.user, 2**63) is None
    client.force_login(member.user)
    assert client.get(reverse("orders:order_detail", args=[2**63])).status_code == 404
