"""Background work of the members app."""

import datetime

from celery import shared_task
from django.utils import timezone

from coop import recovery
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


def recover_lost_work(*, now: datetime.datetime, idle_queues: set[str]) -> int:
    """Enqueue again the membership notices whose message was lost (see ``coop.recovery``)."""
    if "default" not in idle_queues:
        return 0
    events = MembershipEvent.objects.filter(kind__in=services.NOTIFIED_EVENTS)
    return recovery.requeue(
        recovery.lost_notices(events, now=now), notify_membership_event_task, now=now
    )
