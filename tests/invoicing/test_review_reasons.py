"""Why a document waits for staff review is read in the reader's language, wherever shown."""

from decimal import Decimal

from django.urls import reverse
from django.utils import translation

from invoicing.review_reasons import render_review_reason
from invoicing.services.credit import request_credit_note
from invoicing.services.issue import reject_invoice, submit_invoice
from tests.conftest import NOW, api_client_for
from tests.invoicing.conftest import TODAY, line, make_draft


def _submitted_in_french(member, activity, client, settings):
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = True
    settings.COOP_INVOICE_REVIEW_THRESHOLD = Decimal("50.00")
    draft = make_draft(member, activity, client)
    with translation.override("fr"):
        return submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)


def test_a_french_members_review_reasons_read_in_dutch_and_english(
    staff_client, member, activity, belgian_client, settings
):
    invoice = _submitted_in_french(member, activity, belgian_client, settings)
    staff_client.cookies["coop_language"] = "nl"
    change = staff_client.get(reverse("admin:invoicing_invoice_change", args=[invoice.pk]))
    page = change.content.decode()
    assert "bedrag hoger dan 50,00\u00a0€, eerste factuur aan deze klant" in page
    assert "première facture" not in page
    fund = staff_client.get(reverse("guarantee_fund")).content.decode()
    assert "(bedrag hoger dan 50,00\u00a0€, eerste factuur aan deze klant)" in fund

    body = api_client_for(member.user).get(f"/api/v1/invoices/{invoice.pk}/").json()
    assert body["review_reason"] == "amount above 50.00\u00a0€, first invoice to this client"

    staff_client.cookies["coop_language"] = "en"
    assert "amount above 50.00\u00a0€, first invoice to this client" in (
        staff_client.get(
            reverse("admin:invoicing_invoice_change", args=[invoice.pk])
        ).content.decode()
    )


def test_the_members_invoice_page_reads_the_reason_in_the_members_language(
    client, staff, member, activity, belgian_client, settings
):
    invoice = _submitted_in_french(member, activity, belgian_client, settings)
    client.force_login(member.user)
    client.cookies["coop_language"] = "nl"
    page = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).content.decode()
    assert (
        "Wacht op controle door de medewerkers: bedrag hoger dan 50,00\u00a0€, "
        "eerste factuur aan deze klant." in page
    )

    # A reason staff type when sending the invoice back is shown as typed.
    reject_invoice(staff_user=staff, invoice=invoice, reason="Mauvais client, first invoice")
    page = client.get(reverse("invoicing:invoice_detail", args=[invoice.pk])).content.decode()
    assert "Reden: Mauvais client, first invoice" in page
    body = api_client_for(member.user).get(f"/api/v1/invoices/{invoice.pk}/").json()
    assert (body["status"], body["review_reason"]) == (
        "rejected",
        "Mauvais client, first invoice",
    )


def test_place_of_supply_and_credit_note_reasons_read_in_dutch(
    staff_client, member, activity, german_client, settings
):
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    settings.COOP_INVOICE_REVIEW_THRESHOLD = Decimal("1000000")
    draft = make_draft(member, activity, german_client, lines=[line()])
    with translation.override("fr"):
        invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    staff_client.cookies["coop_language"] = "nl"
    page = staff_client.get(
        reverse("admin:invoicing_invoice_change", args=[invoice.pk])
    ).content.decode()
    assert (
        "Belgische btw op een dienst aan een onderneming gevestigd in het buitenland: "
        "controleer de plaats van de dienst (art. 21 §2)" in page
    )

    staff_client.cookies["coop_language"] = "en"
    staff_client.post(
        reverse("admin:invoicing_invoice_changelist"),
        {"action": "approve", "_selected_action": [invoice.pk]},
    )
    with translation.override("fr"):
        credit_note = request_credit_note(user=member.user, invoice=invoice, reason="Erreur")
    staff_client.cookies["coop_language"] = "nl"
    page = staff_client.get(
        reverse("admin:invoicing_invoice_change", args=[credit_note.pk])
    ).content.decode()
    assert "creditnota aangevraagd" in page
    assert "note de crédit demandée" not in page


def test_reasons_written_before_the_codes_are_shown_as_stored():
    with translation.override("nl"):
        assert render_review_reason("first invoice to this client") == (
            "first invoice to this client"
        )
        assert render_review_reason("amount_above_threshold:5000.00") == (
            "bedrag hoger dan 5.000,00\u00a0€"
        )
        assert render_review_reason("amount_above_threshold:lots") == (
            "amount_above_threshold:lots"
        )
        assert render_review_reason("") == ""
