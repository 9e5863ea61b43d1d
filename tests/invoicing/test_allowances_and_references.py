"""Discounts and charges, purchase order and buyer references, date of supply and period.

EN 16931 BG-20/BG-21 (document allowances and charges), BG-27 (line allowances), BT-10 and
BT-13, BT-72 and BG-14, as Peppol BIS Billing 3.0 carries them in UBL.
"""

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from lxml import etree

from invoicing import calculation
from invoicing.errors import InvoicingError
from invoicing.models import Invoice
from invoicing.pdf import render_invoice_pdf
from invoicing.services import drafts
from invoicing.services.issue import submit_invoice
from invoicing.ubl import build_ubl
from invoicing.validation import check_ubl, validate_ubl
from tests.conftest import NOW
from tests.invoicing.conftest import TODAY, days, line, make_draft
from tests.invoicing.test_api import api_for, draft_payload
from tests.invoicing.test_pdf import pdf_lines, pdf_text
from tests.invoicing.test_ubl import peppol_problems, text, xpath

D = Decimal


def discounted_lines():
    return [
        line("Lighting design", "3", "hour", "19.99", allowance_percent=D("10"),
             allowance_reason="Loyal client"),
        line("Theatre programme booklets", "150", "piece", "1.35", vat_rate=D("6"),
             allowance_amount=D("2.50"), allowance_reason="Damaged copies"),
        line("Performance, 2 evenings", "2", "day", "450.00"),
    ]  # fmt: skip


def document_adjustments():
    return [
        drafts.AllowanceChargeInput(is_charge=False, reason="Season discount", percent=D("5"),
                             vat_category="S", vat_rate=D("21")),
        drafts.AllowanceChargeInput(is_charge=True, reason="Travel costs", amount=D("25.00"),
                             vat_category="S", vat_rate=D("21")),
    ]  # fmt: skip


@pytest.fixture
def discounted_invoice(member, activity, belgian_client, no_review):
    draft = make_draft(
        member,
        activity,
        belgian_client,
        discounted_lines(),
        allowance_charges=document_adjustments(),
    )
    return submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)


# Totals


def test_line_and_document_allowances_and_charges_give_the_totals_to_the_cent():
    line, allowance_charge = calculation.Line, calculation.AllowanceCharge
    lines = [
        line(D("3"), D("19.99"), "S", D("21.00"), allowance_percent=D("10")),
        line(D("150"), D("1.35"), "S", D("6.00"), allowance_fixed=D("2.50")),
        line(D("2"), D("450.00"), "S", D("21.00")),
    ]
    adjustments = [
        allowance_charge(False, "Season discount", "S", D("21.00"), percent=D("5")),
        allowance_charge(True, "Travel costs", "S", D("21.00"), fixed=D("25.00")),
    ]

    totals = calculation.compute_totals(lines, adjustments)

    # 59.97 less 10 % (5.997 → 6.00) = 53.97; 202.50 less 2.50 = 200.00.
    assert [item.net_amount for item in lines] == [D("53.97"), D("200.00"), D("900.00")]
    # 5 % of the 21 % lines, 953.97 → 47.6985 → 47.70.
    assert adjustments[0].amount(lines) == D("47.70")
    groups = [(g.rate, g.taxable_amount, g.vat_amount) for g in totals.vat_breakdown]
    # 953.97 − 47.70 + 25.00 = 931.27, VAT 195.5667 → 195.57, rounded once per group.
    assert groups == [(D("21.00"), D("931.27"), D("195.57")), (D("6.00"), D("200.00"), D("12.00"))]
    assert (
        totals.line_extension,
        totals.allowance_total,
        totals.charge_total,
        totals.tax_exclusive,
        totals.vat,
        totals.tax_inclusive,
        totals.payable,
    ) == (
        D("1153.97"),
        D("47.70"),
        D("25.00"),
        D("1131.27"),
        D("207.57"),
        D("1338.84"),
        D("1338.84"),
    )


