"""Staff work in the admin: review queue, payments, bank statements, the guarantee fund."""

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from invoicing.models import BankStatement, Invoice, Payment
from invoicing.services.documents import render_document
from invoicing.services.issue import submit_invoice
from tests.conftest import NOW
from tests.invoicing.conftest import TODAY, days, line, make_draft
from tests.invoicing.test_payments import ENTRY, camt_file, structured


def test_staff_approve_invoices_waiting_for_review(staff_client, draft, settings):
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = True
    invoice = submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    response = staff_client.post(
        reverse("admin:invoicing_invoice_changelist"),
        {"action": "approve", "_selected_action": [invoice.pk]},
        follow=True,
    )
    assert "1 document issued." in response.content.decode()
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == ("issued", f"{TODAY.year}-000001")


def test_issued_invoices_are_read_only_in_the_admin(staff_client, draft, no_review):
    invoice = submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    url = reverse("admin:invoicing_invoice_change", args=[invoice.pk])
    page = staff_client.get(url).content.decode()
    assert 'name="_save"' not in page
    assert staff_client.post(url, {"notes": "changed"}).status_code == 403
    invoice.refresh_from_db()
    assert invoice.notes == ""


def test_staff_record_a_payment_in_the_admin(staff_client, draft, no_review):
    invoice = submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    response = staff_client.post(
        reverse("admin:invoicing_payment_add"),
        {"invoice": invoice.pk, "amount": "72.56", "received_on": TODAY.isoformat(), "note": ""},
    )
    assert response.status_code == 302
    assert Payment.objects.get().amount == Decimal("72.56")
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_the_admin_refuses_a_payment_beyond_what_is_due(staff_client, draft, no_review):
    invoice = submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    response = staff_client.post(
        reverse("admin:invoicing_payment_add"),
        {"invoice": invoice.pk, "amount": "72.57", "received_on": TODAY.isoformat(), "note": ""},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "amount": [
            f"Only 72.56\u00a0€ is still due on invoice {invoice.number}: a payment recorded by "
            "hand cannot be more (72.57\u00a0€)."
        ]
    }
    assert not Payment.objects.exists()


def test_bank_statement_import_page(staff_client, draft, no_review, settings):
    # The page imports on the real day, and the statement is of the tests' fixed day.
    settings.COOP_BANK_STATEMENT_MAX_AGE_DAYS = 100 * 366
    invoice = submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    data = camt_file(
        ENTRY.format(
            amount="72.56",
            direction="CRDT",
            reference="B1",
            remittance=structured(invoice.structured_communication),
        )
    )
    url = reverse("admin:invoicing_bankstatement_import")
    response = staff_client.post(url, {"file": SimpleUploadedFile("march.xml", data)}, follow=True)
    assert (
        "Payments matched: 1. Lines to review before matching: 0. Other lines left for staff: 0."
        in response.content.decode()
    )
    invoice.refresh_from_db()
    assert invoice.status == "paid"

    broken = staff_client.post(url, {"file": SimpleUploadedFile("x.xml", b"not xml at all")})
    assert broken.status_code == 200
    assert "errorlist" in broken.content.decode()
    assert BankStatement.objects.count() == 1


def test_guarantee_fund_page(staff_client, member, activity, belgian_client, no_review):
    old = make_draft(member, activity, belgian_client, [line(quantity="10", price="100.00")])
    submit_invoice(user=member.user, invoice=old, today=TODAY, now=NOW)
    later = TODAY + days(45)
    recent = make_draft(member, activity, belgian_client, [line(quantity="1", price="100.00")])
    submit_invoice(user=member.user, invoice=recent, today=later, now=NOW)
    from django.utils import timezone

    page = staff_client.get(reverse("guarantee_fund")).content.decode()
    assert Invoice.objects.filter(status="issued").count() == 2
    assert "Théâtre des Galeries SA" in page and "Ana Peeters" in page
    assert timezone.localdate() > later  # both invoices are overdue today
    assert "1,331.00\u00a0€" in page  # 1210.00 + 121.00 outstanding


