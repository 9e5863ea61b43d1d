"""The one rule that ties a quote's deposit to its payment schedule.

With a payment schedule, the deposit is the schedule's first part, due at the order: the deposit
is left empty or gives that part's percentage, and the order's "deposit" invoice is that part.
Without a schedule, the deposit is invoiced once the order is confirmed and the rest as the
balance. Either way the deposit is never invoiced beside the schedule's first part.
"""

from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quotes.errors import QuotingError

AT_ORDER = "order"

RULE_HELP = gettext_lazy(
    "The part invoiced when the order is confirmed, if any. With a payment schedule, the deposit "
    "is the schedule's first part, due at the order: leave it empty or give the same percentage."
)


def percent_text(percent: Decimal) -> str:
    """A percentage as people read it: "30", "12,5" (without its trailing zeros)."""
    return number_format(percent.normalize() if percent == percent.to_integral() else percent)


def check_deposit_and_schedule(deposit_percent: Decimal | None, schedule: list[dict]) -> None:
    """Refuse a deposit that the schedule contradicts (see the module's rule)."""
    if not schedule or deposit_percent in (None, ""):
        return
    first = schedule[0]
    if first.get("due") != AT_ORDER:
        raise QuotingError(
            _(
                "With a payment schedule, the deposit is its first part, due at the order: make "
                "the first part due at the order, or leave the deposit empty."
            ),
            code="deposit_schedule",
            field="deposit_percent",
        )
    percent = Decimal(str(first.get("percent")))
    if percent != Decimal(str(deposit_percent)):
        raise QuotingError(
            _(
                "The deposit (%(deposit)s %%) is not the schedule's first part due at the order "
                "(%(percent)s %%): give the same percentage, or leave the deposit empty."
            )
            % {
                "deposit": percent_text(Decimal(str(deposit_percent))),
                "percent": percent_text(percent),
            },
            code="deposit_schedule",
            field="deposit_percent",
        )


def deposit_of(deposit_percent: Decimal | None, schedule: list[dict]) -> tuple[Decimal, int | None]:
    """The deposit's percentage and the schedule step it is (None: no schedule).

    A schedule supersedes the deposit field: its first part due at the order is the deposit
    (0 % when it starts with a later part: then there is no deposit)."""
    if schedule:
        first = schedule[0]
        if first.get("due") == AT_ORDER:
            return Decimal(str(first.get("percent"))), 0
        return Decimal(0), None
    return (deposit_percent or Decimal(0)), None
