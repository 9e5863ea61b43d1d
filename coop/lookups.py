"""A substring search that the columns' trigram indexes answer.

Django's ``icontains`` compares ``UPPER(column)``, which no index of the column serves: among
100,000 members a rare part of a name reads the whole table or index. ``ILIKE`` is what a
``gin_trgm_ops`` index answers. Registered on text columns as ``__contains_any_case`` (for
the admin's ``search_fields``) and usable as an expression.
"""

from django.db.models import CharField, TextField
from django.db.models.lookups import IContains, Lookup


class ContainsAnyCase(IContains):
    """``column ILIKE '%text%'``, the text's ``%``, ``_`` and ``\\`` escaped as ``icontains``."""

    lookup_name = "contains_any_case"

    def as_sql(self, compiler, connection):
        column_sql, column_params = Lookup.process_lhs(self, compiler, connection)
        pattern_sql, pattern_params = self.process_rhs(compiler, connection)
        return f"{column_sql} ILIKE {pattern_sql}", [*column_params, *pattern_params]


def register() -> None:
    CharField.register_lookup(ContainsAnyCase)
    TextField.register_lookup(ContainsAnyCase)
