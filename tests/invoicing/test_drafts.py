"""Drafting: bad input gets a clear message and nothing is half-written."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoicing.errors import InvoicingError
from invoicing.models import Invoice, InvoiceLine
from invoicing.services.clients import create_client
from invoicing.services.drafts import delete_draft
from tests.invoicing.conftest import TODAY, days, line, make_draft


def test_draft_computes_totals_and_due_date_from_the_client_terms(draft):
    assert (draft.total_excl_vat, draft.total_vat, draft.total_incl_vat) == (
        Decimal("59.97"),
        Decimal("12.59"),
        Decimal("72.56"),
    )
    assert draft.due_date == TODAY + days(30)
    assert (draft.status, draft.number) == ("draft", None)


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([], "empty"),
        ([line(quantity="0")], "quantity"),
        ([line(quantity="-2")], "quantity"),
        ([line(price="19.999")], "decimals"),
        ([line(quantity="1.005")], "decimals"),
        ([line(price="-1")], "unit_price"),
        ([line(description=" ")], "description"),
        ([line(vat_rate=Decimal("19"))], "vat_rate"),
        ([line(vat_category="AE", vat_rate=Decimal("21"))], "vat_rate"),
        ([line(vat_category="E", vat_rate=Decimal("0"))], "exemption_reason"),
        ([line(vat_category="K", vat_rate=Decimal("0"))], "intra_eu_country"),
        ([line(unit="week")], "unit"),
        ([line(vat_category="X")], "vat_category"),
    ],
)
def test_bad_lines_are_refused_and_nothing_is_written(
    member, activity, belgian_client, lines, code
):
    from invoicing.services.drafts import save_draft

    with pytest.raises(InvoicingError) as error:
        save_draft(
            user=member.user, activity=activity, client=belgian_client, lines=lines, today=TODAY
        )
    assert error.value.code == code
    assert Invoice.objects.count() == 0
    assert InvoiceLine.objects.count() == 0


def test_float_amounts_are_refused(member, activity, belgian_client):
    from invoicing.services.drafts import LineInput, save_draft

    with pytest.raises(InvoicingError) as error:
        save_draft(
            user=member.user,
            activity=activity,
            client=belgian_client,
            lines=[LineInput("x", 1.5, "hour", Decimal("10"))],
            today=TODAY,
        )
    assert error.value.code == "decimal"


def test_reverse_charge_needs_the_buyer_vat_number(member, activity):
    person, _created = create_client(
        owner=member.user,
        kind="person",
        name="Jan Janssens",
        street="Kerkstraat 5",
        postal_code="9000",
        city="Gent",
        country="BE",
        email="jan@example.be",
        language="nl",
    )
    with pytest.raises(InvoicingError) as error:
        make_draft(member, activity, person, [line(vat_category="AE", vat_rate=Decimal("0"))])
    assert error.value.code == "buyer_vat_required"


def test_reverse_charge_gets_its_legal_mention(member, activity, belgian_client):
    invoice = make_draft(
        member, activity, belgian_client, [line(vat_category="AE", vat_rate=Decimal("0"))]
    )
    (stored,) = invoice.lines.all()
    # A Belgian buyer owes the VAT on, for instance, construction work (art. 20 Royal Decree 1).
    assert stored.exemption_reason == "Autoliquidation – art. 51 §2 du Code de la TVA"
    assert stored.exemption_code == "VATEX-EU-AE"
    assert invoice.total_vat == Decimal("0.00")


def test_intra_eu_invoice_for_a_french_business(member, activity, french_client):
    invoice = make_draft(
        member,
        activity,
        french_client,
        [line(vat_category="K", vat_rate=Decimal("0"), supply_kind="goods")],
    )
    assert invoice.total_incl_vat == Decimal("59.97")


def test_another_members_activity_or_client_is_unknown(
    member, activity, other_member, belgian_client
):
    from members.services import create_activity

    other_activity = create_activity(owner=other_member, name="Sound")
    with pytest.raises(InvoicingError) as error:
        make_draft(member, other_activity, belgian_client)
    assert error.value.code == "activity"
    with pytest.raises(InvoicingError) as error:
        make_draft(other_member, other_activity, belgian_client)
    assert error.value.code == "client"
    assert Invoice.objects.count() == 0


def test_suspended_members_activity_cannot_invoice(member, activity, belgian_client, staff):
    from members.services import suspend_member

    suspend_member(member=member, actor=staff, reason="Unpaid supplier")
    with pytest.raises(InvoicingError) as error:
        make_draft(member, activity, belgian_client)
    assert error.value.code == "member_not_active"
    assert Invoice.objects.count() == 0


def test_draft_can_be_edited_and_deleted(member, activity, belgian_client, draft):
    from invoicing.services.drafts import save_draft

    edited = save_draft(
        user=member.user,
        invoice=draft,
        activity=activity,
        client=belgian_client,
        lines=[
            line(quantity="2", price="100"),
            line(description="Travel", price="10", quantity="1"),
        ],
        today=TODAY,
        buyer_reference="PO-1",
    )
    assert edited.pk == draft.pk
    assert list(edited.lines.values_list("position", "description")) == [
        (1, "Lighting design"),
        (2, "Travel"),
    ]
    assert edited.total_incl_vat == Decimal("254.10")
    delete_draft(invoice=edited)
    assert not Invoice.objects.filter(pk=draft.pk).exists()


def test_past_due_date_is_refused(member, activity, belgian_client):
    with pytest.raises(InvoicingError) as error:
        make_draft(member, activity, belgian_client, due_date=TODAY - days(1))
    assert error.value.code == "due_date"


@pytest.mark.parametrize(
    ("language", "amounts"),
    [
        ("fr", ["10\u00a0000\u00a0000\u00a0000,00\u00a0€", "59,97\u00a0€", "100,00\u00a0€"]),
        ("nl", ["10.000.000.000,00\u00a0€", "59,97\u00a0€", "100,00\u00a0€"]),
        ("en", ["10,000,000,000.00\u00a0€", "59.97\u00a0€", "100.00\u00a0€"]),
    ],
)
def test_amounts_in_refusals_are_written_as_money_in_the_language(
    member, activity, belgian_client, language, amounts
):
    from django.utils import translation

    from invoicing.services.drafts import AllowanceChargeInput

    huge, line_amount, discount = amounts
    too_much = AllowanceChargeInput(is_charge=False, reason="Too much", amount=Decimal("100.00"))
    with translation.override(language):
        with pytest.raises(InvoicingError) as on_line:
            make_draft(
                member,
                activity,
                belgian_client,
                [line(allowance_amount=Decimal("1E+10"), allowance_reason="Too much")],
            )
        with pytest.raises(InvoicingError) as on_invoice:
            make_draft(member, activity, belgian_client, allowance_charges=[too_much])

    assert f"({huge})" in on_line.value.message and f"({line_amount})" in on_line.value.message
    assert f"({discount})" in on_invoice.value.message
    assert f"({line_amount})" in on_invoice.value.message
    assert "E+" not in on_line.value.message and " €" not in on_invoice.value.message
    assert not Invoice.objects.exists()


def test_the_new_invoice_form_reads_the_activities_and_the_clients_once(
    client, member, activity, belgian_client
):
    client.force_login(member.user)
    url = reverse("invoicing:invoice_create")
    client.get(url)  # Warm the per-process caches first.
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    tables = [
        table
        for query in captured
        for table in ("members_activity", "invoicing_client")
        if query["sql"].startswith(("SELECT", "DECLARE")) and f'FROM "{table}"' in query["sql"]
    ]
    # Once for the select and whether there is anything to choose, not three times.
    assert sorted(tables) == ["invoicing_client", "members_activity"]
    assert response.context["can_invoice"] and response.context["has_clients"]
    html = response.content.decode()
    assert f'<option value="{activity.pk}">{activity.name}</option>' in html
    assert f'<option value="{belgian_client.pk}">{belgian_client.name} (' in html


def test_staff_invoice_pages_offer_their_own_clients_and_activities_only(
    client, staff, activity, belgian_client
):
    """Staff invoice as members on these pages: everyone's rows would be a select of millions."""
    client.force_login(staff)
    for url in [reverse("invoicing:invoice_create"), reverse("invoicing:invoice_list")]:
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert belgian_client.name not in page
        assert f'<option value="{activity.pk}"' not in page


