"""Why an invoice waits for staff review, stored as codes and read in the reader's language.

The automatic reasons are kept in ``Invoice.review_reason`` as stable codes joined by commas,
e.g. ``amount_above_threshold:5000.00,first_invoice_to_client``, and turned into words only
when shown. Any other text (a reason typed by staff when sending an invoice back, or a reason
written before the codes existed) is shown as stored.
"""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from coop.templatetags.money import euro
from invoicing import vat

AMOUNT_ABOVE_THRESHOLD = "amount_above_threshold"
FIRST_INVOICE_TO_CLIENT = "first_invoice_to_client"
PLACE_OF_SUPPLY = "place_of_supply"
CREDIT_NOTE_REQUESTED = "credit_note_requested"

_CODES = {AMOUNT_ABOVE_THRESHOLD, FIRST_INVOICE_TO_CLIENT, PLACE_OF_SUPPLY, CREDIT_NOTE_REQUESTED}


def amount_above(threshold: Decimal) -> str:
    """The code of an amount above the review threshold, keeping the threshold."""
    return f"{AMOUNT_ABOVE_THRESHOLD}:{threshold:.2f}"


def join_codes(codes: list[str]) -> str:
    return ",".join(codes)


def _describe(part: str) -> str | None:
    code, _sep, value = part.partition(":")
    if code not in _CODES or (code == AMOUNT_ABOVE_THRESHOLD) != bool(value):
        return None
    if code == AMOUNT_ABOVE_THRESHOLD:
        try:
            threshold = Decimal(value)
        except InvalidOperation:
            return None
        if not threshold.is_finite():
            return None
        return _("amount above %(threshold)s") % {"threshold": euro(threshold)}
    if code == FIRST_INVOICE_TO_CLIENT:
        return _("first invoice to this client")
    if code == PLACE_OF_SUPPLY:
        return str(vat.PLACE_OF_SUPPLY_REVIEW)
    return _("credit note requested")


def render_review_reason(stored: str) -> str:
    """Say why a document waits for review in the active language.

    A stored value that is not a list of known codes is shown as it was written.
    """
    if not stored:
        return ""
    described = [_describe(part) for part in stored.split(",")]
    if None in described:
        return stored
    return ", ".join(described)
