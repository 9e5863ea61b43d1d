"""Submitting and issuing: gapless numbers, frozen content, OGM, ledger, staff review."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from stdnum.be import ogm_vcs

from invoicing.errors import InvoicingError
from invoicing.models import Dispatch, Invoice, InvoiceDocument, InvoiceLine, InvoiceSequence
from invoicing.services.clients import create_client
from invoicing.services.drafts import delete_draft, save_draft
from invoicing.services.issue import approve_invoice, reject_invoice, submit_invoice
from members.models import LedgerEntry
from tests.conftest import NOW, make_member
from tests.invoicing.conftest import TODAY, days, line, make_draft


def test_submit_issues_with_number_ogm_snapshot_and_planned_income(
    draft, no_review, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invoice = submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    assert invoice.status == Invoice.Status.ISSUED
    assert invoice.number == "2026-000001"
    assert (invoice.issue_date, invoice.due_date) == (TODAY, TODAY + days(30))
    assert ogm_vcs.is_valid(invoice.structured_communication)
    assert invoice.structured_communication == "+++260/0000/00170+++"
    assert invoice.snapshot["totals"] == {
        "line_extension": "59.97",
        "allowance_total": "0.00",
        "charge_total": "0.00",
        "tax_exclusive": "59.97",
        "vat": "12.59",
        "tax_inclusive": "72.56",
        "payable": "72.56",
    }
    assert invoice.snapshot["buyer"]["vat_number"] == "BE1000000021"
    assert invoice.snapshot["buyer_reference"] == "PO-2026-77"
    (entry,) = LedgerEntry.objects.filter(activity=invoice.activity)
    assert (entry.kind, entry.stage, entry.amount, entry.reference) == (
        "client_income",
        "planned",
        Decimal("59.97"),
        "2026-000001",
    )
    assert set(invoice.documents.values_list("format", "status")) == {
        ("pdf", "pending"),
        ("ubl", "pending"),
    }
    assert set(invoice.dispatches.values_list("channel", "recipient")) == {
        ("email", "compta@galeries.example"),
        ("peppol", "0208:1000000021"),
    }
    assert len(callbacks) == 2  # one rendering task per document, after commit


def test_a_later_address_change_never_alters_an_issued_invoice(draft, no_review, belgian_client):
    invoice = submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    belgian_client.street = "Nouvelle adresse 1"
    belgian_client.save()
    invoice.refresh_from_db()
    assert invoice.snapshot["buyer"]["street"] == "Galerie du Roi 32"


def test_submitting_twice_issues_once(draft, no_review):
    submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    with pytest.raises(InvoicingError) as error:
        submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    assert error.value.code == "already_submitted"
    assert InvoiceSequence.objects.get(series="2026").last_number == 1
    assert LedgerEntry.objects.count() == 1


def test_dates_never_go_backwards_against_numbers(member, activity, belgian_client, no_review):
    first = make_draft(member, activity, belgian_client)
    second = make_draft(member, activity, belgian_client)
    submit_invoice(user=member.user, invoice=first, today=TODAY, now=NOW)
    with pytest.raises(InvoicingError) as error:
        submit_invoice(user=member.user, invoice=second, today=TODAY - days(1), now=NOW)
    assert error.value.code == "date_order"
    second.refresh_from_db()
    assert (second.status, second.number) == ("draft", None)
    assert InvoiceSequence.objects.get(series="2026").last_number == 1


def test_new_client_and_large_amounts_wait_for_staff(draft, staff, settings):
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = True
    invoice = submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    assert (invoice.status, invoice.number) == ("pending_review", None)
    assert invoice.review_reason == "first_invoice_to_client"  # read in any language
    assert invoice.review_reason_text == "first invoice to this client"
    assert LedgerEntry.objects.count() == 0

    issued = approve_invoice(staff_user=staff, invoice=invoice, today=TODAY, now=NOW)
    assert (issued.status, issued.number, issued.issued_by) == ("issued", "2026-000001", staff)


def test_amount_above_threshold_waits_for_staff(member, activity, belgian_client, settings):
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    settings.COOP_INVOICE_REVIEW_THRESHOLD = Decimal("50.00")
    invoice = submit_invoice(
        user=member.user, invoice=make_draft(member, activity, belgian_client), today=TODAY, now=NOW
    )
    assert invoice.status == "pending_review"
    assert invoice.review_reason == "amount_above_threshold:50.00"
    assert invoice.review_reason_text == "amount above 50.00\u00a0€"


def test_rejected_invoice_goes_back_to_the_member(draft, staff, settings):
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = True
    invoice = submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    with pytest.raises(InvoicingError):
        reject_invoice(staff_user=staff, invoice=invoice, reason=" ")
    invoice = reject_invoice(staff_user=staff, invoice=invoice, reason="Wrong client")
    assert (invoice.status, invoice.review_reason, invoice.is_editable) == (
        "rejected",
        "Wrong client",
        True,
    )


def test_credit_notes_have_their_own_series(draft, no_review, staff):
    from invoicing.services.credit import request_credit_note

    invoice = submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    credit_note = request_credit_note(
        user=draft.created_by, invoice=invoice, reason="Cancelled show", now=NOW
    )
    credit_note = approve_invoice(staff_user=staff, invoice=credit_note, today=TODAY, now=NOW)
    assert credit_note.number == "NC-2026-000001"
    assert credit_note.structured_communication is None
    assert credit_note.snapshot["credited_invoice"] == {
        "number": "2026-000001",
        "issue_date": "2026-03-02",
    }


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_issuers_get_contiguous_unique_numbers(settings):
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    settings.COOP_INVOICE_REVIEW_THRESHOLD = Decimal("1000000")
    member = make_member("ana@coop.test", legal_name="Ana Peeters", niss="85073003328")
    from members.services import create_activity

    activity = create_activity(owner=member, name="Illustration")
    client, _created = create_client(
        owner=member.user,
        kind="company",
        name="Galeries",
        street="Galerie du Roi 32",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="compta@galeries.example",
        language="fr",
        vat_number="BE1000000021",
    )
    drafts = [make_draft(member, activity, client) for _index in range(50)]
    barrier = threading.Barrier(50)

    def issue_one(invoice):
        try:
            barrier.wait()
            return submit_invoice(user=member.user, invoice=invoice, today=TODAY, now=NOW).number
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=50) as pool:
        numbers = list(pool.map(issue_one, drafts))

    assert sorted(numbers) == [f"2026-{index:06d}" for index in range(1, 51)]
    assert InvoiceSequence.objects.get(series="2026").last_number == 50
    ogms = set(Invoice.objects.values_list("structured_communication", flat=True))
    assert len(ogms) == 50


def test_issued_invoice_cannot_be_changed_through_raw_sql(draft, no_review):
    invoice = submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    statements = [
        ("UPDATE invoicing_invoice SET total_incl_vat = 1 WHERE id = %s", [invoice.pk]),
        ("UPDATE invoicing_invoice SET number = '2026-999999' WHERE id = %s", [invoice.pk]),
        ("UPDATE invoicing_invoice SET status = 'draft' WHERE id = %s", [invoice.pk]),
        ("DELETE FROM invoicing_invoice WHERE id = %s", [invoice.pk]),
        ("UPDATE invoicing_invoiceline SET unit_price = 1 WHERE invoice_id = %s", [invoice.pk]),
        ("DELETE FROM invoicing_invoiceline WHERE invoice_id = %s", [invoice.pk]),
        (
            "INSERT INTO invoicing_invoiceline (invoice_id, position, description, quantity,"
            " unit, unit_price, vat_category, vat_rate, exemption_reason)"
            " VALUES (%s, 9, 'extra', 1, 'hour', 1, 'S', 21, '')",
            [invoice.pk],
        ),
    ]
    for sql, params in statements:
        with (
            pytest.raises(DatabaseError, match="issued invoice"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)
    invoice.refresh_from_db()
    assert (invoice.number, invoice.total_incl_vat, invoice.status) == (
        "2026-000001",
        Decimal("72.56"),
        "issued",
    )
    assert InvoiceLine.objects.filter(invoice=invoice).count() == 1


def test_payment_status_of_an_issued_invoice_may_still_change(draft, no_review):
    invoice = submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    Invoice.objects.filter(pk=invoice.pk).update(status="paid")
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_issued_invoice_cannot_be_edited_or_deleted_through_the_services(draft, no_review):
    invoice = submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    with pytest.raises(InvoicingError):
        save_draft(
            user=draft.created_by,
            invoice=invoice,
            activity=invoice.activity,
            client=invoice.client,
            lines=[line()],
            today=TODAY,
        )
    with pytest.raises(InvoicingError):
        delete_draft(invoice=invoice)
    assert Invoice.objects.filter(pk=invoice.pk, number="2026-000001").exists()


def test_documents_are_rendered_once_and_sent(draft, no_review, settings, tmp_path, mailoutbox):
    settings.MEDIA_ROOT = tmp_path
    from invoicing.services.documents import render_document, send_dispatch

    invoice = submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    for document in invoice.documents.all():
        assert render_document(document=document) is True
        assert render_document(document=document) is False  # a redelivered task does nothing
    pdf = invoice.documents.get(format=InvoiceDocument.Format.PDF)
    assert pdf.status == "ready" and len(pdf.sha256) == 64
    assert pdf.file.read(5) == b"%PDF-"
    for dispatch in invoice.dispatches.all():
        assert send_dispatch(dispatch=dispatch) is True
        assert send_dispatch(dispatch=dispatch) is False
    (message,) = mailoutbox
    assert message.to == ["compta@galeries.example"]
    assert [name for name, _content, _type in message.attachments] == [
        "2026-000001.pdf",
        "2026-000001.xml",
    ]
    peppol = invoice.dispatches.get(channel=Dispatch.Channel.PEPPOL)
    assert peppol.status == "sent" and peppol.reference.startswith("outbox:")


def test_suspended_member_cannot_submit_an_existing_draft(draft, staff, no_review):
    from members.services import suspend_member

    suspend_member(member=draft.activity.owner, actor=staff, reason="Under review")
    with pytest.raises(InvoicingError) as error:
        submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    assert error.value.code == "member_not_active"
    draft.refresh_from_db()
    assert (draft.status, draft.number) == ("draft", None)


def test_date_of_supply_is_frozen_in_the_snapshot_pdf_and_ubl(
    member, activity, french_client, no_review
):
    from invoicing.pdf import render_invoice_pdf
    from invoicing.ubl import build_ubl

    draft = make_draft(
        member,
        activity,
        french_client,
        [line(vat_category="K", vat_rate=Decimal("0"), supply_kind="goods")],
        supply_date=TODAY - days(20),
    )
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    assert invoice.snapshot["supply_date"] == "2026-02-10"
    assert b"<cbc:ActualDeliveryDate>2026-02-10</cbc:ActualDeliveryDate>" in build_ubl(
        invoice.snapshot
    )
    import pypdfium2

    pdf = pypdfium2.PdfDocument(render_invoice_pdf(invoice.snapshot))
    text = pdf[0].get_textpage().get_text_range()
    assert "Date of supply" in text and "10 February 2026" in text
    with (
        pytest.raises(DatabaseError, match="issued invoice"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE invoicing_invoice SET supply_date = NULL WHERE id = %s", [invoice.pk]
        )


def test_supply_on_the_issue_date_is_not_repeated(draft, no_review):
    from invoicing.services.drafts import save_draft

    save_draft(
        user=draft.created_by,
        invoice=draft,
        activity=draft.activity,
        client=draft.client,
        lines=[line()],
        today=TODAY,
        supply_date=TODAY,
        buyer_reference="PO-2026-77",
    )
    invoice = submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    assert invoice.snapshot["supply_date"] == ""


def _tamper_snapshot(invoice, path: str, value: str) -> None:
    """Change an issued invoice's frozen snapshot behind the guard, as a faulty write would."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(
                "UPDATE invoicing_invoice SET snapshot = jsonb_set(snapshot::jsonb, %s, %s)"
                " WHERE id = %s",
                [path, f'"{value}"', invoice.pk],
            )
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


