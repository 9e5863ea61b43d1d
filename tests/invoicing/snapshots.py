"""Ready-made invoice snapshots for document tests (UBL, PDF)."""

import copy
from decimal import Decimal

from invoicing.calculation import Line, compute_totals
from invoicing.snapshot import InvoiceSnapshot
from invoicing.vat import exemption

SELLER = {
    "name": "coop SCE",
    "street": "Rue Ransfort 27",
    "postal_code": "1080",
    "city": "Bruxelles",
    "country": "BE",
    "vat_number": "BE0403019261",
    "enterprise_number": "0403019261",
    "peppol_id": "0208:0403019261",
    "email": "invoices@coop.example",
    "is_business": True,
    "iban": "BE71096123456769",
    "bic": "GKCCBEBB",
    "legal_form": "SCE",
    "seat": "Rue Ransfort 27, 1080 Bruxelles",
    "register": "RPM Bruxelles",
    "phone": "+32 2 542 10 80",
    "website": "https://coop.example",
}
BELGIAN_COMPANY = {
    "name": "Théâtre des Galeries SA",
    "street": "Galerie du Roi 32",
    "postal_code": "1000",
    "city": "Bruxelles",
    "country": "BE",
    "vat_number": "BE1000000021",
    "enterprise_number": "1000000021",
    "peppol_id": "0208:1000000021",
    "email": "compta@galeries.example",
    "is_business": True,
}
FRENCH_COMPANY = {
    "name": "Atelier Lumière SARL",
    "street": "12 rue de la Paix",
    "postal_code": "75002",
    "city": "Paris",
    "country": "FR",
    "vat_number": "FR40303265045",
    "enterprise_number": "",
    "peppol_id": "",
    "email": "factures@lumiere.example",
    "is_business": True,
}
SWISS_COMPANY = {
    "name": "Festival Lumières Léman SA",
    "street": "Avenue de la Gare 12",
    "postal_code": "1003",
    "city": "Lausanne",
    "country": "CH",
    "vat_number": "CHE116281710MWST",
    "enterprise_number": "",
    "peppol_id": "",
    "email": "billing@leman.example",
    "is_business": True,
}
AMERICAN_COMPANY = {
    "name": "Hudson Stage Supply Inc.",
    "street": "350 Fifth Avenue",
    "postal_code": "10118",
    "city": "New York",
    "country": "US",
    "vat_number": "",
    "enterprise_number": "",
    "peppol_id": "",
    "email": "ap@hudson.example",
    "is_business": True,
}
PRIVATE_PERSON = {
    "name": "Jan Janssens",
    "street": "Kerkstraat 5",
    "postal_code": "9000",
    "city": "Gent",
    "country": "BE",
    "vat_number": "",
    "enterprise_number": "",
    "peppol_id": "",
    "email": "jan@example.be",
    "is_business": False,
}
UNITS = {"hour": "HUR", "day": "DAY", "piece": "C62"}


