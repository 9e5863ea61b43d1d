"""Pages read by queries compiled once (coop.compiled) read what the ORM path reads."""

from coop.keyset import keyset_page
from invoicing import selectors
from invoicing.api import _FIRST_PAGE
from invoicing.api_rows import invoice_columns
from invoicing.forms import DraftForm
from invoicing.views import _FIRST_LIST_PAGE, _invoice_list_rows
from members import services
from members.models import activity_id_list
from tests.invoicing.conftest import make_draft


def test_the_compiled_first_page_is_the_keyset_page(
    member, other_member, activity, belgian_client, private_client
):
    shared = services.create_activity(owner=other_member, name="Shared")
    shared.co_members.add(member)
    for _number in range(3):
        make_draft(member, activity, belgian_client)
        make_draft(member, shared, private_client)
    ids = activity_id_list(member.user)
    assert len(ids) == 2
    for query, columns in (
        (_FIRST_LIST_PAGE, _invoice_list_rows()),
        (_FIRST_PAGE, invoice_columns()),
    ):
        for size in (2, 5, 25):
            compiled = selectors.first_invoice_page(query, ids, size=size)
            expected = keyset_page(
                columns, selectors.INVOICE_KEYSET, size=size, split=("activity_id", ids)
            )
            assert compiled.rows == expected.rows
            assert (compiled.newer, compiled.older) == (expected.newer, expected.older)
        assert selectors.first_invoice_page(query, ids[:1], size=25).rows == list(
            keyset_page(columns, selectors.INVOICE_KEYSET, size=25, split=("activity_id", ids[:1]))
        )
        assert selectors.first_invoice_page(query, [], size=25).rows == []
        too_many = list(range(1, selectors.FIRST_PAGE_ACTIVITIES + 2))
        assert selectors.first_invoice_page(query, too_many, size=25) is None


def test_a_new_drafts_selects_list_the_querysets_rows(
    member, other_member, activity, belgian_client, private_client
):
    shared = services.create_activity(owner=other_member, name="Shared")
    shared.co_members.add(member)
    services.create_activity(owner=other_member, name="Not shared")
    # A posted form validates the choice with the querysets; it lists the same rows.
    form = DraftForm({}, user=member.user)
    for field in (form.activity_field, form.client_field):
        compiled = [(str(value), str(label)) for value, label in field.widget.choices]
        expected = [(str(value), str(label)) for value, label in field.iterator(field)]
        assert compiled == expected
    assert len(list(form.client_field.widget.choices)) == 3
    assert len(list(form.activity_field.widget.choices)) == 2
    # A form to fill in lists them without building the querysets.
    blank = DraftForm(user=member.user)
    for field in ("activity_field", "client_field"):
        assert list(getattr(blank, field).widget.choices) == list(
            getattr(form, field).widget.choices
        )
        assert not getattr(blank, field).queryset.exists()
