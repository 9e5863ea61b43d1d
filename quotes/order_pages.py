"""What the member's order list and an order's contract form read, by queries compiled once per
process (coop.compiled).

The order list's first page, the Activity it may be narrowed to, the order a contract is drawn
up from and the member's days already on a contract were querysets built and compiled to SQL on
every request: several times what PostgreSQL takes to run them. They are written with the same
selectors and compiled once; only the user, the Activities, the order and the days change
between requests. Later pages of the list are read by ``keyset_page`` as before.
"""

import datetime

from django.urls import reverse

from contracts.models import Contract, WorkDay
from coop.compiled import AnyOf, Array, CompiledInstances
from coop.keyset import KeysetPage, first_page, first_page_query
from members.models import Activity, User
from quotes import selectors
from quotes.models import Quote

# An id beyond any bigint is no row (and no parameter PostgreSQL accepts).
_LARGEST_ID = 2**63

_FIRST_PAGE = first_page_query(Quote, selectors.order_list_rows, selectors.QUOTE_KEYSET)

_ACTIVITY = CompiledInstances(
    Activity,
    lambda _shape, *, pk: Activity.objects.filter(pk=pk).only("pk", "name").order_by("pk")[:1],
    pk=int,
)

_ORDER = CompiledInstances(
    Quote,
    lambda staff, *, user, pk: (
        selectors.orders_shown_to(User(pk=user, is_staff=staff)).filter(pk=pk).order_by()
    ),
    user=int,
    pk=int,
)


def visible_activity(user: User, raw: str | None) -> Activity | None:
    """``selectors.visible_activity``: the Activity of ``?activity=`` if the user sees it."""
    pk = selectors.visible_activity_id(user, raw)
    if pk is None:
        return None
    found = _ACTIVITY.instances(pk=pk)
    return found[0] if found else None


def first_order_page(split: tuple[str, list[int]] | None, *, size: int) -> KeysetPage | None:
    """The order list's first page for this split of ``selectors.order_list_of``, None when it
    is to be read by ``keyset_page`` (staff, or more Activities than the query is compiled
    for)."""
    if split is None:
        return None
    return first_page(_FIRST_PAGE, selectors.QUOTE_KEYSET, split[1], size=size)


_TAKEN = CompiledInstances(
    WorkDay,
    lambda _shape, *, user, days: (
        WorkDay.objects.filter(AnyOf("date", days), member__user_id=user, is_active=True)
        .select_related("worker__contract")
        .only("date", "worker__contract__title")
    ),
    user=int,
    # The days, bound as one array of dates.
    days=Array,
)


# A stand-in id for an order's address, reversed once and replaced by each order's id.
_STAND_IN = 918_273_645


def order_url_around() -> tuple[str, str]:
    """The address of an order's page before and after its id (``{% url %}``'s answer)."""
    before, _stand_in, after = reverse("orders:order_detail", args=[_STAND_IN]).rpartition(
        str(_STAND_IN)
    )
    return before, after


def order_shown_to(user: User, pk: int) -> Quote | None:
    """The user's order (a quote with an ordered version) with its client, Activity, current
    and ordered versions (without their sent content nor signature)."""
    if not 0 <= pk < _LARGEST_ID:
        return None
    found = _ORDER.instances(user.is_staff, user=user.pk, pk=pk)
    return found[0] if found else None


def taken_days(user: User, days: list[datetime.date]) -> dict[datetime.date, Contract]:
    """The user's days among ``days`` already on a contract: {date: contract (its title)}."""
    taken = _TAKEN.instances(user=user.pk, days=days)
    return {day.date: day.worker.contract for day in taken}
