"""Querysets compiled to SQL once per process, then run with each request's values.

Building a queryset with subqueries and compiling it costs a millisecond or more of Python on
every request, many times what PostgreSQL takes to run it. A ``CompiledQuery`` builds its
queryset once per process (and per shape, such as staff or member), with stand-in values for
what changes between requests; later runs send the same SQL text with the request's values in
their places. The query is still written with the ORM, its filters and selectors: only their
compiled text is kept.
"""

import itertools
from collections.abc import Callable, Hashable

from django.db import connections, router
from django.db.models import BooleanField, Expression, F, Model, QuerySet
from django.db.models.query import ValuesIterable

# Stand-ins: integers no primary key or amount takes, each used for one named value.
_STAND_INS = itertools.count(-7_318_000_000_001, -1)


class Array(list):
    """Declare a value as a list of integers, bound as one array parameter (``= ANY(%s)``)."""


class CompiledQuery:
    """A ``values()`` queryset compiled once per process and shape, run with new values.

    ``build(shape, **values)`` returns the queryset; each named value is an integer, or an
    ``Array`` of integers, and must reach the SQL as a parameter of its own or not at all (one
    folded into the text is refused). Columns that Django converts (a decrypted field, a sum)
    go through the same converters as in the ORM.
    """

    def __init__(self, model: type[Model], build: Callable[..., QuerySet], **kinds: type) -> None:
        self.model = model
        self.build = build
        self.kinds = kinds
        self.compiled: dict[Hashable, tuple[str, list, list[str], dict]] = {}

    def _compile(self, shape: Hashable) -> tuple[str, list, list[str], dict]:
        stand_ins = {
            name: Array([next(_STAND_INS)]) if kind is Array else next(_STAND_INS)
            for name, kind in self.kinds.items()
        }
        queryset = self.build(shape, **stand_ins)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        query = queryset.query
        if query.selected:
            names = list(query.selected)
        else:
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
        if not issubclass(queryset._iterable_class, ValuesIterable) or len(names) != len(
            compiler.select
        ):
            raise ValueError("A compiled query must be a values() queryset.")
        converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
        by_value = {repr(value): name for name, value in stand_ins.items()}
        slots = []
        for param in params:
            name = by_value.get(repr(param))
            slots.append((name, None) if name is not None else (None, param))
        # A value the query does not use (a staff member's id, say) is fine; one written into
        # the text, or into another parameter (a pattern), would be run with the stand-in.
        constants = repr([constant for name, constant in slots if name is None])
        folded = [
            name
            for name, value in stand_ins.items()
            if (digits := str(abs(value[0] if isinstance(value, Array) else value))) in sql
            or digits in constants
        ]
        if folded:
            raise ValueError(f"Values not sent as parameters: {', '.join(sorted(folded))}.")
        return sql, slots, names, converters

    def rows(self, shape: Hashable = None, **values) -> list[dict]:
        """Run the query of this shape with these values: its rows as dicts."""
        compiled = self.compiled.get(shape)
        if compiled is None:
            compiled = self.compiled[shape] = self._compile(shape)
        sql, slots, names, converters = compiled
        given = {
            name: list(value) if self.kinds[name] is Array else int(value)
            for name, value in values.items()
        }
        params = [constant if name is None else given[name] for name, constant in slots]
        connection = connections[router.db_for_read(self.model)]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            # Django's own conversion of the columns that need one (a decrypted field, a sum).
            rows = [list(row) for row in rows]
            for row in rows:
                for index, (functions, expression) in converters.items():
                    for convert in functions:
                        row[index] = convert(row[index], expression, connection)
        return [dict(zip(names, row, strict=True)) for row in rows]


class AnyOf(Expression):
    """``column = ANY(%s)``: a filter on a list of values bound as one array parameter, so that
    the compiled text is the same however many values there are."""

    output_field = BooleanField()

    def __init__(self, column: str, values: list[int]) -> None:
        super().__init__()
        self.column = F(column)
        self.values = values

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, expressions):
        (self.column,) = expressions

    def as_sql(self, compiler, connection):
        column_sql, column_params = compiler.compile(self.column)
        return f"{column_sql} = ANY(%s)", (*column_params, self.values)
