"""Reads scoped to the requesting user: another member's quote is not found."""

from django.db.models import DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from coop.keyset import Keyset
from members.models import Activity, User, activity_id_list, of_activities_of
from quotes.models import OrderInvoice, Quote, QuoteEvent, QuoteVersion

QUOTE_KEYSET = Keyset("created_at")
# The quote list: drafts first (no number yet), then the newest number first.
QUOTE_NUMBER_KEYSET = Keyset("number_order", nullable=True)


def quotes_visible_to(user: User) -> QuerySet[Quote]:
    """Quotes of the user's Activities (staff: all)."""
    if user.is_staff:
        return Quote.objects.all()
    if not user.is_authenticated:
        return Quote.objects.none()
    return Quote.objects.filter(of_activities_of(user))


def orders_shown_to(user: User) -> QuerySet[Quote]:
    """The user's orders (quotes with an ordered version) as an order's pages show them: with
    their client, Activity, current and ordered versions, without the versions' sent content
    nor signature."""
    return (
        quotes_visible_to(user)
        .filter(ordered_version__isnull=False)
        .select_related("client", "activity", "current_version", "ordered_version")
        .defer(
            "current_version__snapshot",
            "current_version__signature",
            "ordered_version__snapshot",
            "ordered_version__signature",
        )
    )


def visible_activity(user: User, raw: str | None) -> Activity | None:
    """The Activity a list is narrowed to (its id as typed in ``?activity=``), if the user
    sees it; None otherwise."""
    pk = visible_activity_id(user, raw)
    if pk is None:
        return None
    return Activity.objects.filter(pk=pk).only("pk", "name").first()


def visible_activity_id(user: User, raw: str | None) -> int | None:
    """The id typed in ``?activity=`` if it is one of the user's Activities (staff: any id)."""
    raw = (raw or "").strip()
    if not raw.isdigit() or int(raw) >= 2**63:
        return None
    pk = int(raw)
    if not user.is_staff and pk not in activity_id_list(user):
        return None
    return pk


def has_quotes(user: User) -> bool:
    return quotes_visible_to(user).exists()


def quote_list_rows() -> QuerySet[dict]:
    """What a row of the member's quote list shows: one query, no per-row reads."""
    return Quote.objects.values(
        "pk",
        "status",
        "series",
        "sequence_number",
        "created_at",
        "number_order",
        client_name=F("client__name"),
        activity_name=F("activity__name"),
        title=F("current_version__title"),
        version=F("current_version__version"),
        valid_until=F("current_version__valid_until"),
        total_incl_vat=F("current_version__total_incl_vat"),
    )


def quote_list_of(
    user: User, rows: QuerySet | None = None, *, activity_ids: list[int] | None = None
) -> tuple[QuerySet, tuple[str, list[int]] | None]:
    """The quotes a list shows the user and the ``split`` that scopes them (coop.keyset):
    a member's list is read Activity by Activity through (Activity, number order, id)."""
    rows = (quote_list_rows() if rows is None else rows).all()
    if user.is_staff:
        return rows, None
    if activity_ids is None:
        activity_ids = activity_id_list(user)
    return rows, ("activity_id", activity_ids)


def _order_invoice_sum(*, issued: bool) -> Coalesce:
    """The sum, per order, of its invoices issued (net of credit notes) or not yet issued: a
    subquery on order_invoice_quote_idx, a handful of rows per order shown."""
    net = F("amount_excl_vat") - F("credited_excl_vat") if issued else F("amount_excl_vat")
    rows = (
        OrderInvoice.objects.filter(quote=OuterRef("pk"), invoice__number__isnull=not issued)
        .order_by()
        .values("quote")
        .annotate(total=Sum(net))
        .values("total")
    )
    money = DecimalField(max_digits=12, decimal_places=2)
    return Coalesce(Subquery(rows, output_field=money), Value(0), output_field=money)


def order_list_of(
    user: User, *, activity_ids: list[int] | None = None
) -> tuple[QuerySet, tuple[str, list[int]] | None]:
    """The orders a list shows the user (one query for the page, figures included) and the
    ``split`` that scopes them: a member's list is read Activity by Activity through
    order_activity_newest_idx; ``activity_ids`` narrows it (already checked as the user's)."""
    return order_list_rows(), order_list_split(user, activity_ids=activity_ids)


def order_list_split(
    user: User, *, activity_ids: list[int] | None = None
) -> tuple[str, list[int]] | None:
    """The ``split`` of ``order_list_of``: the user's Activities (or ``activity_ids``), none
    for staff."""
    if activity_ids is not None:
        return ("activity_id", activity_ids)
    if user.is_staff:
        return None
    return ("activity_id", activity_id_list(user))


def order_list_rows() -> QuerySet[dict]:
    """What a row of the order list shows, its figures included: one query for the page."""
    return Quote.objects.filter(ordered_version__isnull=False).values(
        "pk",
        "status",
        "series",
        "sequence_number",
        "created_at",
        "guaranteed_excl_vat",
        client_name=F("client__name"),
        activity_name=F("activity__name"),
        title=F("ordered_version__title"),
        ordered_version_number=F("ordered_version__version"),
        current_version_number=F("current_version__version"),
        ordered=F("ordered_version__total_excl_vat"),
        invoiced=_order_invoice_sum(issued=True),
        in_draft=_order_invoice_sum(issued=False),
    )


def versions_of(quote: Quote) -> QuerySet[QuoteVersion]:
    return (
        QuoteVersion.objects.filter(quote=quote)
        .defer("snapshot", "signature")
        .select_related("document")
        .order_by("-version")
    )


def events_of(quote: Quote) -> QuerySet[QuoteEvent]:
    return (
        QuoteEvent.objects.filter(quote=quote)
        .select_related("actor", "version")
        .only(
            "kind",
            "at",
            "ip",
            "user_agent",
            "details",
            "actor__email",
            "version__version",
            "quote_id",
        )
        .order_by("-at", "-pk")
    )
