"""Paying an invoice online: start a payment at the provider, take in its webhooks.

A confirmed payment is recorded through invoicing's ``record_payment``, like a payment matched
from a bank statement, so it posts the same ledger entries (income, cooperative fee).
"""

import datetime
import logging
import uuid
from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import record_event
from checkout.errors import CheckoutError
from checkout.links import pay_url
from checkout.models import OnlinePayment, PaymentStatus
from checkout.providers import get_provider
from checkout.providers.base import (
    PaymentProvider,
    PaymentRequest,
    ProviderError,
    ProviderPayment,
    UnknownPayment,
    WebhookRefused,
)
from coop.templatetags.money import euro
from invoicing.errors import InvoicingError
from invoicing.models import Invoice, Payment
from invoicing.services.payments import (
    BANK_PAYABLE_STATUSES,
    amount_due,
    payment_note,
    record_payment,
)

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
OPEN_INVOICE_STATUSES = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
# A payment started this recently is reused without asking the provider (a double click).
REUSE_WITHOUT_ASKING = datetime.timedelta(minutes=2)
# The provider's page in the invoice's language (Mollie's locale names).
LOCALES = {"fr": "fr_BE", "nl": "nl_BE", "en": "en_US"}


def is_open_invoice(invoice: Invoice) -> bool:
    """An issued invoice the client has not paid in full yet."""
    return invoice.kind == Invoice.Kind.INVOICE and invoice.status in OPEN_INVOICE_STATUSES


def payment_options_for(invoice: Invoice) -> dict | None:
    """Tell how the client can pay the invoice, for the client portal and the e-mail.

    None when nothing is to be paid (a draft, a credit note, a paid or credited invoice).
    Otherwise the pay page's address (bank transfer with QR code and structured communication,
    always) and whether it also offers paying online (a provider is configured).
    """
    if not is_open_invoice(invoice):
        return None
    provider = get_provider()
    return {
        "pay_url": pay_url(invoice),
        "online_available": provider is not None,
        "provider": provider.name if provider else "",
        "simulated": bool(provider and provider.is_simulated),
    }


def start_online_payment(
    *,
    invoice: Invoice,
    redirect_url_for: Callable[[uuid.UUID], str],
    webhook_url: str,
    now: datetime.datetime | None = None,
) -> OnlinePayment:
    """Create a payment of what is due now at the provider, or reuse the open one.

    Return the online payment to send the client to: its ``checkout_url`` while it is open;
    one found paid meanwhile comes back paid (and recorded). The invoice stays locked while the
    provider answers, so that a double click or a second tab waits and then gets the payment
    the first one created instead of a second one; a payment still open for the same amount is
    reused. Refused when the invoice is paid, credited or has nothing due, and when no provider
    is configured. Nothing is written if the provider refuses or cannot be reached.
    """
    now = now or timezone.now()
    provider = get_provider()
    if provider is None:
        raise CheckoutError(_("Online payment is not available."), code="no_provider")
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        due = amount_due(invoice)
        if not is_open_invoice(invoice) or due <= ZERO:
            raise CheckoutError(
                _("Invoice %(number)s has nothing left to pay.") % {"number": invoice.number},
                code="nothing_due",
            )
        reused = (
            invoice.online_payments.still_open()
            .filter(provider=provider.name, amount=due)
            .exclude(checkout_url="")
            .order_by("-created_at", "-pk")
            .first()
        )
        if reused is not None:
            reused = _checked(provider, reused, now=now)
            if reused.is_open or reused.status == PaymentStatus.PAID:
                # Still payable there, or paid meanwhile (recorded now): the caller shows it.
                return reused
            due = amount_due(invoice)
            if due <= ZERO:
                raise CheckoutError(
                    _("Invoice %(number)s has nothing left to pay.") % {"number": invoice.number},
                    code="nothing_due",
                )
        reference = uuid.uuid4()
        with translation.override(invoice.language):
            description = _("Invoice %(number)s") % {"number": invoice.number}
        request = PaymentRequest(
            amount=due,
            description=description,
            redirect_url=redirect_url_for(reference),
            webhook_url=webhook_url,
            reference=str(reference),
            locale=LOCALES.get(invoice.language, "en_US"),
            methods=tuple(settings.PAYMENT_METHODS),
            metadata={
                "invoice": invoice.number,
                "invoice_id": invoice.pk,
                "reference": str(reference),
            },
        )
        try:
            remote = provider.create_payment(request)
        except ProviderError as error:
            logger.warning("Payment provider refused invoice %s: %s", invoice.number, error)
            raise CheckoutError(
                _(
                    "The payment provider could not be reached. Try again in a moment, or pay "
                    "by bank transfer."
                ),
                code="provider",
            ) from error
        if remote.amount != due or remote.currency != "EUR" or not remote.checkout_url:
            raise CheckoutError(
                _("The payment provider answered with another amount. Nothing was charged."),
                code="provider",
            )
        online = OnlinePayment.objects.create(
            reference=reference,
            invoice=invoice,
            provider=provider.name,
            provider_payment_id=remote.id,
            amount=due,
            currency="EUR",
            status=_known_status(remote.status, PaymentStatus.OPEN),
            checkout_url=remote.checkout_url,
            raw_status=remote.raw,
            created_at=now,
            updated_at=now,
        )
        record_event(
            action=AuditAction.CREATED,
            obj=online,
            changes={"amount": [None, str(due)], "invoice": [None, invoice.number]},
        )
    return online


