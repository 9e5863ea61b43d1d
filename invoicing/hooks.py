"""Extension points of invoicing for the apps built on it.

Invoicing knows nothing of the apps that depend on it (ARCHITECTURE.md). Such an app registers
its functions here, once, from its ``AppConfig.ready``; invoicing calls what is registered, or
nothing when no app registered:

- an app that draws up invoices from its own records (an order, a contract...) registers a check
  that may refuse an invoice (by raising ``InvoicingError``) and a function run once the invoice
  is issued, both inside the issuing transaction;
- an app that adds to an invoice e-mail or to the member's invoice page registers the e-mail's
  "view online" address or a panel of the page;
- an app whose records guarantee income before it is invoiced (confirmed orders) registers the
  SQL that sums it per client, for the guarantee fund's table per client.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from django.http import HttpRequest

    from invoicing.models import Invoice

InvoiceCheck = Callable[["Invoice"], None]
IssuedHook = Callable[..., None]

_checks: list[InvoiceCheck] = []
_issued: list[IssuedHook] = []
# (invoice, recipient) -> an absolute address where the recipient views the document online.
_email_link: Callable[["Invoice", str], str] | None = None
# () -> (SQL, params) of rows (client_id, guaranteed): income guaranteed per client, not invoiced.
_guaranteed_per_client: Callable[[], tuple[str, list]] | None = None
# (request, invoice) -> HTML shown on the member's invoice page under its details.
_invoice_panels: list[Callable[["HttpRequest", "Invoice"], SafeString | str]] = []


def register_invoice_check(check: InvoiceCheck) -> InvoiceCheck:
    """Run ``check(invoice)`` when a draft is saved, submitted and issued; it raises
    ``InvoicingError`` to refuse. Registering the same function twice registers it once."""
    if check not in _checks:
        _checks.append(check)
    return check


def register_issued_hook(hook: IssuedHook) -> IssuedHook:
    """Run ``hook(invoice=, actor=, now=)`` once an invoice is issued, in the same transaction."""
    if hook not in _issued:
        _issued.append(hook)
    return hook


def check_invoice(invoice: "Invoice") -> None:
    """Let every registered check refuse the invoice (the caller holds its row lock)."""
    for check in _checks:
        check(invoice)


def invoice_issued(*, invoice: "Invoice", actor, now) -> None:
    for hook in _issued:
        hook(invoice=invoice, actor=actor, now=now)


def register_email_link(function: Callable[["Invoice", str], str]) -> None:
    """Let ``function(invoice, recipient)`` give the "view online" address of invoice e-mails."""
    global _email_link
    _email_link = function


def email_link(invoice: "Invoice", recipient: str) -> str:
    """Return the "view online" address for this e-mail of the invoice, or "" when none."""
    if _email_link is None:
        return ""
    return _email_link(invoice, recipient)


def register_invoice_panel(
    function: Callable[["HttpRequest", "Invoice"], SafeString | str],
) -> None:
    """Show ``function(request, invoice)``'s HTML on the member's invoice page."""
    if function not in _invoice_panels:
        _invoice_panels.append(function)


def invoice_panels(request: "HttpRequest", invoice: "Invoice") -> list[SafeString | str]:
    """Return the HTML of every registered panel for this invoice, the empty ones left out."""
    panels = (panel(request, invoice) for panel in _invoice_panels)
    return [html for html in panels if html]


def register_guaranteed_per_client(function: Callable[[], tuple[str, list]]) -> None:
    """Let ``function()`` give the SQL (and its parameters) of rows ``(client_id, guaranteed)``:
    what each client guarantees and is not invoiced yet. It runs inside the guarantee fund's
    refresh, so it must read an index, never the invoices."""
    global _guaranteed_per_client
    _guaranteed_per_client = function


def guaranteed_per_client_sql() -> tuple[str, list]:
    """The SQL of the guaranteed income per client, or one that gives no row."""
    if _guaranteed_per_client is None:
        return "SELECT NULL::bigint, 0::numeric WHERE false", []
    return _guaranteed_per_client()