def test_issued_invoice_freezes_discounts_charges_and_totals(discounted_invoice):
    invoice = discounted_invoice
    assert invoice.number == "2026-000001"
    assert (invoice.total_excl_vat, invoice.total_vat, invoice.total_incl_vat) == (
        D("1131.27"),
        D("207.57"),
        D("1338.84"),
    )
    assert invoice.snapshot["totals"] == {
        "line_extension": "1153.97",
        "allowance_total": "47.70",
        "charge_total": "25.00",
        "tax_exclusive": "1131.27",
        "vat": "207.57",
        "tax_inclusive": "1338.84",
        "payable": "1338.84",
    }
    first, second, third = invoice.snapshot["lines"]
    assert (first["gross_amount"], first["allowance_amount"], first["net_amount"]) == (
        "59.97",
        "6.00",
        "53.97",
    )
    assert (first["allowance_percent"], first["allowance_reason"]) == ("10.00", "Loyal client")
    assert (second["allowance_percent"], second["allowance_amount"]) == ("", "2.50")
    assert third["allowance_amount"] == "0.00"
    assert invoice.snapshot["allowance_charges"] == [
        {
            "is_charge": False,
            "reason": "Season discount",
            "amount": "47.70",
            "percent": "5.00",
            "base_amount": "953.97",
            "vat_category": "S",
            "vat_rate": "21.00",
        },
        {
            "is_charge": True,
            "reason": "Travel costs",
            "amount": "25.00",
            "percent": "",
            "base_amount": "",
            "vat_category": "S",
            "vat_rate": "21.00",
        },
    ]
    with (
        pytest.raises(DatabaseError, match="issued invoice"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE invoicing_invoiceallowancecharge SET amount = 1 WHERE invoice_id = %s",
            [invoice.pk],
        )
    with (
        pytest.raises(DatabaseError, match="issued invoice"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE invoicing_invoice SET order_reference = 'X' WHERE id = %s", [invoice.pk]
        )
    assert invoice.allowance_charges.count() == 2


# UBL


def amounts(root, path: str) -> list[Decimal]:
    return [D(element.text) for element in xpath(root, path)]


def peppol_allowance_problems(root) -> list[str]:
    """Return the Peppol BIS rules on allowances and line amounts that the document breaks.

    PEPPOL-EN16931-R040/R041/R042 (amount, base and percentage go together and agree, within
    the rules' 0.02 slack) and R120 (line net = quantity × price − allowances + charges).
    """
    problems = []
    for element in xpath(root, "//cac:AllowanceCharge"):
        percent = xpath(element, "cbc:MultiplierFactorNumeric")
        base = xpath(element, "cbc:BaseAmount")
        if bool(percent) != bool(base):
            problems.append("PEPPOL-EN16931-R041/R042 percentage and base amount go together")
        if percent and base:
            expected = D(base[0].text) * D(percent[0].text) / 100
            if abs(D(text(element, "cbc:Amount")) - expected) > D("0.02"):
                problems.append("PEPPOL-EN16931-R040 amount = base × percentage / 100")
    for line_element in xpath(root, "cac:InvoiceLine | cac:CreditNoteLine"):
        quantity = D(text(line_element, "cbc:InvoicedQuantity | cbc:CreditedQuantity"))
        price = D(text(line_element, "cac:Price/cbc:PriceAmount"))
        adjustments = sum(
            (
                D(text(item, "cbc:Amount"))
                * (1 if text(item, "cbc:ChargeIndicator") == "true" else -1)
                for item in xpath(line_element, "cac:AllowanceCharge")
            ),
            D(0),
        )
        net = D(text(line_element, "cbc:LineExtensionAmount"))
        if abs(net - (quantity * price + adjustments)) > D("0.02"):
            problems.append(f"PEPPOL-EN16931-R120 line {text(line_element, 'cbc:ID')}")
    return problems


def test_ubl_with_allowances_and_charges_passes_xsd_and_cen_and_adds_up(discounted_invoice):
    snapshot = discounted_invoice.snapshot
    xml = build_ubl(snapshot)
    root = etree.fromstring(xml)

    report = check_ubl(xml)

    assert report.errors == []
    assert report.warnings == []
    assert peppol_problems(root, snapshot) == []
    assert peppol_allowance_problems(root) == []
    season, travel = xpath(root, "cac:AllowanceCharge")
    assert [
        text(season, name)
        for name in (
            "cbc:ChargeIndicator",
            "cbc:AllowanceChargeReason",
            "cbc:MultiplierFactorNumeric",
            "cbc:Amount",
            "cbc:BaseAmount",
            "cac:TaxCategory/cbc:ID",
            "cac:TaxCategory/cbc:Percent",
            "cac:TaxCategory/cac:TaxScheme/cbc:ID",
        )
    ] == ["false", "Season discount", "5.00", "47.70", "953.97", "S", "21.00", "VAT"]
    assert [text(travel, name) for name in ("cbc:ChargeIndicator", "cbc:Amount")] == [
        "true",
        "25.00",
    ]
    assert xpath(travel, "cbc:MultiplierFactorNumeric | cbc:BaseAmount") == []
    # The allowances sit between PaymentMeans and TaxTotal, as the XSD orders them.
    names = [etree.QName(element).localname for element in root]
    assert names.index("PaymentMeans") < names.index("AllowanceCharge") < names.index("TaxTotal")
    first_line = xpath(root, "cac:InvoiceLine")[0]
    assert [
        text(first_line, name)
        for name in (
            "cbc:LineExtensionAmount",
            "cac:AllowanceCharge/cbc:ChargeIndicator",
            "cac:AllowanceCharge/cbc:AllowanceChargeReason",
            "cac:AllowanceCharge/cbc:MultiplierFactorNumeric",
            "cac:AllowanceCharge/cbc:Amount",
            "cac:AllowanceCharge/cbc:BaseAmount",
        )
    ] == ["53.97", "false", "Loyal client", "10.00", "6.00", "59.97"]
    assert xpath(first_line, "cac:AllowanceCharge/cac:TaxCategory") == []
    assert xpath(root, "cac:InvoiceLine[3]/cac:AllowanceCharge") == []
    total = "cac:LegalMonetaryTotal"
    # BR-CO-10 … BR-CO-16, recomputed from the document itself.
    line_sum = sum(amounts(root, "cac:InvoiceLine/cbc:LineExtensionAmount"), D(0))
    allowances = sum(amounts(root, "cac:AllowanceCharge[cbc:ChargeIndicator='false']/cbc:Amount"))
    charges = sum(amounts(root, "cac:AllowanceCharge[cbc:ChargeIndicator='true']/cbc:Amount"))
    vat = sum(amounts(root, "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount"), D(0))
    assert (line_sum, allowances, charges, vat) == (
        D("1153.97"),
        D("47.70"),
        D("25.00"),
        D("207.57"),
    )
    assert D(text(root, f"{total}/cbc:LineExtensionAmount")) == line_sum
    assert D(text(root, f"{total}/cbc:AllowanceTotalAmount")) == allowances
    assert D(text(root, f"{total}/cbc:ChargeTotalAmount")) == charges
    assert D(text(root, f"{total}/cbc:TaxExclusiveAmount")) == line_sum - allowances + charges
    assert D(text(root, "cac:TaxTotal/cbc:TaxAmount")) == vat
    assert D(text(root, f"{total}/cbc:TaxInclusiveAmount")) == D("1131.27") + vat
    assert text(root, f"{total}/cbc:PayableAmount") == "1338.84"
    subtotals = [
        (text(subtotal, "cbc:TaxableAmount"), text(subtotal, "cbc:TaxAmount"))
        for subtotal in xpath(root, "cac:TaxTotal/cac:TaxSubtotal")
    ]
    assert subtotals == [("931.27", "195.57"), ("200.00", "12.00")]


def test_the_peppol_allowance_checks_catch_a_wrong_amount(discounted_invoice):
    root = etree.fromstring(build_ubl(discounted_invoice.snapshot))
    xpath(root, "cac:AllowanceCharge/cbc:Amount")[0].text = "47.80"
    xpath(root, "cac:InvoiceLine/cac:AllowanceCharge/cbc:BaseAmount")[0].getparent().remove(
        xpath(root, "cac:InvoiceLine/cac:AllowanceCharge/cbc:BaseAmount")[0]
    )
    xpath(root, "cac:InvoiceLine/cbc:LineExtensionAmount")[1].text = "202.50"

    assert peppol_allowance_problems(root) == [
        "PEPPOL-EN16931-R040 amount = base × percentage / 100",
        "PEPPOL-EN16931-R041/R042 percentage and base amount go together",
        "PEPPOL-EN16931-R120 line 2",
    ]


def test_allowance_total_that_does_not_add_up_is_fatal(discounted_invoice):
    snapshot = discounted_invoice.snapshot
    snapshot["totals"]["allowance_total"] = "47.71"

    errors = validate_ubl(build_ubl(snapshot))

    assert any(error.startswith("[BR-CO-11]") for error in errors), errors


def test_credit_note_of_a_discounted_invoice_repeats_its_discounts(discounted_invoice, staff):
    from invoicing.services.credit import request_credit_note
    from invoicing.services.issue import approve_invoice

    credit_note = request_credit_note(
        user=discounted_invoice.created_by, invoice=discounted_invoice, reason="Cancelled", now=NOW
    )
    credit_note = approve_invoice(staff_user=staff, invoice=credit_note, today=TODAY, now=NOW)

    assert credit_note.total_incl_vat == D("1338.84")
    assert credit_note.snapshot["totals"]["tax_exclusive"] == "1131.27"
    assert credit_note.snapshot["order_reference"] == ""
    xml = build_ubl(credit_note.snapshot)
    assert check_ubl(xml).errors == []
    root = etree.fromstring(xml)
    assert peppol_allowance_problems(root) == []
    assert len(xpath(root, "cac:AllowanceCharge")) == 2
    assert text(root, "cac:CreditNoteLine[1]/cac:AllowanceCharge/cbc:Amount") == "6.00"
    # The credited supply took place on the invoice's date.
    assert text(root, "cac:Delivery/cbc:ActualDeliveryDate") == "2026-03-02"


# PDF


def test_pdf_shows_line_discounts_and_document_allowances_and_charges(discounted_invoice):
    snapshot = discounted_invoice.snapshot
    snapshot["language"] = "en"

    lines = pdf_lines(render_invoice_pdf(snapshot))

    assert "Discount 10 %: Loyal client (−6.00 €)" in lines
    assert "Discount: Damaged copies (−2.50 €)" in lines
    assert any(
        row.startswith("Discount on the invoice: Season discount") and row.endswith("−47.70 €")
        for row in lines
    ), lines
    assert "5 % of 953.97 €" in lines
    assert any(
        row.startswith("Charge on the invoice: Travel costs") and row.endswith("25.00 €")
        for row in lines
    ), lines
    assert any(row.endswith("Total excl. VAT 1,131.27 €") for row in lines), lines
    assert "Total incl. VAT 1,338.84 €" in lines


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", "47,70"), ("nl", "47,70"), ("en", "47.70")],
)
def test_pdf_prints_the_document_allowance_in_each_language(discounted_invoice, language, expected):
    snapshot = discounted_invoice.snapshot
    snapshot["language"] = language

    text = pdf_text(render_invoice_pdf(snapshot))

    assert "Season discount" in text and "Travel costs" in text and "Loyal client" in text
    assert f"−{expected}" in text


# Refusals


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"allowance_amount": D("60.00"), "allowance_reason": "Too much"},
            "Line 1: the discount (60.00\u00a0€) is larger than the line amount (59.97\u00a0€).",
        ),
        (
            {"allowance_amount": D("-1.00"), "allowance_reason": "Negative"},
            "Line 1: a discount is more than zero; leave it empty for none.",
        ),
        (
            {"allowance_amount": D("1.005"), "allowance_reason": "Fraction"},
            "Line 1: the discount has more than two decimals.",
        ),
        (
            {"allowance_percent": D("101"), "allowance_reason": "Over"},
            "Line 1: a discount percentage is more than 0 and at most 100.",
        ),
        (
            {"allowance_percent": D("10"), "allowance_amount": D("1"), "allowance_reason": "Both"},
            "Line 1: give the discount as a percentage or as an amount, not both.",
        ),
        ({"allowance_amount": D("5")}, "Line 1: say why the discount is given."),
    ],
)
def test_wrong_line_discounts_are_refused_with_a_clear_message(
    member, activity, belgian_client, given, message
):
    with pytest.raises(InvoicingError) as error:
        make_draft(member, activity, belgian_client, [line(**given)])

    assert (error.value.message, error.value.field) == (message, "lines")
    assert not Invoice.objects.exists()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"amount": D("60.00")},
            "Discount 1 (60.00\u00a0€) is larger than its base, the lines at this VAT rate "
            "(59.97\u00a0€).",
        ),
        ({"amount": D("-5")}, "Discount or charge 1: the amount must be more than zero."),
        ({"amount": D("2.555")}, "Discount or charge 1: the amount has more than two decimals."),
        (
            {"percent": D("0")},
            "Discount or charge 1: the percentage is more than 0 and at most 100.",
        ),
        (
            {"amount": D("5"), "vat_rate": D("6")},
            "Discount or charge 1: no line has this VAT category and rate; a discount or charge "
            "takes the VAT of the lines it adjusts.",
        ),
        ({"amount": D("5"), "reason": " "}, "Discount or charge 1: say what it is for."),
        (
            {"amount": D("5"), "percent": D("5")},
            "Discount or charge 1: give a percentage or an amount, not both.",
        ),
        ({}, "Discount or charge 1: give a percentage or an amount."),
    ],
)
def test_wrong_document_allowances_are_refused_with_a_clear_message(
    member, activity, belgian_client, given, message
):
    item = drafts.AllowanceChargeInput(**{"is_charge": False, "reason": "Discount", **given})

    with pytest.raises(InvoicingError) as error:
        make_draft(member, activity, belgian_client, allowance_charges=[item])

    assert (error.value.message, error.value.field) == (message, "allowance_charges")
    assert not Invoice.objects.exists()


