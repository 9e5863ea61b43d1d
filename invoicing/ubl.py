"""Render an issued invoice or credit note as a Peppol BIS Billing 3.0 document in UBL 2.1.

The document is built from the frozen snapshot alone, so rendering twice gives the same bytes.
Elements are appended in the order the UBL 2.1 XSD prescribes; optional elements are left out
rather than written empty (PEPPOL-EN16931-R008).
"""

from decimal import Decimal, InvalidOperation

from lxml import etree

from coop.money import has_at_most_cents
from invoicing import eas
from invoicing.snapshot import (
    AllowanceChargeSnapshot,
    InvoiceSnapshot,
    LineSnapshot,
    PartySnapshot,
    VatGroupSnapshot,
)
from invoicing.vat import vat_prefix

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
# A buyer who cannot be reached on Peppol gets a plain EN 16931 invoice: see party_endpoint.
EN16931_CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017"

INVOICE_NAMESPACE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NAMESPACE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

INVOICE_TYPE_CODE = "380"
CREDIT_NOTE_TYPE_CODE = "381"
CREDIT_TRANSFER = "30"
BELGIAN_ENTERPRISE_SCHEME = eas.BELGIAN_ENTERPRISE
VAT_SCHEME = "VAT"
CURRENCY = "EUR"
# Only these categories carry an exemption reason: BR-E-10, BR-AE-10, BR-IC-10, BR-G-10, BR-O-10
# require one, BR-S-10 and BR-Z-10 forbid it.
EXEMPT_CATEGORIES = {"E", "AE", "K", "G", "O"}
INTRA_EU = "K"
OUTSIDE_SCOPE = "O"


def build_ubl(snapshot: InvoiceSnapshot) -> bytes:
    """Return the UBL 2.1 Invoice or CreditNote of a snapshot, UTF-8 with an XML declaration.

    Raise ValueError when the snapshot lacks something the document cannot do without.
    """
    if snapshot["currency"] != CURRENCY:
        raise ValueError(f"Currency {snapshot['currency']!r} is not supported.")
    is_credit_note = snapshot["document_type"] == "credit_note"
    namespace = CREDIT_NOTE_NAMESPACE if is_credit_note else INVOICE_NAMESPACE
    root = etree.Element(
        f"{{{namespace}}}{'CreditNote' if is_credit_note else 'Invoice'}",
        nsmap={None: namespace, "cac": CAC, "cbc": CBC},
    )
    if is_peppol_document(snapshot):
        _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
        _cbc(root, "ProfileID", PROFILE_ID)
    else:
        _cbc(root, "CustomizationID", EN16931_CUSTOMIZATION_ID)
    _cbc(root, "ID", snapshot["number"])
    _cbc(root, "IssueDate", snapshot["issue_date"])
    # A credit note asks for no payment: no due date (see _add_credit_note_terms).
    if is_credit_note:
        _cbc(root, "CreditNoteTypeCode", CREDIT_NOTE_TYPE_CODE)
    else:
        if snapshot["due_date"]:
            _cbc(root, "DueDate", snapshot["due_date"])
        _cbc(root, "InvoiceTypeCode", INVOICE_TYPE_CODE)
    # PEPPOL-EN16931-R002: at most one document-level note.
    if snapshot["note"].strip():
        _cbc(root, "Note", snapshot["note"])
    _cbc(root, "DocumentCurrencyCode", snapshot["currency"])
    _add_references(root, snapshot, is_credit_note=is_credit_note)
    seller = snapshot["seller"]
    # BR-O-02: a document outside the scope of VAT names neither party's VAT number; the seller
    # is identified by its enterprise number (BT-30) instead.
    outside_scope = any(group["category"] == OUTSIDE_SCOPE for group in snapshot["vat_breakdown"])
    _add_party(
        root,
        "AccountingSupplierParty",
        seller,
        with_vat_number=not outside_scope,
        legal_mentions=", ".join(
            part for part in (seller["legal_form"], seller["seat"], seller["register"]) if part
        ),
        telephone=seller["phone"],
    )
    _add_party(
        root, "AccountingCustomerParty", snapshot["buyer"], with_vat_number=not outside_scope
    )
    _add_delivery(root, snapshot)
    _add_payment_means(root, snapshot, is_credit_note=is_credit_note)
    for allowance_charge in snapshot.get("allowance_charges", []):
        _add_allowance_charge(root, allowance_charge)
    _add_tax_total(root, snapshot)
    _add_monetary_total(root, snapshot)
    for line in snapshot["lines"]:
        _add_line(root, line, is_credit_note=is_credit_note)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(
        root, encoding="UTF-8", xml_declaration=False, pretty_print=True
    )


