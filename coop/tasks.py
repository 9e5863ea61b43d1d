"""Periodic housekeeping that belongs to no single app."""

from celery import shared_task
from django.core import management


@shared_task
def clear_expired_sessions_task() -> None:
    """Delete expired browser sessions from the database."""
    management.call_command("clearsessions")
