"""Periodic housekeeping that belongs to no single app."""

from celery import shared_task
from django.core import management


@shared_task
def clear_expired_sessions_task() -> None:
    """Delete expired browser sessions from the database."""
    management.call_command("clearsessions")


@shared_task
def purge_idempotency_keys_task() -> int:
    """Forget the answers to creating requests older than 24 hours."""
    from django.utils import timezone

    from coop.idempotency import purge_expired_keys

    return purge_expired_keys(now=timezone.now())