def party_endpoint(party: PartySnapshot) -> tuple[str, str] | None:
    """Return a party's Peppol address as (EAS scheme, identifier), or None when it has none.

    In this order: the Peppol participant id the record holds; a Belgian enterprise number
    (0208); a VAT number under its country's VAT scheme (9925 Belgium, 9930 Germany, 9957
    France, 9944 the Netherlands, …, see invoicing.eas); a GLN (0088). A party with none of
    these, such as a private person or a company abroad without identifier, cannot be reached
    on Peppol. An e-mail address is never an endpoint: "EM" is not an EAS code
    (PEPPOL-EN16931-CL008).

    Raise ValueError when the participant id is malformed or its scheme is not an EAS code.
    """
    if party["peppol_id"]:
        return eas.split_participant_id(party["peppol_id"])
    if party["country"] == "BE" and party["enterprise_number"]:
        return BELGIAN_ENTERPRISE_SCHEME, party["enterprise_number"]
    vat_scheme = eas.VAT_SCHEMES.get(party["vat_number"][:2])
    if vat_scheme and has_vat_prefix(party):
        return vat_scheme, party["vat_number"]
    if party.get("gln"):
        return eas.GLN, party["gln"]
    return None


def has_vat_prefix(party: PartySnapshot) -> bool:
    """Tell whether a party's VAT number starts with its country's prefix (EL for Greece)."""
    return party["vat_number"][:2] == vat_prefix(party["country"])


def is_peppol_document(snapshot: InvoiceSnapshot) -> bool:
    """Tell whether the document is a Peppol BIS document: whether its buyer has an endpoint.

    A buyer without one gets an EN 16931 invoice (CustomizationID urn:cen.eu:en16931:2017, no
    EndpointID), which is never sent over Peppol but by e-mail with the PDF and the UBL.
    """
    return party_endpoint(snapshot["buyer"]) is not None


def _cbc(parent: etree._Element, name: str, text: str, **attributes: str) -> etree._Element:
    """Append a basic component; refuse an empty one (PEPPOL-EN16931-R008)."""
    text = text.strip()
    if not text:
        raise ValueError(f"cbc:{name} would be empty.")
    element = etree.SubElement(parent, f"{{{CBC}}}{name}", attributes)
    element.text = text
    return element


def _cac(parent: etree._Element, name: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{CAC}}}{name}")


def _amount(parent: etree._Element, name: str, value: str) -> etree._Element:
    return _cbc(parent, name, _money(value), currencyID=CURRENCY)


def _money(value: str) -> str:
    """Return an amount with exactly two decimals; refuse one that would need rounding."""
    amount = _decimal(value)
    if not has_at_most_cents(amount):
        raise ValueError(f"Amount {value!r} has more than two decimals.")
    return f"{amount:.2f}"


def _decimal(value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number.") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number.")
    return number


def _percent(value: str) -> str:
    return f"{_decimal(value):.2f}"


def _number(value: str) -> str:
    """Return a decimal in plain notation: xs:decimal has no exponent ("1E+2")."""
    return f"{_decimal(value):f}"


