"""The cache lives in PostgreSQL, so a flush of the broker's Redis resets nothing.

It holds the sign-in and password-reset rate limits and lock-outs (django-allauth), used
authenticator codes (replay protection) and the API throttle counters: state that must survive
a broker flush or restart. Django's database backend counts the whole table on every write to
decide whether to cull it; here each write is one upsert on the primary key, and expired rows are
deleted by the ``purge_expired_cache_task`` beat task instead.
"""

import base64
import datetime
import pickle

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router
from django.utils import timezone

NEVER = datetime.datetime.max.replace(microsecond=0, tzinfo=datetime.UTC)


class DatabaseCache(DjangoDatabaseCache):
    """Django's database cache with single-statement writes and no culling on write."""

    def _base_set(self, mode, key, value, timeout=DEFAULT_TIMEOUT):
        timeout = self.get_backend_timeout(timeout)
        if timeout is None:
            expires = NEVER
        else:
            expires = datetime.datetime.fromtimestamp(timeout, tz=datetime.UTC)
        connection = connections[router.db_for_write(self.cache_model_class)]
        table = connection.ops.quote_name(self._table)
        with connection.cursor() as cursor:
            if mode == "touch":
                cursor.execute(
                    f"UPDATE {table} SET expires = %s WHERE cache_key = %s",  # noqa: S608
                    [expires, key],
                )
                return cursor.rowcount == 1
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            if mode == "set":
                cursor.execute(
                    f"INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s)"  # noqa: S608
                    " ON CONFLICT (cache_key) DO UPDATE"
                    " SET value = EXCLUDED.value, expires = EXCLUDED.expires",
                    [key, encoded, expires],
                )
                return True
            # add: only when the key is absent or expired, atomically.
            cursor.execute(
                f"INSERT INTO {table} AS entry (cache_key, value, expires)"  # noqa: S608
                " VALUES (%s, %s, %s) ON CONFLICT (cache_key) DO UPDATE"
                " SET value = EXCLUDED.value, expires = EXCLUDED.expires"
                " WHERE entry.expires < %s RETURNING 1",
                [key, encoded, expires, timezone.now()],
            )
            return cursor.fetchone() is not None

    def purge_expired(self, *, now: datetime.datetime) -> int:
        """Delete the entries expired before ``now``; return how many."""
        connection = connections[router.db_for_write(self.cache_model_class)]
        table = connection.ops.quote_name(self._table)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE expires < %s", [now])  # noqa: S608
            return cursor.rowcount
