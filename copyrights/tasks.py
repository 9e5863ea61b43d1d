"""Background work of copyright payments: their statements' PDFs."""

import datetime

from celery import shared_task

from coop import recovery
from copyrights import services
from copyrights.models import CopyrightStatement


@shared_task(autoretry_for=(Exception,), retry_backoff=30, retry_backoff_max=1800, max_retries=8)
def render_copyright_statement_task(statement_pk: int) -> None:
    """Render a copyright statement's PDF in the member's language (queue "pdf")."""
    statement = CopyrightStatement.objects.filter(pk=statement_pk).first()
    if statement is not None:
        services.render_statement(statement=statement)


def recover_lost_work(*, now: datetime.datetime, idle_queues: set[str]) -> int:
    """Enqueue again the statement renders whose message was lost (see ``coop.recovery``)."""
    if "pdf" not in idle_queues:
        return 0
    lost = services.lost_statements(now=now)
    return recovery.requeue(lost, render_copyright_statement_task, now=now)
