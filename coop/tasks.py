"""Periodic housekeeping that belongs to no single app."""

from celery import shared_task
from django.conf import settings
from django.core import management
from django.core.cache import caches
from django.utils import timezone
from django.utils.module_loading import import_string

from coop import recovery
from coop.throttling import purge_rate_windows


@shared_task
def clear_expired_sessions_task() -> None:
    """Delete expired browser sessions from the database."""
    management.call_command("clearsessions")


@shared_task
def purge_expired_cache_task() -> int:
    """Delete expired rows of the PostgreSQL cache (rate limits, lock-outs) and the API's ended
    rate windows; return how many."""
    now = timezone.now()
    return caches["default"].purge_expired(now=now) + purge_rate_windows(now=now)


@shared_task
def recover_lost_work_task() -> int:
    """Enqueue again the background work whose broker message was lost; return how many.

    Every 30 seconds from Celery beat and once when a worker starts. Each app's function named in
    ``COOP_RECOVERY_SWEEPS`` is called with the queues that had no message waiting when the
    sweep began (asked before any of them enqueues anything).
    """
    now = timezone.now()
    idle = recovery.idle_queues(settings.COOP_RECOVERY_QUEUES)
    return sum(
        import_string(path)(now=now, idle_queues=idle) for path in settings.COOP_RECOVERY_SWEEPS
    )


@shared_task
def purge_idempotency_keys_task() -> int:
    """Forget the answers to creating requests older than 24 hours."""
    from django.utils import timezone

    from coop.idempotency import purge_expired_keys

    return purge_expired_keys(now=timezone.now())