def test_two_allowances_may_not_take_more_than_their_lines(member, activity, belgian_client):
    items = [
        drafts.AllowanceChargeInput(is_charge=False, reason=f"Discount {index}", percent=D("60"))
        for index in (1, 2)
    ]

    with pytest.raises(InvoicingError) as error:
        make_draft(member, activity, belgian_client, allowance_charges=items)

    assert (
        error.value.message == "The discounts at 21.00 % come to more than the lines they reduce."
    )
    assert not Invoice.objects.exists()


# References


def test_purchase_order_is_separate_from_the_buyer_reference(
    member, activity, belgian_client, no_review
):
    draft = make_draft(
        member, activity, belgian_client, buyer_reference="", order_reference="BC-4411"
    )
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)

    assert (invoice.buyer_reference, invoice.order_reference) == ("", "BC-4411")
    assert (invoice.snapshot["buyer_reference"], invoice.snapshot["order_reference"]) == (
        "",
        "BC-4411",
    )
    xml = build_ubl(invoice.snapshot)
    root = etree.fromstring(xml)
    assert xpath(root, "cbc:BuyerReference") == []
    assert text(root, "cac:OrderReference/cbc:ID") == "BC-4411"
    assert check_ubl(xml).errors == []
    assert peppol_problems(root, invoice.snapshot) == []
    snapshot = {**invoice.snapshot, "language": "en"}
    lines = pdf_lines(render_invoice_pdf(snapshot))
    assert "Purchase order BC-4411" in lines
    assert not any("Your reference" in row for row in lines)


