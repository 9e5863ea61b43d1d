"""Mollie (https://docs.mollie.com), through its official client ``mollie-api-python``.

Payments API v2: ``POST /v2/payments`` creates a payment whose ``_links.checkout`` is where the
client pays; ``GET /v2/payments/{id}`` tells its status (open, pending, authorized, paid,
canceled, expired, failed). Amounts travel as strings with two decimals.

Webhooks: Mollie's classic webhook POSTs only ``id=tr_…`` (form-encoded) and is not signed:
fetching the payment from the API with our key is what makes it authentic, a forger can make
us fetch but never make us believe. Mollie's next-gen webhooks POST a JSON event (its
``entityId`` names the payment) signed with ``X-Mollie-Signature: sha256=<hex HMAC-SHA256 of
the raw body>``; when a signing secret is configured every webhook must carry a valid signature,
and the payment is still fetched from the API before anything is written.
"""

import datetime
import hashlib
import hmac
import json
import re
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_datetime
from mollie.api.client import Client
from mollie.api.error import Error as MollieError
from mollie.api.error import NotFoundError

from checkout.providers.base import (
    PaymentProvider,
    PaymentRequest,
    ProviderError,
    ProviderPayment,
    UnknownPayment,
    WebhookRefused,
)

SIGNATURE_HEADER = "X-Mollie-Signature"
SIGNATURE_PREFIX = "sha256="
PAYMENT_ID = re.compile(r"^tr_[A-Za-z0-9]{1,60}$")
# Mollie answers within a second or two; a client waiting on the pay page gets an answer soon.
TIMEOUT = (3, 15)


def amount_text(amount: Decimal) -> str:
    """Mollie's amount: a string with exactly two decimals ("123.45", "10.00")."""
    return f"{amount.quantize(Decimal('0.01')):f}"


class MollieProvider(PaymentProvider):
    name = "mollie"
    label = "Mollie"

    def __init__(
        self,
        *,
        api_key: str,
        webhook_secrets: tuple[str, ...] = (),
        api_endpoint: str = "",
    ) -> None:
        if not api_key:
            raise ValueError("Mollie needs an API key (MOLLIE_API_KEY).")
        self.api_key = api_key
        # Several secrets while one is being replaced: any of them may sign.
        self.webhook_secrets = tuple(secret for secret in webhook_secrets if secret)
        self.api_endpoint = api_endpoint

    def _client(self) -> Client:
        client = Client(api_endpoint=self.api_endpoint, timeout=TIMEOUT, retry=1)
        client.set_api_key(self.api_key)
        client.set_user_agent_component("coop", "1")
        return client

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        data = {
            "amount": {"currency": request.currency, "value": amount_text(request.amount)},
            "description": request.description,
            "redirectUrl": request.redirect_url,
            "webhookUrl": request.webhook_url,
            "locale": request.locale,
            "metadata": request.metadata,
        }
        if request.methods:
            data["method"] = list(request.methods)
        try:
            payment = self._client().payments.create(data, idempotency_key=request.reference)
        except MollieError as error:
            raise ProviderError(str(error)) from error
        return self._parsed(payment)

    def fetch_payment(self, payment_id: str) -> ProviderPayment:
        if not PAYMENT_ID.match(payment_id):
            raise UnknownPayment(payment_id)
        try:
            payment = self._client().payments.get(payment_id)
        except NotFoundError as error:
            raise UnknownPayment(payment_id) from error
        except MollieError as error:
            raise ProviderError(str(error)) from error
        return self._parsed(payment)

    def parse_webhook(self, *, body: bytes, headers: dict[str, str], post: dict) -> str:
        signature = headers.get(SIGNATURE_HEADER, "")
        if self.webhook_secrets:
            if not signature:
                raise WebhookRefused("unsigned", status=401)
            if not self._signed(body, signature):
                raise WebhookRefused("bad signature", status=401)
        payment_id = post.get("id", "")
        if not payment_id and body[:1] == b"{":
            try:
                event = json.loads(body)
            except ValueError as error:
                raise WebhookRefused("malformed") from error
            payment_id = event.get("entityId", "") if isinstance(event, dict) else ""
        if not isinstance(payment_id, str) or not PAYMENT_ID.match(payment_id):
            raise WebhookRefused("no payment id")
        return payment_id

    def _signed(self, body: bytes, signature: str) -> bool:
        provided = signature.removeprefix(SIGNATURE_PREFIX).strip()
        return any(
            hmac.compare_digest(
                hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(), provided
            )
            for secret in self.webhook_secrets
        )

    def _parsed(self, payment) -> ProviderPayment:
        raw = dict(payment)
        amount = raw.get("amount") or {}
        try:
            value = Decimal(str(amount.get("value", "")))
        except InvalidOperation as error:
            raise ProviderError(f"Mollie sent an amount that is no number: {amount}") from error
        return ProviderPayment(
            id=raw.get("id", ""),
            status=raw.get("status", ""),
            amount=value,
            currency=amount.get("currency", ""),
            checkout_url=payment.checkout_url or "",
            paid_at=_moment(raw.get("paidAt")),
            method=raw.get("method") or "",
            metadata=raw.get("metadata") or {},
            raw=raw,
        )


def _moment(value) -> datetime.datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None
