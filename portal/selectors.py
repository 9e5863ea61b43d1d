"""Every read of the portal, scoped to one portal identity: an e-mail address.

An address sees the issued documents of every client record with that address, whichever member
typed it. A member who types somebody else's address exposes to that address only their own
documents, which they were going to e-mail there anyway; no address ever sees a document of a
record with another address, and nothing internal (drafts, documents awaiting review, the
ledger, a member's other clients) is reachable from here.

Adding a list (quotes, orders) to the portal is one selector here, scoped through
``client_ids_of`` like ``documents_of``, and one template.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Lower

from invoicing.models import ZERO, Client, Invoice, InvoiceDocument
from portal.models import PortalQuestion

# What a client may see: issued documents. Drafts, documents awaiting staff review and rejected
# ones have no number and were never sent.
VISIBLE_STATUSES = (
    Invoice.Status.ISSUED,
    Invoice.Status.PARTIALLY_PAID,
    Invoice.Status.PAID,
    Invoice.Status.CREDITED,
)
OPEN_STATUSES = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
# The columns the portal shows of a document: never the snapshot as a whole (the member's
# internal fields stay in the database) nor the client record.
LIST_COLUMNS = (
    "pk",
    "kind",
    "status",
    "number",
    "issue_date",
    "due_date",
    "total_incl_vat",
    "client_id",
)


@dataclass(frozen=True)
class PortalIdentity:
    """Who is signed in to the portal: an e-mail address, lower case."""

    email: str
    language: str = "fr"

    # What DRF and the throttles ask of ``request.user``.
    is_authenticated = True
    is_staff = False

    @property
    def pk(self) -> str:
        return f"portal:{self.email}"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def clients_of(email: str) -> QuerySet[Client]:
    """Every member's client record with this address, whatever its case (one index scan on
    ``client_email_lower_idx``)."""
    return Client.objects.alias(email_lower=Lower("email")).filter(
        email_lower=normalise_email(email)
    )


def client_ids_of(identity: PortalIdentity) -> list[int]:
    return list(clients_of(identity.email).order_by().values_list("pk", flat=True))


def has_documents(email: str) -> bool:
    """Tell whether the address has at least one issued document to see."""
    return Invoice.objects.filter(
        client__in=clients_of(email).values("pk"), status__in=VISIBLE_STATUSES
    ).exists()


def client_language(email: str) -> str:
    """The language of the address's most recent client record (fr when it has none)."""
    language = clients_of(email).order_by("-created_at", "-pk").values_list("language", flat=True)
    return language.first() or "fr"


def documents_of(
    identity: PortalIdentity, client_ids: list[int] | None = None
) -> QuerySet[Invoice]:
    """The identity's issued invoices and credit notes, newest first, with the amounts due."""
    if client_ids is None:
        client_ids = client_ids_of(identity)
    return (
        Invoice.objects.filter(client_id__in=client_ids, status__in=VISIBLE_STATUSES)
        .exclude(number__isnull=True)
        .order_by("-issue_date", "-pk")
    )


def document_rows(identity: PortalIdentity, client_ids: list[int] | None = None):
    """The rows of the identity's document list: the columns shown, the member who did the
    work (frozen at issue), what is paid and due; a ``values()`` queryset to paginate."""
    return (
        documents_of(identity, client_ids)
        .with_amounts()
        .annotate(member_name=KT("snapshot__member_name"))
        .values(*LIST_COLUMNS, "member_name", "amount_paid", "amount_due")
    )


def document_of(identity: PortalIdentity, pk: int) -> Invoice | None:
    """One of the identity's documents with its amounts, or None (another's is not found)."""
    return (
        documents_of(identity)
        .with_amounts()
        .select_related("credited_invoice")
        .filter(pk=pk)
        .first()
    )


def stored_document(identity: PortalIdentity, pk: int, document_format: str):
    """The stored PDF or UBL of one of the identity's documents, or None."""
    return (
        InvoiceDocument.objects.filter(
            invoice__in=documents_of(identity).values("pk"), invoice_id=pk, format=document_format
        )
        .select_related("invoice")
        .first()
    )


@dataclass(frozen=True)
class Summary:
    open_count: int
    open_amount: Decimal
    overdue_count: int
    overdue_amount: Decimal
    document_count: int


