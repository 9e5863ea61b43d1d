"""The frozen content of an issued invoice or credit note.

Issuing copies seller, buyer, lines and totals into a snapshot stored on the invoice; PDFs and
UBL e-invoices are rendered from it alone, so a later change of a client's address never alters
an issued document, and rendering twice gives the same result. Amounts are strings with two
decimals ("1234.50"), dates ISO strings ("2026-03-02"): the snapshot is stored as JSON.
"""

from typing import Literal, NotRequired, TypedDict


class PartySnapshot(TypedDict):
    name: str
    street: str
    postal_code: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    vat_number: str  # "BE0403019261"; "" for a private person
    enterprise_number: str  # Belgian KBO/BCE number, 10 digits; "" when none
    peppol_id: str  # "0208:0403019261"; "" when none
    email: str
    is_business: bool
    gln: NotRequired[str]  # GS1 Global Location Number, 13 digits; absent in older snapshots


class SellerSnapshot(PartySnapshot):
    iban: str  # compact, "BE71096123456769"
    bic: str
    legal_form: str  # "SCE" / "société coopérative européenne"
    seat: str  # registered office, one line
    register: str  # in the document's language: "RPM Bruxelles" / "RPR Brussel" / "RLE Brussels"
    phone: str
    website: str


class LineSnapshot(TypedDict):
    position: int
    description: str
    quantity: str  # "3.00"
    unit: str  # UN/ECE rec. 20 code: "HUR" hour, "DAY" day, "C62" piece
    unit_price: str  # "19.99", excluding VAT
    net_amount: str  # quantity × unit price, rounded to the cent, less the line's discount
    supply_kind: NotRequired[str]  # "goods" or "services"; absent in older snapshots
    vat_category: str  # S, Z, E, AE, K, G, O
    vat_rate: str  # "21.00"; "0.00" for O, which has no rate
    exemption_reason: str  # the law's mention for AE, K, G, O; the legal basis for E
    # Snapshots taken before line discounts existed lack the four keys below.
    gross_amount: NotRequired[str]  # quantity × unit price, rounded to the cent
    allowance_amount: NotRequired[str]  # the line's discount, "0.00" when none
    allowance_percent: NotRequired[str]  # "10.00" when a percentage of the gross amount, else ""
    allowance_reason: NotRequired[str]


class AllowanceChargeSnapshot(TypedDict):
    """A document-level allowance (discount) or charge, EN 16931 BG-20 / BG-21."""

    is_charge: bool
    reason: str
    amount: str
    percent: str  # "5.00" when a percentage of base_amount, else ""
    base_amount: str  # the net amount of the lines of its VAT group when a percentage, else ""
    vat_category: str
    vat_rate: str


class VatGroupSnapshot(TypedDict):
    category: str
    rate: str
    taxable_amount: str
    vat_amount: str
    exemption_reason: str  # required for E, AE, K, G, O
    exemption_code: str  # VATEX code: "VATEX-EU-AE", "-IC", "-G", "-O", one for E, or ""


class TotalsSnapshot(TypedDict):
    line_extension: str
    allowance_total: NotRequired[str]  # absent from snapshots older than allowances
    charge_total: NotRequired[str]
    tax_exclusive: str
    vat: str
    tax_inclusive: str
    payable: str


class CreditedInvoiceSnapshot(TypedDict):
    number: str
    issue_date: str


class SettlementSnapshot(TypedDict):
    """How a credit note is settled: deducted from what is due, refunded for what was paid."""

    deducted: str
    refunded: str
    text: str  # one sentence in the document's language, printed and put in the payment terms


class InvoiceSnapshot(TypedDict):
    document_type: Literal["invoice", "credit_note"]
    number: str  # "2026-000123", credit notes "NC-2026-000004"
    issue_date: str
    due_date: str  # "" on a credit note: it asks for no payment
    supply_date: str  # date of supply when it differs from the issue date, else ""
    period_start: NotRequired[str]  # invoicing period when the work spans one, else ""
    period_end: NotRequired[str]
    language: Literal["fr", "nl", "en"]
    currency: Literal["EUR"]
    buyer_reference: str
    order_reference: str
    note: str
    structured_communication: str  # "+++123/4567/89002+++"
    credited_invoice: CreditedInvoiceSnapshot | None
    seller: SellerSnapshot
    buyer: PartySnapshot
    lines: list[LineSnapshot]
    allowance_charges: NotRequired[list[AllowanceChargeSnapshot]]
    vat_breakdown: list[VatGroupSnapshot]
    totals: TotalsSnapshot
    activity_name: str
    member_name: str  # the cooperator who did the work, shown on the PDF
    settlement: NotRequired[SettlementSnapshot]  # credit notes issued since refunds exist
