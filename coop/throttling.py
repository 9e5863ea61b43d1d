"""The API's per-user rate limit, counted in PostgreSQL with one statement per request.

DRF's throttle keeps each client's recent request times as one cache value, read and written
back on every request (two queries, the second a logged write of up to a thousand timestamps).
Here each user has a fixed window (an hour for "1000/hour") counted by a single upsert on an
unlogged table; a throttled request is told how many seconds remain in its window.
"""

import datetime

from django.db import connection
from rest_framework import throttling

from coop.models import RateWindow


def count_hit(key: str, *, now: datetime.datetime, seconds: int) -> tuple[int, datetime.datetime]:
    """Count one request for ``key``; return the hits in its window (this one included) and the
    window's end. A window starts with the first request after the previous one ended."""
    table = connection.ops.quote_name(RateWindow._meta.db_table)
    ends_at = now + datetime.timedelta(seconds=seconds)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS w (key, ends_at, hits) VALUES (%s, %s, 1)"  # noqa: S608
            " ON CONFLICT (key) DO UPDATE SET"
            " hits = CASE WHEN w.ends_at > %s THEN w.hits + 1 ELSE 1 END,"
            " ends_at = CASE WHEN w.ends_at > %s THEN w.ends_at ELSE EXCLUDED.ends_at END"
            " RETURNING hits, ends_at",
            [key, ends_at, now, now],
        )
        hits, window_end = cursor.fetchone()
    return hits, window_end


def purge_rate_windows(*, now: datetime.datetime) -> int:
    """Delete the windows that ended before ``now``; return how many."""
    deleted, _by_model = RateWindow.objects.filter(ends_at__lt=now).delete()
    return deleted


class UserRateThrottle(throttling.UserRateThrottle):
    """DRF's per-user (or per-IP for anonymous requests) rate, over fixed windows."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = datetime.datetime.fromtimestamp(self.timer(), tz=datetime.UTC)
        # A window per length: when the rate changes from per hour to per minute, nobody stays
        # counted in an hour-long window.
        key = f"{self.key}:{self.duration}"
        hits, self.window_end = count_hit(key, now=now, seconds=self.duration)
        self.now = now
        return hits <= self.num_requests

    def wait(self) -> float:
        return max((self.window_end - self.now).total_seconds(), 0.0)