def _period(snapshot: InvoiceSnapshot) -> tuple[str, str] | None:
    start, end = snapshot.get("period_start", ""), snapshot.get("period_end", "")
    return (start, end) if start and end else None


def _add_references(
    root: etree._Element, snapshot: InvoiceSnapshot, *, is_credit_note: bool
) -> None:
    # BT-10 and BT-13 carry only what the buyer gave. Peppol requires one of them
    # (PEPPOL-EN16931-R003): issuing refuses an invoice without either for a buyer reached on
    # Peppol; a document e-mailed to anyone else may carry none (EN 16931 does not require it).
    if snapshot["buyer_reference"].strip():
        _cbc(root, "BuyerReference", snapshot["buyer_reference"])
    period = _period(snapshot)
    if period:
        invoice_period = _cac(root, "InvoicePeriod")
        _cbc(invoice_period, "StartDate", period[0])
        _cbc(invoice_period, "EndDate", period[1])
    if snapshot["order_reference"].strip():
        _cbc(_cac(root, "OrderReference"), "ID", snapshot["order_reference"])
    credited_invoice = snapshot["credited_invoice"]
    if credited_invoice:
        document = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(document, "ID", credited_invoice["number"])
        if credited_invoice["issue_date"]:
            _cbc(document, "IssueDate", credited_invoice["issue_date"])
    elif is_credit_note:
        raise ValueError("A credit note must reference the invoice it credits.")


def _add_party(
    root: etree._Element,
    role: str,
    party: PartySnapshot,
    *,
    legal_mentions: str = "",
    telephone: str = "",
    with_vat_number: bool = True,
) -> None:
    element = _cac(_cac(root, role), "Party")
    endpoint = party_endpoint(party)
    if endpoint:
        scheme, identifier = endpoint
        _cbc(element, "EndpointID", identifier, schemeID=scheme)
    _add_address(_cac(element, "PostalAddress"), party)
    # A private person has no VAT number, so no PartyTaxScheme (BT-48 is optional in B2C).
    # A tax number without its country's prefix (a Japanese T-number, an identifier of a
    # country python-stdnum cannot check) is no VAT identifier under EN 16931 (BR-CO-9): it
    # goes as the party's legal registration identifier (BT-47) instead.
    tax_number = party["vat_number"] if with_vat_number else ""
    registration = ""
    if tax_number and not has_vat_prefix(party):
        tax_number, registration = "", tax_number
    if tax_number:
        tax_scheme = _cac(element, "PartyTaxScheme")
        _cbc(tax_scheme, "CompanyID", tax_number)
        _cbc(_cac(tax_scheme, "TaxScheme"), "ID", VAT_SCHEME)
    legal_entity = _cac(element, "PartyLegalEntity")
    _cbc(legal_entity, "RegistrationName", party["name"])
    if party["enterprise_number"]:
        _cbc(
            legal_entity,
            "CompanyID",
            party["enterprise_number"],
            schemeID=BELGIAN_ENTERPRISE_SCHEME,
        )
    elif registration:
        _cbc(legal_entity, "CompanyID", registration)
    # BT-33, seller additional legal information: legal form, seat and register, which Belgian
    # company law requires on every invoice.
    if legal_mentions:
        _cbc(legal_entity, "CompanyLegalForm", legal_mentions)
    if telephone or party["email"]:
        contact = _cac(element, "Contact")
        if telephone:
            _cbc(contact, "Telephone", telephone)
        if party["email"]:
            _cbc(contact, "ElectronicMail", party["email"])


def _add_address(address: etree._Element, party: PartySnapshot) -> None:
    if party["street"]:
        _cbc(address, "StreetName", party["street"])
    if party["city"]:
        _cbc(address, "CityName", party["city"])
    if party["postal_code"]:
        _cbc(address, "PostalZone", party["postal_code"])
    _cbc(_cac(address, "Country"), "IdentificationCode", party["country"])