def test_both_references_are_carried_each_in_its_place(member, activity, belgian_client, no_review):
    draft = make_draft(
        member, activity, belgian_client, buyer_reference="Dept. 7", order_reference="BC-4411"
    )
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)

    root = etree.fromstring(build_ubl(invoice.snapshot))
    assert text(root, "cbc:BuyerReference") == "Dept. 7"
    assert text(root, "cac:OrderReference/cbc:ID") == "BC-4411"


def test_without_a_reference_the_invoice_number_is_no_buyer_reference(
    member, activity, private_client, no_review
):
    # A private person is not reached on Peppol, so an invoice to them may carry no reference.
    draft = make_draft(member, activity, private_client, buyer_reference="")
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)

    assert invoice.buyer_reference == ""
    assert invoice.snapshot["buyer_reference"] == ""
    xml = build_ubl(invoice.snapshot)
    root = etree.fromstring(xml)
    assert xpath(root, "cbc:BuyerReference | cac:OrderReference") == []
    assert check_ubl(xml).errors == []
    for language, label in (("fr", "Votre référence"), ("en", "Your reference")):
        lines = pdf_lines(render_invoice_pdf({**invoice.snapshot, "language": language}))
        assert not any(label in row for row in lines), lines
        # The number, once as the document's number, and in the running footer of the page.
        numbered = [row for row in lines if invoice.number in row]
        assert len(numbered) == 2 and " · page 1 / 1" in numbered[1], numbered


