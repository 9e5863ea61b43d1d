"""Background work of the spaces app."""

import datetime

from celery import shared_task
from django.utils import timezone

from coop import recovery
from spaces import notices
from spaces.models import BookingEvent
from spaces.services import leasing, lifecycle


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_booking_notice_task(event_pk: int) -> None:
    """E-mail the booker about a booking step (does nothing if already sent)."""
    event = BookingEvent.objects.filter(pk=event_pk).first()
    if event is not None:
        notices.send_booking_notice(event=event)


@shared_task
def charge_leases_task() -> int:
    """Charge this month's rent of every running lease; months already charged are skipped."""
    return leasing.charge_due_leases(today=timezone.localdate())


@shared_task
def release_no_shows_task() -> int:
    """Release the bookings nobody checked in for within their room's grace period."""
    return lifecycle.release_no_shows(now=timezone.now())


def recover_lost_work(*, now: datetime.datetime, idle_queues: set[str]) -> int:
    """Enqueue again the booking notices whose message was lost (see ``coop.recovery``)."""
    if "default" not in idle_queues:
        return 0
    lost = recovery.lost_notices(BookingEvent.objects.all(), now=now)
    return recovery.requeue(lost, send_booking_notice_task, now=now)
