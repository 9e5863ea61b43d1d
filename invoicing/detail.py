"""The invoice page's reads: the invoice and its related rows from queries compiled once.

An invoice's page read its invoice through a queryset with four subqueries, then its payments,
refunds, credit notes and sendings through related managers evaluated in the template: five
querysets built and compiled to SQL on every request, several times the time PostgreSQL takes
to run them. The invoice is now read by a ``CompiledQuery`` (the same visibility filter,
``selectors.invoices_visible_to``, compiled once per process), its related rows with it as
arrays of JSON objects; the credit note form and the payments API read theirs likewise.
"""

from decimal import Decimal

from django.contrib.postgres.expressions import ArraySubquery
from django.db import router
from django.db.models import OuterRef, QuerySet, TextField
from django.db.models.functions import Cast, JSONObject
from django.utils.dateparse import parse_date, parse_datetime

from coop.compiled import AnyOf, Array, CompiledQuery
from coop.documents import DocumentStatus
from invoicing import selectors
from invoicing.amounts import add_amounts_due
from invoicing.models import (
    Client,
    Dispatch,
    Invoice,
    InvoiceAllowanceCharge,
    InvoiceDocument,
    InvoiceLine,
    Payment,
    Refund,
)
from members.models import Activity, User

INVOICE_FIELDS = tuple(field.attname for field in Invoice._meta.concrete_fields)
CLIENT_FIELDS = tuple(field.attname for field in Client._meta.concrete_fields)
# The invoice without its frozen content, as ``defer("snapshot")`` reads it.
UNFROZEN_FIELDS = tuple(name for name in INVOICE_FIELDS if name != "snapshot")
LINE_FIELDS = tuple(field.attname for field in InvoiceLine._meta.concrete_fields)
ALLOWANCE_CHARGE_FIELDS = tuple(
    field.attname for field in InvoiceAllowanceCharge._meta.concrete_fields
)
AMOUNTS = ("amount_paid", "amount_credited", "amount_refunded")


def _json_rows(rows: QuerySet, **columns) -> ArraySubquery:
    """The rows, in their order, as an array of JSON objects of these columns: read with the
    invoice in its one query, rather than in a query each."""
    return ArraySubquery(rows.values(row=JSONObject(**columns)))


def _text(column: str) -> Cast:
    """A column written as text in JSON: an amount as its exact digits, a date or moment as
    ``parse_date`` and ``parse_datetime`` read it."""
    return Cast(column, TextField())


# The related rows the page lists (see ``_related``): the payments, the refunds of what the
# client paid beyond the invoice, the refunds of a credit note, the credit notes, the sendings.
_RELATED_ROWS = {
    "payment_rows": _json_rows(
        Payment.objects.filter(invoice=OuterRef("pk")).order_by("received_on", "pk"),
        received_on=_text("received_on"),
        method="method",
        amount=_text("amount"),
    ),
    "over_payment_refund_rows": _json_rows(
        Refund.objects.filter(invoice=OuterRef("pk")).order_by("-requested_at", "-pk"),
        amount=_text("amount"),
        status="status",
    ),
    "refund_rows": _json_rows(
        Refund.objects.filter(credit_note=OuterRef("pk")).order_by("-requested_at", "-pk"),
        amount=_text("amount"),
        status="status",
    ),
    # In the model's order, as the ``credit_notes`` manager read them.
    "credit_note_rows": _json_rows(
        Invoice.objects.filter(credited_invoice=OuterRef("pk")).order_by(*Invoice._meta.ordering),
        pk="pk",
        number="number",
        notes="notes",
        status="status",
        total_incl_vat=_text("total_incl_vat"),
    ),
    "dispatch_rows": _json_rows(
        Dispatch.objects.filter(invoice=OuterRef("pk")).order_by("-created_at", "-pk"),
        created_at=_text("created_at"),
        channel="channel",
        recipient="recipient",
        status="status",
        sent_at=_text("sent_at"),
    ),
}
# How each column written as text reads back.
_FROM_TEXT = {
    "received_on": parse_date,
    "amount": Decimal,
    "total_incl_vat": Decimal,
    "created_at": parse_datetime,
    "sent_at": parse_datetime,
}


def _related(rows: list[dict]) -> list[dict]:
    for row in rows:
        for name, read in _FROM_TEXT.items():
            if name in row and row[name] is not None:
                row[name] = read(row[name])
    return rows


