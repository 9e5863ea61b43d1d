"""Credit notes credit no more than was invoiced, per line and in total, and ask for no payment."""

from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from lxml import etree, html

from invoicing.errors import InvoicingError
from invoicing.models import Invoice, InvoiceLine, Refund
from invoicing.pdf import render_invoice_pdf
from invoicing.services.credit import CreditLineInput, request_credit_note
from invoicing.services.drafts import AllowanceChargeInput
from invoicing.services.issue import approve_invoice, reject_invoice, submit_invoice
from invoicing.services.payments import record_payment
from invoicing.services.refunds import record_refund, refundable_amount, request_refund
from invoicing.ubl import build_ubl
from invoicing.validation import check_ubl
from tests.conftest import NOW, api_client_for, make_user, run_at_once
from tests.invoicing import test_allowances_and_references as allowances
from tests.invoicing.conftest import TODAY, line, make_draft
from tests.invoicing.test_pdf import pdf_text

NBSP = "\u00a0"


@pytest.fixture
def invoice(two_rate_invoice):
    return two_rate_invoice


def request(invoice, *lines: CreditLineInput, reason="Correction"):
    return request_credit_note(
        user=invoice.created_by, invoice=invoice, reason=reason, lines=list(lines) or None
    )


def approve(credit_note, staff):
    return approve_invoice(staff_user=staff, invoice=credit_note, today=TODAY, now=NOW)


def credited_vat_on_line_1(invoice) -> Decimal:
    notes = Invoice.objects.filter(credited_invoice=invoice).exclude(status="rejected")
    return sum(
        (note.total_vat for note in notes if note.lines.filter(credited_line__position=1)),
        Decimal("0.00"),
    )


def test_the_invoice_totals(invoice):
    assert (invoice.total_excl_vat, invoice.total_vat, invoice.total_incl_vat) == (
        Decimal("1150.00"),
        Decimal("219.00"),
        Decimal("1369.00"),
    )


def test_900_on_a_line_of_150_is_refused_with_what_is_left(invoice):
    with pytest.raises(InvoicingError) as error:
        request(invoice, CreditLineInput(position=1, amount=Decimal("900.00")))

    assert error.value.message == f"Line 1: at most 150.00{NBSP}€ excl. VAT is left to credit."
    assert error.value.code == "credit_too_large"
    assert not Invoice.objects.filter(kind="credit_note").exists()


