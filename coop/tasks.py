"""Periodic housekeeping that belongs to no single app."""

from celery import shared_task
from django.core import management
from django.core.cache import caches
from django.utils import timezone


@shared_task
def clear_expired_sessions_task() -> None:
    """Delete expired browser sessions from the database."""
    management.call_command("clearsessions")


@shared_task
def purge_expired_cache_task() -> int:
    """Delete expired rows of the PostgreSQL cache (rate limits, throttles); return how many."""
    return caches["default"].purge_expired(now=timezone.now())
