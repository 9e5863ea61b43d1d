"""Keyset pagination, newest first: a page starts where the previous one ended, not at an offset.

An offset makes PostgreSQL read and throw away every row before the page, and a page count asks
for a ``COUNT(*)`` of the whole list on every request; at SMart's size both grow with the data.
A keyset page reads, through an index on ``(owner column, key DESC, id DESC)``, only the rows it
shows plus one (to tell whether there are more). Its position travels in an opaque ``cursor``
query parameter: the key and id of the row it starts after (older) or before (newer).

Lists spread over several Activities are read one Activity at a time (each the first rows of its
own index range) and merged: ``UNION ALL`` of as many small index scans, never a sort of every row
of the member.
"""

import base64
import binascii
import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.db.models import Q, QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination, CursorPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param

from coop.compiled import CompiledQuery


@dataclass(frozen=True)
class Cursor:
    """A position in a list: after (``older``) or before a row's key and id."""

    value: datetime.date | datetime.datetime | int | None
    pk: int
    older: bool = True

    def encode(self) -> str:
        if self.value is None:
            value = ""
        elif isinstance(self.value, int):
            value = str(self.value)
        else:
            value = self.value.isoformat()
        text = f"{'o' if self.older else 'n'}|{value}|{self.pk}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


class InvalidCursor(ValueError):
    """The cursor was not made by this list (edited, truncated or from another list)."""


@dataclass(frozen=True)
class Keyset:
    """A list ordered newest first on ``field`` then ``pk``, both descending.

    ``nullable``: rows without a value (drafts without an issue date) come first, as
    PostgreSQL sorts NULLs first in descending order.
    """

    field: str
    nullable: bool = False

    def decode(self, queryset: QuerySet, token: str) -> Cursor:
        """Read a cursor; raise InvalidCursor when it is not one of this list's."""
        try:
            padded = token + "=" * (-len(token) % 4)
            direction, value, pk = base64.urlsafe_b64decode(padded).decode().split("|")
            if direction not in ("o", "n"):
                raise ValueError(direction)
            model_field = queryset.model._meta.get_field(self.field)
            if not value:
                if not self.nullable:
                    raise ValueError("empty key")
                parsed = None
            elif isinstance(model_field, models.IntegerField):
                parsed = int(value)
                if not 0 <= parsed < 2**63:
                    raise ValueError(value)
            elif isinstance(model_field, models.DateTimeField):
                parsed = datetime.datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    raise ValueError("naive time")
            else:
                parsed = datetime.date.fromisoformat(value)
            number = int(pk)
            if not 0 < number < 2**63:
                raise ValueError(pk)
        except (ValueError, TypeError, UnicodeDecodeError, binascii.Error) as error:
            raise InvalidCursor(token) from error
        return Cursor(parsed, number, older=direction == "o")

    def cursor_of(self, row, *, older: bool) -> Cursor:
        """The cursor of a row: a model instance, or a dictionary read by ``values()``."""
        if isinstance(row, dict):
            return Cursor(row[self.field], row["pk"], older=older)
        return Cursor(getattr(row, self.field), row.pk, older=older)

    def ordering(self, *, older: bool = True) -> list[str]:
        if older:
            return [f"-{self.field}", "-pk"]
        return [self.field, "pk"]

    def beyond(self, cursor: Cursor) -> Q:
        """The rows past the cursor in its direction, with the key's bound as an index condition."""
        field, value, pk = self.field, cursor.value, cursor.pk
        if cursor.older:
            if value is None:
                return Q(**{f"{field}__isnull": True, "pk__lt": pk}) | Q(
                    **{f"{field}__isnull": False}
                )
            return Q(**{f"{field}__lte": value}) & (Q(**{f"{field}__lt": value}) | Q(pk__lt=pk))
        if value is None:
            return Q(**{f"{field}__isnull": True, "pk__gt": pk})
        newer = Q(**{f"{field}__gte": value}) & (Q(**{f"{field}__gt": value}) | Q(pk__gt=pk))
        if self.nullable:
            newer |= Q(**{f"{field}__isnull": True})
        return newer


@dataclass
class KeysetPage:
    """One page of rows and the cursors of the pages around it (None: there is none)."""

    rows: list
    newer: Cursor | None
    older: Cursor | None

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def object_list(self) -> list:
        return self.rows

    @property
    def has_other_pages(self) -> bool:
        return self.newer is not None or self.older is not None

    @property
    def newer_cursor(self) -> str:
        return self.newer.encode() if self.newer else ""

    @property
    def older_cursor(self) -> str:
        return self.older.encode() if self.older else ""


def keyset_queryset(
    queryset: QuerySet,
    keyset: Keyset,
    *,
    size: int,
    cursor: Cursor | None = None,
    split: tuple[str, list[int]] | None = None,
) -> QuerySet:
    """The query of one page plus one row (see ``keyset_page``), in the cursor's direction."""
    ordering = keyset.ordering(older=cursor is None or cursor.older)
    if cursor is not None:
        queryset = queryset.filter(keyset.beyond(cursor))
    if split is not None:
        column, values = split
        if not values:
            queryset = queryset.none()
        elif len(values) == 1:
            queryset = queryset.filter(**{column: values[0]})
        else:
            parts = [
                queryset.filter(**{column: value}).order_by(*ordering).values("pk")[: size + 1]
                for value in values
            ]
            merged = parts[0].union(*parts[1:], all=True)
            queryset = queryset.filter(pk__in=merged)
    return queryset.order_by(*ordering)[: size + 1]


