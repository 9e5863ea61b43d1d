"""Invoicing pages: a member drafts, submits, downloads and credits invoices in the browser."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from invoicing.models import Client, Dispatch, Invoice, InvoiceLine
from invoicing.services.clients import check_buyer_identification, create_client
from invoicing.services.documents import render_document
from invoicing.services.drafts import save_draft
from invoicing.services.issue import reject_invoice, submit_invoice
from tests.conftest import NOW, pagination_link
from tests.invoicing.conftest import TODAY, line, make_draft

BLANK_ROW = {"unit": "hour", "vat_category": "S", "vat_rate": "21.00"}


def draft_data(activity, client, rows, **fields) -> dict:
    """The POST body of the draft form, with two spare rows as the browser sends them."""
    rows = [*rows, BLANK_ROW, BLANK_ROW]
    data = {
        "activity": activity.pk,
        "client": client.pk,
        "buyer_reference": "",
        "due_date": "",
        "notes": "",
        "lines-TOTAL_FORMS": len(rows),
        "lines-INITIAL_FORMS": 0,
        "lines-MIN_NUM_FORMS": 0,
        "lines-MAX_NUM_FORMS": 200,
        **fields,
    }
    for index, row in enumerate(rows):
        for name, value in {**BLANK_ROW, **row}.items():
            data[f"lines-{index}-{name}"] = value
    return data


def row(description="Lighting design", quantity="3", price="19.99", **extra) -> dict:
    return {"description": description, "quantity": quantity, "unit_price": price, **extra}


def issued_invoice(member, activity, client):
    draft = make_draft(member, activity, client)
    return submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)


def detail_links(page: str) -> list[str]:
    return re.findall(r'href="/invoices/(\d+)/"', page)


def test_invoicing_pages_require_sign_in(client, db):
    response = client.get(reverse("invoicing:invoice_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_member_drafts_an_invoice_and_submits_it_once(
    client, member, activity, belgian_client, no_review
):
    client.force_login(member.user)
    assert client.get(reverse("invoicing:invoice_create")).status_code == 200

    response = client.post(
        reverse("invoicing:invoice_create"),
        draft_data(activity, belgian_client, [row()], buyer_reference="PO-7"),
    )
    invoice = Invoice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("invoicing:invoice_detail", args=[invoice.pk])
    assert (invoice.total_excl_vat, invoice.total_vat, invoice.total_incl_vat) == (
        Decimal("59.97"),
        Decimal("12.59"),
        Decimal("72.56"),
    )
    assert (invoice.status, invoice.buyer_reference, invoice.lines.count()) == ("draft", "PO-7", 1)
    page = client.get(response["Location"]).content.decode()
    assert "72.56\u00a0€" in page
    assert "12.59\u00a0€" in page
    assert "Submit the invoice" in page

    submit_url = reverse("invoicing:invoice_submit", args=[invoice.pk])
    page = client.post(submit_url, follow=True).content.decode()
    number = f"{timezone.localdate().year}-000001"
    invoice.refresh_from_db()
    assert (invoice.number, invoice.status) == (number, "issued")
    assert f"Issued as {number}." in page

    # A double click: the second submission is refused with a message, not an error page.
    again = client.post(submit_url, follow=True)
    assert again.status_code == 200
    assert "This invoice was already submitted." in again.content.decode()
    assert Invoice.objects.filter(number__isnull=False).count() == 1


def test_submission_that_needs_review_says_why(client, member, draft, settings):
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = True
    client.force_login(member.user)
    response = client.post(reverse("invoicing:invoice_submit", args=[draft.pk]), follow=True)
    assert "Sent to staff for review: first invoice to this client." in response.content.decode()
    draft.refresh_from_db()
    assert (draft.status, draft.number) == ("pending_review", None)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([row(price="19.999")], "Ensure that there are no more than 2 decimal places."),
        ([row(quantity="1.005")], "Ensure that there are no more than 2 decimal places."),
        ([row(quantity="0")], "Line 1: the quantity must be more than zero."),
        ([row(quantity="-2")], "Line 1: the quantity must be more than zero."),
        ([], "Add at least one line to the invoice."),
        ([row(quantity="")], "This field is required."),
        ([row(quantity="three")], "Enter a number."),
    ],
)
def test_bad_lines_show_the_error_and_save_nothing(
    client, member, activity, belgian_client, rows, message
):
    client.force_login(member.user)
    response = client.post(
        reverse("invoicing:invoice_create"), draft_data(activity, belgian_client, rows)
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert "The draft was not saved" in page
    assert Invoice.objects.count() == 0
    assert InvoiceLine.objects.count() == 0


@pytest.mark.parametrize(
    "posted",
    [
        {"lines-0-vat_rate": "abc"},
        {
            "adjustments-TOTAL_FORMS": "1",
            "adjustments-INITIAL_FORMS": "0",
            "adjustments-0-is_charge": "0",
            "adjustments-0-reason": "Season discount",
            "adjustments-0-value": "10 %",
            "adjustments-0-vat_category": "S",
            "adjustments-0-vat_rate": "abc",
        },
    ],
)
def test_a_vat_rate_that_is_no_number_is_a_form_error(
    client, member, activity, belgian_client, posted
):
    client.force_login(member.user)
    data = {**draft_data(activity, belgian_client, [row()]), **posted}

    preview = client.post(reverse("invoicing:invoice_preview"), data)
    response = client.post(reverse("invoicing:invoice_create"), data)

    assert (preview.status_code, response.status_code) == (200, 200)
    page = response.content.decode()
    assert "Select a valid choice. abc is not one of the available choices." in page
    assert "The draft was not saved" in page
    assert Invoice.objects.count() == 0


def test_reverse_charge_for_a_client_without_vat_number_is_refused(client, member, activity):
    person, _created = create_client(
        owner=member.user,
        kind="person",
        name="Jeanne Dupont",
        street="Rue Haute 1",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="jeanne@example.org",
        language="fr",
    )
    client.force_login(member.user)
    rows = [row(vat_category="AE", vat_rate="0.00")]
    response = client.post(reverse("invoicing:invoice_create"), draft_data(activity, person, rows))
    assert "Reverse charge and intra-EU invoices need the client&#x27;s VAT number." in (
        response.content.decode()
    )
    assert Invoice.objects.count() == 0


def test_add_a_line_without_javascript_keeps_what_was_typed(
    client, member, activity, belgian_client
):
    client.force_login(member.user)
    data = draft_data(activity, belgian_client, [row(description="Rehearsal")], add_line="1")
    response = client.post(reverse("invoicing:invoice_create"), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="lines-TOTAL_FORMS" value="4"' in page
    assert 'value="Rehearsal"' in page
    assert "72.56\u00a0€" in page
    assert "errorlist" not in page and 'class="error"' not in page
    assert Invoice.objects.count() == 0


def test_member_edits_a_draft(client, member, activity, belgian_client, draft):
    client.force_login(member.user)
    url = reverse("invoicing:invoice_edit", args=[draft.pk])
    page = client.get(url).content.decode()
    assert 'value="Lighting design"' in page
    data = draft_data(
        activity, belgian_client, [row(quantity="2", price="100.00", vat_rate="6.00")]
    )
    assert client.post(url, data).status_code == 302
    draft.refresh_from_db()
    assert (draft.total_excl_vat, draft.total_vat, draft.total_incl_vat) == (
        Decimal("200.00"),
        Decimal("12.00"),
        Decimal("212.00"),
    )
    assert Invoice.objects.count() == 1


def test_member_deletes_a_draft_after_confirming(client, member, draft):
    client.force_login(member.user)
    url = reverse("invoicing:invoice_delete", args=[draft.pk])
    assert "Delete the draft?" in client.get(url).content.decode()
    assert Invoice.objects.count() == 1
    response = client.post(url)
    assert response["Location"] == reverse("invoicing:invoice_list")
    assert Invoice.objects.count() == 0


def test_an_issued_invoice_cannot_be_edited_or_deleted(
    client, member, activity, belgian_client, no_review
):
    invoice = issued_invoice(member, activity, belgian_client)
    client.force_login(member.user)
    edit = client.get(reverse("invoicing:invoice_edit", args=[invoice.pk]), follow=True)
    assert "can no longer be edited" in edit.content.decode()
    delete = client.post(reverse("invoicing:invoice_delete", args=[invoice.pk]), follow=True)
    assert "Only drafts can be deleted" in delete.content.decode()
    assert Invoice.objects.get().number == "2026-000001"


def test_rejected_invoice_shows_the_staff_reason(client, member, staff, draft, settings):
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = True
    submitted = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    reject_invoice(staff_user=staff, invoice=submitted, reason="Wrong client address.")
    client.force_login(member.user)
    page = client.get(reverse("invoicing:invoice_detail", args=[draft.pk])).content.decode()
    assert "Staff sent this invoice back." in page
    assert "Wrong client address." in page
    assert reverse("invoicing:invoice_edit", args=[draft.pk]) in page


def test_another_members_invoice_and_client_are_404(
    client, member, other_member, activity, belgian_client, no_review
):
    invoice = issued_invoice(member, activity, belgian_client)
    draft = make_draft(member, activity, belgian_client)
    client.force_login(other_member.user)
    for name in ["invoice_detail", "invoice_edit", "invoice_pdf", "invoice_ubl", "invoice_credit"]:
        assert client.get(reverse(f"invoicing:{name}", args=[invoice.pk])).status_code == 404
    for name in ["invoice_submit", "invoice_delete", "invoice_resend"]:
        assert client.post(reverse(f"invoicing:{name}", args=[draft.pk])).status_code == 404
    assert client.get(reverse("invoicing:client_edit", args=[belgian_client.pk])).status_code == 404
    assert detail_links(client.get(reverse("invoicing:invoice_list")).content.decode()) == []
    assert "Galeries" not in client.get(reverse("invoicing:client_list")).content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert Dispatch.objects.filter(requested_by=other_member.user).count() == 0


def test_invoice_list_filters_by_status_and_is_paginated(
    client, member, activity, belgian_client, no_review
):
    issued = issued_invoice(member, activity, belgian_client)
    for _index in range(26):
        make_draft(member, activity, belgian_client)
    client.force_login(member.user)
    url = reverse("invoicing:invoice_list")

    first = client.get(url).content.decode()
    second = client.get(url + pagination_link(first, "next")).content.decode()
    assert len(detail_links(first)) == 25
    assert len(detail_links(second)) == 2
    # Drafts (no issue date) first, newest first, then the issued invoice.
    assert detail_links(second)[-1] == str(issued.pk)
    assert pagination_link(second, "next") is None
    back = client.get(url + pagination_link(second, "prev")).content.decode()
    assert detail_links(back) == detail_links(first)

    issued_only = client.get(url, {"status": "issued"}).content.decode()
    assert detail_links(issued_only) == [str(issued.pk)]
    assert "2026-000001" in issued_only
    assert "72.56\u00a0€" in issued_only

    drafts = client.get(url, {"status": "draft"}).content.decode()
    assert str(issued.pk) not in detail_links(drafts)
    older = pagination_link(drafts, "next")
    assert older.startswith("?status=draft&cursor=")
    last_drafts = client.get(url + older).content.decode()
    assert len(detail_links(last_drafts)) == 1
    later = client.get(url, {"issued_from": "2026-03-03"}).content.decode()
    assert "No invoice matches these filters." in later
    assert client.get(url, {"status": "nonsense"}).status_code == 200
    # On phones the filters fold behind a button, open while a filter is set (not a cursor).
    assert '<details class="filters-disclosure">' in first
    assert '<details class="filters-disclosure">' in second
    assert '<details class="filters-disclosure" open>' in issued_only


def test_empty_invoice_list_invites_to_draft_one(client, member):
    client.force_login(member.user)
    page = client.get(reverse("invoicing:invoice_list")).content.decode()
    assert "You have not drawn up any invoice yet." in page
    assert reverse("invoicing:invoice_create") in page


def test_overdue_invoice_is_flagged(client, member, activity, belgian_client, no_review):
    long_ago = datetime.date(2020, 1, 6)
    draft = save_draft(
        user=member.user,
        activity=activity,
        client=belgian_client,
        lines=[line()],
        today=long_ago,
        buyer_reference="PO-7",
    )
    invoice = submit_invoice(user=member.user, invoice=draft, today=long_ago, now=NOW)
    assert invoice.due_date == datetime.date(2020, 2, 5)
    other_draft = make_draft(member, activity, belgian_client)
    client.force_login(member.user)
    page = client.get(reverse("invoicing:invoice_list")).content.decode()
    assert page.count('class="badge status-overdue"') == 1
    detail = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).content.decode()
    assert 'class="badge status-overdue"' in detail
    draft_page = client.get(reverse("invoicing:invoice_detail", args=[other_draft.pk]))
    assert "status-overdue" not in draft_page.content.decode()


def test_preview_returns_the_vat_breakdown(client, member, activity, belgian_client):
    client.force_login(member.user)
    rows = [
        row(),
        row(description="Stage", quantity="2", price="100", vat_rate="6.00"),
        row(description="Half typed", quantity=""),
    ]
    response = client.post(
        reverse("invoicing:invoice_preview"), draft_data(activity, belgian_client, rows)
    )
    fragment = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in fragment
    breakdown = re.findall(r"<td class=\"number\">([^<]+)</td>", fragment)
    assert breakdown == ["59.97\u00a0€", "12.59\u00a0€", "200.00\u00a0€", "12.00\u00a0€"]
    assert "259.97\u00a0€" in fragment
    assert "24.59\u00a0€" in fragment
    assert "284.56\u00a0€" in fragment
    assert "not counted" in fragment
    assert Invoice.objects.count() == 0


def test_preview_shows_the_rule_a_line_breaks(client, member, activity, belgian_client):
    client.force_login(member.user)
    rows = [row(vat_category="AE", vat_rate="21.00")]
    response = client.post(
        reverse("invoicing:invoice_preview"), draft_data(activity, belgian_client, rows)
    )
    assert "Line 1: this VAT category has a 0 % rate." in response.content.decode()


def test_documents_download_once_rendered(
    client, member, activity, belgian_client, no_review, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    invoice = issued_invoice(member, activity, belgian_client)
    client.force_login(member.user)
    detail_url = reverse("invoicing:invoice_detail", args=[invoice.pk])
    pdf_url = reverse("invoicing:invoice_pdf", args=[invoice.pk])

    detail = client.get(detail_url).content.decode()
    assert "Being prepared…" in detail
    assert "/static/js/refresh-while-pending.js" in detail
    assert pdf_url not in detail
    pending = client.get(pdf_url)
    assert pending.status_code == 404
    assert "This document is being prepared" in pending.content.decode()

    for document in invoice.documents.all():
        render_document(document=document)
    pdf = client.get(pdf_url)
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert 'filename="2026-000001.pdf"' in pdf["Content-Disposition"]
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")
    ubl = client.get(reverse("invoicing:invoice_ubl", args=[invoice.pk]))
    assert ubl["Content-Type"] == "application/xml"
    assert 'filename="2026-000001.xml"' in ubl["Content-Disposition"]
    assert b"<Invoice" in b"".join(ubl.streaming_content)
    detail = client.get(detail_url).content.decode()
    assert "Being prepared…" not in detail
    assert "refresh-while-pending" not in detail
    assert pdf_url in detail


def test_a_draft_has_no_document_to_download(client, member, draft):
    client.force_login(member.user)
    response = client.get(reverse("invoicing:invoice_pdf", args=[draft.pk]))
    assert response.status_code == 404
    assert "A draft has no PDF" in response.content.decode()


def test_resend_creates_a_dispatch(client, member, activity, belgian_client, no_review):
    invoice = issued_invoice(member, activity, belgian_client)
    before = invoice.dispatches.count()
    client.force_login(member.user)
    url = reverse("invoicing:invoice_resend", args=[invoice.pk])

    refused = client.post(url, {"recipient": "not an address"})
    assert "Enter a valid email address." in refused.content.decode()
    assert invoice.dispatches.count() == before

    response = client.post(url, {"recipient": "direction@galeries.example"}, follow=True)
    assert "The invoice will be sent to direction@galeries.example." in response.content.decode()
    dispatch = invoice.dispatches.order_by("-pk").first()
    assert (dispatch.channel, dispatch.recipient, dispatch.status, dispatch.requested_by) == (
        "email",
        "direction@galeries.example",
        "pending",
        member.user,
    )
    client.post(url, {"recipient": ""})
    assert invoice.dispatches.order_by("-pk").first().recipient == "compta@galeries.example"
    assert invoice.dispatches.count() == before + 2


def test_member_requests_a_full_credit_note(client, member, activity, belgian_client, no_review):
    invoice = issued_invoice(member, activity, belgian_client)
    client.force_login(member.user)
    url = reverse("invoicing:invoice_credit", args=[invoice.pk])
    assert client.get(url).status_code == 200
    data = {
        "reason": "Show cancelled",
        "full_credit": "on",
        "lines-TOTAL_FORMS": 0,
        "lines-INITIAL_FORMS": 0,
    }
    response = client.post(url, data, follow=True)
    assert "Credit note requested: staff will issue it." in response.content.decode()
    credit_note = Invoice.objects.get(kind="credit_note")
    assert (credit_note.status, credit_note.credited_invoice, credit_note.total_incl_vat) == (
        "pending_review",
        invoice,
        Decimal("72.56"),
    )
    assert credit_note.notes == "Show cancelled"


def test_member_requests_a_partial_credit_note(client, member, activity, belgian_client, no_review):
    invoice = issued_invoice(member, activity, belgian_client)
    client.force_login(member.user)
    data = {
        "reason": "One hour was not worked",
        "lines-TOTAL_FORMS": 1,
        "lines-INITIAL_FORMS": 1,
        "lines-0-position": "1",
        "lines-0-quantity": "1",
        "lines-0-amount": "",
    }
    url = reverse("invoicing:invoice_credit", args=[invoice.pk])
    assert client.post(url, data).status_code == 302
    credit_note = Invoice.objects.get(kind="credit_note")
    assert credit_note.total_incl_vat == Decimal("24.19")
    assert credit_note.lines.get().credited_line == invoice.lines.get()

    too_much = {**data, "lines-0-quantity": "3"}
    page = client.post(url, too_much).content.decode()
    assert "Line 1: at most 39.98 € excl. VAT is left to credit." in page
    assert Invoice.objects.filter(kind="credit_note").count() == 1


def test_member_adds_a_client(client, member):
    client.force_login(member.user)
    data = {
        "kind": "company",
        "name": "Atelier Lumière SARL",
        "street": "12 rue de la Paix",
        "postal_code": "75002",
        "city": "Paris",
        "country": "FR",
        "email": "Factures@Lumiere.example",
        "language": "fr",
        "vat_number": "FR 40 303 265 045",
        "peppol_id": "",
        "payment_terms_days": "45",
    }
    response = client.post(reverse("invoicing:client_create"), data, follow=True)
    assert "Client “Atelier Lumière SARL” added." in response.content.decode()
    created = Client.objects.get()
    assert (created.vat_number, created.email, created.payment_terms_days) == (
        "FR40303265045",
        "factures@lumiere.example",
        45,
    )
    assert created.owner == member.user

    wrong = client.post(reverse("invoicing:client_create"), {**data, "vat_number": "FR123"})
    assert "This VAT number is not valid" in wrong.content.decode()
    assert Client.objects.count() == 1


def test_another_members_client_with_the_same_vat_number_stays_theirs(
    client, other_member, belgian_client
):
    client.force_login(other_member.user)
    data = {
        "kind": "company",
        "name": "Galeries (typed differently)",
        "street": "Somewhere 1",
        "postal_code": "1000",
        "city": "Bruxelles",
        "country": "BE",
        "email": "other@galeries.example",
        "language": "nl",
        "vat_number": "BE 1000.000.021",
        "payment_terms_days": "30",
    }
    response = client.post(reverse("invoicing:client_create"), data, follow=True)
    page = response.content.decode()
    assert "Client “Galeries (typed differently)” added." in page
    assert "Théâtre des Galeries SA" not in page and "compta@galeries.example" not in page
    own = Client.objects.get(owner=other_member.user)
    assert (own.name, own.email, own.vat_number) == (
        "Galeries (typed differently)",
        "other@galeries.example",
        "BE1000000021",
    )
    assert own.buyer_id == belgian_client.buyer_id is not None
    belgian_client.refresh_from_db()
    assert (belgian_client.name, belgian_client.email, belgian_client.owner_id) == (
        "Théâtre des Galeries SA",
        "compta@galeries.example",
        belgian_client.owner_id,
    )
    assert client.get(reverse("invoicing:client_edit", args=[belgian_client.pk])).status_code == 404


def test_a_vat_number_look_up_prefills_only_what_staff_checked(
    client, member, other_member, belgian_client, staff
):
    client.force_login(other_member.user)
    url = reverse("invoicing:client_create")
    query = {"lookup-vat_number": "BE1000000021", "lookup-country": "BE"}
    page = client.get(url, query).content.decode()
    assert "The cooperative has not checked this VAT number yet" in page
    assert "Théâtre des Galeries SA" not in page and "Galerie du Roi" not in page
    assert 'value="0208:1000000021"' in page

    buyer = belgian_client.buyer
    buyer.legal_name, buyer.street, buyer.city = (
        "Galeries Royales SA",
        "Galerie du Roi 1",
        "Bruxelles",
    )
    buyer.postal_code = "1000"
    buyer.save()
    check_buyer_identification(buyer=buyer, staff_user=staff, now=NOW)
    page = client.get(url, query).content.decode()
    assert "The registered name and address of this VAT number are filled in." in page
    assert 'value="Galeries Royales SA"' in page and 'value="Galerie du Roi 1"' in page
    assert "compta@galeries.example" not in page and "Théâtre des Galeries SA" not in page

    wrong = client.get(url, {"lookup-vat_number": "BE123", "lookup-country": "BE"})
    assert "This VAT number is not valid" in wrong.content.decode()


def test_client_list_search_and_edit(client, member, belgian_client, french_client):
    client.force_login(member.user)
    url = reverse("invoicing:client_list")
    by_name = client.get(url, {"q": "lumière"}).content.decode()
    assert "Atelier Lumière SARL" in by_name and "Galeries" not in by_name
    by_vat = client.get(url, {"q": "be 1000"}).content.decode()
    assert "Galeries" in by_vat and "Lumière" not in by_vat
    assert "No client matches" in client.get(url, {"q": "nobody"}).content.decode()

    edit_url = reverse("invoicing:client_edit", args=[belgian_client.pk])
    assert 'value="Galerie du Roi 32"' in client.get(edit_url).content.decode()
    data = {
        "name": "Théâtre Royal des Galeries SA",
        "street": "Galerie du Roi 32",
        "postal_code": "1000",
        "city": "Bruxelles",
        "country": "BE",
        "email": "compta@galeries.example",
        "language": "fr",
        "vat_number": "BE1000000021",
        "peppol_id": "",
        "payment_terms_days": "15",
    }
    assert client.post(edit_url, data).status_code == 302
    belgian_client.refresh_from_db()
    assert (belgian_client.name, belgian_client.payment_terms_days) == (
        "Théâtre Royal des Galeries SA",
        15,
    )


def test_new_invoice_without_activity_explains_what_is_missing(client, member, belgian_client):
    client.force_login(member.user)
    page = client.get(reverse("invoicing:invoice_create")).content.decode()
    assert "you need an active membership and an Activity" in page


def test_detail_of_a_draft_computes_totals_from_its_lines(client, member, activity, belgian_client):
    make_draft(
        member,
        activity,
        belgian_client,
        lines=[line(), line(quantity="2", price="100", vat_rate=Decimal("6"))],
    )
    client.force_login(member.user)
    invoice = Invoice.objects.get()
    page = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).content.decode()
    assert "284.56\u00a0€" in page
    assert "Being prepared" not in page
