"""The database router used when a read replica is configured (see ``coop.db``).

It is explicit and safe: reads go to the replica only inside ``coop.db.reads_from_replica`` and
outside any transaction on default; every write, and every read elsewhere, goes to default
(``None`` is never answered, so a row read from the replica is still saved to default);
migrations run on default only.
"""

from django.db import DEFAULT_DB_ALIAS

from coop.db import REPLICA_DB_ALIAS, read_alias

ALIASES = {DEFAULT_DB_ALIAS, REPLICA_DB_ALIAS}


class ReportingRouter:
    def db_for_read(self, model, **hints) -> str:
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        if obj1._state.db in ALIASES and obj2._state.db in ALIASES:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS
