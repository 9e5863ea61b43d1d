"""The unguessable address of an invoice's pay page: /pay/<invoice pk>.<signature>/.

The token is signed, not stored: an HMAC-SHA256 (Django's ``salted_hmac``, keyed with
SECRET_KEY and a salt of its own) over the invoice's key and number. A signed value rather than
a random token kept hashed, because the same link must come back every time it is shown: in the
invoice e-mail, its reminders, the client portal and the pay page itself, and a hashed token
can be shown only once. Nothing secret sits in the database, so a copy of it gives no links;
another invoice's key with this signature, or any changed character, is a 404. Rotating
SECRET_KEY (old ones in SECRET_KEY_FALLBACKS keep working meanwhile) revokes every link.
"""

import base64

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from invoicing.models import Invoice

SALT = "checkout.pay_link"


def _signature(pk: int, number: str, secret: str) -> str:
    digest = salted_hmac(SALT, f"{pk}:{number}", secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def pay_token(invoice: Invoice) -> str:
    """Return the pay page's token for an issued invoice."""
    return f"{invoice.pk}.{_signature(invoice.pk, invoice.number, settings.SECRET_KEY)}"


def pay_path(invoice: Invoice) -> str:
    return reverse("checkout:pay", kwargs={"token": pay_token(invoice)})


def pay_url(invoice: Invoice) -> str:
    """The pay page's absolute address, as the client gets it by e-mail."""
    return settings.SITE_URL + pay_path(invoice)


def invoice_for_token(token: str) -> Invoice | None:
    """Return the issued invoice the token was made for, or None for any other token."""
    key, _dot, signature = token.partition(".")
    if not key.isdigit() or not signature or len(key) > 18:
        return None
    invoice = Invoice.objects.filter(
        pk=int(key), kind=Invoice.Kind.INVOICE, number__isnull=False
    ).first()
    if invoice is None:
        return None
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        if constant_time_compare(_signature(invoice.pk, invoice.number, secret), signature):
            return invoice
    return None