def test_a_client_on_peppol_needs_a_reference_before_issuing(
    member, activity, belgian_client, no_review
):
    draft = make_draft(member, activity, belgian_client, buyer_reference="")

    with pytest.raises(InvoicingError) as error:
        submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)

    assert (error.value.code, error.value.field) == ("reference_required", "buyer_reference")
    assert error.value.message == (
        "This client receives its invoices over Peppol, which requires their reference or "
        "purchase order number: ask the client for one and add it to the draft."
    )
    draft.refresh_from_db()
    assert (draft.status, draft.number, draft.buyer_reference) == ("draft", None, "")


# Date of supply and invoicing period


def test_ubl_carries_the_date_of_supply_of_a_domestic_invoice(
    member, activity, belgian_client, no_review
):
    draft = make_draft(member, activity, belgian_client, supply_date=TODAY - days(5))
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)

    xml = build_ubl(invoice.snapshot)
    root = etree.fromstring(xml)
    assert text(root, "cac:Delivery/cbc:ActualDeliveryDate") == "2026-02-25"
    assert xpath(root, "cac:InvoicePeriod") == []
    assert check_ubl(xml).errors == []


def test_without_a_date_of_supply_the_supply_took_place_on_the_issue_date(
    member, activity, belgian_client, no_review
):
    draft = make_draft(member, activity, belgian_client)
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)

    root = etree.fromstring(build_ubl(invoice.snapshot))
    assert invoice.snapshot["supply_date"] == ""
    assert text(root, "cac:Delivery/cbc:ActualDeliveryDate") == "2026-03-02"


