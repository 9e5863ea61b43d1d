"""Show amounts the way a reader of the current language expects.

``euro`` is the one way an amount is written for people, in templates and in Python (messages,
the admin, e-mails, PDFs); machine formats (CSV, XML, JSON, SVG) write plain numbers instead.
"""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def euro(amount: Decimal | str | None) -> str:
    """Format an amount with two decimals, grouped digits and the euro sign.

    Text is read as a decimal number: documents' snapshots store their amounts as text.
    """
    if amount is None or amount == "":
        return ""
    if isinstance(amount, str):
        amount = Decimal(amount)
    return f"{number_format(amount, 2, use_l10n=True, force_grouping=True)}\u00a0€"


@register.filter
def percent(value: Decimal | str | None) -> str:
    """Format a percentage with two decimals, as the current language writes it ("50,00 %")."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = Decimal(value)
    return f"{number_format(value, 2, use_l10n=True)}\u00a0%"


@register.filter
def signed_class(amount: Decimal | None) -> str:
    """Return a CSS class for positive and negative amounts."""
    if amount is None:
        return ""
    return "negative" if amount < 0 else "positive"
