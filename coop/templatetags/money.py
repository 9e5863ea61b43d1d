"""Show amounts the way a reader of the current language expects."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def euro(amount: Decimal | None) -> str:
    """Format an amount with two decimals, grouped digits and the euro sign."""
    if amount is None or amount == "":
        return ""
    return f"{number_format(amount, 2, use_l10n=True, force_grouping=True)}\u00a0€"


@register.filter
def signed_class(amount: Decimal | None) -> str:
    """Return a CSS class for positive and negative amounts."""
    if amount is None:
        return ""
    return "negative" if amount < 0 else "positive"