def _one_invoice(is_staff: bool, *, user: int, invoice: int) -> QuerySet[dict]:
    reader = User(pk=user, is_staff=is_staff)
    ready_formats = InvoiceDocument.objects.filter(
        invoice=OuterRef("pk"), status=DocumentStatus.READY
    ).values("format")
    invoices = selectors.invoices_visible_to(reader, Invoice.objects.with_settled_amounts())
    return (
        invoices.filter(pk=invoice)
        .order_by()
        .values(
            *INVOICE_FIELDS,
            *AMOUNTS,
            *(f"client__{name}" for name in CLIENT_FIELDS),
            "activity__name",
            "credited_invoice__number",
            ready_formats=ArraySubquery(ready_formats),
            **_RELATED_ROWS,
        )
    )


_ONE_INVOICE = CompiledQuery(Invoice, _one_invoice, user=int, invoice=int)


def invoice_shown_to(user: User, pk: int) -> Invoice | None:
    """The invoice or credit note ``pk`` if the user sees it (see
    ``selectors.invoices_visible_to``), else None: another member's invoice is not found.

    It comes with its client, the name of its Activity, the number of the invoice it credits,
    ``amount_paid``, ``amount_credited``, ``amount_refunded``, ``amount_due``,
    ``amount_to_refund`` and ``ready_formats`` (the formats of its documents ready to download),
    as the page read it before; and, as lists of dicts in one query with it, its payments
    (``payment_rows``: ``received_on``, ``method``, ``amount``), refunds (``refund_rows`` of a
    credit note, ``over_payment_refund_rows`` of an invoice: ``amount``, ``status``), credit
    notes (``credit_note_rows``: ``pk``, ``number``, ``notes``, ``status``,
    ``total_incl_vat``) and sendings (``dispatch_rows``: ``created_at``, ``channel``,
    ``recipient``, ``status``, ``sent_at``), in the order the page lists them.
    """
    rows = _ONE_INVOICE.rows(user.is_staff, user=user.pk, invoice=pk)
    if not rows:
        return None
    row = rows[0]
    db = router.db_for_read(Invoice)
    invoice = Invoice.from_db(db, INVOICE_FIELDS, [row[name] for name in INVOICE_FIELDS])
    for name in AMOUNTS:
        setattr(invoice, name, row[name])
    invoice.ready_formats = row["ready_formats"]
    for name in _RELATED_ROWS:
        setattr(invoice, name, _related(row[name]))
    client = Client.from_db(db, CLIENT_FIELDS, [row[f"client__{name}"] for name in CLIENT_FIELDS])
    Invoice.client.field.set_cached_value(invoice, client)
    # Only its name is read: any other field would be read when asked for.
    activity = Activity.from_db(db, ("id", "name"), (invoice.activity_id, row["activity__name"]))
    Invoice.activity.field.set_cached_value(invoice, activity)
    credited = None
    if invoice.credited_invoice_id is not None:
        credited = Invoice.from_db(
            db, ("id", "number"), (invoice.credited_invoice_id, row["credited_invoice__number"])
        )
    Invoice.credited_invoice.field.set_cached_value(invoice, credited)
    add_amounts_due([invoice])
    return invoice


# The credit note form's reads.


def _invoice_to_credit(is_staff: bool, *, user: int, invoice: int) -> QuerySet[dict]:
    reader = User(pk=user, is_staff=is_staff)
    invoices = selectors.invoices_visible_to(reader, Invoice.objects.all())
    return invoices.filter(pk=invoice).order_by().values(*UNFROZEN_FIELDS)


_INVOICE_TO_CREDIT = CompiledQuery(Invoice, _invoice_to_credit, user=int, invoice=int)
_CREDIT_NOTES_OF = CompiledQuery(
    Invoice,
    lambda _shape, *, invoice: Invoice.objects.filter(credited_invoice_id=invoice).values(
        *UNFROZEN_FIELDS
    ),
    invoice=int,
)
_LINES_OF = CompiledQuery(
    InvoiceLine,
    lambda _shape, *, invoices: InvoiceLine.objects.filter(AnyOf("invoice_id", invoices)).values(
        *LINE_FIELDS
    ),
    invoices=Array,
)
_ALLOWANCE_CHARGES_OF = CompiledQuery(
    InvoiceAllowanceCharge,
    lambda _shape, *, invoices: InvoiceAllowanceCharge.objects.filter(
        AnyOf("invoice_id", invoices)
    ).values(*ALLOWANCE_CHARGE_FIELDS),
    invoices=Array,
)


