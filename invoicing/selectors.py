"""Reads scoped to the requesting user: another member's invoice or client is not found."""

import datetime
import functools
from collections.abc import Callable
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum

from coop.compiled import CompiledQuery
from coop.keyset import FIRST_PAGE_SPLIT, Keyset, KeysetPage, first_page
from coop.keyset import first_page_query as keyset_first_page_query
from invoicing.models import Buyer, Client, Invoice, Payment, RecurringInvoice
from members.models import User, activity_id_list, of_activities_of


def clients_visible_to(user: User) -> QuerySet[Client]:
    """The user's own client records (staff: all). Nobody else's, whatever they share."""
    if user.is_staff:
        return Client.objects.all()
    if not user.is_authenticated:
        return Client.objects.none()
    return Client.objects.filter(owner=user)


def cooperative_clients() -> QuerySet[Client]:
    """The cooperative's own clients (no member owns them), such as outside renters."""
    return Client.objects.filter(owner__isnull=True)


@functools.cache
def _invoices_with_amounts() -> QuerySet[Invoice]:
    # Built once per process (its amount subqueries cost more to build than to run) and never
    # evaluated itself: callers get copies.
    return Invoice.objects.select_related("client", "activity").with_amounts()


def invoices_visible_to(user: User, invoices: QuerySet[Invoice] | None = None) -> QuerySet[Invoice]:
    """Invoices and credit notes of the user's Activities (staff: all), with paid amounts.

    ``invoices``: the invoices and columns to read (by default every column, with the amounts
    and the client and Activity).
    """
    if invoices is None:
        invoices = _invoices_with_amounts()
    if user.is_staff:
        return invoices.all()
    return invoices.filter(of_activities_of(user))


def has_invoices(user: User) -> bool:
    """Tell whether the user sees any invoice or credit note (without reading its amounts)."""
    invoices = (
        Invoice.objects.all() if user.is_staff else Invoice.objects.filter(of_activities_of(user))
    )
    return invoices.exists()


INVOICE_KEYSET = Keyset("issue_date", nullable=True)


def invoice_list_of(
    user: User,
    invoices: QuerySet[Invoice] | None = None,
    *,
    activity_ids: list[int] | None = None,
) -> tuple[QuerySet[Invoice], tuple[str, list[int]] | None]:
    """The invoices a list shows the user, and the ``split`` that scopes them (see keyset_page).

    ``invoices``: the invoices and columns the list reads (by default every column, with the
    amounts and the client and Activity). ``activity_ids``: the user's Activities, when the
    caller already read them (``Activity.objects.of_user(user)``).

    A member's list is read Activity by Activity through (Activity, issue date, id): the
    ``activity_id = <one of theirs>`` of each part is the scope, so the queryset carries no
    other visibility filter (one would double the condition on the column and make PostgreSQL
    expect a handful of rows, and sort them all). Staff see every invoice, unsplit. Always pass
    both to ``keyset_page``.
    """
    invoices = (_invoices_with_amounts() if invoices is None else invoices).all()
    if user.is_staff:
        return invoices, None
    if activity_ids is None:
        activity_ids = activity_id_list(user)
    return invoices, ("activity_id", activity_ids)


# The most Activities a member's first page is compiled for (coop.compiled); a member with
# more is read through the ORM, as are filtered lists and later pages.
FIRST_PAGE_ACTIVITIES = FIRST_PAGE_SPLIT


def first_page_query(columns: Callable[[], QuerySet[dict]]) -> CompiledQuery:
    """The first page of a member's list of ``columns()`` (a ``values()`` queryset of
    invoices), newest first, as ``keyset_page`` reads it with the ``split`` of
    ``invoice_list_of``: compiled once per process, per page size and number of Activities."""
    return keyset_first_page_query(Invoice, columns, INVOICE_KEYSET)


def first_invoice_page(
    query: CompiledQuery, activity_ids: list[int], *, size: int
) -> KeysetPage | None:
    """The first page of a member's list read by ``query`` (``first_page_query``) from the
    ``split`` of ``invoice_list_of``; None when the member has more Activities than it is
    compiled for (read it with ``keyset_page``)."""
    return first_page(query, INVOICE_KEYSET, activity_ids, size=size)


def invoices_to_review() -> QuerySet[Invoice]:
    """Submitted invoices and requested credit notes waiting for staff, oldest first."""
    return (
        Invoice.objects.filter(status=Invoice.Status.PENDING_REVIEW)
        .select_related("client", "activity__owner")
        .order_by("submitted_at", "pk")
    )


def open_receivables() -> QuerySet[Invoice]:
    """Issued invoices not fully paid, with what is still due."""
    return (
        Invoice.objects.filter(
            kind=Invoice.Kind.INVOICE,
            status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID],
        )
        .select_related("client__buyer", "activity__owner")
        .with_amounts()
        .filter(~Q(amount_due__lte=0))
    )


def buyer_standing(buyer: Buyer, *, today: datetime.date) -> dict:
    """The cooperative's exposure to one buyer across all members, and how it pays."""
    invoices = Invoice.objects.filter(client__buyer=buyer, kind=Invoice.Kind.INVOICE)
    open_invoices = (
        invoices.filter(status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID])
        .with_amounts()
        .order_by()
    )
    last_payment = (
        Payment.objects.filter(invoice=OuterRef("pk"))
        .order_by("-received_on")
        .values("received_on")[:1]
    )
    paid = invoices.filter(status=Invoice.Status.PAID).annotate(paid_on=Subquery(last_payment))
    exposure = open_invoices.aggregate(
        count=Count("pk"),
        outstanding=Sum("amount_due"),
        overdue=Sum("amount_due", filter=Q(due_date__lt=today)),
    )
    behaviour = paid.aggregate(
        count=Count("pk"), late=Count("pk", filter=Q(paid_on__gt=F("due_date")))
    )
    return {
        "members": Client.objects.filter(buyer=buyer, owner__isnull=False)
        .values("owner")
        .distinct()
        .count(),
        "open_invoices": exposure["count"],
        "outstanding": exposure["outstanding"] or Decimal("0.00"),
        "overdue": exposure["overdue"] or Decimal("0.00"),
        "paid_invoices": behaviour["count"],
        "paid_late": behaviour["late"],
    }


def recurring_invoices_visible_to(user: User) -> QuerySet[RecurringInvoice]:
    """Recurring invoices of the user's Activities (staff: all), like their invoices: a
    co-member of the Activity sees them too."""
    recurring = RecurringInvoice.objects.select_related("client", "activity")
    if user.is_staff:
        return recurring.all()
    if not user.is_authenticated:
        return recurring.none()
    return recurring.filter(of_activities_of(user))
