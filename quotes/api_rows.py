"""The quote API list's answers written from plain rows: QuoteSerializer's output, faster.

Through DRF each quote of a page is a model instance with its version and lines, and each
serializer builds its fields anew on every request (three of them, nested) before asking each
field for its source and its format. Here the page's quotes are read as dictionaries with
their current version's columns, their lines by one query compiled once per process
(coop.compiled), and each value is written by the very field QuoteSerializer declares for it,
into the same JSON (tests/quotes/test_api_rows.py compares both). QuoteSerializer still
describes the answers in the API schema and remains the reference.
"""

import functools
from collections import defaultdict

from django.db.models import F, QuerySet
from rest_framework import serializers

from coop.compiled import AnyOf, Array, CompiledQuery
from members.models import User
from quotes import selectors
from quotes.models import Quote, QuoteEvent, QuoteLine, QuoteVersion, format_number

# The quote's own columns; the version's are read beside them as ``version__<name>``.
_QUOTE_COLUMNS = (
    "pk",
    "series",
    "sequence_number",
    "status",
    "activity_id",
    "client_id",
    "language",
    "created_at",
    "updated_at",
    "sent_at",
    "accepted_at",
    "current_version_id",
    "number_order",  # the list's keyset (selectors.QUOTE_NUMBER_KEYSET)
)


@functools.cache
def _writers() -> dict[str, list[tuple[str, str, serializers.Field]]]:
    """Per serializer of the answer: each field's name, the row's key it reads and the field
    that writes it, in the serializer's order (a nested serializer is written apart, in its
    place)."""
    from quotes.api import (
        QuoteDetailSerializer,
        QuoteEventSerializer,
        QuoteLineOutSerializer,
        QuoteSerializer,
        QuoteVersionSerializer,
    )

    def fields(serializer: serializers.Serializer, prefix: str = "") -> list:
        return [(name, prefix + field.source, field) for name, field in serializer.fields.items()]

    version = QuoteVersionSerializer()
    return {
        "quote": fields(QuoteSerializer()),
        "detail": fields(QuoteDetailSerializer()),
        "event": fields(QuoteEventSerializer()),
        "version": fields(version, "version__"),
        "line": fields(QuoteLineOutSerializer()),
        "schedule": fields(version.fields["schedule"].child),
    }


@functools.cache
def _version_columns() -> dict[str, F]:
    from quotes.api import QuoteVersionSerializer

    return {
        f"version__{name}": F(f"current_version__{name}")
        for name in QuoteVersionSerializer.Meta.fields
        if name != "lines"
    }


@functools.cache
def _line_columns() -> list[str]:
    from quotes.api import QuoteLineOutSerializer

    return ["version_id", *(field.source for field in QuoteLineOutSerializer().fields.values())]


def quote_columns(quotes: QuerySet[Quote] | None = None) -> QuerySet[dict]:
    """What ``represent`` writes of each quote: a ``values()`` queryset of ``quotes`` (every
    quote by default, for a caller to scope only by selectors)."""
    quotes = Quote.objects.all() if quotes is None else quotes
    return quotes.order_by().values(*_QUOTE_COLUMNS, **_version_columns())


_LINES = CompiledQuery(
    QuoteLine,
    lambda _shape, *, versions: (
        QuoteLine.objects.filter(AnyOf("version_id", versions))
        .order_by("version_id", "position")
        .values(*_line_columns())
    ),
    versions=Array,
)


# What the answer about one quote adds: its versions' numbers and its history.
_QUOTE = CompiledQuery(
    Quote,
    lambda staff, *, user, pk: quote_columns(
        selectors.quotes_visible_to(User(pk=user, is_staff=staff)).filter(pk=pk)
    ),
    user=int,
    pk=int,
)
_VERSION_NUMBERS = CompiledQuery(
    QuoteVersion,
    lambda _shape, *, quote: QuoteVersion.objects.filter(quote_id=quote).values("version"),
    quote=int,
)
_EVENTS = CompiledQuery(
    QuoteEvent,
    lambda _shape, *, quote: (
        QuoteEvent.objects.filter(quote_id=quote)
        .order_by("at", "pk")
        .values(*(name for name, _key, _field in _writers()["event"]))
    ),
    quote=int,
)


def _write(writers: list, row: dict, nested: dict | None = None) -> dict:
    """Each field's value as DRF writes it: None stays None, a related row is its key; a
    nested serializer's answer is taken from ``nested``."""
    answer = {}
    for name, key, field in writers:
        if isinstance(field, serializers.BaseSerializer):
            answer[name] = nested[name]  # type: ignore[index]
            continue
        if key == "number":
            sequence = row["sequence_number"]
            value = "" if sequence is None else format_number(row["series"], sequence)
        else:
            value = row[key if key in row else f"{key}_id"]
        if value is None:
            answer[name] = None
        elif isinstance(field, serializers.RelatedField):
            answer[name] = value
        else:
            answer[name] = field.to_representation(value)
    return answer


def quote_detail(user: User, pk: int) -> dict | None:
    """QuoteDetailSerializer's representation of the quote, None when the user does not see
    it."""
    if not 0 < pk < 2**63:
        return None
    rows = _QUOTE.rows(user.is_staff, user=user.pk, pk=pk)
    if not rows:
        return None
    (answer,) = represent(rows)
    writers = _writers()
    nested = {
        **answer,
        "versions": [row["version"] for row in _VERSION_NUMBERS.rows(quote=pk)],
        "events": [_write(writers["event"], row) for row in _EVENTS.rows(quote=pk)],
    }
    return {name: nested[name] for name, _key, _field in writers["detail"]}


def represent(quotes: list[dict]) -> list[dict]:
    """QuoteSerializer's representation of each quote read by ``quote_columns``."""
    if not quotes:
        return []
    writers = _writers()
    versions = [quote["current_version_id"] for quote in quotes if quote["current_version_id"]]
    lines_of: dict[int, list[dict]] = defaultdict(list)
    if versions:
        for line in _LINES.rows(versions=versions):
            lines_of[line["version_id"]].append(line)
    answers = []
    for quote in quotes:
        version_pk = quote["current_version_id"]
        version = None
        if version_pk is not None:
            nested = {
                "schedule": [
                    _write(writers["schedule"], item) for item in quote["version__schedule"] or []
                ],
                "lines": [_write(writers["line"], line) for line in lines_of[version_pk]],
            }
            version = _write(writers["version"], quote, nested)
        answers.append(_write(writers["quote"], quote, {"current_version": version}))
    return answers
