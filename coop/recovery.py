"""Recovering background work whose broker message was lost.

The database is the source of truth for pending work (a document row in state ``pending``, a
sending not yet sent); the broker only carries the signal. A message can be lost: a broker
flushed or restarted without its data, a worker killed before it acknowledged, an enqueue that
failed after the transaction committed. Each app's sweep task finds such rows and enqueues them
again; the tasks are idempotent, so a message that was not lost after all does nothing twice.

The sweeps run every 30 seconds (``CELERY_BEAT_SCHEDULE``) and when a worker starts
(``coop.celery``). A row counts as lost when it has waited longer than ``LOST_AFTER`` since it
was last enqueued *and* its queue holds no waiting message: while a backlog is being worked
through, nothing is enqueued twice.
"""

import datetime
import logging

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from coop.documents import DocumentStatus

logger = logging.getLogger(__name__)

# Longer than any render or sending takes (a PDF takes seconds), short enough that a lost
# message is enqueued again within two minutes: LOST_AFTER plus one sweep interval.
LOST_AFTER = datetime.timedelta(minutes=1)
SWEEP_INTERVAL_SECONDS = 30
# Notices (e-mails about a step of a membership, contract or booking) are looked for over the
# last day only; one that could not leave is tried again every ten minutes meanwhile.
NOTICE_WINDOW = datetime.timedelta(days=1)
NOTICE_RETRY_AFTER = datetime.timedelta(minutes=10)
# Rows stamped per UPDATE (a statement takes at most 65,535 parameters).
STAMP_BATCH = 5000


def declare_queue(queue_name: str) -> int | None:
    """Declare a Celery queue on the broker and return how many messages wait in it.

    Declaring also restores the queue's routing after the broker lost its data (a Redis
    FLUSHALL removes the bindings that publishing needs). Return None when the broker cannot
    be asked: the caller then treats the queue as empty.
    """
    from coop.celery import app

    try:
        with app.connection_for_write() as connection:
            queue = app.amqp.queues[queue_name].bind(connection.default_channel)
            queue.declare()
            return queue.queue_declare().message_count
    except Exception:  # any broker failure means "cannot tell"
        logger.warning("could not count the messages of queue %s", queue_name, exc_info=True)
        return None


def idle_queues(queue_names) -> set[str]:
    """Return the queues in which no message waits (or the broker cannot say)."""
    return {name for name in queue_names if not declare_queue(name)}


def waiting_too_long(queryset: QuerySet, *, now: datetime.datetime) -> QuerySet:
    """Keep the rows last enqueued (or created, if never enqueued again) before LOST_AFTER."""
    return queryset.alias(last_queued=Coalesce(F("queued_at"), F("created_at"))).filter(
        last_queued__lt=now - LOST_AFTER
    )


def lost_documents(
    queryset: QuerySet,
    *,
    now: datetime.datetime,
    retry_after: datetime.timedelta,
    max_attempts: int,
) -> QuerySet:
    """Keep the documents to render again (``coop.documents.DocumentBase`` rows): pending while
    their message was lost, or failed ``retry_after`` ago with attempts left."""
    return (
        queryset.exclude(status=DocumentStatus.READY)
        .alias(last_queued=Coalesce(F("queued_at"), F("created_at")))
        .filter(
            Q(status=DocumentStatus.PENDING, last_queued__lt=now - LOST_AFTER)
            | Q(
                status=DocumentStatus.FAILED,
                attempts__lt=max_attempts,
                last_queued__lt=now - retry_after,
            )
        )
    )


def lost_notices(queryset: QuerySet, *, now: datetime.datetime) -> QuerySet:
    """Keep the events of the last day whose member or booker was not notified yet.

    An event waits LOST_AFTER before its first new message, then NOTICE_RETRY_AFTER between
    the next ones (a notice without an address never leaves, and must not be sent every minute).
    """
    return queryset.filter(notified_at__isnull=True, created_at__gte=now - NOTICE_WINDOW).filter(
        Q(queued_at__isnull=True, created_at__lt=now - LOST_AFTER)
        | Q(queued_at__lt=now - NOTICE_RETRY_AFTER)
    )


def requeue(queryset: QuerySet, task, *, now: datetime.datetime | None = None) -> int:
    """Stamp the rows as enqueued now and send ``task.delay(pk)`` for each; return how many.

    The stamp is written first: if the broker fails halfway, the next sweep tries again after
    LOST_AFTER rather than at once.
    """
    now = now or timezone.now()
    pks = list(queryset.order_by("pk").values_list("pk", flat=True))
    if not pks:
        return 0
    for start in range(0, len(pks), STAMP_BATCH):
        queryset.model.objects.filter(pk__in=pks[start : start + STAMP_BATCH]).update(queued_at=now)
    for pk in pks:
        task.delay(pk)
    logger.info("re-enqueued %d %s rows", len(pks), queryset.model._meta.label)
    return len(pks)
