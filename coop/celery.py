"""The Celery application; tasks are discovered in every installed app's ``tasks.py``."""

import logging
import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")

app = Celery("coop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


@worker_ready.connect
def recover_lost_work_at_start(sender, **kwargs) -> None:
    """Sweep for lost work as soon as a worker is up, rather than at beat's next tick.

    A worker that starts after a crash, a broker flush or a restart of the whole machine then
    picks up within seconds what the broker forgot.
    """
    try:
        sender.app.send_task("coop.tasks.recover_lost_work_task")
    except Exception:  # the periodic sweep tries again 30 seconds later
        logger.warning("could not enqueue the recovery sweep at worker start", exc_info=True)
