"""The checkout part of the demo world: open invoices payable through their pay link.

With the simulated provider (the default outside production) one invoice was already paid
online, so the admin's list of online payments has a row, and another stays open to try.
"""

from urllib.parse import urlencode

from django.utils import timezone

from checkout.links import pay_url
from checkout.providers import get_provider
from checkout.providers.simulated import SIGNATURE_HEADER, SimulatedProvider, sign
from checkout.services import receive_webhook, start_online_payment
from invoicing.models import Invoice
from invoicing.services.payments import amount_due


def _open_invoices():
    return (
        Invoice.objects.filter(
            kind=Invoice.Kind.INVOICE, status=Invoice.Status.ISSUED, number__isnull=False
        )
        .select_related("activity")
        .order_by("issue_date", "pk")
    )


def seed(context: dict, *, stdout) -> None:
    """Pay one open invoice through the simulated provider; print another's pay link."""
    invoices = [invoice for invoice in _open_invoices()[:10] if amount_due(invoice) > 0]
    if not invoices:
        stdout.write("No open invoice to pay online.")
        return
    provider = get_provider()
    # The first member's: the benchmarks' heaviest member only grows heavier.
    first_members = [
        invoice for invoice in invoices if invoice.activity.owner_id == context["members"][0].pk
    ]
    if isinstance(provider, SimulatedProvider) and first_members and len(invoices) > 1:
        paid = first_members[0]
        invoices.remove(paid)
        online = start_online_payment(
            invoice=paid,
            redirect_url_for=lambda reference: pay_url(paid),
            webhook_url=pay_url(paid),
            now=timezone.now(),
        )
        provider.settle(online.provider_payment_id, paid=True)
        body = urlencode({"id": online.provider_payment_id}).encode()
        receive_webhook(
            provider_name=provider.name,
            body=body,
            headers={SIGNATURE_HEADER: sign(body)},
            post={"id": online.provider_payment_id},
        )
        stdout.write(f"Invoice {paid.number} paid online with the simulated provider.")
    open_invoice = invoices[0]
    context["pay_link"] = pay_url(open_invoice)
    online = "simulated provider" if provider and provider.is_simulated else "bank transfer only"
    stdout.write(f"Pay link of invoice {open_invoice.number} ({online}): {pay_url(open_invoice)}")


def seed_heavy(context: dict, *, stdout) -> None:
    """Start paying the first heavy member's newest open invoice online, with the simulated
    provider only: staff's pages of online payments have a row to show. Pay links themselves
    are signed, not stored, and cost nothing per member."""
    provider = get_provider()
    members = context["members"]
    if not isinstance(provider, SimulatedProvider) or not members:
        stdout.write("  checkout: no online payment (no simulated provider)")
        return
    invoices = _open_invoices().filter(activity__owner=members[0]).order_by("-issue_date", "-pk")
    invoice = next((invoice for invoice in invoices[:10] if amount_due(invoice) > 0), None)
    if invoice is None:
        stdout.write("  checkout: no open invoice to pay online")
        return
    online = start_online_payment(
        invoice=invoice,
        redirect_url_for=lambda reference: pay_url(invoice),
        webhook_url=pay_url(invoice),
        now=timezone.now(),
    )
    stdout.write(f"  checkout: an online payment of {online.amount} open for {invoice.number}")
