"""Rows read by a list of keys (the ids of a page), by SQL written once per process.

Django builds and compiles a queryset each time it runs it. For the rows a page of a list needs
beside its own (the lines, amounts, documents… of 50 invoices), that costs more than running
the queries: an ``IN`` of 50 ids alone is 50 values prepared one by one, and amounts summed by
subqueries are a tree of expressions to resolve and compile. A ``PreparedRows`` compiles its
queryset once per database, with ``column = ANY(%s)`` standing for the keys, then sends that
SQL with each page's keys as one array and returns what ``values()`` would have returned.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connections, router
from django.db.models import BooleanField, Expression, F, QuerySet

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


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    key_positions: tuple[int, ...]
    names: tuple[str, ...]
    converters: dict


class PreparedRows:
    """The rows of a ``values()`` queryset for a list of keys, as dictionaries.

    ``build(key_in)`` returns the queryset, filtered by ``key_in(column)`` (the column is one of
    the keys), once or more. It is called once per database, with stand-in keys: it must not
    depend on anything else that changes (the user, the time, the language).
    """

    def __init__(self, build: Callable[[Callable[[str], KeyIn]], QuerySet]):
        self._build = build
        self._model = None
        self._compiled: dict[str, _Compiled] = {}

    def __call__(self, keys: list[int]) -> list[dict]:
        """The rows of these keys (none without a key: nothing is asked of the database)."""
        if not keys:
            return []
        if self._model is None:
            self._model = self._queryset().model
        db = router.db_for_read(self._model)
        compiled = self._compiled.get(db)
        if compiled is None:
            compiled = self._compiled[db] = self._compile(db)
        params = list(compiled.params)
        for position in compiled.key_positions:
            params[position] = keys
        connection = connections[db]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        names, converters = compiled.names, compiled.converters
        if converters:
            rows = [list(row) for row in rows]
            for row in rows:
                for position, (functions, expression) in converters.items():
                    value = row[position]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[position] = value
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _queryset(self) -> QuerySet:
        return self._build(lambda column: KeyIn(column, _STAND_IN))

    def _compile(self, db: str) -> _Compiled:
        query = self._queryset().query
        if query.selected:
            names = tuple(query.selected)
        else:
            names = (*query.extra_select, *query.values_select, *query.annotation_select)
        compiler = query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        positions = tuple(index for index, param in enumerate(params) if param == _STAND_IN)
        if not positions or len(names) != compiler.col_count:
            raise ValueError("A PreparedRows reads a values() queryset filtered by key_in().")
        return _Compiled(
            sql=sql,
            params=tuple(params),
            key_positions=positions,
            names=names,
            converters=compiler.get_converters(
                [column[0] for column in compiler.select[: compiler.col_count]]
            ),
        )
