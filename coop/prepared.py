"""Queries built once per process and run for a list of keys: the rows around a page.

Django builds and compiles a queryset each time it runs it. For the rows a page of a list needs
beside its own (the lines, amounts, documents… of 50 invoices), that cost more than running
the queries: an ``IN`` of 50 ids alone is 50 values prepared one by one, and amounts summed by
subqueries are a tree of expressions to resolve and compile. A ``PreparedRows`` compiles its
queryset once, with ``column = ANY(%s)`` standing for the keys, and then sends only that SQL
with each page's keys as one array.
"""

from collections.abc import Callable, Iterable

from django.db import connections, router
from django.db.models import BooleanField, Expression, F, Model, QuerySet
from django.utils.functional import cached_property

# The keys the query is compiled with, replaced by each call's own; no key is negative.
_STAND_IN = [-918273645]


class KeyIn(Expression):
    """``column = ANY(%s)``: the keys travel as one array, however many there are."""

    output_field = BooleanField()

    def __init__(self, column: str, keys: Iterable[int]):
        super().__init__()
        self.column = F(column)
        self.keys = list(keys)

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, expressions):
        (self.column,) = expressions

    def as_sql(self, compiler, connection):
        column_sql, column_params = compiler.compile(self.column)
        return f"{column_sql} = ANY(%s)", (*column_params, self.keys)


class PreparedRows:
    """The rows of a ``values()`` queryset for a list of keys, as dictionaries.

    ``build(key_in)`` returns the queryset, filtered by ``key_in(column)`` (``column`` is one of
    the keys). It is called once, with stand-in keys: it must not depend on anything else that
    changes (the user, the time, the language). Its fields must need no conversion from what
    the database driver returns (no JSON field, no custom ``from_db_value``).
    """

    def __init__(self, build: Callable[[Callable[[str], KeyIn]], QuerySet]):
        self.build = build

    @cached_property
    def _statement(self) -> tuple[type[Model], str, list, list[int], list[str]]:
        query = self.build(lambda column: KeyIn(column, _STAND_IN)).query
        sql, params = query.sql_with_params()
        positions = [index for index, param in enumerate(params) if param == _STAND_IN]
        if query.selected:
            names = list(query.selected)
        else:
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
        return query.model, sql, list(params), positions, names

    def __call__(self, keys: list[int]) -> list[dict]:
        """The rows of these keys (none without a key: nothing is asked of the database)."""
        if not keys:
            return []
        model, sql, params, positions, names = self._statement
        params = params.copy()
        for position in positions:
            params[position] = keys
        with connections[router.db_for_read(model)].cursor() as cursor:
            cursor.execute(sql, params)
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