def test_the_list_names_an_issued_invoice_as_issued_and_a_draft_by_its_client(
    client, member, activity, belgian_client, two_rate_invoice
):
    """The buyer's name is read from the frozen data in SQL (the snapshot is not loaded)."""
    draft = make_draft(member, activity, belgian_client)
    belgian_client.name = "Galeries Royales SA"
    belgian_client.save(update_fields=["name"])
    client.force_login(member.user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("invoicing:invoice_list")).content.decode()
    rows = page.split("<tbody>")[1].split("</tbody>")[0]
    issued_row = next(row for row in rows.split("<tr>") if two_rate_invoice.number in row)
    draft_row = next(row for row in rows.split("<tr>") if f"/invoices/{draft.pk}/" in row)
    assert "Théâtre des Galeries SA" in issued_row
    assert "Galeries Royales SA" in draft_row
    listing = [q["sql"] for q in queries if 'FROM "invoicing_invoice"' in q["sql"]]
    assert listing and not any('"invoicing_invoice"."snapshot",' in sql for sql in listing)


def test_staff_see_no_invoice_link_for_a_members_client(client, staff, belgian_client):
    """Staff invoice from their own clients only: a link to another's would lead nowhere."""
    client.force_login(staff)
    page = client.get(reverse("invoicing:client_list")).content.decode()
    assert belgian_client.name in page
    assert f"?client={belgian_client.pk}" not in page
