"""The invoice API's answers written from plain rows: InvoiceSerializer's output, faster.

A page of the list holds 50 invoices of 34 fields each, with their lines, discounts, documents
and refunds. Through DRF each of them is a model instance (with its client, Activity and the
JSON of its issued content), and each field of each row an object asked for its source and its
format. Here the same columns are read as dictionaries, by queries written once per process
(coop.compiled) and only for relations that some invoice of the page has, and written
field by field into the very same JSON (tests/invoicing/test_api_rows.py compares both, for drafts,
issued invoices, credit notes, refunds and discounts). InvoiceSerializer still describes the
answers in the API schema and remains the reference.
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q, QuerySet, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from rest_framework import serializers
from rest_framework.reverse import reverse

from coop.compiled import AnyOf, Array, CompiledQuery
from invoicing import amounts, vat
from invoicing.calculation import net_amount
from invoicing.models import (
    ZERO,
    Client,
    Invoice,
    InvoiceAllowanceCharge,
    InvoiceDocument,
    InvoiceLine,
    Refund,
)
from invoicing.review_reasons import render_review_reason

# The invoice's own columns, in the order of the answer's fields.
_INVOICE_COLUMNS = (
    "pk",
    "kind",
    "status",
    "number",
    "activity_id",
    "client_id",
    "credited_invoice_id",
    "issue_date",
    "due_date",
    "supply_date",
    "period_start",
    "period_end",
    "buyer_reference",
    "order_reference",
    "notes",
    "language",
    "structured_communication",
    "total_excl_vat",
    "total_vat",
    "total_incl_vat",
    "amount_paid",
    "amount_credited",
    "amount_refunded",
    "amount_refundable",
    "review_reason",
)
_LINE_COLUMNS = (
    "invoice_id",
    "position",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "supply_kind",
    "vat_category",
    "vat_rate",
    "exemption_reason",
    "exemption_code",
    "allowance_percent",
    "allowance_amount",
    "allowance_reason",
    "credited_line__position",
)
_ALLOWANCE_CHARGE_COLUMNS = (
    "invoice_id",
    "is_charge",
    "reason",
    "percent",
    "amount",
    "vat_category",
    "vat_rate",
)
_REFUND_COLUMNS = ("pk", "amount", "method", "status", "requested_at", "paid_on", "bank_reference")

# Stands for the primary key while reversing the invoice's address; no key is this long.
_PLACEHOLDER = "9081726354453627189"


def invoice_columns() -> QuerySet[dict]:
    """What ``represent`` writes of each invoice: a ``values()`` queryset of every invoice,
    for a caller to filter (only by a scope from selectors)."""
    return (
        Invoice.objects.with_amounts()
        .with_refundable()
        .order_by()
        .values(
            *_INVOICE_COLUMNS,
            # The buyer as the invoice names it (Invoice.buyer_name), read in SQL: the whole
            # issued content of each row costs more to load than the rest of the row.
            shown_buyer_name=Coalesce(
                KT("snapshot__buyer__name"), F("client__name"), output_field=TextField()
            ),
            # What the VAT rules see of the client (vat.customer_of), for a draft's warnings.
            client_country=F("client__country"),
            client_vat_number=F("client__vat_number"),
            client_kind=F("client__kind"),
            # Few invoices have discounts on the whole or refunds: their queries are skipped for
            # a page without any.
            has_allowance_charges=Exists(
                InvoiceAllowanceCharge.objects.filter(invoice=OuterRef("pk"))
            ),
            has_refunds=Exists(
                Refund.objects.filter(Q(credit_note=OuterRef("pk")) | Q(invoice=OuterRef("pk")))
            ),
        )
    )


# Each query is built once per process (coop.compiled): only the page's invoice ids change.
_INVOICES = CompiledQuery(
    Invoice,
    lambda _shape, *, invoices: invoice_columns().filter(AnyOf("pk", invoices)),
    invoices=Array,
)
_LINES = CompiledQuery(
    InvoiceLine,
    lambda _shape, *, invoices: InvoiceLine.objects.filter(AnyOf("invoice_id", invoices)).values(
        *_LINE_COLUMNS
    ),
    invoices=Array,
)
_ALLOWANCE_CHARGES = CompiledQuery(
    InvoiceAllowanceCharge,
    lambda _shape, *, invoices: InvoiceAllowanceCharge.objects.filter(
        AnyOf("invoice_id", invoices)
    ).values(*_ALLOWANCE_CHARGE_COLUMNS),
    invoices=Array,
)
_DOCUMENTS = CompiledQuery(
    InvoiceDocument,
    lambda _shape, *, invoices: InvoiceDocument.objects.filter(
        AnyOf("invoice_id", invoices)
    ).values("invoice_id", "format", "status"),
    invoices=Array,
)
# A credit note lists its refunds; an invoice those of what was paid beyond it.
_REFUNDS = CompiledQuery(
    Refund,
    lambda _shape, *, invoices: Refund.objects.filter(
        AnyOf("credit_note_id", invoices) | AnyOf("invoice_id", invoices)
    ).values(*_REFUND_COLUMNS, "credit_note_id", "invoice_id"),
    invoices=Array,
)


def _rows_of(query: CompiledQuery, pks: list[int]) -> list[dict]:
    """The query's rows for these invoices: none, without a query, for no invoice."""
    return query.rows(invoices=pks) if pks else []