def test_954_is_never_issued_and_vat_credited_never_exceeds_9(invoice, member, staff):
    api = api_for_member(member)
    url = f"/api/v1/invoices/{invoice.pk}/credit-notes/"
    for lines, message in [
        (
            [{"position": 1, "amount": "900.00"}],
            f"Line 1: at most 150.00{NBSP}€ excl. VAT is left to credit.",
        ),
        (
            # Crediting line 1 at 21 % would give back VAT never charged.
            [{"position": 1, "amount": "150.00", "vat_category": "S", "vat_rate": "21.00"}],
            "Line 1: a credit note keeps the VAT category and rate of the invoice line "
            "(reduced rate, 6 %).",
        ),
        ([{"position": 1, "quantity": "6"}], "Line 1: at most 1 can be credited."),
    ]:
        response = api.post(url, {"reason": "Cancelled", "lines": lines}, format="json")
        assert response.status_code == 400, response.json()
        assert response.json()["detail"] == message
    assert not Invoice.objects.filter(kind="credit_note").exists()

    response = api.post(
        url,
        {"reason": "Room not used", "lines": [{"position": 1, "amount": "150.00"}]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    credit_note = Invoice.objects.get(pk=response.json()["pk"])
    approve(credit_note, staff)
    assert (credit_note.total_excl_vat, credit_note.total_vat, credit_note.total_incl_vat) == (
        Decimal("150.00"),
        Decimal("9.00"),
        Decimal("159.00"),
    )
    refused = api.post(
        url, {"reason": "Again", "lines": [{"position": 1, "amount": "0.01"}]}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["detail"] == f"Line 1: at most 0.00{NBSP}€ excl. VAT is left to credit."
    assert credited_vat_on_line_1(invoice) == Decimal("9.00")
    assert not Invoice.objects.filter(kind="credit_note", total_incl_vat=Decimal("954.00"))


def api_for_member(member):
    return api_client_for(member.user)


def test_partial_credits_add_up_to_the_invoice(invoice, staff):
    first = approve(request(invoice, CreditLineInput(position=2, quantity=Decimal("4"))), staff)
    second = approve(
        request(
            invoice,
            CreditLineInput(position=2, quantity=Decimal("6")),
            CreditLineInput(position=1, amount=Decimal("100.00")),
        ),
        staff,
    )
    third = approve(request(invoice, CreditLineInput(position=1, amount=Decimal("50.00"))), staff)

    notes = [first, second, third]
    assert [note.total_incl_vat for note in notes] == [
        Decimal("484.00"),
        Decimal("832.00"),
        Decimal("53.00"),
    ]
    assert sum(note.total_excl_vat for note in notes) == invoice.total_excl_vat
    assert sum(note.total_vat for note in notes) == invoice.total_vat
    assert sum(note.total_incl_vat for note in notes) == invoice.total_incl_vat
    assert [line.credited_line.position for line in second.lines.all()] == [2, 1]
    invoice.refresh_from_db()
    assert invoice.status == "credited"
    with pytest.raises(InvoicingError) as error:
        request(invoice)
    assert (
        error.value.message == "Credit notes cannot exceed the invoice: nothing is left to credit."
    )


def test_a_full_credit_after_a_partial_one_credits_what_is_left(invoice, staff):
    approve(request(invoice, CreditLineInput(position=2, quantity=Decimal("3"))), staff)
    rest = approve(request(invoice), staff)

    assert (rest.total_excl_vat, rest.total_vat, rest.total_incl_vat) == (
        Decimal("850.00"),
        Decimal("156.00"),
        Decimal("1006.00"),
    )
    assert [(line.credited_line.position, line.net_amount) for line in rest.lines.all()] == [
        (1, Decimal("150.00")),
        (2, Decimal("700.00")),
    ]


def test_over_crediting_after_an_earlier_note_is_refused_even_while_it_waits(invoice):
    pending = request(invoice, CreditLineInput(position=2, quantity=Decimal("8")))
    assert pending.status == "pending_review"

    with pytest.raises(InvoicingError) as error:
        request(invoice, CreditLineInput(position=2, quantity=Decimal("3")))

    assert error.value.message == f"Line 2: at most 200.00{NBSP}€ excl. VAT is left to credit."
    assert Invoice.objects.filter(kind="credit_note").count() == 1
    # A rejected note no longer counts.
    reject_invoice(staff_user=invoice.created_by, invoice=pending, reason="Wrong line")
    assert request(invoice, CreditLineInput(position=2, quantity=Decimal("3"))).total_excl_vat == (
        Decimal("300.00")
    )


def test_approval_checks_again_what_is_left(invoice, staff):
    first = request(invoice, CreditLineInput(position=1, amount=Decimal("100.00")))
    # A note that reached the review queue past the request check (typed in before the caps
    # existed): staff must not issue it once the first one is issued.
    second = Invoice.objects.create(
        kind="credit_note",
        status="pending_review",
        activity=invoice.activity,
        client=invoice.client,
        credited_invoice=invoice,
        buyer_reference=invoice.buyer_reference,
        notes="Room not used",
        total_excl_vat=Decimal("100.00"),
        total_vat=Decimal("6.00"),
        total_incl_vat=Decimal("106.00"),
        created_by=invoice.created_by,
    )
    InvoiceLine.objects.create(
        invoice=second,
        position=1,
        description="Rehearsal room",
        quantity=Decimal("1"),
        unit="piece",
        unit_price=Decimal("100.00"),
        vat_rate=Decimal("6"),
        credited_line=invoice.lines.get(position=1),
    )

    for note in [second, first]:
        with pytest.raises(InvoicingError) as error:
            approve(note, staff)
        assert error.value.message == f"Line 1: at most 50.00{NBSP}€ excl. VAT is left to credit."
        note.refresh_from_db()
        assert (note.status, note.number) == ("pending_review", None)
    reject_invoice(staff_user=staff, invoice=second, reason="Twice the same credit")
    assert approve(first, staff).number == "NC-2026-000001"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_cannot_both_pass(invoice):
    def ask() -> str:
        try:
            request(invoice, CreditLineInput(position=2, quantity=Decimal("6")))
        except InvoicingError as error:
            return error.message
        return "requested"

    assert run_at_once(ask, times=2) == [
        f"Line 2: at most 400.00{NBSP}€ excl. VAT is left to credit.",
        "requested",
    ]
    assert Invoice.objects.filter(kind="credit_note").count() == 1


def test_an_issued_credit_note_asks_for_no_payment(invoice, staff, member, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    credit_note = approve(
        request(invoice, CreditLineInput(position=1, amount=Decimal("150"))), staff
    )

    assert credit_note.due_date is None
    assert credit_note.snapshot["due_date"] == ""
    xml = build_ubl(credit_note.snapshot)
    root = etree.fromstring(xml)
    namespaces = {"cac": root.nsmap["cac"], "cbc": root.nsmap["cbc"]}
    assert (
        root.xpath("cac:PaymentMeans | //cbc:PaymentDueDate | //cbc:DueDate", namespaces=namespaces)
        == []
    )
    terms = root.xpath("string(cac:PaymentTerms/cbc:Note)", namespaces=namespaces)
    assert terms == credit_note.snapshot["settlement"]["text"]
    assert invoice.number in terms
    report = check_ubl(xml)
    assert (report.errors, report.warnings) == ([], [])

    text = pdf_text(render_invoice_pdf(credit_note.snapshot))
    assert "IBAN" not in text
    assert "Settlement" in text or "Règlement" in text
    assert invoice.number in text.split("Settlement" if "Settlement" in text else "Règlement")[1]
    assert invoice.structured_communication not in text

    body = api_client_for(member.user).get(f"/api/v1/invoices/{credit_note.pk}/").json()
    assert body["amount_due"] is None
    assert (body["amount_refundable"], body["refunds"]) == ("0.00", [])
    invoice_body = api_client_for(member.user).get(f"/api/v1/invoices/{invoice.pk}/").json()
    assert (invoice_body["amount_due"], invoice_body["amount_refundable"]) == ("1210.00", None)


def test_a_credit_note_on_an_unpaid_invoice_is_deducted_from_what_is_due(invoice, staff):
    credit_note = approve(
        request(invoice, CreditLineInput(position=1, amount=Decimal("150"))), staff
    )

    settlement = credit_note.snapshot["settlement"]
    assert (settlement["deducted"], settlement["refunded"]) == ("159.00", "0.00")
    assert invoice.number in settlement["text"]
    assert Invoice.objects.with_amounts().get(pk=invoice.pk).amount_due == Decimal("1210.00")
    record_payment(
        invoice=invoice, amount=Decimal("1210.00"), received_on=TODAY, actor=staff, now=NOW
    )
    invoice.refresh_from_db()
    assert invoice.status == "paid"


@pytest.mark.parametrize(
    ("language", "deducted", "refunded"),
    [("nl", "10,00", "149,00"), ("fr", "10,00", "149,00"), ("en", "10.00", "149.00")],
)
def test_the_settlement_writes_amounts_in_the_credit_notes_language(
    invoice, staff, language, deducted, refunded
):
    paid = invoice.total_incl_vat - Decimal("10.00")
    record_payment(invoice=invoice, amount=paid, received_on=TODAY, actor=staff, now=NOW)
    invoice.client.language = language
    invoice.client.save(update_fields=["language"])
    credit_note = approve(
        request(invoice, CreditLineInput(position=1, amount=Decimal("150"))), staff
    )

    settlement = credit_note.snapshot["settlement"]
    assert credit_note.language == language
    assert (settlement["deducted"], settlement["refunded"]) == ("10.00", "149.00")
    assert f"{deducted}{NBSP}€" in settlement["text"]
    assert f"{refunded}{NBSP}€" in settlement["text"]


@pytest.fixture
def staff_client(client, staff):
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(staff)
    return client


def table_rows(page: str) -> list[list[str]]:
    table = html.fromstring(page).xpath('//table[@class="credit-comparison"]')[0]
    return [
        [" ".join(cell.text_content().split()) for cell in row.xpath("td")]
        for row in table.xpath("tbody/tr")
    ]


def test_staff_see_each_credited_line_beside_the_original(staff_client, invoice, staff):
    approve(request(invoice, CreditLineInput(position=2, quantity=Decimal("3"))), staff)
    pending = request(
        invoice,
        CreditLineInput(position=1, amount=Decimal("150.00")),
        CreditLineInput(position=2, quantity=Decimal("2")),
    )
    expected = [
        ["1", "Rehearsal room", "1", "150.00 €", "150.00 €", "6 % (reduced rate)", "0.00 €",
         "0.00 €", "1", "150.00 €", "9.00 €", "0.00 €", "0.00 €"],
        ["2", "Lighting design", "10", "100.00 €", "1,000.00 €", "21 % (standard rate)",
         "300.00 €", "63.00 €", "2", "200.00 €", "42.00 €", "500.00 €", "105.00 €"],
    ]  # fmt: skip

    change = staff_client.get(reverse("admin:invoicing_invoice_change", args=[pending.pk]))
    assert table_rows(change.content.decode().replace(NBSP, " ")) == expected
    review_url = reverse("admin:invoicing_invoice_review", args=[pending.pk])
    assert review_url in change.content.decode()
    review = staff_client.get(review_url)
    assert table_rows(review.content.decode().replace(NBSP, " ")) == expected

    response = staff_client.post(review_url, {"approve": "1"}, follow=True)
    assert "Credit note NC-2026-000002 issued." in response.content.decode()
    pending.refresh_from_db()
    assert (pending.status, pending.number) == ("issued", "NC-2026-000002")


def test_the_review_screen_explains_why_a_credit_note_cannot_be_issued(
    staff_client, invoice, staff
):
    pending = request(invoice, CreditLineInput(position=1, amount=Decimal("150.00")))
    # Written past the request check, as a note typed in before the caps existed.
    InvoiceLine.objects.filter(invoice=pending).update(unit_price=Decimal("900.00"))
    review_url = reverse("admin:invoicing_invoice_review", args=[pending.pk])
    message = f"Line 1: at most 150.00{NBSP}€ excl. VAT is left to credit."

    staff_client.get(review_url)
    with CaptureQueriesContext(connection) as queries:
        shown = staff_client.get(review_url).content.decode()
    assert message in shown
    # The invoice's position is read once, for the table and for the check.
    assert sum('FROM "invoicing_invoiceline"' in query["sql"] for query in queries) == 1
    page = staff_client.post(review_url, {"approve": "1"}).content.decode()
    assert message in page
    pending.refresh_from_db()
    assert (pending.status, pending.number) == ("pending_review", None)


def test_the_invoice_list_runs_as_many_queries_for_many_credit_notes(member, invoice, staff):
    api = api_client_for(member.user)
    approve(request(invoice, CreditLineInput(position=2, quantity=Decimal("1"))), staff)
    api.get("/api/v1/invoices/")
    with CaptureQueriesContext(connection) as one_note:
        assert api.get("/api/v1/invoices/").status_code == 200
    for _index in range(3):
        approve(request(invoice, CreditLineInput(position=2, quantity=Decimal("1"))), staff)
    with CaptureQueriesContext(connection) as four_notes:
        response = api.get("/api/v1/invoices/")

    assert len(response.json()["results"]) == 5
    assert len(four_notes) == len(one_note)


# VAT rounding: the credit note that completes a line or a VAT group takes the VAT left of it.

UBL_NAMESPACES = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


@pytest.fixture
def hours_invoice(member, activity, belgian_client, no_review):
    """3 hours × 19.99 at 21 %: 59.97 and, rounded once, 12.59 of VAT (per hour 4.1979)."""
    from invoicing.services.issue import submit_invoice

    draft = make_draft(member, activity, belgian_client)
    return submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)


def amounts(note) -> tuple[Decimal, Decimal, Decimal]:
    return note.total_excl_vat, note.total_vat, note.total_incl_vat


def ubl_figures(xml: bytes) -> dict[str, str]:
    root = etree.fromstring(xml)
    path = {
        "subtotal_taxable": "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxableAmount",
        "subtotal_vat": "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount",
        "tax_total": "cac:TaxTotal/cbc:TaxAmount",
        "tax_inclusive": "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount",
        "payable": "cac:LegalMonetaryTotal/cbc:PayableAmount",
    }
    return {name: root.xpath(f"string({xpath})", namespaces=UBL_NAMESPACES) for name, xpath in
            path.items()}  # fmt: skip


def test_three_one_hour_credits_take_back_exactly_the_vat_charged(
    hours_invoice, staff, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    assert amounts(hours_invoice) == (Decimal("59.97"), Decimal("12.59"), Decimal("72.56"))

    notes = [
        approve(request(hours_invoice, CreditLineInput(position=1, quantity=Decimal("1"))), staff)
        for _hour in range(3)
    ]

    assert [amounts(note) for note in notes] == [
        (Decimal("19.99"), Decimal("4.20"), Decimal("24.19")),
        (Decimal("19.99"), Decimal("4.20"), Decimal("24.19")),
        (Decimal("19.99"), Decimal("4.19"), Decimal("24.18")),
    ]
    assert sum(note.total_vat for note in notes) == Decimal("12.59")
    assert sum(note.total_incl_vat for note in notes) == Decimal("72.56")
    third = notes[2]
    assert third.snapshot["vat_breakdown"][0]["vat_amount"] == "4.19"
    assert (third.snapshot["totals"]["vat"], third.snapshot["totals"]["payable"]) == (
        "4.19",
        "24.18",
    )
    xml = build_ubl(third.snapshot)
    assert ubl_figures(xml) == {
        "subtotal_taxable": "19.99",
        "subtotal_vat": "4.19",
        "tax_total": "4.19",
        "tax_inclusive": "24.18",
        "payable": "24.18",
    }
    # 19.99 × 21 % is 4.1979: BR-S-09 accepts the VAT charged less than a euro away from it.
    report = check_ubl(xml)
    assert (report.errors, report.warnings) == ([], [])
    assert set(report.layers) == {"xsd", "cen", "peppol"}
    text = pdf_text(render_invoice_pdf(third.snapshot))
    assert "4,19" in text and "24,18" in text and "4,20" not in text

    hours_invoice.refresh_from_db()
    assert hours_invoice.status == "credited"
    assert Invoice.objects.with_amounts().get(pk=hours_invoice.pk).amount_due == Decimal("0.00")
    with pytest.raises(InvoicingError) as error:
        request(hours_invoice)
    assert (
        error.value.message == "Credit notes cannot exceed the invoice: nothing is left to credit."
    )
    with pytest.raises(InvoicingError) as error:
        request(hours_invoice, CreditLineInput(position=1, quantity=Decimal("1")))
    assert error.value.message == f"Line 1: at most 0.00{NBSP}€ excl. VAT is left to credit."


def test_credits_by_amount_take_back_exactly_the_vat_charged(hours_invoice, staff):
    first = request(hours_invoice, CreditLineInput(position=1, amount=Decimal("19.99")))
    second = request(hours_invoice, CreditLineInput(position=1, amount=Decimal("19.99")))
    # The third is requested while the others wait for review: they count already.
    third = request(hours_invoice, CreditLineInput(position=1, amount=Decimal("19.99")))
    assert [amounts(note) for note in (first, second, third)] == [
        (Decimal("19.99"), Decimal("4.20"), Decimal("24.19")),
        (Decimal("19.99"), Decimal("4.20"), Decimal("24.19")),
        (Decimal("19.99"), Decimal("4.19"), Decimal("24.18")),
    ]

    # Approval checks the caps again, and accepts the note that takes the rest.
    issued = [approve(note, staff) for note in (third, first, second)]
    assert [note.snapshot["totals"]["vat"] for note in issued] == ["4.19", "4.20", "4.20"]
    assert Invoice.objects.with_amounts().get(pk=hours_invoice.pk).amount_due == Decimal("0.00")
    with pytest.raises(InvoicingError) as error:
        request(hours_invoice, CreditLineInput(position=1, amount=Decimal("0.01")))
    assert error.value.message == f"Line 1: at most 0.00{NBSP}€ excl. VAT is left to credit."


def test_a_full_credit_after_one_hour_takes_exactly_the_rest(hours_invoice, staff):
    one = approve(request(hours_invoice, CreditLineInput(position=1, quantity=Decimal("1"))), staff)
    rest = approve(request(hours_invoice), staff)

    assert amounts(one) == (Decimal("19.99"), Decimal("4.20"), Decimal("24.19"))
    # 39.98 × 21 % is 8.3958, but only 12.59 − 4.20 of VAT is left.
    assert amounts(rest) == (Decimal("39.98"), Decimal("8.39"), Decimal("48.37"))
    assert check_ubl(build_ubl(rest.snapshot)).errors == []
    assert Invoice.objects.with_amounts().get(pk=hours_invoice.pk).amount_due == Decimal("0.00")


# 53.97 (3 × 19.99 less 10 %) and 900.00 at 21 %, less 5 %, plus 25.00: 931.27, VAT 195.57;
# 200.00 at 6 % (150 × 1.35 less 2.50), VAT 12.00. 1131.27 + 207.57 = 1338.84.
discounted_invoice = allowances.discounted_invoice


def test_a_discounted_invoice_credited_in_pieces_never_exceeds_the_vat_charged(
    discounted_invoice, staff
):
    invoice = discounted_invoice
    assert amounts(invoice) == (Decimal("1131.27"), Decimal("207.57"), Decimal("1338.84"))

    def credit(position, amount):
        note = request(invoice, CreditLineInput(position=position, amount=Decimal(amount)))
        return approve(note, staff)

    # Line 1 (53.97, VAT 11.33 alone) in three pieces of 17.99 (3.7779 each).
    pieces = [credit(1, "17.99") for _piece in range(3)]
    assert [note.total_vat for note in pieces] == [
        Decimal("3.78"),
        Decimal("3.78"),
        Decimal("3.77"),
    ]
    # At 21 % only 931.27 was charged: the document discount leaves less than the lines.
    pieces.append(credit(3, "450.00"))
    with pytest.raises(InvoicingError) as error:
        credit(3, "450.00")
    assert error.value.message == (
        f"Credit notes cannot exceed the invoice: 427.30{NBSP}€ excl. VAT is left to credit "
        "at 21 %."
    )
    # The rest at 21 %: 427.30 × 21 % is 89.733, but 195.57 − 11.33 − 94.50 = 89.74 is left.
    last_at_21 = credit(3, "427.30")
    assert amounts(last_at_21) == (Decimal("427.30"), Decimal("89.74"), Decimal("517.04"))
    assert check_ubl(build_ubl(last_at_21.snapshot)).errors == []
    pieces += [last_at_21, credit(2, "100.00"), credit(2, "100.00")]

    assert sum(note.total_excl_vat for note in pieces) == invoice.total_excl_vat
    assert sum(note.total_vat for note in pieces) == invoice.total_vat
    assert sum(note.total_incl_vat for note in pieces) == invoice.total_incl_vat
    assert Invoice.objects.with_amounts().get(pk=invoice.pk).amount_due == Decimal("0.00")
    with pytest.raises(InvoicingError) as error:
        request(invoice)
    assert (
        error.value.message == "Credit notes cannot exceed the invoice: nothing is left to credit."
    )


def test_a_paid_invoice_credited_hour_by_hour_is_refunded_to_the_cent(hours_invoice, staff):
    colleague = make_user("colleague@coop.test", is_staff=True, is_superuser=True, name="Noor")
    record_payment(
        invoice=hours_invoice, amount=Decimal("72.56"), received_on=TODAY, actor=staff, now=NOW
    )
    notes = [
        approve(request(hours_invoice, CreditLineInput(position=1, quantity=Decimal("1"))), staff)
        for _hour in range(3)
    ]

    assert [note.snapshot["settlement"]["refunded"] for note in notes] == [
        "24.19",
        "24.19",
        "24.18",
    ]
    assert [refundable_amount(note) for note in notes] == [
        Decimal("24.19"),
        Decimal("24.19"),
        Decimal("24.18"),
    ]
    assert Invoice.objects.with_amounts().get(pk=hours_invoice.pk).amount_due == Decimal("-72.56")
    for number, note in enumerate(notes, 1):
        refund = request_refund(
            staff_user=staff,
            credit_note=note,
            amount=refundable_amount(note),
            client_iban="BE68068897250734",
            method=Refund.Method.MANUAL,
        )
        record_refund(
            staff_user=colleague, refund=refund, paid_on=TODAY, bank_reference=f"REF-{number}"
        )
    assert Invoice.objects.with_amounts().get(pk=hours_invoice.pk).amount_due == Decimal("0.00")
    assert [refundable_amount(note) for note in notes] == [Decimal("0.00")] * 3


# A quantity of a discounted line is credited at the line's net price.


@pytest.fixture
def line_discount_invoice(member, activity, belgian_client, no_review):
    """2 × 300.00 less 10 % (540.00) and 3 × 100.00 less 10.00 (290.00), less 40.00: 790.00."""
    lines = [
        line("Set design", "2", "day", "300.00", allowance_percent=Decimal("10"),
             allowance_reason="Loyal client"),
        line("Rigging", "3", "hour", "100.00", allowance_amount=Decimal("10.00"),
             allowance_reason="Late start"),
    ]  # fmt: skip
    draft = make_draft(
        member,
        activity,
        belgian_client,
        lines,
        allowance_charges=[
            AllowanceChargeInput(is_charge=False, reason="Season discount", amount=Decimal("40"))
        ],
    )
    return submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)


def test_one_item_of_a_line_with_a_percentage_discount_is_credited_at_its_net_price(
    line_discount_invoice, member, staff
):
    invoice = line_discount_invoice
    assert amounts(invoice) == (Decimal("790.00"), Decimal("165.90"), Decimal("955.90"))

    response = api_for_member(member).post(
        f"/api/v1/invoices/{invoice.pk}/credit-notes/",
        {"reason": "One day cancelled", "lines": [{"position": 1, "quantity": "1"}]},
        format="json",
    )

    assert response.status_code == 201, response.json()
    (credited,) = response.json()["lines"]
    assert (credited["quantity"], credited["unit_price"], credited["net_amount"]) == (
        "1.00",
        "300.00",
        "270.00",
    )
    assert (credited["allowance_percent"], credited["allowance_amount"]) == ("10.00", "30.00")
    note = approve(Invoice.objects.get(pk=response.json()["pk"]), staff)
    assert amounts(note) == (Decimal("270.00"), Decimal("56.70"), Decimal("326.70"))
    assert check_ubl(build_ubl(note.snapshot)).errors == []


def test_a_fixed_line_discount_is_shared_and_the_last_hour_takes_what_is_left(
    line_discount_invoice, staff
):
    invoice = line_discount_invoice

    notes = [
        approve(request(invoice, CreditLineInput(position=2, quantity=Decimal("1"))), staff)
        for _hour in range(3)
    ]

    # 10.00 shared over 3 hours: 3.33, 3.33 and the 3.34 left.
    assert [note.lines.get().allowance_amount for note in notes] == [
        Decimal("3.33"),
        Decimal("3.33"),
        Decimal("3.34"),
    ]
    assert [note.total_excl_vat for note in notes] == [
        Decimal("96.67"),
        Decimal("96.67"),
        Decimal("96.66"),
    ]
    # 290.00 charged 60.90 of VAT on line 2: 20.30 each.
    assert sum(note.total_vat for note in notes) == Decimal("60.90")
    with pytest.raises(InvoicingError) as error:
        request(invoice, CreditLineInput(position=2, quantity=Decimal("1")))
    assert error.value.message == f"Line 2: at most 0.00{NBSP}€ excl. VAT is left to credit."


def test_the_hour_that_completes_a_percentage_discounted_line_takes_what_is_left(
    member, activity, belgian_client, no_review, staff
):
    # 3 × 10.05 = 30.15 less 10 % (3.015 → 3.02): 27.13; one hour less 10 % is 9.04.
    draft = make_draft(
        member,
        activity,
        belgian_client,
        [line(price="10.05", allowance_percent=Decimal("10"), allowance_reason="Loyal client")],
    )
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)
    assert invoice.total_excl_vat == Decimal("27.13")

    notes = [
        approve(request(invoice, CreditLineInput(position=1, quantity=Decimal("1"))), staff)
        for _hour in range(3)
    ]
    last = notes[-1]

    assert [note.total_excl_vat for note in notes] == [
        Decimal("9.04"),
        Decimal("9.04"),
        Decimal("9.05"),
    ]
    assert (last.lines.get().allowance_percent, last.lines.get().allowance_amount) == (
        None,
        Decimal("1.00"),
    )
    assert sum(note.total_vat for note in notes) == invoice.total_vat
    assert Invoice.objects.with_amounts().get(pk=invoice.pk).amount_due == Decimal("0.00")
    assert check_ubl(build_ubl(last.snapshot)).errors == []


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            [{"position": 1, "quantity": "1", "amount": "300.00"}],
            f"Line 1: 300.00{NBSP}€ for 1 is 300.00{NBSP}€ a unit, more than the invoiced net "
            f"unit price (270.00{NBSP}€).",
        ),
        (
            [{"position": 2, "quantity": "0.5", "amount": "50.00"}],
            f"Line 2: 50.00{NBSP}€ for 0.50 is 100.00{NBSP}€ a unit, more than the invoiced net "
            f"unit price (96.67{NBSP}€).",
        ),
    ],
)
def test_a_unit_price_above_the_invoiced_net_price_is_refused(
    line_discount_invoice, member, lines, message
):
    response = api_for_member(member).post(
        f"/api/v1/invoices/{line_discount_invoice.pk}/credit-notes/",
        {"reason": "Correction", "lines": lines},
        format="json",
    )

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["detail"]) == ("credit_unit_price", message)
    assert not Invoice.objects.filter(kind="credit_note").exists()


def test_half_a_piece_of_500_cannot_be_credited_for_400(member, activity, belgian_client, staff):
    draft = make_draft(member, activity, belgian_client, [line(quantity="1", price="500.00")])
    invoice = approve_invoice(
        staff_user=staff,
        invoice=submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW),
        today=TODAY,
        now=NOW,
    )

    half = Decimal("0.5")
    with pytest.raises(InvoicingError) as error:
        request(invoice, CreditLineInput(position=1, quantity=half, amount=Decimal("400")))

    assert error.value.message == (
        f"Line 1: 400.00{NBSP}€ for 0.50 is 800.00{NBSP}€ a unit, more than the invoiced net "
        f"unit price (500.00{NBSP}€)."
    )
    note = request(invoice, CreditLineInput(position=1, quantity=half, amount=Decimal("250")))
    assert (note.lines.get().quantity, note.lines.get().unit_price) == (
        Decimal("0.50"),
        Decimal("500.00"),
    )