def test_work_over_a_period_gives_an_invoice_period_in_ubl_and_pdf(
    member, activity, belgian_client, no_review
):
    draft = make_draft(
        member,
        activity,
        belgian_client,
        period_start=TODAY - days(29),
        period_end=TODAY - days(2),
    )
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)

    assert (invoice.snapshot["period_start"], invoice.snapshot["period_end"]) == (
        "2026-02-01",
        "2026-02-28",
    )
    xml = build_ubl(invoice.snapshot)
    root = etree.fromstring(xml)
    assert text(root, "cac:InvoicePeriod/cbc:StartDate") == "2026-02-01"
    assert text(root, "cac:InvoicePeriod/cbc:EndDate") == "2026-02-28"
    assert xpath(root, "cac:Delivery") == []
    names = [etree.QName(element).localname for element in root]
    assert names.index("BuyerReference") + 1 == names.index("InvoicePeriod")
    assert check_ubl(xml).errors == []
    lines = pdf_lines(render_invoice_pdf({**invoice.snapshot, "language": "en"}))
    # The label and the first date share a line; the second date wraps under the first.
    assert "Period of service from 1 February 2026" in lines
    assert "to 28 February 2026" in lines


def test_intra_eu_supply_over_a_period_keeps_one_delivery_with_the_country(
    member, activity, french_client, no_review
):
    draft = make_draft(
        member,
        activity,
        french_client,
        [line(vat_category="K", vat_rate=D("0"), supply_kind="goods")],
        period_start=TODAY - days(29),
        period_end=TODAY - days(2),
    )
    invoice = submit_invoice(user=member.user, invoice=draft, today=TODAY, now=NOW)

    xml = build_ubl(invoice.snapshot)
    root = etree.fromstring(xml)
    (delivery,) = xpath(root, "cac:Delivery")
    assert xpath(delivery, "cbc:ActualDeliveryDate") == []
    assert text(
        delivery, "cac:DeliveryLocation/cac:Address/cac:Country/cbc:IdentificationCode"
    ) == ("FR")
    assert text(root, "cac:InvoicePeriod/cbc:StartDate") == "2026-02-01"
    assert check_ubl(xml).errors == []


@pytest.mark.parametrize(
    ("dates", "field", "message"),
    [
        (
            {"period_start": TODAY - days(3)},
            "period_end",
            "Give both the first and the last day of the period, or neither.",
        ),
        (
            {"period_start": TODAY, "period_end": TODAY - days(1)},
            "period_end",
            "The period ends before it starts.",
        ),
        (
            {"period_start": TODAY - days(9), "period_end": TODAY, "supply_date": TODAY},
            "supply_date",
            "Give a date of supply or a period, not both.",
        ),
    ],
)
def test_an_incomplete_or_reversed_period_is_refused(
    member, activity, belgian_client, dates, field, message
):
    with pytest.raises(InvoicingError) as error:
        make_draft(member, activity, belgian_client, **dates)

    assert (error.value.field, error.value.message) == (field, message)
    assert not Invoice.objects.exists()


# API


