"""UBL e-invoices: XSD, CEN EN 16931 schematron, and the Peppol BIS 3.0 rules of DOMAIN §5."""

import copy
import re
from typing import Any

import pytest
from lxml import etree
from stdnum.be import vat as belgian_vat

from invoicing import peppol
from invoicing.snapshot import InvoiceSnapshot
from invoicing.ubl import CUSTOMIZATION_ID, PROFILE_ID, build_ubl, party_endpoint
from invoicing.validation import check_ubl, validate_ubl
from tests.invoicing import snapshots

NAMESPACES = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
ALL_SNAPSHOTS = [
    snapshots.domestic_invoice,
    snapshots.mixed_rates_invoice,
    snapshots.reverse_charge_invoice,
    snapshots.intra_eu_invoice,
    snapshots.credit_note,
    snapshots.intra_eu_services_invoice,
    snapshots.export_invoice,
    snapshots.outside_scope_invoice,
    snapshots.exempt_invoice,
]


def xpath(root: etree._Element, path: str) -> Any:
    return root.xpath(path, namespaces=NAMESPACES)


def text(root: etree._Element, path: str) -> str:
    """Return the text of the single element at path."""
    found = xpath(root, path)
    assert len(found) == 1, f"{path}: {len(found)} elements"
    return found[0].text


def peppol_problems(root: etree._Element, snapshot: InvoiceSnapshot) -> list[str]:
    """Return the Peppol BIS 3.0 rules of DOMAIN §5 that the document breaks."""
    is_credit_note = snapshot["document_type"] == "credit_note"
    checks = {
        "PEPPOL-EN16931-R004 CustomizationID": (
            xpath(root, "string(cbc:CustomizationID)") == CUSTOMIZATION_ID
        ),
        "PEPPOL-EN16931-R007 ProfileID": xpath(root, "string(cbc:ProfileID)") == PROFILE_ID,
        "PEPPOL-EN16931-P0100/P0101 type code": (
            xpath(root, "string(cbc:InvoiceTypeCode | cbc:CreditNoteTypeCode)")
            == ("381" if is_credit_note else "380")
        ),
        "PEPPOL-EN16931-R003 BuyerReference or OrderReference": xpath(
            root, "cbc:BuyerReference or cac:OrderReference/cbc:ID"
        ),
        "PEPPOL-EN16931-R002 at most one Note": len(xpath(root, "cbc:Note")) <= 1,
        "PEPPOL-EN16931-R020 seller EndpointID": (
            len(xpath(root, "cac:AccountingSupplierParty/cac:Party/cbc:EndpointID[@schemeID]")) == 1
        ),
        "PEPPOL-EN16931-R010 buyer EndpointID": (
            len(xpath(root, "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID[@schemeID]")) == 1
        ),
        "seller EndpointID scheme 0208": xpath(
            root, "cac:AccountingSupplierParty/cac:Party/cbc:EndpointID/@schemeID = '0208'"
        ),
        "PEPPOL-EN16931-R053 one TaxTotal with subtotals": (
            xpath(root, "count(cac:TaxTotal[cac:TaxSubtotal])") == 1
        ),
        "PEPPOL-EN16931-R051 currency EUR": (
            xpath(root, "string(cbc:DocumentCurrencyCode)") == "EUR"
            and not xpath(root, "//@currencyID[. != 'EUR']")
        ),
    }
    if is_credit_note:
        # A credit note asks for no payment: no payment means, no due date, terms saying how.
        checks["credit note: no PaymentMeans"] = not xpath(root, "cac:PaymentMeans")
        checks["credit note: no due date"] = not xpath(root, "//cbc:DueDate | //cbc:PaymentDueDate")
        checks["credit note: payment terms"] = bool(xpath(root, "cac:PaymentTerms/cbc:Note"))
    else:
        checks["one PaymentMeans"] = len(xpath(root, "cac:PaymentMeans")) == 1
        checks["PaymentMeansCode 30 or 58"] = xpath(
            root, "string(cac:PaymentMeans/cbc:PaymentMeansCode)"
        ) in {"30", "58"}
        checks["PaymentID is the structured communication"] = (
            xpath(root, "string(cac:PaymentMeans/cbc:PaymentID)")
            == snapshot["structured_communication"]
        )
        checks["PayeeFinancialAccount/ID is the IBAN"] = (
            xpath(root, "string(cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID)")
            == snapshot["seller"]["iban"]
        )
    problems = [rule for rule, passed in checks.items() if not passed]
    problems += [
        f"PEPPOL-EN16931-R008 empty {etree.QName(element).localname}"
        for element in xpath(root, "//*[not(*) and not(normalize-space())]")
    ]
    problems += [
        f"PEPPOL-COMMON-R043 enterprise number {element.text}"
        for element in xpath(root, "//*[@schemeID = '0208']")
        if not (re.fullmatch(r"[0-9]{10}", element.text) and belgian_vat.is_valid(element.text))
    ]
    return problems


