"""The invoicing app's part of a member's data export and anonymisation (see audit/privacy.py).

Issued invoices and credit notes are accounting records kept ten years: anonymisation leaves
them, with their frozen snapshots and documents, untouched.
"""

from django.db.models import Q
from django.utils.translation import ngettext

from audit.privacy import model_dict
from coop.documents import DocumentStatus
from invoicing.models import Client, Invoice, InvoiceDocument, RecurringInvoice
from invoicing.services import clients
from members.models import Member

CLIENT_FIELDS = ("id", *clients.CLIENT_FIELDS)


def _invoices_of(member: Member):
    # Invoices of the Activities the member owns: a shared Activity's papers are its owner's.
    return Invoice.objects.filter(activity__owner=member)


def export_member_data(member: Member) -> dict:
    """The member's own client records, their invoices and credit notes with lines and payments,
    and the invoice PDFs."""
    clients = Client.objects.filter(owner=member.user).order_by("pk")
    invoices = list(
        _invoices_of(member).prefetch_related("lines", "payments").order_by("created_at", "pk")
    )
    documents = InvoiceDocument.objects.filter(
        invoice__in=[invoice.pk for invoice in invoices],
        format=InvoiceDocument.Format.PDF,
        status=DocumentStatus.READY,
    ).select_related("invoice")
    recurring = RecurringInvoice.objects.filter(activity__owner=member).prefetch_related(
        "lines", "runs"
    )
    return {
        "data": {
            "recurring_invoices": [
                {
                    **model_dict(item, exclude=("created_by",)),
                    "lines": [
                        model_dict(line, exclude=("recurring_invoice",))
                        for line in item.lines.all()
                    ],
                    "periods": [
                        model_dict(run, exclude=("recurring_invoice",)) for run in item.runs.all()
                    ],
                }
                for item in recurring.order_by("pk")
            ],
            "clients": [
                {name: value for name, value in model_dict(client).items() if name in CLIENT_FIELDS}
                for client in clients
            ],
            "invoices": [
                {
                    **model_dict(invoice, exclude=("created_by", "issued_by")),
                    "lines": [
                        model_dict(line, exclude=("invoice",))
                        for line in sorted(invoice.lines.all(), key=lambda line: line.position)
                    ],
                    "payments": [
                        model_dict(payment, exclude=("invoice", "recorded_by", "bank_line"))
                        for payment in sorted(invoice.payments.all(), key=lambda p: p.pk)
                    ],
                }
                for invoice in invoices
            ],
        },
        "files": [
            (f"invoices/{document.invoice.number}.pdf", document.file)
            for document in documents
            if document.file
        ],
    }


def anonymisation_blockers(member: Member) -> list[str]:
    """Invoices still waiting for review or for the client's money."""
    open_count = (
        _invoices_of(member)
        .filter(
            Q(status=Invoice.Status.PENDING_REVIEW)
            | Q(
                kind=Invoice.Kind.INVOICE,
                status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID],
            )
        )
        .count()
    )
    blockers = []
    if open_count:
        blockers.append(
            ngettext(
                "%(count)d invoice is still unpaid or awaiting review.",
                "%(count)d invoices are still unpaid or awaiting review.",
                open_count,
            )
            % {"count": open_count}
        )
    recurring = (
        RecurringInvoice.objects.filter(activity__owner=member)
        .exclude(status=RecurringInvoice.Status.ENDED)
        .count()
    )
    if recurring:
        blockers.append(
            ngettext(
                "%(count)d recurring invoice has not ended.",
                "%(count)d recurring invoices have not ended.",
                recurring,
            )
            % {"count": recurring}
        )
    return blockers
