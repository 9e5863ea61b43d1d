"""Reads scoped to the requesting user: another member's invoice or client is not found."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from invoicing.models import Client, Invoice
from members.models import Activity, User


def clients_visible_to(user: User) -> QuerySet[Client]:
    """Clients the user added or invoiced (staff: all)."""
    if user.is_staff:
        return Client.objects.all()
    invoiced = Invoice.objects.filter(
        client=OuterRef("pk"), activity__in=Activity.objects.of_user(user).values("pk")
    )
    added = Client.added_by.through.objects.filter(client=OuterRef("pk"), user=user)
    return Client.objects.filter(Exists(added) | Exists(invoiced))


def invoices_visible_to(user: User) -> QuerySet[Invoice]:
    """Invoices and credit notes of the user's Activities (staff: all), with paid amounts."""
    invoices = Invoice.objects.select_related("client", "activity").with_amounts()
    if user.is_staff:
        return invoices
    return invoices.filter(activity__in=Activity.objects.of_user(user).values("pk"))


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
        .select_related("client", "activity__owner")
        .with_amounts()
        .filter(~Q(amount_due__lte=0))
    )
