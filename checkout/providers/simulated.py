"""A stand-in provider that records payments and takes no money, for development and the demo.

Its checkout page (``checkout:simulated``) lets whoever opens it click "paid" or "failed"; the
page then delivers a signed webhook through the same code as a real provider's
(:func:`checkout.services.receive_webhook`), which fetches the payment back from here.
"""

import hashlib
import hmac
import secrets

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from checkout.providers.base import (
    PaymentProvider,
    PaymentRequest,
    ProviderPayment,
    Status,
    UnknownPayment,
    WebhookRefused,
)

SIGNATURE_HEADER = "X-Simulated-Signature"
PAYMENT_ID_PREFIX = "sim_"


def _secret() -> bytes:
    return salted_hmac("checkout.simulated.webhook", "secret", algorithm="sha256").digest()


def sign(body: bytes) -> str:
    """The signature the simulated provider puts on a webhook's body."""
    return hmac.new(_secret(), body, hashlib.sha256).hexdigest()


class SimulatedProvider(PaymentProvider):
    name = "simulated"
    label = "Simulated provider (records, takes no money)"
    is_simulated = True

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        from checkout.models import SimulatedPayment

        payment = SimulatedPayment.objects.create(
            payment_id=PAYMENT_ID_PREFIX + secrets.token_urlsafe(16).replace("-", "x"),
            amount=request.amount,
            currency=request.currency,
            description=request.description[:255],
            redirect_url=request.redirect_url,
            webhook_url=request.webhook_url,
            locale=request.locale,
            methods=list(request.methods),
            metadata=request.metadata,
        )
        return self._parsed(payment)

    def fetch_payment(self, payment_id: str) -> ProviderPayment:
        from checkout.models import SimulatedPayment

        payment = SimulatedPayment.objects.filter(payment_id=payment_id).first()
        if payment is None:
            raise UnknownPayment(payment_id)
        return self._parsed(payment)

    def parse_webhook(self, *, body: bytes, headers: dict[str, str], post: dict) -> str:
        signature = headers.get(SIGNATURE_HEADER, "")
        if not signature or not hmac.compare_digest(sign(body), signature):
            raise WebhookRefused("bad signature", status=401)
        payment_id = post.get("id", "")
        if not payment_id.startswith(PAYMENT_ID_PREFIX):
            raise WebhookRefused("no payment id")
        return payment_id

    @transaction.atomic
    def settle(self, payment_id: str, *, paid: bool) -> None:
        """What the client's click on the fake checkout page does at the "bank"."""
        from checkout.models import SimulatedPayment

        payment = SimulatedPayment.objects.select_for_update().get(payment_id=payment_id)
        if payment.status != Status.OPEN:
            return
        payment.status = Status.PAID if paid else Status.FAILED
        payment.paid_at = timezone.now() if paid else None
        payment.save(update_fields=["status", "paid_at"])

    def _parsed(self, payment) -> ProviderPayment:
        raw = {
            "resource": "payment",
            "id": payment.payment_id,
            "mode": "simulated",
            "status": payment.status,
            "amount": {"value": f"{payment.amount:.2f}", "currency": payment.currency},
            "description": payment.description,
            "paidAt": payment.paid_at.isoformat() if payment.paid_at else None,
            "metadata": payment.metadata,
        }
        return ProviderPayment(
            id=payment.payment_id,
            status=payment.status,
            amount=payment.amount,
            currency=payment.currency,
            checkout_url=reverse("checkout:simulated", kwargs={"payment_id": payment.payment_id}),
            paid_at=payment.paid_at,
            method="simulated",
            metadata=payment.metadata,
            raw=raw,
        )