def test_api_writes_and_shows_discounts_charges_references_and_period(member, activity):
    api = api_for(member.user)
    from tests.invoicing.test_api import CLIENT

    buyer = api.post("/api/v1/clients/", CLIENT, format="json").json()
    payload = draft_payload(
        activity,
        type("Buyer", (), {"pk": buyer["pk"]}),
        buyer_reference="",
        order_reference="BC-4411",
        period_start="2026-02-01",
        period_end="2026-02-28",
        allowance_charges=[
            {"reason": "Season discount", "percent": "5"},
            {"is_charge": True, "reason": "Travel costs", "amount": "25.00"},
        ],
    )
    payload["lines"][0].update(allowance_percent="10", allowance_reason="Loyal client")

    response = api.post("/api/v1/invoices/", payload, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["buyer_reference"], body["order_reference"]) == ("", "BC-4411")
    assert (body["period_start"], body["period_end"]) == ("2026-02-01", "2026-02-28")
    assert body["lines"][0]["allowance_percent"] == "10.00"
    assert body["lines"][0]["allowance_amount"] == "6.00"
    assert body["lines"][0]["net_amount"] == "53.97"
    assert body["allowance_charges"] == [
        {
            "is_charge": False,
            "reason": "Season discount",
            "percent": "5.00",
            "amount": "2.70",
            "vat_category": "S",
            "vat_rate": "21.00",
        },
        {
            "is_charge": True,
            "reason": "Travel costs",
            "percent": None,
            "amount": "25.00",
            "vat_category": "S",
            "vat_rate": "21.00",
        },
    ]
    # 53.97 − 2.70 + 25.00 = 76.27; VAT 16.0167 → 16.02.
    assert (body["total_excl_vat"], body["total_vat"], body["total_incl_vat"]) == (
        "76.27",
        "16.02",
        "92.29",
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"allowance_charges": [{"reason": "x", "amount": "-5"}]}, "allowance_charges.0.amount"),
        ({"allowance_charges": [{"reason": "x", "amount": "5.001"}]}, "allowance_charges.0.amount"),
        ({"allowance_charges": [{"reason": "x"}]}, "allowance_charges.0.amount"),
        ({"allowance_charges": [{"amount": "5"}]}, "allowance_charges.0.reason"),
        ({"line": {"allowance_amount": "-1"}}, "lines.0.allowance_amount"),
        ({"line": {"allowance_percent": "100.5"}}, "lines.0.allowance_percent"),
        ({"period_start": "someday"}, "period_start"),
        ({"order_reference": "r" * 101}, "order_reference"),
    ],
)
def test_api_refuses_wrong_discounts_with_field_errors(
    member, activity, belgian_client, change, field
):
    payload = draft_payload(activity, belgian_client)
    payload["lines"][0].update(change.pop("line", {}))
    payload.update(change)

    response = api_for(member.user).post("/api/v1/invoices/", payload, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"], response.json()
    assert not Invoice.objects.exists()


def test_api_answers_a_discount_above_its_base_with_a_problem(member, activity, belgian_client):
    payload = draft_payload(
        activity, belgian_client, allowance_charges=[{"reason": "Too much", "amount": "60.00"}]
    )

    response = api_for(member.user).post("/api/v1/invoices/", payload, format="json")

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == ("allowance_too_large", "allowance_charges")
    assert body["detail"] == (
        "Discount 1 (60.00\u00a0€) is larger than its base, the lines at this VAT rate "
        "(59.97\u00a0€)."
    )
    assert not Invoice.objects.exists()


# Browser


def test_member_types_discounts_charges_purchase_order_and_period_in_the_draft_form(
    client, member, activity, belgian_client
):
    from django.urls import reverse

    from tests.invoicing.test_browser import draft_data, row

    data = draft_data(
        activity,
        belgian_client,
        [row(discount="10 %", discount_reason="Loyal client")],
        order_reference="BC-4411",
        period_start="2026-02-01",
        period_end="2026-02-28",
    )
    adjustments = [
        {"is_charge": "0", "reason": "Season discount", "value": "5 %"},
        {"is_charge": "1", "reason": "Travel costs", "value": "25,00"},
        {"is_charge": "0", "reason": "", "value": ""},
    ]
    data.update({"adjustments-TOTAL_FORMS": "3", "adjustments-INITIAL_FORMS": "0"})
    for index, item in enumerate(adjustments):
        for name, value in {"vat_category": "S", "vat_rate": "21.00", **item}.items():
            data[f"adjustments-{index}-{name}"] = value
    client.force_login(member.user)

    response = client.post(reverse("invoicing:invoice_create"), data)

    assert response.status_code == 302, response.content.decode()
    invoice = Invoice.objects.get()
    assert (invoice.order_reference, invoice.buyer_reference) == ("BC-4411", "")
    assert (invoice.period_start.isoformat(), invoice.period_end.isoformat()) == (
        "2026-02-01",
        "2026-02-28",
    )
    (saved_line,) = invoice.lines.all()
    assert (saved_line.allowance_percent, saved_line.allowance_amount) == (D("10.00"), D("6.00"))
    assert [
        (item.is_charge, item.reason, item.percent, item.amount)
        for item in invoice.allowance_charges.all()
    ] == [
        (False, "Season discount", D("5.00"), D("2.70")),
        (True, "Travel costs", None, D("25.00")),
    ]
    # 53.97 − 2.70 + 25.00 = 76.27; VAT 16.02.
    assert (invoice.total_excl_vat, invoice.total_incl_vat) == (D("76.27"), D("92.29"))
    page = client.get(reverse("invoicing:invoice_edit", args=[invoice.pk])).content.decode()
    assert 'value="10 %"' in page and 'value="5 %"' in page and 'value="25,00"' in page
    detail = client.get(response["Location"]).content.decode()
    assert "Season discount" in detail and "BC-4411" in detail
    assert "92.29\u00a0€" in detail


def test_draft_form_shows_a_discount_above_its_line_as_an_error(
    client, member, activity, belgian_client
):
    from django.urls import reverse

    from tests.invoicing.test_browser import draft_data, row

    data = draft_data(activity, belgian_client, [row(discount="60,00", discount_reason="Too much")])
    client.force_login(member.user)

    response = client.post(reverse("invoicing:invoice_create"), data)

    assert response.status_code == 200
    assert (
        "Line 1: the discount (60.00\u00a0€) is larger than the line amount (59.97\u00a0€)."
        in response.content.decode()
    )
    assert not Invoice.objects.exists()


def test_demo_invoices_with_a_discount_charge_and_purchase_order_are_valid_e_invoices(
    staff, member, other_member, activity, other_activity
):
    import io
    import random

    from invoicing import demo

    demo.seed(
        {"rng": random.Random(2026), "staff": staff, "members": [member, other_member],
         "today": TODAY},
        stdout=io.StringIO(),
    )  # fmt: skip

    with_extras = Invoice.objects.filter(
        kind=Invoice.Kind.INVOICE, allowance_charges__isnull=False
    ).order_by("number")
    assert [invoice.order_reference for invoice in with_extras] == [
        "BC-20262",
        "BC-20267",
        "BC-20272",
    ]
    for invoice in with_extras:
        assert invoice.buyer_reference == ""
        assert invoice.snapshot["allowance_charges"][0]["reason"] == "Travel costs"
        assert invoice.snapshot["lines"][0]["allowance_percent"] == "10.00"
        assert check_ubl(build_ubl(invoice.snapshot)).errors == []


def overlapping_glyphs(pdf: bytes) -> list[str]:
    """Return the characters drawn over their neighbour on the same baseline.

    Kerning lets glyphs touch by a fraction of a point; text printed over other text overlaps
    by more than a point and a half.
    """
    import itertools

    import pypdfium2

    found = []
    for page in pypdfium2.PdfDocument(pdf):
        text_page = page.get_textpage()
        boxes = []
        for index in range(text_page.count_chars()):
            character = text_page.get_text_range(index, 1)
            left, bottom, right, _top = text_page.get_charbox(index)
            if character.strip() and right > left:
                boxes.append((round(bottom), left, right, character))
        for first, second in itertools.pairwise(sorted(boxes)):
            # The letters of a ligature ("fi") share one glyph and so one box.
            is_ligature = abs(first[1] - second[1]) < 0.1 and abs(first[2] - second[2]) < 0.1
            if first[0] == second[0] and second[1] < first[2] - 1.5 and not is_ligature:
                found.append(first[3] + second[3])
    return found


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_pdf_with_period_purchase_order_and_long_discount_reasons_draws_nothing_twice(
    discounted_invoice, language
):
    snapshot = {
        **discounted_invoice.snapshot,
        "language": language,
        "order_reference": "BC-2026-004411-ABCD",
        "period_start": "2026-09-01",
        "period_end": "2026-09-30",
    }
    snapshot["lines"][0]["allowance_reason"] = "Loyal client since 2019, " * 6
    snapshot["allowance_charges"][0]["reason"] = "Season discount for the whole festival " * 4

    pdf = render_invoice_pdf(snapshot)

    assert overlapping_glyphs(pdf) == []
    text = pdf_text(pdf)
    assert "BC-2026-004411-ABCD" in text
    assert "2026" in text and "30" in text
