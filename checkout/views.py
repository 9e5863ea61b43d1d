"""The client's pay page (public, behind the unguessable link), the provider's webhook, and the
simulated provider's checkout page."""

import contextlib
import logging
import uuid
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from checkout import services
from checkout.errors import CheckoutError
from checkout.links import invoice_for_token
from checkout.models import OnlinePayment, PaymentStatus, SimulatedPayment
from checkout.providers import get_provider
from checkout.providers.base import ProviderError, WebhookRefused
from checkout.providers.simulated import SIGNATURE_HEADER, SimulatedProvider, sign
from invoicing.models import Invoice
from invoicing.payment_qr import epc_qr_svg, has_payment_qr
from invoicing.services.payments import amount_due

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")


def _invoice(token: str) -> Invoice:
    invoice = invoice_for_token(token)
    if invoice is None:
        raise Http404
    return invoice


def _pay_context(invoice: Invoice, token: str) -> dict:
    due = amount_due(invoice)
    snapshot = invoice.snapshot or {}
    open_invoice = services.is_open_invoice(invoice) and due > ZERO
    qr_svg = ""
    if open_invoice:
        # The code carries what is due now, which a partial payment has lowered.
        payable = {**snapshot, "totals": {**snapshot.get("totals", {}), "payable": f"{due:.2f}"}}
        if has_payment_qr(payable):
            qr_svg = epc_qr_svg(payable)
    provider = get_provider() if open_invoice else None
    return {
        "invoice": invoice,
        "snapshot": snapshot,
        "seller": snapshot.get("seller", {}),
        "token": token,
        "amount_due": max(due, ZERO),
        "is_open": open_invoice,
        "is_paid": invoice.status == Invoice.Status.PAID
        or (services.is_open_invoice(invoice) and due <= ZERO),
        "qr_svg": qr_svg,
        "provider": provider,
    }


def _client_language(request: HttpRequest, invoice: Invoice) -> str:
    """The client reads the pages in the invoice's language unless it chose one on the site."""
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        return translation.get_language()
    return invoice.language


@never_cache
@require_http_methods(["GET", "HEAD"])
def pay(request: HttpRequest, token: str) -> HttpResponse:
    """Show what is due and how to pay it: bank transfer always, online when configured."""
    invoice = _invoice(token)
    with translation.override(_client_language(request, invoice)):
        return render(request, "checkout/pay.html", _pay_context(invoice, token))


@never_cache
@require_POST
def pay_online(request: HttpRequest, token: str) -> HttpResponse:
    """Start (or resume) an online payment of what is due and send the client to pay it."""
    invoice = _invoice(token)
    if get_provider() is None:
        raise Http404

    def redirect_url_for(reference: uuid.UUID) -> str:
        return request.build_absolute_uri(
            reverse("checkout:pay_return", kwargs={"token": token, "reference": reference})
        )

    with translation.override(_client_language(request, invoice)):
        try:
            online = services.start_online_payment(
                invoice=invoice,
                redirect_url_for=redirect_url_for,
                webhook_url=settings.SITE_URL
                + reverse("checkout:webhook", kwargs={"provider": get_provider().name}),
            )
        except CheckoutError as error:
            invoice.refresh_from_db()
            context = {**_pay_context(invoice, token), "error": error.message}
            return render(request, "checkout/pay.html", context, status=400)
    if not online.is_open:
        # Found paid at the provider meanwhile: its page says so.
        return redirect("checkout:pay_return", token=token, reference=online.reference)
    return redirect(online.checkout_url, permanent=False)


@never_cache
@require_http_methods(["GET", "HEAD"])
def pay_return(request: HttpRequest, token: str, reference: uuid.UUID) -> HttpResponse:
    """Where the provider sends the client back: the payment's status as the webhook left it."""
    invoice = _invoice(token)
    online = OnlinePayment.objects.filter(invoice=invoice, reference=reference).first()
    if online is None:
        raise Http404
    with translation.override(_client_language(request, invoice)):
        return render(
            request,
            "checkout/return.html",
            {
                "invoice": invoice,
                "online": online,
                "token": token,
                "is_paid": online.status == PaymentStatus.PAID,
                "is_processing": online.is_open,
            },
        )


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, provider: str) -> HttpResponse:
    """The provider's notification: verified, the payment fetched back, applied once."""
    try:
        services.receive_webhook(
            provider_name=provider,
            body=request.body,
            headers=request.headers,
            post=request.POST.dict() if request.content_type != "application/json" else {},
        )
    except WebhookRefused as refusal:
        logger.info("Webhook of %s refused: %s", provider, refusal)
        return HttpResponse(status=refusal.status)
    except ProviderError as error:
        # Answered 503 so that the provider delivers the notification again later.
        logger.warning("Webhook of %s: the provider could not be asked: %s", provider, error)
        return HttpResponse(status=503)
    return HttpResponse("OK", content_type="text/plain")


def _simulated() -> SimulatedProvider:
    provider = get_provider("simulated")
    if not isinstance(provider, SimulatedProvider):
        raise Http404
    return provider


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def simulated_checkout(request: HttpRequest, payment_id: str) -> HttpResponse:
    """The simulated provider's payment page: the client clicks paid or failed, nothing is paid."""
    provider = _simulated()
    payment = SimulatedPayment.objects.filter(payment_id=payment_id).first()
    if payment is None:
        raise Http404
    language = _provider_page_language(request, payment.locale)
    if request.method == "POST":
        outcome = request.POST.get("outcome")
        if outcome not in ("paid", "failed"):
            with translation.override(language):
                return render(request, "checkout/simulated.html", {"payment": payment}, status=400)
        provider.settle(payment.payment_id, paid=outcome == "paid")
        # The notification a real provider would send, signed, through the same code.
        body = urlencode({"id": payment.payment_id}).encode()
        # A payment the checkout app no longer knows is refused: nothing to tell it then.
        with contextlib.suppress(WebhookRefused):
            services.receive_webhook(
                provider_name=provider.name,
                body=body,
                headers={SIGNATURE_HEADER: sign(body)},
                post={"id": payment.payment_id},
            )
        return redirect(payment.redirect_url)
    with translation.override(language):
        return render(request, "checkout/simulated.html", {"payment": payment})


def _provider_page_language(request: HttpRequest, locale: str) -> str:
    """The provider's page speaks the language it was asked for (the invoice's, as a real
    provider's page does), unless the client chose one on the site."""
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        return translation.get_language()
    language = (locale or "").split("_")[0]
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
