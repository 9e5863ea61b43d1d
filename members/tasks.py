"""Background work of the members app."""

from celery import shared_task

from members import services
from members.models import MembershipEvent


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_membership_event_task(event_pk: int) -> None:
    """E-mail the member about a membership event (does nothing if already sent)."""
    event = MembershipEvent.objects.filter(pk=event_pk).first()
    if event is not None:
        services.notify_membership_event(event=event)