def summary_of(identity: PortalIdentity, client_ids: list[int], *, today: datetime.date) -> Summary:
    """What the identity still owes, in one query over its own open invoices."""
    documents = documents_of(identity, client_ids)
    open_invoices = (
        documents.filter(kind=Invoice.Kind.INVOICE, status__in=OPEN_STATUSES)
        .with_amounts()
        .order_by()
        .aggregate(
            open_count=Count("pk", filter=Q(amount_due__gt=0)),
            open_amount=Sum("amount_due", filter=Q(amount_due__gt=0)),
            overdue_count=Count("pk", filter=Q(amount_due__gt=0, due_date__lt=today)),
            overdue_amount=Sum("amount_due", filter=Q(amount_due__gt=0, due_date__lt=today)),
        )
    )
    return Summary(
        open_count=open_invoices["open_count"],
        open_amount=open_invoices["open_amount"] or ZERO,
        overdue_count=open_invoices["overdue_count"],
        overdue_amount=open_invoices["overdue_amount"] or ZERO,
        document_count=documents.order_by().count(),
    )


def payment_status(status: str, kind: str, due_date, amount_due, *, today: datetime.date) -> str:
    """How the client reads a document's payment: paid, partially paid, overdue, open, credit."""
    if kind == Invoice.Kind.CREDIT_NOTE:
        return "credit_note"
    if status == Invoice.Status.CREDITED:
        return "credited"
    if amount_due is not None and amount_due <= 0:
        return "paid"
    if due_date is not None and due_date < today:
        return "overdue"
    if status == Invoice.Status.PARTIALLY_PAID:
        return "partially_paid"
    return "open"


# Quotes: what the client was sent. Never a draft, nor what staff decide on an order.
QUOTE_STATUSES = ("sent", "change_requested", "accepted", "declined", "expired", "confirmed")


def _quotes_of(identity: PortalIdentity, client_ids: list[int] | None = None):
    """The identity's quotes the client was sent, and orders whatever the member is drafting
    (a confirmed order stays the client's while a new version is written)."""
    from quotes.models import Quote

    if client_ids is None:
        client_ids = client_ids_of(identity)
    return Quote.objects.filter(
        Q(status__in=QUOTE_STATUSES) | Q(ordered_version__isnull=False),
        client_id__in=client_ids,
        sequence_number__isnull=False,
    )


def quote_rows(identity: PortalIdentity, client_ids: list[int] | None = None):
    """The identity's quotes, newest first, each as its latest sent version says it (a new
    version the member is drafting stays unseen until it is sent); a ``values()`` queryset."""
    from django.db.models import OuterRef, Subquery

    from quotes.models import QuoteVersion

    sent = QuoteVersion.objects.filter(quote=OuterRef("pk"), sent_at__isnull=False).order_by(
        "-version"
    )
    return (
        _quotes_of(identity, client_ids)
        .order_by("-created_at", "-pk")
        .annotate(
            title=Subquery(sent.values("title")[:1]),
            valid_until=Subquery(sent.values("valid_until")[:1]),
            total_incl_vat=Subquery(sent.values("total_incl_vat")[:1]),
            member_name=Subquery(
                sent.annotate(name=KT("snapshot__member_name")).values("name")[:1]
            ),
        )
        .values(
            "pk",
            "series",
            "sequence_number",
            "status",
            "ordered_version_id",
            "title",
            "valid_until",
            "total_incl_vat",
            "member_name",
        )
    )


def quote_document(identity: PortalIdentity, pk: int):
    """The PDF row of the latest sent version of one of the identity's quotes, or None."""
    from quotes.models import QuoteDocument

    if not 0 < pk < 2**63:
        return None
    return (
        QuoteDocument.objects.filter(
            version__quote__in=_quotes_of(identity).filter(pk=pk).values("pk"),
            version__sent_at__isnull=False,
        )
        .select_related("version__quote")
        .order_by("-version__version")
        .first()
    )


def questions_of(identity: PortalIdentity, invoice: Invoice) -> QuerySet[PortalQuestion]:
    """The questions this identity asked about one of its documents, newest first."""
    return PortalQuestion.objects.filter(invoice=invoice, email=identity.email).order_by(
        "-asked_at", "-pk"
    )


def questions_on(invoice: Invoice) -> QuerySet[PortalQuestion]:
    """The questions clients asked about an invoice the member already sees, newest first."""
    return PortalQuestion.objects.filter(invoice=invoice).order_by("-asked_at", "-pk")
