"""What is left to pay on invoices read for a page: the sums in SQL, what is due in Python.

``Invoice.objects.with_amounts()`` derives ``amount_due`` and ``amount_to_refund`` in SQL, where
each of the two repeats the three subqueries of the sums it is made of: nine subqueries a row
for Django to compile and PostgreSQL to plan. A page reads the three sums once
(``with_settled_amounts()``) and completes each invoice here, with the same arithmetic
(tests/invoicing/test_amounts.py compares both).
"""

from collections.abc import Iterable
from decimal import Decimal

from invoicing.models import ZERO, Invoice


def due(total_incl_vat: Decimal, paid: Decimal, credited: Decimal, refunded: Decimal) -> Decimal:
    """What is left to pay: ``amount_due`` of ``with_amounts()``, from the sums it is made of
    (negative when the client paid more than is left)."""
    return total_incl_vat - paid - credited + refunded


def add_amounts_due(invoices: Iterable[Invoice]) -> None:
    """Set ``amount_due`` and ``amount_to_refund`` on invoices read ``with_settled_amounts()``.

    ``amount_due`` is negative when the client paid more than is left of the invoice;
    ``amount_to_refund`` is that excess, what is owed back to the client.
    """
    for invoice in invoices:
        left = due(
            invoice.total_incl_vat,
            invoice.amount_paid,
            invoice.amount_credited,
            invoice.amount_refunded,
        )
        invoice.amount_due = left
        # As SQL's GREATEST(-due, 0): never a negative zero.
        invoice.amount_to_refund = -left if left < 0 else ZERO
