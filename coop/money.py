"""Money helpers: every amount is a Decimal rounded half-up to the cent."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def round_money(amount: Decimal) -> Decimal:
    """Round an amount half-up to the cent."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"Money must be a Decimal, not {type(amount).__name__}.")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def has_at_most_cents(amount: Decimal) -> bool:
    """Tell whether an amount has no more than two decimal places."""
    return amount == amount.quantize(CENT)
