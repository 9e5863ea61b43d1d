"""The invoice page's reads: the invoice and its related rows from queries compiled once.

An invoice's page read its invoice through a queryset with four subqueries, then its payments,
refunds, credit notes and sendings through related managers evaluated in the template: five
querysets built and compiled to SQL on every request, several times the time PostgreSQL takes
to run them. Each is now a ``CompiledQuery``: the same querysets, with the same visibility
filter (``selectors.invoices_visible_to``), compiled once per process.
"""

from django.contrib.postgres.expressions import ArraySubquery
from django.db import router
from django.db.models import OuterRef, QuerySet

from coop.compiled import CompiledQuery
from coop.documents import DocumentStatus
from invoicing import selectors
from invoicing.amounts import add_amounts_due
from invoicing.models import Client, Dispatch, Invoice, InvoiceDocument, Payment, Refund
from members.models import Activity, User

INVOICE_FIELDS = tuple(field.attname for field in Invoice._meta.concrete_fields)
CLIENT_FIELDS = tuple(field.attname for field in Client._meta.concrete_fields)
AMOUNTS = ("amount_paid", "amount_credited", "amount_refunded")


def _one_invoice(is_staff: bool, *, user: int, invoice: int) -> QuerySet[dict]:
    reader = User(pk=user, is_staff=is_staff)
    ready_formats = InvoiceDocument.objects.filter(
        invoice=OuterRef("pk"), status=DocumentStatus.READY
    ).values("format")
    invoices = selectors.invoices_visible_to(reader, Invoice.objects.with_settled_amounts())
    return invoices.filter(pk=invoice).values(
        *INVOICE_FIELDS,
        *AMOUNTS,
        *(f"client__{name}" for name in CLIENT_FIELDS),
        "activity__name",
        "credited_invoice__number",
        ready_formats=ArraySubquery(ready_formats),
    )


_ONE_INVOICE = CompiledQuery(Invoice, _one_invoice, user=int, invoice=int)


def invoice_shown_to(user: User, pk: int) -> Invoice | None:
    """The invoice or credit note ``pk`` if the user sees it (see
    ``selectors.invoices_visible_to``), else None: another member's invoice is not found.

    It comes with its client, the name of its Activity, the number of the invoice it credits,
    ``amount_paid``, ``amount_credited``, ``amount_refunded``, ``amount_due``,
    ``amount_to_refund`` and ``ready_formats`` (the formats of its documents ready to download),
    as the page read it before.
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


_PAYMENTS = CompiledQuery(
    Payment,
    lambda _shape, *, invoice: Payment.objects.filter(invoice_id=invoice).values(
        "received_on", "method", "amount"
    ),
    invoice=int,
)
_DISPATCHES = CompiledQuery(
    Dispatch,
    lambda _shape, *, invoice: Dispatch.objects.filter(invoice_id=invoice).values(
        "created_at", "channel", "recipient", "status", "sent_at"
    ),
    invoice=int,
)
_CREDIT_NOTES = CompiledQuery(
    Invoice,
    lambda _shape, *, invoice: Invoice.objects.filter(credited_invoice_id=invoice).values(
        "pk", "number", "notes", "status", "total_incl_vat"
    ),
    invoice=int,
)
# shape: the column naming the invoice, "credit_note" (its refunds) or "invoice" (those of
# what the client paid beyond it).
_REFUNDS = CompiledQuery(
    Refund,
    lambda column, *, invoice: Refund.objects.filter(**{f"{column}_id": invoice}).values(
        "amount", "status"
    ),
    invoice=int,
)


def payment_rows(invoice: Invoice) -> list[dict]:
    """The invoice's payments, in the order received; none when nothing was paid (a payment
    is more than zero, ``payment_amount_positive``)."""
    if not invoice.amount_paid:
        return []
    return _PAYMENTS.rows(invoice=invoice.pk)


def dispatch_rows(invoice: Invoice) -> list[dict]:
    """The sendings of the invoice, newest first."""
    return _DISPATCHES.rows(invoice=invoice.pk)


def credit_note_rows(invoice: Invoice) -> list[dict]:
    """The credit notes of the invoice, issued or requested (``Invoice``'s order)."""
    return _CREDIT_NOTES.rows(invoice=invoice.pk)


def refund_rows(invoice: Invoice, column: str) -> list[dict]:
    """Refunds of a credit note (``column`` "credit_note") or of an invoice's over-payment
    ("invoice"), newest first."""
    return _REFUNDS.rows(column, invoice=invoice.pk)
