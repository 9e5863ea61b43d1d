# ruff: noqa: F811 (the fixtures imported are arguments of the tests)
"""The member's orders list, an order's invoices in their real state, a contract from an order on
the days the member ticks, the staff confirmation page and the guarantee fund per client."""

import datetime
import re
from decimal import Decimal

from django.urls import reverse

from contracts.models import Contract
from contracts.services.contracts import create_contract_from_order
from invoicing import guarantee_fund
from invoicing.services.issue import submit_invoice
from members.services import create_activity
from quotes import orders
from quotes.models import Quote
from tests.quotes.orders_helpers import NOW, TODAY, make_quote
from tests.quotes.test_order_pages import order  # noqa: F401 (a fixture)
from tests.quotes.test_orders import (  # noqa: F401 (fixtures)
    accepted,
    no_review,
    order_client,
    staff_client,
)

D = Decimal


def weekdays(start, end):
    return [
        start + datetime.timedelta(days=offset)
        for offset in range((end - start).days + 1)
        if (start + datetime.timedelta(days=offset)).weekday() < 5
    ]


# Orders list


def test_the_orders_list_shows_the_members_orders_with_their_figures(
    client, member, order, other_member, activity, order_client, no_review
):
    deposit = orders.create_order_invoice(
        user=member.user, quote=order, part="deposit", today=TODAY
    )
    submit_invoice(user=member.user, invoice=deposit.invoice, today=TODAY, now=NOW)
    # An accepted quote is no order yet: not listed.
    waiting = make_quote(activity=activity, client=order_client, user=member.user)
    client.force_login(member.user)
    page = client.get(reverse("orders:order_list")).content.decode()
    assert reverse("orders:order_detail", args=[order.pk]) in page
    assert reverse("orders:order_detail", args=[waiting.pk]) not in page
    detail = reverse("orders:order_detail", args=[order.pk])
    row = re.search(rf'<tr>\s*<td><a href="{detail}">.*?</tr>', page, re.S).group()
    cells = re.findall(r'<td class="number">([^<]*)</td>', row)
    # Ordered, invoiced, left, still guaranteed.
    assert cells == ["1,000.00\xa0€", "300.00\xa0€", "700.00\xa0€", "700.00\xa0€"]
    # The navigation links the list.
    assert f'href="{reverse("orders:order_list")}"' in page
    client.force_login(other_member.user)
    other = client.get(reverse("orders:order_list")).content.decode()
    assert reverse("orders:order_detail", args=[order.pk]) not in other
    assert "No order yet." in other


def test_the_activity_page_links_its_quotes_and_orders(client, member, order, activity):
    other_activity = create_activity(owner=member, name="Affiches")
    other_order = make_quote(
        activity=other_activity,
        client=order.client,
        user=member.user,
        status=Quote.Status.CONFIRMED,
    )
    client.force_login(member.user)
    page = client.get(reverse("members:activity_detail", args=[activity.pk])).content.decode()
    orders_url = f"{reverse('orders:order_list')}?activity={activity.pk}"
    quotes_url = f"{reverse('quotes:quote_list')}?activity={activity.pk}"
    assert f'href="{orders_url}"' in page and f'href="{quotes_url}"' in page
    listed = client.get(orders_url).content.decode()
    assert reverse("orders:order_detail", args=[order.pk]) in listed
    assert reverse("orders:order_detail", args=[other_order.pk]) not in listed
    assert f"Orders of {activity.name}" in listed
    quotes = client.get(quotes_url).content.decode()
    assert reverse("quotes:quote_detail", args=[order.pk]) in quotes
    assert reverse("quotes:quote_detail", args=[other_order.pk]) not in quotes


def test_another_members_activity_does_not_narrow_the_list(client, other_member, order):
    client.force_login(other_member.user)
    page = client.get(
        reverse("orders:order_list"), {"activity": str(order.activity_id)}
    ).content.decode()
    assert reverse("orders:order_detail", args=[order.pk]) not in page
    assert "Orders of" not in page
    assert client.get(reverse("orders:order_list"), {"activity": "9" * 30}).status_code == 200


# An invoice in its real state


def test_an_invoice_awaiting_review_is_not_called_a_draft(client, member, order, settings):
    settings.COOP_INVOICE_REVIEW_THRESHOLD = D("1.00")
    deposit = orders.create_order_invoice(
        user=member.user, quote=order, part="deposit", today=TODAY
    )
    submit_invoice(user=member.user, invoice=deposit.invoice, today=TODAY, now=NOW)
    client.force_login(member.user)
    page = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    row = re.search(r"<tbody>.*?</tbody>", page, re.S).group()
    assert "Awaiting staff review" in row
    assert "Draft" not in row
    assert "<dt>Drawn up, not issued yet</dt><dd>300.00\xa0€</dd>" in page


# A contract from the order


