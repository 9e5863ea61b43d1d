"""The draft form reads its lines and discounts once: they fill the forms and the totals."""

from django.db import connection
from django.test.utils import CaptureQueriesContext


def test_a_draft_s_rows_are_read_once(client, member, draft):
    client.force_login(member.user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/invoices/{draft.pk}/edit/")

    assert page.status_code == 200
    reads = [query["sql"] for query in queries.captured_queries]
    assert sum('FROM "invoicing_invoiceline"' in sql for sql in reads) == 1
    assert sum('FROM "invoicing_invoiceallowancecharge"' in sql for sql in reads) == 1