def invoice_rows(pks: list[int]) -> list[dict]:
    """The invoices of these ids, in this order, with what ``represent`` writes of them.

    The ids must come from a query scoped to the user (selectors): these rows are not.
    """
    by_pk = {invoice["pk"]: invoice for invoice in _rows_of(_INVOICES, pks)}
    return [by_pk[pk] for pk in pks if pk in by_pk]


def _grouped(rows: list[dict], key: str) -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return grouped


def _related_rows(invoices: list[dict]) -> dict[str, dict[int, list]]:
    """What the invoices list, by relation then invoice: a query for each relation that any
    invoice of the page has."""
    pks = [invoice["pk"] for invoice in invoices]
    documents: dict[int, list] = defaultdict(list)
    for document in _rows_of(_DOCUMENTS, pks):
        documents[document["invoice_id"]].append((document["format"], document["status"]))
    refunds: dict[int, list] = defaultdict(list)
    over_payment_refunds: dict[int, list] = defaultdict(list)
    with_refunds = [invoice["pk"] for invoice in invoices if invoice["has_refunds"]]
    for refund in _rows_of(_REFUNDS, with_refunds):
        if refund["credit_note_id"] is not None:
            refunds[refund["credit_note_id"]].append(refund)
        if refund["invoice_id"] is not None:
            over_payment_refunds[refund["invoice_id"]].append(refund)
    with_discounts = [invoice["pk"] for invoice in invoices if invoice["has_allowance_charges"]]
    return {
        "lines": _grouped(_rows_of(_LINES, pks), "invoice_id"),
        "allowance_charges": _grouped(_rows_of(_ALLOWANCE_CHARGES, with_discounts), "invoice_id"),
        "documents": documents,
        "refunds": refunds,
        "over_payment_refunds": over_payment_refunds,
    }


class _Formats:
    """DRF's formatting of the answer's decimals and refunds, made once per answer."""

    def __init__(self):
        self.sum = serializers.DecimalField(max_digits=None, decimal_places=2)
        self.money = serializers.DecimalField(max_digits=12, decimal_places=2)
        self.quantity = serializers.DecimalField(max_digits=10, decimal_places=2)
        self.rate = serializers.DecimalField(max_digits=5, decimal_places=2)
        self.refund = None

    def refunds(self, refunds: list[dict]) -> list[dict]:
        if not refunds:
            return []
        if self.refund is None:
            # Imported here: invoicing.api imports this module.
            from invoicing.api import RefundSerializer

            self.refund = RefundSerializer()
        return [self.refund.to_representation(refund) for refund in refunds]


def _decimal(value: Decimal | None, field: serializers.DecimalField) -> str | None:
    """``field.to_representation(value)``; an amount already in cents is written as it is."""
    if value is None:
        return None
    text = str(value)
    # Two decimals after the point: no exponent, nothing for DRF to round or pad.
    if text[-3:-2] == ".":
        return text
    return field.to_representation(value)


def _amount_due(invoice: dict) -> Decimal:
    """``amount_due`` of InvoiceQuerySet.with_amounts(), from the three sums it is made of.

    In SQL each of ``amount_due`` and ``amount_to_refund`` repeats the subqueries of the sums
    (PostgreSQL runs them again for every row); the page reads each sum once.
    """
    return amounts.due(
        invoice["total_incl_vat"],
        invoice["amount_paid"],
        invoice["amount_credited"],
        invoice["amount_refunded"],
    )


def _date(value) -> str | None:
    return None if value is None else value.isoformat()


def _line(line: dict, formats: _Formats) -> dict:
    money = formats.money
    percent = line["allowance_percent"]
    return {
        "position": line["position"],
        "description": line["description"],
        "quantity": _decimal(line["quantity"], formats.quantity),
        "unit": line["unit"],
        "unit_price": _decimal(line["unit_price"], money),
        "supply_kind": line["supply_kind"],
        "vat_category": line["vat_category"],
        "vat_rate": _decimal(line["vat_rate"], formats.rate),
        "exemption_reason": line["exemption_reason"],
        "exemption_code": line["exemption_code"],
        "allowance_percent": _decimal(percent, formats.rate),
        "allowance_amount": _decimal(line["allowance_amount"], money),
        "allowance_reason": line["allowance_reason"],
        "net_amount": _decimal(
            net_amount(
                line["quantity"],
                line["unit_price"],
                allowance_percent=percent,
                allowance_fixed=line["allowance_amount"],
            ),
            money,
        ),
        "credited_line_position": line["credited_line__position"],
    }