def test_members_cannot_open_the_guarantee_fund(client, member):
    client.force_login(member.user)
    response = client.get(reverse("guarantee_fund"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_document_links_in_the_admin_go_through_the_checked_downloads(
    staff_client, draft, no_review, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    invoice = submit_invoice(user=draft.created_by, invoice=draft, today=TODAY, now=NOW)
    for document in invoice.documents.all():
        render_document(document=document)

    page = staff_client.get(reverse("admin:invoicing_invoice_change", args=[invoice.pk]))

    content = page.content.decode()
    for view in ("invoicing:invoice_pdf", "invoicing:invoice_ubl"):
        url = reverse(view, args=[invoice.pk])
        assert f'href="{url}"' in content
        assert staff_client.get(url).status_code == 200
    assert "/media/" not in content


def test_staff_check_a_buyer_and_an_edit_of_its_identity_needs_a_new_check(
    staff_client, staff, belgian_client
):
    buyer = belgian_client.buyer
    url = reverse("admin:invoicing_buyer_change", args=[buyer.pk])
    form = {
        "legal_name": "Théâtre Royal des Galeries SA",
        "street": "Galerie du Roi 32",
        "postal_code": "1000",
        "city": "Bruxelles",
        "staff_notes": "",
    }
    assert staff_client.post(url, form).status_code == 302
    changelist = reverse("admin:invoicing_buyer_changelist")
    staff_client.post(
        changelist, {"action": "check_identification", "_selected_action": [buyer.pk]}
    )
    buyer.refresh_from_db()
    assert (buyer.verified_by, buyer.legal_name) == (staff, "Théâtre Royal des Galeries SA")
    page = staff_client.get(url).content.decode()
    assert "Invoiced by 1 member." in page

    staff_client.post(url, {**form, "legal_name": "Typo Name SA"})
    buyer.refresh_from_db()
    assert (buyer.legal_name, buyer.verified_at, buyer.verified_by) == ("Typo Name SA", None, None)


def _errors(response) -> dict:
    form = response.context["adminform"].form
    return {field: list(messages) for field, messages in form.errors.items()}


def test_staff_read_why_a_client_is_refused_on_its_field(staff_client, member, belgian_client):
    from invoicing.services.clients import create_client

    other, _created = create_client(
        owner=member.user,
        kind="company",
        name="Other SA",
        street="Rue 1",
        postal_code="1000",
        city="Bruxelles",
        country="BE",
        email="other@example.be",
        language="fr",
    )
    url = reverse("admin:invoicing_client_change", args=[other.pk])
    form = {
        "owner": member.user.pk,
        "kind": "company",
        "name": "Other SA",
        "street": "Rue 1",
        "postal_code": "1000",
        "city": "Bruxelles",
        "country": "BE",
        "email": "other@example.be",
        "language": "fr",
        "vat_number": "",
        "peppol_id": "",
        "gln": "",
        "payment_terms_days": 30,
    }
    refusals = [
        (
            {"payment_terms_days": 121},
            "payment_terms_days",
            "Payment terms are between 0 and 120 days.",
        ),
        (
            {"vat_number": "BE 1000.000.021"},
            "vat_number",
            "This member already has a client with this VAT number.",
        ),
        (
            {"peppol_id": "0088:123"},
            "peppol_id",
            "This Peppol id is not valid: under scheme 0088, a GLN has 13 digits, the last one "
            "a check digit.",
        ),
    ]
    for values, field, message in refusals:
        response = staff_client.post(url, {**form, **values})

        assert response.status_code == 200
        assert _errors(response) == {field: [message]}
        assert "Constraint" not in response.content.decode()
    other.refresh_from_db()
    assert (other.payment_terms_days, other.vat_number, other.peppol_id) == (30, "", "")


def test_a_checked_buyer_keeps_its_registered_name_in_the_admin(staff_client, belgian_client):
    buyer = belgian_client.buyer
    buyer.legal_name = "Théâtre Royal des Galeries SA"
    buyer.verified_at = NOW
    buyer.save()
    url = reverse("admin:invoicing_buyer_change", args=[buyer.pk])

    response = staff_client.post(
        url,
        {"legal_name": "", "street": "", "postal_code": "", "city": "", "staff_notes": ""},
    )

    assert response.status_code == 200
    assert _errors(response) == {
        "legal_name": [
            "A buyer whose identification was checked keeps its registered name: write it."
        ]
    }
    assert "Constraint" not in response.content.decode()
