"""Outside renters: people and organisations outside the cooperative who rent its rooms.

They are the cooperative's own clients (no owning member), invoiced in the name of the site's
income Activity; a space manager adds one while booking for it.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from invoicing.models import Client
from invoicing.services.clients import create_client
from members.models import User
from spaces.errors import BookingError
from spaces.selectors import is_space_manager


@transaction.atomic
def add_outside_renter(
    *,
    actor: User,
    kind: str,
    name: str,
    street: str,
    postal_code: str,
    city: str,
    country: str,
    email: str,
    language: str,
    vat_number: str = "",
    peppol_id: str = "",
    gln: str = "",
    payment_terms_days: int = 30,
) -> tuple[Client, bool]:
    """Add a person or an organisation to the cooperative's outside renters, checked as every
    client is (``invoicing.services.clients.create_client``); raise ``InvoicingError`` for
    details an invoice cannot carry.

    Return the renter and whether it is new: a VAT number already among the cooperative's
    clients names that client, which is returned unchanged.
    """
    if not is_space_manager(actor):
        raise BookingError(
            _("Only space managers add outside renters."), code="external_needs_manager"
        )
    return create_client(
        owner=None,
        kind=kind,
        name=name,
        street=street,
        postal_code=postal_code,
        city=city,
        country=country,
        email=email,
        language=language,
        vat_number=vat_number,
        peppol_id=peppol_id,
        gln=gln,
        payment_terms_days=payment_terms_days,
    )
