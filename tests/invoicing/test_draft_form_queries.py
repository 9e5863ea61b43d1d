"""The draft form reads its lines and discounts once: they fill the forms and the totals; it
finds only drafts the user sees."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from invoicing.models import Client


def test_a_draft_s_rows_are_read_once(client, member, draft):
    client.force_login(member.user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/invoices/{draft.pk}/edit/")

    assert page.status_code == 200
    reads = [query["sql"] for query in queries.captured_queries]
    assert sum('FROM "invoicing_invoiceline"' in sql for sql in reads) == 1
    assert sum('FROM "invoicing_invoiceallowancecharge"' in sql for sql in reads) == 1


def test_the_edit_page_of_an_unseen_or_impossible_draft_is_not_found(
    client, member, other_member, draft
):
    client.force_login(other_member.user)
    assert client.get(f"/invoices/{draft.pk}/edit/").status_code == 404
    client.force_login(member.user)
    # An id beyond any bigint reaches no query: a 404, not a server error.
    assert client.get(f"/invoices/{2**63}/edit/").status_code == 404
    assert client.get(f"/invoices/{draft.pk}/edit/").status_code == 200


def test_a_co_member_s_draft_keeps_its_client_in_the_select(client, other_member, draft):
    """The client the author chose is offered to the co-member editing the draft, though it
    is not one of the co-member's own clients (the select is a compiled query)."""
    draft.activity.co_members.add(other_member)
    assert not Client.objects.filter(owner=other_member.user).exists()
    client.force_login(other_member.user)
    page = client.get(f"/invoices/{draft.pk}/edit/")

    assert page.status_code == 200
    assert f'<option value="{draft.client_id}" selected>' in page.content.decode()