def test_an_e_invoice_breaking_a_rule_never_goes_on_peppol(
    draft, no_review, settings, tmp_path, mailoutbox, staff_client
):
    from audit.models import AuditEvent
    from invoicing.services.documents import render_document, send_dispatch

    settings.MEDIA_ROOT = tmp_path
    invoice = submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    # The amount due no longer follows from the totals: EN 16931 rule BR-CO-16 fails.
    _tamper_snapshot(invoice, "{totals,payable}", "1.00")
    for document in invoice.documents.all():
        assert render_document(document=document) is True
    peppol = invoice.dispatches.get(channel=Dispatch.Channel.PEPPOL)

    assert send_dispatch(dispatch=peppol) is False

    peppol.refresh_from_db()
    assert (peppol.status, peppol.reference) == ("failed", "")
    assert peppol.error.startswith(
        "Not sent over Peppol: the e-invoice breaks 1 validation rule: [BR-CO-16]-Amount due"
    )
    assert not (tmp_path / "peppol").exists()
    event = AuditEvent.objects.get(action="peppol_refused")
    assert (event.object_pk, event.reason) == (str(peppol.pk), peppol.error)
    # A redelivered task does not try again.
    assert send_dispatch(dispatch=peppol) is False
    # Staff find the refused sending among the failed ones, with its reason.
    page = staff_client.get("/admin/invoicing/dispatch/?status__exact=failed").content.decode()
    assert "2026-000001" in page and "BR-CO-16" in page
    page = staff_client.get("/admin/invoicing/dispatch/?status__exact=sent").content.decode()
    assert "BR-CO-16" not in page


def test_warnings_alone_do_not_keep_an_e_invoice_off_peppol():
    from lxml import etree

    from invoicing.services.documents import peppol_refusal
    from invoicing.ubl import build_ubl
    from invoicing.validation import check_ubl
    from tests.invoicing import snapshots

    cbc = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
    root = etree.fromstring(build_ubl(snapshots.domestic_invoice()))
    uuid = etree.Element(f"{{{cbc}}}UUID")
    uuid.text = "6f1e2a9c-3a43-4d1b-9c51-2b8c7a1f0e11"
    root.find(f"{{{cbc}}}ID").addnext(uuid)
    payload = etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    report = check_ubl(payload)
    assert report.errors == [] and report.rules("cen", fatal=False) == ["UBL-CR-005"]
    assert peppol_refusal(payload) == ""
