"""Links other apps add to what invoicing sends a client, without invoicing importing them.

Invoicing sits below the apps that build on it (ARCHITECTURE.md), so it cannot call them. An
app that can offer the client something for an invoice (the checkout app's pay link) registers
a function here from its ``AppConfig.ready``::

    from invoicing.links import register_invoice_link

    register_invoice_link(pay_link_for_email)

Each function takes the issued invoice and returns an :class:`InvoiceLink`, or None when it has
nothing to offer for that invoice. The invoice e-mail (templates/emails/invoice.txt) shows every
link returned, in the order the functions were registered, in the invoice's language.
"""

from collections.abc import Callable
from dataclasses import dataclass

from invoicing.models import Invoice


@dataclass(frozen=True)
class InvoiceLink:
    """A link for the client: what it does (already translated) and its absolute URL."""

    label: str
    url: str
    note: str = ""


InvoiceLinkFunction = Callable[[Invoice], InvoiceLink | None]

_functions: list[InvoiceLinkFunction] = []


def register_invoice_link(function: InvoiceLinkFunction) -> InvoiceLinkFunction:
    """Add a function that offers a link for an invoice; registering it twice adds it once."""
    if function not in _functions:
        _functions.append(function)
    return function


def invoice_links(invoice: Invoice) -> list[InvoiceLink]:
    """Return what every registered function offers for the invoice, in registration order."""
    links = []
    for function in _functions:
        link = function(invoice)
        if link is not None:
            links.append(link)
    return links
