"""What other apps check and do when an invoice is saved, submitted or issued.

invoicing imports none of the apps that draw up invoices from their own records (an order, a
contract...): such an app registers here, once, from its ``AppConfig.ready``, a check that may
refuse an invoice (by raising ``InvoicingError``) and a function run once the invoice is issued,
both inside the issuing transaction. Nothing is registered by default.
"""

from collections.abc import Callable

from invoicing.models import Invoice

InvoiceCheck = Callable[[Invoice], None]
IssuedHook = Callable[..., None]

_checks: list[InvoiceCheck] = []
_issued: list[IssuedHook] = []


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


def check_invoice(invoice: Invoice) -> None:
    """Let every registered check refuse the invoice (the caller holds its row lock)."""
    for check in _checks:
        check(invoice)


def invoice_issued(*, invoice: Invoice, actor, now) -> None:
    for hook in _issued:
        hook(invoice=invoice, actor=actor, now=now)