def make_snapshot(
    lines: list[tuple[str, str, str, str, str, str]],
    *,
    buyer: dict | None = None,
    document_type: str = "invoice",
    number: str = "2026-000123",
    language: str = "fr",
    credited_invoice: dict | None = None,
) -> InvoiceSnapshot:
    """Build a snapshot from (description, quantity, unit, unit price, category, rate) rows."""
    computed_lines = []
    line_snapshots = []
    buyer = buyer or BELGIAN_COMPANY
    for position, (description, quantity, unit, price, category, rate) in enumerate(lines, 1):
        reason = {
            "AE": "Autoliquidation / Verlegging van heffing",
            "K": "Livraison intracommunautaire exonérée, art. 138 directive 2006/112/CE",
            "E": "Exempt, article 44 du Code de la TVA",
        }.get(category, "")
        code = ""
        if category in ("G", "O"):
            reason, code = exemption(
                category, reason="", code="", buyer_country=buyer["country"], language=language
            )
        line = Line(Decimal(quantity), Decimal(price), category, Decimal(rate), reason, code)
        computed_lines.append(line)
        line_snapshots.append(
            {
                "position": position,
                "description": description,
                "quantity": f"{Decimal(quantity):.2f}",
                "unit": UNITS[unit],
                "unit_price": f"{Decimal(price):.2f}",
                "net_amount": str(line.net_amount),
                "vat_category": category,
                "vat_rate": f"{Decimal(rate):.2f}",
                "exemption_reason": reason,
            }
        )
    totals = compute_totals(computed_lines)
    return {
        "document_type": document_type,
        "number": number,
        "issue_date": "2026-03-02",
        "due_date": "2026-04-01",
        "supply_date": "",
        "language": language,
        "currency": "EUR",
        "buyer_reference": "PO-2026-77",
        "order_reference": "",
        "note": "",
        "structured_communication": "+++123/4567/89002+++",
        "credited_invoice": credited_invoice,
        "seller": copy.deepcopy(SELLER),
        "buyer": copy.deepcopy(buyer),
        "lines": line_snapshots,
        "vat_breakdown": [
            {
                "category": group.category,
                "rate": f"{group.rate:.2f}",
                "taxable_amount": str(group.taxable_amount),
                "vat_amount": str(group.vat_amount),
                "exemption_reason": group.exemption_reason,
                "exemption_code": group.exemption_code,
            }
            for group in totals.vat_breakdown
        ],
        "totals": {
            "line_extension": str(totals.line_extension),
            "tax_exclusive": str(totals.tax_exclusive),
            "vat": str(totals.vat),
            "tax_inclusive": str(totals.tax_inclusive),
            "payable": str(totals.payable),
        },
        "activity_name": "Stage lighting",
        "member_name": "Ana Peeters",
    }


def domestic_invoice() -> InvoiceSnapshot:
    return make_snapshot([("Lighting design, rehearsals", "3", "hour", "19.99", "S", "21")])


def mixed_rates_invoice() -> InvoiceSnapshot:
    return make_snapshot(
        [
            ("Performance, 2 evenings", "2", "day", "450.00", "S", "21"),
            ("Theatre programme booklets", "150", "piece", "1.35", "S", "6"),
            ("Workshop material", "1", "piece", "80.00", "S", "12"),
        ]
    )


def reverse_charge_invoice() -> InvoiceSnapshot:
    return make_snapshot([("Sound engineering", "4", "day", "380.00", "AE", "0")])


def intra_eu_invoice() -> InvoiceSnapshot:
    return make_snapshot(
        [("Stage lamps, delivery to Paris", "6", "piece", "125.50", "K", "0")],
        buyer=FRENCH_COMPANY,
        language="en",
    )


def credit_note() -> InvoiceSnapshot:
    snapshot = make_snapshot(
        [("Refund: one rehearsal hour", "1", "hour", "19.99", "S", "21")],
        document_type="credit_note",
        number="NC-2026-000004",
        credited_invoice={"number": "2026-000123", "issue_date": "2026-03-02"},
    )
    # A credit note asks for no payment: no due date; it says how it is settled instead.
    snapshot["due_date"] = ""
    snapshot["settlement"] = {
        "deducted": "0.00",
        "refunded": "24.19",
        "text": "La facture 2026-000123 a été payée : 24,19 € sont remboursés sur votre compte.",
    }
    return snapshot


def private_person_invoice() -> InvoiceSnapshot:
    return make_snapshot(
        [("Portrait photography session", "1", "piece", "250.00", "S", "21")],
        buyer=PRIVATE_PERSON,
        language="nl",
    )


def intra_eu_services_invoice() -> InvoiceSnapshot:
    return make_snapshot(
        [("Lighting design, Paris tour", "3", "day", "450.00", "AE", "0")],
        buyer=FRENCH_COMPANY,
        language="en",
    )


def export_invoice() -> InvoiceSnapshot:
    return make_snapshot(
        [("Stage lamps, shipped to New York", "6", "piece", "125.50", "G", "0")],
        buyer=AMERICAN_COMPANY,
        language="en",
    )


def outside_scope_invoice() -> InvoiceSnapshot:
    return make_snapshot(
        [("Lighting design, festival in Lausanne", "2", "day", "450.00", "O", "0")],
        buyer=SWISS_COMPANY,
        language="fr",
    )


def exempt_invoice() -> InvoiceSnapshot:
    return make_snapshot([("Lecture on stage lighting", "1", "piece", "300.00", "E", "0")])
