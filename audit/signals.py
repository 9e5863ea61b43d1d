"""Receivers that copy framework events (sign-ins) into the trail."""

from audit.models import AuditAction
from audit.services import record_event


def record_sign_in(sender, request, user, **kwargs) -> None:
    """Record a successful sign-in, with its IP address and browser."""
    record_event(action=AuditAction.SIGNED_IN, obj=user, actor=user)
