"""Background work of the members app."""

from celery import shared_task
from django.utils import timezone

from members import services
from members.models import MembershipEvent


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_membership_event_task(event_pk: int) -> None:
    """E-mail the member about a membership event (does nothing if already sent)."""
    event = MembershipEvent.objects.filter(pk=event_pk).first()
    if event is not None:
        services.notify_membership_event(event=event)


@shared_task
def purge_api_tokens_task() -> int:
    """Delete API tokens expired or revoked more than 90 days ago; return how many."""
    return services.purge_api_tokens(now=timezone.now())
