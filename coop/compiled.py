"""Querysets compiled to SQL once per process, then run with each request's values.

Building a queryset with subqueries, joins and annotations and compiling it costs from a few
hundred microseconds to a millisecond or more of Python on every request, many times what
PostgreSQL takes to run it. A compiled query builds its queryset once per process, database and
shape (such as staff or member), with stand-in values for what changes between requests; later
runs send the same SQL text with the request's values in their places. The query is still
written with the ORM, its filters and selectors: only their compiled text is kept.
``CompiledQuery`` returns what ``values()`` returns, ``CompiledInstances`` the model instances
the queryset builds.
"""

import itertools
from collections.abc import Callable, Hashable
from typing import Any, Generic, NamedTuple, TypeVar

from django.db import connections, router
from django.db.models import BooleanField, Expression, F, Model, QuerySet
from django.db.models.query import ModelIterable, ValuesIterable, get_related_populators

M = TypeVar("M", bound=Model)

# Marks of the stand-ins, digits no primary key or amount takes: one for each named value. As
# negative integers they stay within a 32-bit column's range (Django finds no row outside it).
_MARKS = itertools.count(1_918_273_001)


class Array(list):
    """Declare a value as a list of integers, bound as one array parameter (``= ANY(%s)``)."""


def _stand_in(kind: type, mark: int) -> Any:
    if kind is Array:
        return Array([-mark])
    return f"stand-in {mark}" if kind is str else -mark


class _Compiled(NamedTuple):
    sql: str
    # Per parameter: the name of the value it takes, or None for the query's own constant.
    slots: list[tuple[str | None, Any]]
    converters: dict
    # How the rows are read: the columns' names, or what ``ModelIterable`` builds them with.
    reading: Any


class _Precompiled:
    """The machinery of both kinds: compile per database and shape, run, convert columns."""

    def __init__(self, model: type[Model], build: Callable[..., QuerySet], **kinds: type) -> None:
        self.model = model
        self.build = build
        self.kinds = kinds
        self.compiled: dict[tuple[str, Hashable], _Compiled] = {}

    def _run(self, shape: Hashable, values: dict) -> tuple[_Compiled, str, list]:
        db = router.db_for_read(self.model)
        compiled = self.compiled.get((db, shape))
        if compiled is None:
            compiled = self.compiled[db, shape] = self._compile(db, shape)
        given = {
            name: list(value) if self.kinds[name] is Array else self.kinds[name](value)
            for name, value in values.items()
        }
        params = [constant if name is None else given[name] for name, constant in compiled.slots]
        connection = connections[db]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            # Django's own conversion of the columns that need one (a decrypted field, a sum).
            rows = [list(row) for row in rows]
            for row in rows:
                for index, (functions, expression) in compiled.converters.items():
                    for convert in functions:
                        row[index] = convert(row[index], expression, connection)
        return compiled, db, rows

    def _compile(self, db: str, shape: Hashable) -> _Compiled:
        marks = {name: next(_MARKS) for name in self.kinds}
        stand_ins = {name: _stand_in(kind, marks[name]) for name, kind in self.kinds.items()}
        queryset = self.build(shape, **stand_ins)
        compiler = queryset.query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        reading = self._reading(queryset, compiler, db)
        if compiler.has_extra_select:
            raise ValueError("A distinct compiled query must select what it is ordered by.")
        by_value = {repr(value): name for name, value in stand_ins.items()}
        slots = [(by_value.get(repr(param)), param) for param in params]
        # A value the query does not use (a staff member's id, say) is fine; one written into
        # the text, or into another parameter (a pattern), would be run with the stand-in.
        constants = repr([constant for name, constant in slots if name is None])
        folded = [
            name for name, mark in marks.items() if str(mark) in sql or str(mark) in constants
        ]
        if folded:
            raise ValueError(f"Values not sent as parameters: {', '.join(sorted(folded))}.")
        converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
        return _Compiled(sql, slots, converters, reading)

    def _reading(self, queryset: QuerySet, compiler, db: str) -> Any:
        raise NotImplementedError


class CompiledQuery(_Precompiled):
    """A ``values()`` queryset compiled once per process, database and shape, run with new
    values.

    ``build(shape, **values)`` returns the queryset; each named value is an ``int``, a ``str``
    or an ``Array`` of integers, as declared in ``kinds``, and must reach the SQL as a parameter
    of its own or not at all (one folded into the text is refused). Reads go to ``model``'s
    database for reading. Columns that Django converts (a decrypted field, a sum) go through the
    same converters as in the ORM.
    """

    def rows(self, shape: Hashable = None, **values) -> list[dict]:
        """Run the query of this shape with these values: its rows as dicts."""
        compiled, _db, rows = self._run(shape, values)
        return [dict(zip(compiled.reading, row, strict=True)) for row in rows]

    def _reading(self, queryset: QuerySet, compiler, db: str) -> list[str]:
        query = queryset.query
        if query.selected:
            names = list(query.selected)
        else:
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
        if not issubclass(queryset._iterable_class, ValuesIterable) or len(names) != len(
            compiler.select
        ):
            raise ValueError("A CompiledQuery must be a values() queryset.")
        return names


class _Instances(NamedTuple):
    model: type[Model]
    init_list: list[str]
    model_fields: slice
    related_populators: list
    annotation_col_map: dict[str, int]


class CompiledInstances(_Precompiled, Generic[M]):
    """A queryset of model instances compiled and run as ``CompiledQuery`` is: the instances
    Django's ``ModelIterable`` builds (the object, its ``select_related`` objects, annotations;
    no ``prefetch_related``)."""

    def instances(self, shape: Hashable = None, **values) -> list[M]:
        """Run the query of this shape with these values: its model instances."""
        compiled, db, rows = self._run(shape, values)
        model, init_list, model_fields, populators, annotations = compiled.reading
        instances = []
        for row in rows:
            instance = model.from_db(db, init_list, row[model_fields])
            for populator in populators:
                populator.populate(row, instance)
            for name, position in annotations.items():
                setattr(instance, name, row[position])
            instances.append(instance)
        return instances

    def _reading(self, queryset: QuerySet, compiler, db: str) -> _Instances:
        if (
            queryset._iterable_class is not ModelIterable
            or queryset._prefetch_related_lookups  # type: ignore[attr-defined]
            or queryset._known_related_objects  # type: ignore[attr-defined]
        ):
            raise ValueError("A CompiledInstances returns plain model instances only.")
        select, klass_info = compiler.select, compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        return _Instances(
            model=klass_info["model"],
            init_list=[column[0].target.attname for column in select[start:end]],
            model_fields=slice(start, end),
            related_populators=get_related_populators(klass_info, select, db),  # type: ignore[call-arg]
            annotation_col_map=dict(compiler.annotation_col_map or {}),
        )


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
