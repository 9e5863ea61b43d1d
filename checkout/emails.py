"""What the checkout app adds to invoicing's invoice e-mail: the pay link."""

from django.utils.translation import gettext as _

from checkout.services import payment_options_for
from invoicing.links import InvoiceLink
from invoicing.models import Invoice


def pay_link_for_email(invoice: Invoice) -> InvoiceLink | None:
    """Offer "Pay now" for an open invoice; say it can be paid online when it can."""
    options = payment_options_for(invoice)
    if options is None:
        return None
    note = (
        _("Pay online by Bancontact, card or SEPA Direct Debit, or by bank transfer.")
        if options["online_available"]
        else ""
    )
    return InvoiceLink(label=_("Pay now"), url=options["pay_url"], note=note)