def _add_delivery(root: etree._Element, snapshot: InvoiceSnapshot) -> None:
    """Add the date of supply (BT-72) unless an invoicing period says when; one Delivery only.

    Without a separate date of supply, the supply took place on the issue date, as the PDF
    implies by printing none. An intra-EU supply also needs a delivery date or an invoicing
    period (BR-IC-11) and the deliver-to country (BR-IC-12).
    """
    is_intra_eu = any(group["category"] == INTRA_EU for group in snapshot["vat_breakdown"])
    has_period = _period(snapshot) is not None
    if has_period and not is_intra_eu:
        return
    delivery = _cac(root, "Delivery")
    if not has_period:
        _cbc(delivery, "ActualDeliveryDate", snapshot.get("supply_date") or snapshot["issue_date"])
    if is_intra_eu:
        _add_address(_cac(_cac(delivery, "DeliveryLocation"), "Address"), snapshot["buyer"])


def _add_allowance_charge(root: etree._Element, item: AllowanceChargeSnapshot) -> None:
    """Add a document-level allowance (BG-20) or charge (BG-21) with its VAT category."""
    element = _cac(root, "AllowanceCharge")
    _cbc(element, "ChargeIndicator", "true" if item["is_charge"] else "false")
    _cbc(element, "AllowanceChargeReason", item["reason"])
    # PEPPOL-EN16931-R041/R042: a percentage and its base go together; R040: amount = base × %.
    if item["percent"]:
        _cbc(element, "MultiplierFactorNumeric", _number(item["percent"]))
    _amount(element, "Amount", item["amount"])
    if item["percent"]:
        _amount(element, "BaseAmount", item["base_amount"])
    category = _cac(element, "TaxCategory")
    _cbc(category, "ID", item["vat_category"])
    if item["vat_category"] != OUTSIDE_SCOPE:
        _cbc(category, "Percent", _percent(item["vat_rate"]))
    _cbc(_cac(category, "TaxScheme"), "ID", VAT_SCHEME)


def _add_line_allowance(element: etree._Element, line: LineSnapshot) -> None:
    """Add the line's discount (BG-27); its VAT is the line's, so no TaxCategory here."""
    amount = line.get("allowance_amount", "")
    if not amount or _decimal(amount) == 0:
        return
    allowance = _cac(element, "AllowanceCharge")
    _cbc(allowance, "ChargeIndicator", "false")
    _cbc(allowance, "AllowanceChargeReason", line.get("allowance_reason", ""))
    percent = line.get("allowance_percent", "")
    if percent:
        _cbc(allowance, "MultiplierFactorNumeric", _number(percent))
    _amount(allowance, "Amount", amount)
    if percent:
        _amount(allowance, "BaseAmount", line["gross_amount"])


def _add_payment_means(
    root: etree._Element, snapshot: InvoiceSnapshot, *, is_credit_note: bool
) -> None:
    if is_credit_note:
        _add_credit_note_terms(root, snapshot)
        return
    seller = snapshot["seller"]
    # BR-61: a credit transfer needs the payee's account; without an IBAN there is nothing to say.
    if not seller["iban"]:
        return
    payment_means = _cac(root, "PaymentMeans")
    _cbc(payment_means, "PaymentMeansCode", CREDIT_TRANSFER)
    # Belgian banks match the structured communication in its +++…+++ form.
    if snapshot["structured_communication"]:
        _cbc(payment_means, "PaymentID", snapshot["structured_communication"])
    account = _cac(payment_means, "PayeeFinancialAccount")
    _cbc(account, "ID", seller["iban"])
    _cbc(account, "Name", seller["name"])
    if seller["bic"]:
        _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", seller["bic"])


