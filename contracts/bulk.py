"""Insert many new rows at once with PostgreSQL ``COPY``.

A payroll run writes tens of thousands of payslips. ``bulk_create`` sends them as one huge
statement whose parameters psycopg quotes and splits in Python; ``COPY`` streams the rows
through libpq and is several times faster. Primary keys are drawn from the table's sequence
first, so the objects know them afterwards exactly as with ``bulk_create``.
"""

from collections.abc import Iterable, Sequence

from django.db import connection, models
from django.db.models.expressions import RawSQL
from psycopg.types.json import Jsonb


def copy_insert(model: type[models.Model], objects: Sequence[models.Model]) -> None:
    """Insert unsaved objects of ``model`` (no signals, no ``save()``) and set their pks."""
    if not objects:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    fields = list(meta.concrete_fields)
    # psycopg writes Decimals, dates, strings and None itself; only JSON and files need help.
    converters = []
    for field in fields:
        if isinstance(field, models.JSONField):
            converters.append((field.attname, Jsonb))
        elif isinstance(field, models.FileField):
            converters.append((field.attname, field.get_prep_value))
        else:
            converters.append((field.attname, None))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objects)],
        )
        for instance, (pk,) in zip(objects, cursor.fetchall(), strict=True):
            instance.pk = pk
        columns = ", ".join(quote(field.column) for field in fields)
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for instance in objects:
                values = instance.__dict__
                copy.write_row(
                    [
                        convert(values[attname]) if convert else values[attname]
                        for attname, convert in converters
                    ]
                )
    for instance in objects:
        instance._state.adding = False
        instance._state.db = connection.alias


def any_of(keys: Iterable[int]) -> RawSQL:
    """The keys as a subquery of one array parameter, for ``filter(pk__in=any_of(keys))``.

    ``pk__in=[...]`` with tens of thousands of keys writes one placeholder per key, which
    psycopg then quotes and splices into the SQL text one by one; an array is sent whole.
    """
    return RawSQL("SELECT unnest(%s::bigint[])", [list(keys)])