def _allowance_charge(item: dict, formats: _Formats) -> dict:
    return {
        "is_charge": item["is_charge"],
        "reason": item["reason"],
        "percent": _decimal(item["percent"], formats.rate),
        "amount": _decimal(item["amount"], formats.money),
        "vat_category": item["vat_category"],
        "vat_rate": _decimal(item["vat_rate"], formats.rate),
    }


def _warnings(invoice: dict, lines: list[dict]) -> list[str]:
    """issue.place_of_supply_warning of an invoice read as a dictionary."""
    if invoice["kind"] != Invoice.Kind.INVOICE or invoice["number"] is not None:
        return []
    buyer = vat.Customer(
        country=invoice["client_country"],
        vat_number=invoice["client_vat_number"],
        is_business=invoice["client_kind"] == Client.Kind.COMPANY,
    )
    warning = vat.place_of_supply_warning(
        buyer, [(line["vat_category"], line["supply_kind"]) for line in lines]
    )
    return [warning] if warning else []


def represent(invoices: list[dict], *, request, format: str | None = None) -> list[dict]:
    """InvoiceSerializer's representation of each invoice read by ``invoice_rows``.

    ``request`` and ``format``: the view's, which the address of each invoice is built from.
    """
    if not invoices:
        return []
    address = reverse(
        "api:invoice-detail", kwargs={"pk": _PLACEHOLDER}, request=request, format=format
    )
    before, _placeholder, after = address.rpartition(_PLACEHOLDER)
    related = _related_rows(invoices)
    lines_of, charges_of = related["lines"], related["allowance_charges"]
    documents_of = related["documents"]
    formats = _Formats()
    money, sums = formats.money, formats.sum
    answers = []
    for invoice in invoices:
        pk = invoice["pk"]
        lines = lines_of.get(pk, [])
        is_credit_note = invoice["kind"] == Invoice.Kind.CREDIT_NOTE
        if is_credit_note:
            amount_due = amount_to_refund = None
            amount_refundable = _decimal(invoice["amount_refundable"], sums)
            refunds = related["refunds"].get(pk)
        else:
            due = _amount_due(invoice)
            amount_due = _decimal(max(due, ZERO), sums)
            # What the client paid beyond what is left of the invoice: owed back, to refund.
            amount_to_refund = _decimal(-due if due < 0 else ZERO, sums)
            amount_refundable = None
            refunds = related["over_payment_refunds"].get(pk)
        review_reason = invoice["review_reason"]
        answers.append(
            {
                "pk": pk,
                "url": f"{before}{pk}{after}",
                "kind": invoice["kind"],
                "status": invoice["status"],
                "number": invoice["number"],
                "activity": invoice["activity_id"],
                "client": invoice["client_id"],
                "client_name": invoice["shown_buyer_name"],
                "credited_invoice": invoice["credited_invoice_id"],
                "issue_date": _date(invoice["issue_date"]),
                "due_date": _date(invoice["due_date"]),
                "supply_date": _date(invoice["supply_date"]),
                "period_start": _date(invoice["period_start"]),
                "period_end": _date(invoice["period_end"]),
                "buyer_reference": invoice["buyer_reference"],
                "order_reference": invoice["order_reference"],
                "notes": invoice["notes"],
                "language": invoice["language"],
                "structured_communication": invoice["structured_communication"],
                "total_excl_vat": _decimal(invoice["total_excl_vat"], money),
                "total_vat": _decimal(invoice["total_vat"], money),
                "total_incl_vat": _decimal(invoice["total_incl_vat"], money),
                "amount_paid": _decimal(invoice["amount_paid"], sums),
                "amount_credited": _decimal(invoice["amount_credited"], sums),
                "amount_due": amount_due,
                "amount_to_refund": amount_to_refund,
                "amount_refundable": amount_refundable,
                "refunds": formats.refunds(refunds),
                "review_reason": render_review_reason(review_reason) if review_reason else "",
                "lines": [_line(line, formats) for line in lines],
                "allowance_charges": [
                    _allowance_charge(item, formats) for item in charges_of.get(pk, [])
                ],
                "documents": dict(documents_of.get(pk, [])),
                "warnings": _warnings(invoice, lines),
            }
        )
    return answers
