"""Queries every request runs, written to SQL once per process instead of once per request.

Loading the signed-in user (or an API token with its user) through the ORM costs more Python
than running the query: cloning the queryset, resolving its joins, annotations and deferred
fields, and writing the SQL take a few hundred microseconds a request. A ``PreparedQuery`` does
that once, with a sample value standing for its one parameter, then runs the same SQL with the
request's value and builds the same model instances the queryset would have built (Django's
``ModelIterable``: the main object, its ``select_related`` objects and the annotations).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    value_index: int
    model: type[Model]
    init_list: list[str]
    model_fields: slice
    related_populators: list
    annotation_col_map: dict[str, int]
    converters: dict


class PreparedQuery(Generic[M]):
    """``queryset_for(value)``'s rows as model instances, its SQL written once per database.

    ``queryset_for`` must build the same query for every value, the value appearing once among
    the query's parameters (a filter on a column); ``sample`` is a value of the right type that
    appears nowhere else in them. Only plain querysets of model instances are supported
    (``select_related``, ``defer``/``only`` and annotations, no ``prefetch_related``).
    """

    def __init__(self, queryset_for: Callable[[Any], QuerySet[M]], *, sample: Any):
        self._queryset_for = queryset_for
        self._sample = sample
        self._model: type[M] | None = None
        self._compiled: dict[str, _Compiled] = {}

    def __call__(self, value: Any) -> list[M]:
        """Return the query's model instances for ``value``."""
        if self._model is None:
            self._model = self._queryset_for(self._sample).model
        db = router.db_for_read(self._model)
        compiled = self._compiled.get(db)
        if compiled is None:
            compiled = self._compiled[db] = self._compile(db)
        params = list(compiled.params)
        params[compiled.value_index] = value
        connection = connections[db]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        return [self._instance(compiled, db, connection, row) for row in rows]

    def _compile(self, db: str) -> _Compiled:
        queryset = self._queryset_for(self._sample)
        prefetches = queryset._prefetch_related_lookups  # type: ignore[attr-defined]
        if prefetches or queryset._iterable_class is not ModelIterable:
            raise ValueError("A PreparedQuery returns plain model instances only.")
        compiler = queryset.query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        positions = [index for index, param in enumerate(params) if param == self._sample]
        if len(positions) != 1:
            raise ValueError("The sample value must appear exactly once among the parameters.")
        select, klass_info = compiler.select, compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        return _Compiled(
            sql=sql,
            params=tuple(params),
            value_index=positions[0],
            model=klass_info["model"],
            init_list=[column[0].target.attname for column in select[start:end]],
            model_fields=slice(start, end),
            related_populators=get_related_populators(klass_info, select, db),  # type: ignore[call-arg]
            annotation_col_map=dict(compiler.annotation_col_map or {}),
            converters=compiler.get_converters(
                [column[0] for column in select[: compiler.col_count]]
            ),
        )

    @staticmethod
    def _instance(compiled: _Compiled, db: str, connection, row: Sequence[Any]) -> Any:
        if compiled.converters:
            converted = list(row)
            for position, (converters, expression) in compiled.converters.items():
                value = converted[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                converted[position] = value
            row = converted
        instance = compiled.model.from_db(db, compiled.init_list, row[compiled.model_fields])
        for populator in compiled.related_populators:
            populator.populate(row, instance)
        for name, position in compiled.annotation_col_map.items():
            setattr(instance, name, row[position])
        return instance