def invoice_to_credit(user: User, pk: int) -> Invoice | None:
    """The invoice ``pk`` without its frozen content if the user sees it (see
    ``selectors.invoices_visible_to``), else None: another member's invoice is not found."""
    rows = _INVOICE_TO_CREDIT.rows(user.is_staff, user=user.pk, invoice=pk)
    if not rows:
        return None
    return Invoice.from_db(
        router.db_for_read(Invoice), UNFROZEN_FIELDS, [rows[0][name] for name in UNFROZEN_FIELDS]
    )


def _read(model, rows: list) -> QuerySet:
    """A queryset already read: what ``prefetch_related`` leaves in an instance's cache."""
    queryset = QuerySet(model)
    queryset._result_cache = rows
    queryset._prefetch_done = True
    return queryset


def prefetch_credit_documents(invoice: Invoice) -> None:
    """Read the invoice's credit notes (without their frozen content), and the lines and
    allowances or charges of the invoice and of its credit notes, into the instances' caches:
    what ``credit.credit_position`` and ``forms.credit_line_formset`` read, with the same rows
    in the same order as their own queries, in three compiled queries."""
    db = router.db_for_read(Invoice)
    notes = [
        Invoice.from_db(db, UNFROZEN_FIELDS, [row[name] for name in UNFROZEN_FIELDS])
        for row in _CREDIT_NOTES_OF.rows(invoice=invoice.pk)
    ]
    documents = {document.pk: document for document in [invoice, *notes]}
    lines: dict[int, list[InvoiceLine]] = {pk: [] for pk in documents}
    for row in _LINES_OF.rows(invoices=list(documents)):
        line = InvoiceLine.from_db(db, LINE_FIELDS, [row[name] for name in LINE_FIELDS])
        InvoiceLine.invoice.field.set_cached_value(line, documents[line.invoice_id])
        lines[line.invoice_id].append(line)
    items: dict[int, list[InvoiceAllowanceCharge]] = {pk: [] for pk in documents}
    for row in _ALLOWANCE_CHARGES_OF.rows(invoices=list(documents)):
        item = InvoiceAllowanceCharge.from_db(
            db, ALLOWANCE_CHARGE_FIELDS, [row[name] for name in ALLOWANCE_CHARGE_FIELDS]
        )
        InvoiceAllowanceCharge.invoice.field.set_cached_value(item, documents[item.invoice_id])
        items[item.invoice_id].append(item)
    for pk, document in documents.items():
        cache = document.__dict__.setdefault("_prefetched_objects_cache", {})
        cache["lines"] = _read(InvoiceLine, lines[pk])
        cache["allowance_charges"] = _read(InvoiceAllowanceCharge, items[pk])
    invoice._prefetched_objects_cache["credit_notes"] = _read(Invoice, notes)


# The API's list of an invoice's payments.

PAYMENT_ANSWER_FIELDS = ("pk", "amount", "received_on", "method", "note", "created_at")


def _payments_shown_to(is_staff: bool, *, user: int, invoice: int) -> QuerySet[dict]:
    reader = User(pk=user, is_staff=is_staff)
    invoices = selectors.invoices_visible_to(reader, Invoice.objects.all())
    return (
        invoices.filter(pk=invoice)
        .order_by("payments__received_on", "payments__pk")
        .values(*(f"payments__{name}" for name in PAYMENT_ANSWER_FIELDS))
    )


_PAYMENTS_SHOWN_TO = CompiledQuery(Invoice, _payments_shown_to, user=int, invoice=int)


def payments_shown_to(user: User, pk: int) -> list[dict] | None:
    """The payments of the invoice ``pk`` in the order received, as dicts of
    ``PAYMENT_ANSWER_FIELDS``; None if the user does not see the invoice (see
    ``selectors.invoices_visible_to``). One query: the invoice joined to its payments."""
    rows = _PAYMENTS_SHOWN_TO.rows(user.is_staff, user=user.pk, invoice=pk)
    if not rows:
        return None
    return [
        {name: row[f"payments__{name}"] for name in PAYMENT_ANSWER_FIELDS}
        for row in rows
        if row["payments__pk"] is not None
    ]