def keyset_page(
    queryset: QuerySet,
    keyset: Keyset,
    *,
    size: int,
    cursor: Cursor | None = None,
    split: tuple[str, list[int]] | None = None,
) -> KeysetPage:
    """Read one page of ``queryset`` after (or before) ``cursor``: ``size`` rows at most.

    ``split``: a column and the values the rows may have there (the user's Activities), to read
    each value's rows through its own index range and merge them.
    """
    rows = list(keyset_queryset(queryset, keyset, size=size, cursor=cursor, split=split))
    return page_of_rows(rows, keyset, size=size, cursor=cursor)


def page_of_rows(
    rows: list, keyset: Keyset, *, size: int, cursor: Cursor | None = None
) -> KeysetPage:
    """The page of the rows read by ``keyset_queryset`` (``size`` plus one at most), or by the
    same query compiled once (coop.compiled)."""
    older = cursor is None or cursor.older
    more = len(rows) > size
    rows = rows[:size]
    if not older:
        rows.reverse()
    if not rows:
        return KeysetPage(rows, newer=None, older=None)
    has_newer = more if not older else cursor is not None
    has_older = more if older else True
    return KeysetPage(
        rows,
        newer=keyset.cursor_of(rows[0], older=False) if has_newer else None,
        older=keyset.cursor_of(rows[-1], older=True) if has_older else None,
    )


# The most values of a split (a member's Activities) a first page is compiled for; a member
# with more is read through the ORM, as are later pages.
FIRST_PAGE_SPLIT = 8


def first_page_query(
    model: type[models.Model],
    columns: Callable[[], QuerySet[dict]],
    keyset: Keyset,
    column: str = "activity_id",
) -> CompiledQuery:
    """The first page of ``columns()`` (a ``values()`` queryset of ``model``) split by
    ``column``, as ``keyset_page`` reads it: compiled once per process, per page size and
    number of values of the split."""

    def build(shape: tuple[int, int], **values: int) -> QuerySet[dict]:
        count, size = shape
        split = (column, [values[f"value_{index}"] for index in range(count)])
        return keyset_queryset(columns(), keyset, size=size, split=split)

    kinds = {f"value_{index}": int for index in range(FIRST_PAGE_SPLIT)}
    return CompiledQuery(model, build, **kinds)


def first_page(
    query: CompiledQuery, keyset: Keyset, split_values: list[int], *, size: int
) -> KeysetPage | None:
    """The first page read by ``query`` (``first_page_query``) for these values of its split;
    None when there are more than it is compiled for (read it with ``keyset_page``)."""
    if len(split_values) > FIRST_PAGE_SPLIT:
        return None
    if not split_values:
        return KeysetPage([], newer=None, older=None)
    values = {f"value_{index}": value for index, value in enumerate(split_values)}
    rows = query.rows((len(split_values), size), **values)
    return page_of_rows(rows, keyset, size=size)


def cursor_from(request, keyset: Keyset, queryset: QuerySet) -> Cursor | None:
    """The page's cursor from the ``cursor`` query parameter; a wrong one starts at the top."""
    token = request.GET.get("cursor", "")
    if not token:
        return None
    try:
        return keyset.decode(queryset, token)
    except InvalidCursor:
        return None


class KeysetPagination(BasePagination):
    """API lists that grow with the data: ``{next, previous, results}``, no count.

    The view names its ``keyset`` and may give ``keyset_split()`` (see ``keyset_page``). A
    ``cursor`` that the API did not hand out is a 404, as with DRF's CursorPagination.
    """

    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request, view=None):
        keyset: Keyset = view.keyset
        token = request.query_params.get(self.cursor_query_param, "")
        cursor = None
        if token:
            try:
                cursor = keyset.decode(queryset, token)
            except InvalidCursor as error:
                raise NotFound(CursorPagination.invalid_cursor_message) from error
        # A view that scopes its rows by the split always has one (see keyset_page).
        split = view.keyset_split() if hasattr(view, "keyset_split") else None
        size = api_settings.PAGE_SIZE
        self.request = request
        self.page = keyset_page(queryset, keyset, size=size, cursor=cursor, split=split)
        return self.page.rows

    def use_page(self, page: KeysetPage, request) -> list:
        """Answer with a page the view read itself (by a compiled query): its rows."""
        self.request = request
        self.page = page
        return page.rows

    def _link(self, cursor: Cursor | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, cursor.encode())

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self._link(self.page.older),
                "previous": self._link(self.page.newer),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {**link, "description": "The older rows; null on the last page."},
                "previous": {**link, "description": "The newer rows; null on the first page."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": str(CursorPagination.cursor_query_description),
                "schema": {"type": "string"},
            }
        ]
