"""The PDF of an issued invoice or credit note, rendered from its snapshot alone."""

import datetime
from collections.abc import Callable
from decimal import ROUND_CEILING, Decimal

from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from stdnum import iban

from coop.pdf import render_pdf
from invoicing.countries import country_name
from invoicing.payment_qr import epc_qr_png_data_uri
from invoicing.snapshot import (
    AllowanceChargeSnapshot,
    InvoiceSnapshot,
    LineSnapshot,
    PartySnapshot,
    VatGroupSnapshot,
)
from invoicing.vat import RATE_NAMES

TEMPLATE = "invoicing/pdf/invoice.html"
STYLESHEET = "invoicing/pdf/invoice.css"

# UN/ECE recommendation 20 codes of the units the cooperative invoices, named for a count.
UNIT_NAMES: dict[str, Callable[[int], Promise]] = {
    "HUR": lambda count: ngettext_lazy("hour", "hours", count),
    "DAY": lambda count: ngettext_lazy("day", "days", count),
    "C62": lambda count: ngettext_lazy("piece", "pieces", count),
}
# Reverse charge, intra-EU supplies, exports and supplies outside the scope carry the law's
# mention in the document's language as their reason (invoicing.vat); an exemption (E) the
# member's legal basis, under this title.
MENTION_TITLES = {"E": _("Exempt from VAT")}


def render_invoice_pdf(snapshot: InvoiceSnapshot) -> bytes:
    """Render the invoice or credit note to PDF bytes, in the snapshot's language."""
    return render_pdf(
        TEMPLATE,
        invoice_context(snapshot),
        language=snapshot["language"],
        stylesheets=[STYLESHEET],
    )


def invoice_context(snapshot: InvoiceSnapshot) -> dict:
    """Turn the snapshot's strings into the dates, amounts and words the template shows.

    Words are lazy translations: they take the document's language when the template renders.
    """
    is_credit_note = snapshot["document_type"] == "credit_note"
    credited = snapshot["credited_invoice"]
    return {
        "snapshot": snapshot,
        "is_credit_note": is_credit_note,
        "title": _("Credit note") if is_credit_note else _("Invoice"),
        "issue_date": _date(snapshot["issue_date"]),
        "due_date": _date(snapshot["due_date"]) if snapshot["due_date"] else None,
        "settlement": snapshot.get("settlement"),
        "supply_date": _date(snapshot["supply_date"]) if snapshot.get("supply_date") else None,
        "period": _period(snapshot),
        "credited_invoice": credited
        and {"number": credited["number"], "issue_date": _date(credited["issue_date"])},
        "seller": _party(snapshot["seller"]),
        "seller_iban": iban.format(snapshot["seller"]["iban"]),
        "buyer": _party(snapshot["buyer"]),
        "lines": [_line(line) for line in snapshot["lines"]],
        "allowance_charges": [
            _allowance_charge(item) for item in snapshot.get("allowance_charges", [])
        ],
        "vat_breakdown": [_vat_group(group) for group in snapshot["vat_breakdown"]],
        "mentions": _mentions(snapshot["vat_breakdown"]),
        "totals": {
            name: Decimal(snapshot["totals"][name])
            for name in ("tax_exclusive", "vat", "tax_inclusive", "payable")
        },
        "payment_qr": epc_qr_png_data_uri(snapshot),
    }


def _date(iso_date: str) -> datetime.date:
    return datetime.date.fromisoformat(iso_date)


def _period(snapshot: InvoiceSnapshot) -> dict | None:
    start, end = snapshot.get("period_start", ""), snapshot.get("period_end", "")
    if not (start and end):
        return None
    return {"start": _date(start), "end": _date(end)}


def _allowance_charge(item: AllowanceChargeSnapshot) -> dict:
    return {
        "is_charge": item["is_charge"],
        "reason": item["reason"],
        "amount": Decimal(item["amount"]),
        "percent": Decimal(item["percent"]) if item["percent"] else None,
        "base_amount": Decimal(item["base_amount"]) if item["base_amount"] else None,
        "vat_category": item["vat_category"],
        "vat_rate": Decimal(item["vat_rate"]),
    }


def _party(party: PartySnapshot) -> dict:
    return {
        **party,
        # Named when the template renders, in the document's language.
        "country_name": lazy(country_name, str)(party["country"]),
        "vat_number_display": _vat_number(party["vat_number"]),
        "enterprise_number_display": _enterprise_number(party["enterprise_number"]),
    }


def _vat_number(vat_number: str) -> str:
    if vat_number.startswith("BE") and len(vat_number) == 12:
        return f"BE {_enterprise_number(vat_number[2:])}"
    return vat_number


def _enterprise_number(number: str) -> str:
    if len(number) != 10:
        return number
    return f"{number[:4]}.{number[4:7]}.{number[7:]}"


def _line(line: LineSnapshot) -> dict:
    quantity = Decimal(line["quantity"])
    return {
        "description": line["description"],
        "quantity": quantity,
        "unit": _unit_name(line["unit"], quantity),
        "unit_price": Decimal(line["unit_price"]),
        "net_amount": Decimal(line["net_amount"]),
        "vat_category": line["vat_category"],
        "vat_rate": Decimal(line["vat_rate"]),
        "allowance_amount": Decimal(line.get("allowance_amount") or "0"),
        "allowance_percent": (
            Decimal(line["allowance_percent"]) if line.get("allowance_percent") else None
        ),
        "allowance_reason": line.get("allowance_reason", ""),
    }


def _unit_name(code: str, quantity: Decimal) -> Promise | str:
    if code not in UNIT_NAMES:
        return code
    # Plural rules take whole numbers: 1.5 hours is counted as 2.
    return UNIT_NAMES[code](int(quantity.to_integral_value(ROUND_CEILING)))


def _vat_group(group: VatGroupSnapshot) -> dict:
    return {
        "category": group["category"],
        "category_name": RATE_NAMES.get(group["category"], group["category"]),
        "rate": Decimal(group["rate"]),
        "taxable_amount": Decimal(group["taxable_amount"]),
        "vat_amount": Decimal(group["vat_amount"]),
    }


def _mentions(vat_breakdown: list[VatGroupSnapshot]) -> list[dict]:
    """List the special VAT mentions (reverse charge, exemptions) with their legal basis."""
    mentions: list[dict] = []
    for group in vat_breakdown:
        title = MENTION_TITLES.get(group["category"], "")
        reason = group["exemption_reason"]
        if not title and not reason:
            continue
        mention = {
            "title": title,
            "reason": "" if reason == title else reason,
            "code": group["exemption_code"],
        }
        if mention not in mentions:
            mentions.append(mention)
    return mentions