def _add_credit_note_terms(root: etree._Element, snapshot: InvoiceSnapshot) -> None:
    """Say how the credit note is settled, and ask for no payment.

    A credit note carries no payment means to the cooperative's account and no due date: the
    buyer pays nothing. BR-CO-25 still wants payment terms (BT-20) for a positive amount due, so
    they say whether the amount is deducted from the invoice or refunded.
    """
    settlement = snapshot.get("settlement")
    credited = snapshot["credited_invoice"]
    text = settlement["text"] if settlement else ""
    if not text and credited:
        text = f"Credit note for invoice {credited['number']}: nothing to pay."
    if text:
        _cbc(_cac(root, "PaymentTerms"), "Note", text)


def _add_tax_total(root: etree._Element, snapshot: InvoiceSnapshot) -> None:
    tax_total = _cac(root, "TaxTotal")
    _amount(tax_total, "TaxAmount", snapshot["totals"]["vat"])
    for group in snapshot["vat_breakdown"]:
        subtotal = _cac(tax_total, "TaxSubtotal")
        _amount(subtotal, "TaxableAmount", group["taxable_amount"])
        _amount(subtotal, "TaxAmount", group["vat_amount"])
        _add_tax_category(_cac(subtotal, "TaxCategory"), group)


def _add_tax_category(category: etree._Element, group: VatGroupSnapshot) -> None:
    _cbc(category, "ID", group["category"])
    # BR-O-05: "not subject to VAT" carries no rate.
    if group["category"] != OUTSIDE_SCOPE:
        _cbc(category, "Percent", _percent(group["rate"]))
    if group["category"] in EXEMPT_CATEGORIES:
        if group["exemption_code"]:
            _cbc(category, "TaxExemptionReasonCode", group["exemption_code"])
        if group["exemption_reason"]:
            _cbc(category, "TaxExemptionReason", group["exemption_reason"])
    _cbc(_cac(category, "TaxScheme"), "ID", VAT_SCHEME)


def _add_monetary_total(root: etree._Element, snapshot: InvoiceSnapshot) -> None:
    totals = snapshot["totals"]
    monetary_total = _cac(root, "LegalMonetaryTotal")
    _amount(monetary_total, "LineExtensionAmount", totals["line_extension"])
    _amount(monetary_total, "TaxExclusiveAmount", totals["tax_exclusive"])
    _amount(monetary_total, "TaxInclusiveAmount", totals["tax_inclusive"])
    # BT-107 and BT-108 are given when the document has allowances or charges (BR-CO-11/12).
    allowance_charges = snapshot.get("allowance_charges", [])
    if any(not item["is_charge"] for item in allowance_charges):
        _amount(monetary_total, "AllowanceTotalAmount", totals["allowance_total"])
    if any(item["is_charge"] for item in allowance_charges):
        _amount(monetary_total, "ChargeTotalAmount", totals["charge_total"])
    _amount(monetary_total, "PayableAmount", totals["payable"])


def _add_line(root: etree._Element, line: LineSnapshot, *, is_credit_note: bool) -> None:
    element = _cac(root, "CreditNoteLine" if is_credit_note else "InvoiceLine")
    _cbc(element, "ID", str(line["position"]))
    _cbc(
        element,
        "CreditedQuantity" if is_credit_note else "InvoicedQuantity",
        _number(line["quantity"]),
        unitCode=line["unit"],
    )
    _amount(element, "LineExtensionAmount", line["net_amount"])
    _add_line_allowance(element, line)
    item = _cac(element, "Item")
    # The item name is a short label; a description of several lines goes in full into BT-154.
    description = line["description"].strip()
    name = description.splitlines()[0] if description else ""
    if description != name:
        _cbc(item, "Description", description)
    _cbc(item, "Name", name)
    tax_category = _cac(item, "ClassifiedTaxCategory")
    _cbc(tax_category, "ID", line["vat_category"])
    if line["vat_category"] != OUTSIDE_SCOPE:
        _cbc(tax_category, "Percent", _percent(line["vat_rate"]))
    _cbc(_cac(tax_category, "TaxScheme"), "ID", VAT_SCHEME)
    _cbc(_cac(element, "Price"), "PriceAmount", _number(line["unit_price"]), currencyID=CURRENCY)