def test_a_day_already_worked_is_named_and_left_unticked(client, member, order, activity, staff):
    version = order.ordered_version
    # Another order's contract takes the order's first two weekdays.
    days = weekdays(version.work_start, version.work_end)
    earlier = make_quote(
        activity=activity,
        client=order.client,
        user=member.user,
        work_start=days[0],
        work_end=days[1],
    )
    orders.confirm_order(staff_user=staff, quote=earlier, now=NOW)
    taken = create_contract_from_order(user=member.user, order=earlier, today=TODAY)
    client.force_login(member.user)
    url = reverse("orders:order_contract", args=[order.pk])
    form = client.get(url).content.decode()
    ticked = re.findall(r'name="days" value="([0-9-]+)" checked', form)
    assert ticked == [day.isoformat() for day in days[2:]]
    assert f"already on the contract “{taken.title}”" in form
    # Ticking a taken day anyway: refused, the day named, nothing written.
    response = client.post(url, {"days": [days[0].isoformat(), days[2].isoformat()]})
    assert response.status_code == 400
    text = response.content.decode()
    assert f"already works on contract {taken.reference} on {days[0]:%m/%d/%Y}" in text
    assert Contract.objects.filter(order=order).count() == 0
    # The member's own choice, with a day added outside the order's dates.
    extra = version.work_end + datetime.timedelta(days=3)
    response = client.post(url, {"days": [days[3].isoformat(), "", extra.isoformat()]})
    contract = Contract.objects.get(order=order)
    assert response["Location"] == reverse("contracts:edit", args=[contract.pk])
    assert sorted(day.date for day in contract.workers.get().days.all()) == [days[3], extra]


def test_no_day_ticked_or_an_unreadable_day_is_said(client, member, order):
    client.force_login(member.user)
    url = reverse("orders:order_contract", args=[order.pk])
    response = client.post(url, {"days": []})
    assert response.status_code == 400
    assert "Choose at least one work day." in response.content.decode()
    response = client.post(url, {"days": ["31/02/2027"]})
    assert response.status_code == 400
    assert "A work day could not be read" in response.content.decode()
    assert not Contract.objects.exists()


# Staff confirmation page


def test_the_confirmation_page_shows_what_staff_confirm(staff_client, accepted):
    quote = accepted
    page = staff_client.get(
        reverse("admin:quotes_quoteawaitingconfirmation_change", args=[quote.pk])
    ).content.decode()
    for text in (
        "Scénographie",
        "Montage",
        "1,000.00\xa0€ → 210.00\xa0€",
        "200.00\xa0€ → 12.00\xa0€",
        "1,200.00\xa0€ excl. VAT + 222.00\xa0€ VAT = 1,422.00\xa0€",
        "Deposit: 30 %",
        "Acompte: 30 %, when the order is confirmed",
        "Solde: 70 %, on delivery",
        reverse("quotes:quote_pdf", args=[quote.pk, 1]),
        "The VAT treatment passes the checks an invoice meets.",
        "A new order of 1,200.00\xa0€ excl. VAT.",
        "Open invoices of",
    ):
        assert text in page, text


# The guarantee fund per client


def test_the_guarantee_fund_shows_each_clients_guaranteed_orders(
    member, order, order_client, no_review, other_member
):
    from invoicing.services.clients import create_client

    # A client with only an order (no invoice) is listed too.
    other_client, _created = create_client(
        owner=member.user,
        kind="person",
        name="Marie Lambert",
        street="Rue Haute 5",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="marie@example.be",
        language="fr",
    )
    make_quote(
        activity=order.activity,
        client=other_client,
        user=member.user,
        status=Quote.Status.CONFIRMED,
        lines=[("Portrait", "1", "250.00", "21")],
    )
    deposit = orders.create_order_invoice(
        user=member.user, quote=order, part="deposit", today=TODAY
    )
    submit_invoice(user=member.user, invoice=deposit.invoice, today=TODAY, now=NOW)
    assert guarantee_fund.refresh(today=TODAY, now=NOW) is True
    figures = guarantee_fund.receivables()
    rows = [
        (row.name, row.count, row.outstanding, row.guaranteed) for row in figures.per_client.rows
    ]
    assert rows == [
        ("Théâtre des Galeries SA (BE1000000021)", 1, D("363.00"), D("700.00")),
        ("Marie Lambert", 0, D("0.00"), D("250.00")),
    ]
    # The total is the ledger's (the order written straight above posted nothing there).
    assert figures.guaranteed == D("700.00")


def test_a_schedules_first_step_at_the_order_is_the_deposits_one_button(
    client, member, accepted, staff
):
    quote = orders.confirm_order(staff_user=staff, quote=accepted, now=NOW)
    client.force_login(member.user)
    url = reverse("orders:order_detail", args=[quote.pk])
    page = client.get(url).content.decode()
    assert "Invoice the deposit (30 %)" in page
    assert "Invoice “Acompte”" not in page
    assert "Invoice “Solde” (70 %, on delivery)" in page
    client.post(reverse("orders:order_invoice", args=[quote.pk]), {"part": "deposit"})
    page = client.get(url).content.decode()
    assert "Invoice the deposit" not in page
    assert "Invoice “Solde” (70 %, on delivery)" in page
