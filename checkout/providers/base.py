"""What the checkout app asks of an online payment provider.

A provider creates a payment for an amount, tells a payment's current status, and checks and
reads the notifications (webhooks) it sends. Everything that leaves the machine goes through
one of these methods, so tests replace the provider's HTTP exchanges and nothing else.
"""

import abc
import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar


class ProviderError(Exception):
    """The provider could not be reached or refused the request; nothing was paid."""


class WebhookRefused(Exception):
    """A notification that is not the provider's (forged, unsigned, malformed): answer 4xx."""

    def __init__(self, reason: str, *, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


class UnknownPayment(ProviderError):
    """The provider knows no payment with that id."""


class Status:
    """Payment statuses, Mollie's names (the simulated provider uses the same)."""

    OPEN = "open"
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    CANCELED = "canceled"
    EXPIRED = "expired"
    FAILED = "failed"


# Still waiting for the client or the bank: a new click reuses such a payment.
OPEN_STATUSES = (Status.OPEN, Status.PENDING, Status.AUTHORIZED)
# Nothing more will happen to it: the client may start another.
FINAL_STATUSES = (Status.PAID, Status.CANCELED, Status.EXPIRED, Status.FAILED)
LOCALES = ("fr_BE", "nl_BE", "en_US")


@dataclass(frozen=True)
class PaymentRequest:
    """What is asked of the provider for one payment of an invoice.

    ``amount`` is the Decimal amount due in euro, never a float; ``reference`` is ours, unique,
    sent as the idempotency key so that a retried request creates no second payment.
    """

    amount: Decimal
    description: str
    redirect_url: str
    webhook_url: str
    reference: str
    locale: str = "en_US"
    methods: tuple[str, ...] = ()
    metadata: dict = field(default_factory=dict)
    currency: str = "EUR"


@dataclass(frozen=True)
class ProviderPayment:
    """A payment as the provider tells it, with its answer kept as it came (``raw``)."""

    id: str
    status: str
    amount: Decimal
    currency: str
    checkout_url: str = ""
    paid_at: datetime.datetime | None = None
    method: str = ""
    metadata: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)

    @property
    def is_paid(self) -> bool:
        return self.status == Status.PAID


class PaymentProvider(abc.ABC):
    """An online payment provider: create a payment, fetch its status, read its webhooks."""

    name: ClassVar[str]
    label: ClassVar[str]
    # Shown to the client beside the button: the simulated provider says it takes no money.
    is_simulated: ClassVar[bool] = False

    @abc.abstractmethod
    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        """Create the payment; its ``checkout_url`` is where the client pays."""

    @abc.abstractmethod
    def fetch_payment(self, payment_id: str) -> ProviderPayment:
        """Return the payment as the provider knows it now; UnknownPayment if it knows none."""

    @abc.abstractmethod
    def parse_webhook(self, *, body: bytes, headers: dict[str, str], post: dict) -> str:
        """Check a notification and return the id of the payment it is about.

        Raise WebhookRefused for anything that is not a well-formed, authentic notification.
        What it says of the payment is never trusted: the caller fetches the payment.
        """