@pytest.mark.parametrize("make_snapshot", ALL_SNAPSHOTS, ids=lambda make: make.__name__)
def test_document_passes_xsd_schematron_and_peppol_rules(make_snapshot):
    snapshot = make_snapshot()
    xml = build_ubl(snapshot)

    report = check_ubl(xml)

    assert report.errors == []
    assert report.warnings == []
    root = etree.fromstring(xml)
    if party_endpoint(snapshot["buyer"]) is None:
        # A buyer nobody reaches on Peppol gets a plain EN 16931 invoice, by e-mail.
        assert text(root, "cbc:CustomizationID") == "urn:cen.eu:en16931:2017"
        assert xpath(root, "cac:AccountingCustomerParty//cbc:EndpointID") == []
    else:
        assert peppol_problems(root, snapshot) == []


def test_domestic_invoice_rounds_vat_on_the_total():
    root = etree.fromstring(build_ubl(snapshots.domestic_invoice()))

    assert xpath(root, "local-name()") == "Invoice"
    assert text(root, "cbc:InvoiceTypeCode") == "380"
    assert text(root, "cbc:DueDate") == "2026-04-01"
    assert text(root, "cac:TaxTotal/cbc:TaxAmount") == "12.59"
    assert text(root, "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxableAmount") == "59.97"
    assert text(root, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID") == "S"
    assert text(root, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:Percent") == "21.00"
    assert text(root, "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount") == "59.97"
    assert text(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount") == "72.56"
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "72.56"
    assert text(root, "cac:InvoiceLine/cbc:InvoicedQuantity") == "3.00"
    assert xpath(root, "string(cac:InvoiceLine/cbc:InvoicedQuantity/@unitCode)") == "HUR"
    assert text(root, "cac:InvoiceLine/cac:Price/cbc:PriceAmount") == "19.99"
    assert text(root, "cbc:BuyerReference") == "PO-2026-77"
    assert text(root, "cac:PaymentMeans/cbc:PaymentID") == "+++123/4567/89002+++"
    assert text(root, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID") == "BE71096123456769"
    buyer = "cac:AccountingCustomerParty/cac:Party"
    assert text(root, f"{buyer}/cbc:EndpointID") == "1000000021"
    assert xpath(root, f"string({buyer}/cbc:EndpointID/@schemeID)") == "0208"
    assert text(root, f"{buyer}/cac:PartyLegalEntity/cbc:CompanyID") == "1000000021"
    assert text(root, f"{buyer}/cac:PartyTaxScheme/cbc:CompanyID") == "BE1000000021"
    assert text(root, f"{buyer}/cac:PartyLegalEntity/cbc:RegistrationName") == (
        "Théâtre des Galeries SA"
    )


def test_mixed_rates_have_one_subtotal_per_rate():
    root = etree.fromstring(build_ubl(snapshots.mixed_rates_invoice()))

    subtotals = [
        (
            text(subtotal, "cac:TaxCategory/cbc:Percent"),
            text(subtotal, "cbc:TaxableAmount"),
            text(subtotal, "cbc:TaxAmount"),
        )
        for subtotal in xpath(root, "cac:TaxTotal/cac:TaxSubtotal")
    ]
    assert subtotals == [
        ("21.00", "900.00", "189.00"),
        ("12.00", "80.00", "9.60"),
        ("6.00", "202.50", "12.15"),
    ]
    assert text(root, "cac:TaxTotal/cbc:TaxAmount") == "210.75"
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "1393.25"
    assert len(xpath(root, "cac:InvoiceLine")) == 3


def test_reverse_charge_names_the_exemption_and_both_vat_numbers():
    root = etree.fromstring(build_ubl(snapshots.reverse_charge_invoice()))

    category = "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory"
    assert text(root, f"{category}/cbc:ID") == "AE"
    assert text(root, f"{category}/cbc:Percent") == "0.00"
    assert text(root, f"{category}/cbc:TaxExemptionReasonCode") == "VATEX-EU-AE"
    assert text(root, f"{category}/cbc:TaxExemptionReason") == (
        "Autoliquidation / Verlegging van heffing"
    )
    assert text(root, "cac:TaxTotal/cbc:TaxAmount") == "0.00"
    assert text(root, "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID") == (
        "BE0403019261"
    )
    assert text(root, "cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID") == (
        "BE1000000021"
    )


def test_intra_eu_supply_has_exemption_code_delivery_date_and_country():
    root = etree.fromstring(build_ubl(snapshots.intra_eu_invoice()))

    category = "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory"
    assert text(root, f"{category}/cbc:ID") == "K"
    assert text(root, f"{category}/cbc:TaxExemptionReasonCode") == "VATEX-EU-IC"
    assert text(root, "cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory/cbc:ID") == "K"
    assert text(root, "cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID") == (
        "FR40303265045"
    )
    # BR-IC-11 and BR-IC-12.
    assert text(root, "cac:Delivery/cbc:ActualDeliveryDate") == "2026-03-02"
    assert (
        text(
            root, "cac:Delivery/cac:DeliveryLocation/cac:Address/cac:Country/cbc:IdentificationCode"
        )
        == "FR"
    )
    # Without a Peppol id the buyer is addressed under the French VAT scheme of the EAS list.
    endpoint = xpath(root, "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID")[0]
    assert (endpoint.get("schemeID"), endpoint.text) == ("9957", "FR40303265045")


def test_credit_note_references_the_credited_invoice():
    root = etree.fromstring(build_ubl(snapshots.credit_note()))

    assert xpath(root, "local-name()") == "CreditNote"
    assert text(root, "cbc:CreditNoteTypeCode") == "381"
    assert text(root, "cbc:ID") == "NC-2026-000004"
    assert text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == "2026-000123"
    assert text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate") == (
        "2026-03-02"
    )
    assert xpath(root, "cbc:DueDate | cbc:InvoiceTypeCode | cac:InvoiceLine") == []
    assert text(root, "cac:CreditNoteLine/cbc:CreditedQuantity") == "1.00"
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "24.19"


def test_credit_note_asks_for_no_payment_and_says_how_it_is_settled():
    snapshot = snapshots.credit_note()
    root = etree.fromstring(build_ubl(snapshot))

    # No payment means to the cooperative's IBAN, no due date: the buyer pays nothing.
    assert xpath(root, "cac:PaymentMeans") == []
    assert xpath(root, "//cbc:PaymentDueDate | //cbc:DueDate") == []
    assert snapshot["seller"]["iban"] not in etree.tostring(root).decode()
    assert text(root, "cac:PaymentTerms/cbc:Note") == snapshot["settlement"]["text"]
    report = check_ubl(etree.tostring(root))
    assert (report.errors, report.warnings) == ([], [])


def test_private_person_has_no_vat_number():
    root = etree.fromstring(build_ubl(snapshots.private_person_invoice()))

    buyer = xpath(root, "cac:AccountingCustomerParty/cac:Party")[0]
    assert xpath(buyer, "cac:PartyTaxScheme") == []
    assert xpath(buyer, "cac:PartyLegalEntity/cbc:CompanyID") == []
    assert text(buyer, "cac:PartyLegalEntity/cbc:RegistrationName") == "Jan Janssens"
    # Not reachable on Peppol: an EN 16931 invoice without buyer endpoint, never an e-mail one.
    assert xpath(buyer, "cbc:EndpointID") == []
    assert text(root, "cbc:CustomizationID") == "urn:cen.eu:en16931:2017"


def test_one_note_only_when_given():
    snapshot = snapshots.domestic_invoice()
    assert xpath(etree.fromstring(build_ubl(snapshot)), "cbc:Note") == []

    snapshot["note"] = "Merci pour votre confiance."
    root = etree.fromstring(build_ubl(snapshot))

    assert [note.text for note in xpath(root, "cbc:Note")] == ["Merci pour votre confiance."]
    assert validate_ubl(build_ubl(snapshot)) == []


def test_description_of_several_lines_keeps_the_first_as_item_name():
    snapshot = snapshots.domestic_invoice()
    snapshot["lines"][0]["description"] = "Lighting design\nRehearsals of 2, 3 and 4 March"

    xml = build_ubl(snapshot)
    root = etree.fromstring(xml)

    assert text(root, "cac:InvoiceLine/cac:Item/cbc:Name") == "Lighting design"
    assert text(root, "cac:InvoiceLine/cac:Item/cbc:Description") == (
        "Lighting design\nRehearsals of 2, 3 and 4 March"
    )
    assert validate_ubl(xml) == []


def test_order_reference_stands_in_for_a_missing_buyer_reference():
    snapshot = snapshots.domestic_invoice()
    snapshot["buyer_reference"] = ""
    snapshot["order_reference"] = "BC-4411"

    xml = build_ubl(snapshot)
    root = etree.fromstring(xml)

    assert xpath(root, "cbc:BuyerReference") == []
    assert text(root, "cac:OrderReference/cbc:ID") == "BC-4411"
    assert validate_ubl(xml) == []
    assert peppol_problems(root, snapshot) == []


def test_snapshot_without_any_reference_carries_none():
    # Issuing refuses this for a buyer reached on Peppol (PEPPOL-EN16931-R003); a document sent
    # by e-mail carries no made-up reference, and EN 16931 does not require one.
    snapshot = snapshots.private_person_invoice()
    snapshot["buyer_reference"] = ""

    xml = build_ubl(snapshot)

    assert xpath(etree.fromstring(xml), "cbc:BuyerReference | cac:OrderReference") == []
    assert validate_ubl(xml) == []


def test_same_snapshot_gives_the_same_bytes():
    first = build_ubl(snapshots.mixed_rates_invoice())
    second = build_ubl(copy.deepcopy(snapshots.mixed_rates_invoice()))

    assert first == second
    assert first.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Invoice ')
    assert "Théâtre".encode() in first


def test_totals_that_do_not_add_up_are_fatal():
    snapshot = snapshots.domestic_invoice()
    snapshot["totals"]["tax_inclusive"] = "72.57"
    snapshot["totals"]["payable"] = "72.57"

    errors = validate_ubl(build_ubl(snapshot))

    assert any(error.startswith("[BR-CO-15]") for error in errors), errors


def test_vat_not_matching_the_breakdown_is_fatal():
    snapshot = snapshots.mixed_rates_invoice()
    snapshot["vat_breakdown"][0]["vat_amount"] = "189.01"

    errors = validate_ubl(build_ubl(snapshot))

    assert any(error.startswith("[BR-CO-14]") for error in errors), errors


def test_elements_out_of_xsd_order_are_reported():
    root = etree.fromstring(build_ubl(snapshots.domestic_invoice()))
    due_date = xpath(root, "cbc:DueDate")[0]
    xpath(root, "cbc:InvoiceTypeCode")[0].addnext(due_date)

    errors = validate_ubl(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    assert any(error.startswith("XSD") and "DueDate" in error for error in errors), errors


def test_broken_peppol_rules_are_caught():
    snapshot = snapshots.domestic_invoice()
    root = etree.fromstring(build_ubl(snapshot))
    root.remove(xpath(root, "cbc:BuyerReference")[0])
    for note in ("second", "first"):
        element = etree.Element(f"{{{NAMESPACES['cbc']}}}Note")
        element.text = note
        xpath(root, "cbc:InvoiceTypeCode")[0].addnext(element)
    xpath(root, "cac:PaymentMeans/cbc:PaymentMeansCode")[0].text = "31"
    endpoint = xpath(root, "cac:AccountingSupplierParty/cac:Party/cbc:EndpointID")[0]
    endpoint.text = "0403019262"
    xpath(root, "cac:InvoiceLine/cac:Item/cbc:Name")[0].text = " "

    problems = peppol_problems(root, snapshot)

    assert problems == [
        "PEPPOL-EN16931-R003 BuyerReference or OrderReference",
        "PEPPOL-EN16931-R002 at most one Note",
        "PaymentMeansCode 30 or 58",
        "PEPPOL-EN16931-R008 empty Name",
        "PEPPOL-COMMON-R043 enterprise number 0403019262",
    ]


def test_unparsable_or_foreign_documents_are_errors():
    assert validate_ubl(b"<Invoice>")[0].startswith("XML:")
    assert validate_ubl(b"<Order/>") == ["XML: Order is neither a UBL Invoice nor a CreditNote."]


def test_outbox_transport_stores_the_payload_once(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.PEPPOL_TRANSPORT = "invoicing.peppol.OutboxTransport"
    transport = peppol.get_transport()
    payload = build_ubl(snapshots.domestic_invoice())

    reference = transport.send(
        document_number="2026-000123", receiver_id="0208:1000000021", payload=payload
    )
    again = transport.send(
        document_number="2026-000123", receiver_id="0208:1000000021", payload=payload
    )

    assert reference == again == "outbox:peppol/outbox/2026-000123.xml"
    assert [path.name for path in (tmp_path / "peppol" / "outbox").iterdir()] == ["2026-000123.xml"]
    assert (tmp_path / "peppol" / "outbox" / "2026-000123.xml").read_bytes() == payload


def test_outbox_transport_replaces_a_re_rendered_document(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    transport = peppol.OutboxTransport()
    transport.send(document_number="2026-000123", receiver_id="0208:1000000021", payload=b"old")

    reference = transport.send(
        document_number="2026-000123", receiver_id="0208:1000000021", payload=b"new"
    )

    assert reference == "outbox:peppol/outbox/2026-000123.xml"
    assert [path.read_bytes() for path in (tmp_path / "peppol" / "outbox").iterdir()] == [b"new"]


def test_outbox_transport_refuses_a_path_as_document_number(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    with pytest.raises(ValueError, match="file name"):
        peppol.OutboxTransport().send(
            document_number="../2026-000123", receiver_id="0208:1000000021", payload=b"x"
        )
    assert list(tmp_path.iterdir()) == []


def test_transport_comes_from_the_setting(settings):
    settings.PEPPOL_TRANSPORT = "tests.invoicing.test_ubl.RecordingTransport"

    transport = peppol.get_transport()

    assert isinstance(transport, RecordingTransport)


class RecordingTransport:
    def send(self, *, document_number: str, receiver_id: str, payload: bytes) -> str:
        return f"recorded:{document_number}"