def _checked(
    provider: PaymentProvider, online: OnlinePayment, *, now: datetime.datetime
) -> OnlinePayment:
    """Return the open payment with its status as the provider tells it now.

    A payment started moments ago is a double click or the back button: it is taken as it is.
    An older one may have expired, or been paid without its webhook arriving yet: the provider
    is asked and its answer applied (a payment recorded if paid).
    """
    if now - online.created_at <= REUSE_WITHOUT_ASKING:
        return online
    try:
        remote = provider.fetch_payment(online.provider_payment_id)
    except ProviderError:
        return online  # the provider cannot tell: the client may still finish it there
    return apply_provider_status(online=online, remote=remote, now=now)


def receive_webhook(
    *,
    provider_name: str,
    body: bytes,
    headers: dict[str, str],
    post: dict,
    now: datetime.datetime | None = None,
) -> OnlinePayment:
    """Take in a provider's notification: check it, fetch the payment, apply its status.

    Raise WebhookRefused (answered 4xx, nothing written) for a provider that is not the
    configured one, a forged or unsigned notification when signatures are required, or a
    payment we never created. What the notification says is never trusted: the payment is
    fetched from the provider. ProviderError (answered 5xx so that the provider retries) when
    the provider cannot be reached.
    """
    provider = get_provider(provider_name)
    if provider is None:
        raise WebhookRefused("no such provider", status=404)
    payment_id = provider.parse_webhook(body=body, headers=headers, post=post)
    online = OnlinePayment.objects.filter(
        provider=provider.name, provider_payment_id=payment_id
    ).first()
    if online is None:
        raise WebhookRefused("unknown payment", status=404)
    try:
        remote = provider.fetch_payment(payment_id)
    except UnknownPayment as error:
        raise WebhookRefused("unknown payment", status=404) from error
    if remote.id != payment_id:
        raise WebhookRefused("another payment", status=400)
    return apply_provider_status(online=online, remote=remote, now=now)


@transaction.atomic
def apply_provider_status(
    *, online: OnlinePayment, remote: ProviderPayment, now: datetime.datetime | None = None
) -> OnlinePayment:
    """Bring the online payment in line with the provider's answer; record it once if paid.

    The row is locked, so webhooks arriving together apply one after the other and only the
    first paid one records the invoicing payment; the one-to-one link makes a second
    impossible even past this lock.
    """
    now = now or timezone.now()
    online = OnlinePayment.objects.select_for_update().get(pk=online.pk)
    previous = online.status
    online.raw_status = remote.raw
    online.updated_at = now
    fields = ["raw_status", "updated_at"]
    if online.payment_id is None:
        online.status = _known_status(remote.status, online.status)
        online.method = (remote.method or "")[:32]
        fields += ["status", "method"]
        if remote.is_paid:
            _record(online, remote, now=now)
            fields += ["payment", "paid_at", "needs_review", "review_note"]
    online.save(update_fields=fields)
    if online.status != previous:
        record_event(
            action=AuditAction.PAID if online.status == PaymentStatus.PAID else AuditAction.CHANGED,
            obj=online,
            changes={"status": [previous, online.status]},
        )
    return online


def _record(online: OnlinePayment, remote: ProviderPayment, *, now: datetime.datetime) -> None:
    """Record what the provider says was paid; whatever does not fit goes to staff review.

    Money that arrived is never dropped: more than is due (the client also paid by transfer)
    is recorded as an over-payment, to refund as invoicing does for bank over-payments.
    """
    online.paid_at = remote.paid_at or now
    problems = []
    if remote.currency != "EUR" or remote.amount <= ZERO:
        online.needs_review = True
        online.review_note = _(
            "The provider reports %(amount)s %(currency)s paid: check it and record it by hand."
        ) % {"amount": remote.amount, "currency": remote.currency}
        return
    if remote.amount != online.amount:
        problems.append(
            _("The provider reports %(paid)s paid where %(asked)s was asked.")
            % {"paid": euro(remote.amount), "asked": euro(online.amount)}
        )
    invoice = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("activity__owner")
        .get(pk=online.invoice_id)
    )
    due = amount_due(invoice)
    if remote.amount > max(due, ZERO):
        problems.append(
            _("Paid online when only %(due)s was still due on invoice %(number)s.")
            % {"due": euro(max(due, ZERO)), "number": invoice.number}
        )
    if invoice.kind != Invoice.Kind.INVOICE or invoice.status not in BANK_PAYABLE_STATUSES:
        problems.append(_("The invoice takes no payment: record it by hand."))
    else:
        today = timezone.localdate(now)
        received_on = min(timezone.localdate(online.paid_at), today)
        if invoice.issue_date and received_on < invoice.issue_date:
            received_on = invoice.issue_date
        # No person writes these ledger entries: they are worded in the member's language,
        # as the member reads them, not in whatever language the notification came in.
        try:
            with translation.override(invoice.activity.owner.preferred_language):
                online.payment = record_payment(
                    invoice=invoice,
                    amount=remote.amount,
                    received_on=received_on,
                    actor=None,
                    method=Payment.Method.ONLINE,
                    note=f"{online.provider} {online.provider_payment_id}",
                    now=now,
                )
        except InvoicingError as error:
            problems.append(error.message)
        else:
            note = payment_note(invoice)
            if note and problems:
                problems.append(note)
    if problems:
        online.needs_review = True
        online.review_note = " ".join(problems)[:255]


def _known_status(status: str, default: str) -> str:
    return status if status in PaymentStatus.values else default
