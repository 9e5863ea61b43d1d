"""Reads scoped to the requesting user: another member's quote is not found."""

from django.db.models import F, QuerySet

from coop.keyset import Keyset
from members.models import User, activity_id_list, of_activities_of
from quotes.models import Quote, QuoteEvent, QuoteVersion

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
