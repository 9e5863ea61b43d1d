"""Reads of online payments, scoped to the user like invoicing's."""

from django.db.models import QuerySet

from checkout.models import OnlinePayment
from invoicing import selectors as invoicing_selectors
from invoicing.models import Invoice
from members.models import User


def online_payments_of(user: User, invoice_pk: int) -> QuerySet[OnlinePayment] | None:
    """The online payments of an invoice the user sees, newest first; None if it sees none."""
    visible = invoicing_selectors.invoices_visible_to(user, Invoice.objects.only("pk").order_by())
    if not visible.filter(pk=invoice_pk).exists():
        return None
    return OnlinePayment.objects.filter(invoice_id=invoice_pk).order_by("-created_at", "-pk")
