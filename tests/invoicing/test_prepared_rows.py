"""Rows read by a list of keys through SQL written once per process (coop.prepared_rows): the
very rows the queryset's own ``values()`` reads for the same keys, in one query."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from coop.prepared_rows import KeyIn, PreparedRows
from invoicing.models import Invoice, InvoiceLine
from invoicing.services.issue import submit_invoice
from invoicing.services.payments import record_payment
from tests.conftest import NOW
from tests.invoicing.conftest import TODAY, line, make_draft

LINES = PreparedRows(
    lambda key_in: InvoiceLine.objects.filter(key_in("invoice_id")).values(
        "invoice_id", "position", "quantity", "unit_price", "credited_line__position"
    )
)
# Amounts summed by subqueries (converted by Django from what the driver returns) and a key
# asked in two columns.
AMOUNTS = PreparedRows(
    lambda key_in: (
        Invoice.objects.filter(key_in("pk") | key_in("credited_invoice_id"))
        .with_amounts()
        .order_by("pk")
        .values("pk", "amount_paid", "number")
    )
)


@pytest.fixture
def invoices(member, activity, belgian_client, staff, no_review):
    issued = submit_invoice(
        user=member.user,
        invoice=make_draft(member, activity, belgian_client, [line(), line("Sets", price="0.07")]),
        today=TODAY,
        now=NOW,
    )
    record_payment(invoice=issued, amount=Decimal("10.50"), received_on=TODAY, actor=staff)
    draft = make_draft(member, activity, belgian_client, [line("Draft", quantity="2.5")])
    return [issued, draft]


def test_the_rows_are_those_of_the_querysets_values(invoices):
    keys = [invoice.pk for invoice in invoices]
    expected_lines = list(
        InvoiceLine.objects.filter(invoice_id__in=keys).values(
            "invoice_id", "position", "quantity", "unit_price", "credited_line__position"
        )
    )
    with CaptureQueriesContext(connection) as captured:
        lines = LINES(keys)
    assert len(captured) == 1
    assert "= ANY(" in captured[0]["sql"]
    assert lines == expected_lines
    assert [list(row) for row in lines] == [list(row) for row in expected_lines]
    assert len(lines) == 3
    expected_amounts = list(
        Invoice.objects.filter(Q(pk__in=keys) | Q(credited_invoice_id__in=keys))
        .with_amounts()
        .order_by("pk")
        .values("pk", "amount_paid", "number")
    )
    assert AMOUNTS(keys) == expected_amounts
    assert [row["amount_paid"] for row in expected_amounts] == [Decimal("10.50"), Decimal("0.00")]


def test_each_call_reads_its_own_keys_and_none_without_keys(invoices):
    issued, draft = invoices
    assert [row["invoice_id"] for row in LINES([draft.pk])] == [draft.pk]
    assert {row["invoice_id"] for row in LINES([issued.pk])} == {issued.pk}
    assert LINES([-1]) == []
    with CaptureQueriesContext(connection) as captured:
        assert LINES([]) == []
    assert len(captured) == 0


def test_a_query_without_its_keys_is_refused(db):
    no_keys = PreparedRows(lambda key_in: InvoiceLine.objects.values("pk"))
    with pytest.raises(ValueError, match="key_in"):
        no_keys([1])
    assert isinstance(KeyIn("pk", [1]), KeyIn)
