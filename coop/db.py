"""Which database a heavy read-only report reads from.

With ``DATABASE_REPLICA_URL`` set, settings add a second alias, ``replica`` (a streaming
replica of default), and ``coop.db_router.ReportingRouter``. Reads go there only inside
``reads_from_replica`` (a decorator or context manager around a report: the guarantee fund,
occupancy, data exports), and even there only outside a transaction on default, so a flow that
wrote never reads its own writes from a replica that may lag. Writes always go to default.
Without a replica every read stays on default and nothing changes.
"""

import contextvars
from contextlib import ContextDecorator

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_DB_ALIAS = "replica"

_reporting: contextvars.ContextVar[bool] = contextvars.ContextVar("coop_reporting", default=False)


def replica_configured() -> bool:
    """Return whether a read replica is configured."""
    return REPLICA_DB_ALIAS in connections.settings


def reporting_alias() -> str:
    """Return the alias heavy read-only reports read from: the replica if any, else default."""
    return REPLICA_DB_ALIAS if replica_configured() else DEFAULT_DB_ALIAS


def read_alias() -> str:
    """Return where an ORM read goes now (the router's answer)."""
    if not _reporting.get() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return reporting_alias()


class reads_from_replica(ContextDecorator):
    """Let the ORM reads inside read from the replica (when one is configured)."""

    def _recreate_cm(self):
        # A fresh instance per call: one decorated view runs in many threads at once.
        return type(self)()

    def __enter__(self):
        self._token = _reporting.set(True)
        return self

    def __exit__(self, *exc):
        _reporting.reset(self._token)
        return False
