"""What the member's quote and order pages read, by queries compiled once per process.

A quote's page built five querysets on every request (the quote with its client, Activity and
version, its lines, versions, history and live links) and compiled each to SQL: several times
what PostgreSQL takes to run them. They are written with the same selectors and compiled once
(coop.compiled); only the user and the quote change between requests.
"""

from django.db.models import Exists, OuterRef
from django.db.models.functions import Now

from contracts.models import Contract
from coop.compiled import CompiledInstances
from members.models import User
from quotes import orders, selectors
from quotes.models import OrderInvoice, Quote, QuoteEvent, QuoteLine, QuoteLink, QuoteVersion

# An id beyond any bigint is no row (and no parameter PostgreSQL accepts).
_LARGEST_ID = 2**63


def _visible(staff: bool, user: int):
    return selectors.quotes_visible_to(User(pk=user, is_staff=staff))


def _quote(staff: bool, user: int, pk: int):
    """The quote with its client, Activity and current version."""
    return (
        _visible(staff, user)
        .filter(pk=pk)
        .select_related("client", "activity", "current_version")
        # The sent content and the signature are the PDF's and the client's page's business.
        .defer("current_version__snapshot", "current_version__signature")
        .order_by()
    )


_QUOTE = CompiledInstances(
    Quote,
    lambda staff, *, user, pk: _quote(staff, user, pk).annotate(
        live_links=Exists(
            QuoteLink.objects.filter(
                version__quote=OuterRef("pk"),
                revoked_at__isnull=True,
                expires_at__gt=Now(),
            )
        )
    ),
    user=int,
    pk=int,
)
_DRAFT = CompiledInstances(
    Quote, lambda staff, *, user, pk: _quote(staff, user, pk), user=int, pk=int
)
_ORDER = CompiledInstances(
    Quote,
    lambda staff, *, user, pk: (
        _quote(staff, user, pk)
        .filter(ordered_version__isnull=False)
        .select_related("ordered_version")
        .defer("ordered_version__snapshot", "ordered_version__signature")
    ),
    user=int,
    pk=int,
)

_LINES = CompiledInstances(
    QuoteLine,
    lambda _shape, *, version: QuoteLine.objects.filter(version_id=version),
    version=int,
)

_VERSIONS = CompiledInstances(
    QuoteVersion,
    lambda _shape, *, quote: selectors.versions_of(Quote(pk=quote)),
    quote=int,
)

# The quote page's history: its newest steps.
EVENTS_SHOWN = 100

_EVENTS = CompiledInstances(
    QuoteEvent,
    lambda _shape, *, quote: selectors.events_of(Quote(pk=quote))[:EVENTS_SHOWN],
    quote=int,
)

_ORDER_INVOICES = CompiledInstances(
    OrderInvoice,
    lambda _shape, *, quote: orders.order_invoices_of(Quote(pk=quote)),
    quote=int,
)

_CONTRACTS = CompiledInstances(
    Contract,
    lambda _shape, *, order: (
        Contract.objects.filter(order_id=order)
        .only("pk", "title", "status", "first_work_day", "last_work_day", "amount_to_invoice")
        .order_by("pk")
    ),
    order=int,
)


def quote_shown_to(user: User, pk: int) -> Quote | None:
    """The quote with its client, Activity and current version (without its sent content),
    annotated ``live_links``: whether a link to one of its versions still answers (the sent
    version's links keep working while a newer version is still a draft)."""
    if pk >= _LARGEST_ID:
        return None
    found = _QUOTE.instances(user.is_staff, user=user.pk, pk=pk)
    return found[0] if found else None


def quote_to_edit(user: User, pk: int) -> Quote | None:
    """The quote with its client, Activity and current version (without its sent content)."""
    if pk >= _LARGEST_ID:
        return None
    found = _DRAFT.instances(user.is_staff, user=user.pk, pk=pk)
    return found[0] if found else None


def order_shown_to(user: User, pk: int) -> Quote | None:
    """The order (a quote with an ordered version) with its client, Activity, current and
    ordered versions (without their sent content)."""
    if pk >= _LARGEST_ID:
        return None
    found = _ORDER.instances(user.is_staff, user=user.pk, pk=pk)
    return found[0] if found else None


def lines_of(version: QuoteVersion | None) -> list[QuoteLine]:
    """The version's lines, in their order."""
    return _LINES.instances(version=version.pk) if version is not None else []


def versions_of(quote: Quote) -> list[QuoteVersion]:
    """``selectors.versions_of``, newest first, with their documents."""
    return _VERSIONS.instances(quote=quote.pk)


def events_of(quote: Quote) -> list[QuoteEvent]:
    """The newest EVENTS_SHOWN rows of ``selectors.events_of``."""
    return _EVENTS.instances(quote=quote.pk)


def contracts_of(order: Quote) -> list[Contract]:
    """The order's contracts, oldest first, with what the order page shows of each."""
    return _CONTRACTS.instances(order=order.pk)


def order_invoices_of(quote: Quote) -> list[OrderInvoice]:
    """``orders.order_invoices_of``: the order's invoices, oldest first, with their invoice's
    number and status."""
    return _ORDER_INVOICES.instances(quote=quote.pk)
