"""Lost background work: the broker's side of the recovery sweep and Celery's settings."""

import types
import uuid

import redis
from django.conf import settings

from coop import recovery
from coop.celery import app, recover_lost_work_at_start
from tests.broker import waiting_messages


def test_declaring_a_queue_counts_its_messages_and_restores_its_routing_after_a_flush():
    name = f"test-recovery-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        assert recovery.declare_queue(name) == 0
        assert recovery.idle_queues([name]) == {name}
        app.send_task("coop.tasks.clear_expired_sessions_task", queue=name)
        assert recovery.declare_queue(name) == 1
        assert recovery.idle_queues([name]) == set()
        # What a FLUSHALL leaves: neither the messages nor the queue's binding.
        client.delete(name, f"_kombu.binding.{name}")
        assert recovery.declare_queue(name) == 0
        assert client.exists(f"_kombu.binding.{name}") == 1
        app.send_task("coop.tasks.clear_expired_sessions_task", queue=name)
        assert client.llen(name) == 1
    finally:
        client.delete(name, f"_kombu.binding.{name}")
        client.close()


def test_a_starting_worker_enqueues_the_recovery_sweep():
    sweep = ("coop.tasks.recover_lost_work_task", "()")
    before = waiting_messages("default")[sweep]
    recover_lost_work_at_start(sender=types.SimpleNamespace(app=app))
    assert waiting_messages("default")[sweep] == before + 1


def test_a_lost_message_is_enqueued_again_within_two_minutes():
    schedule = settings.CELERY_BEAT_SCHEDULE["recover-lost-work"]
    assert schedule["task"] == "coop.tasks.recover_lost_work_task"
    assert recovery.LOST_AFTER.total_seconds() + schedule["schedule"] <= 120


def test_no_task_waits_for_a_retry_longer_than_the_broker_keeps_it_invisible():
    """A countdown longer than the visibility timeout would deliver the retry twice."""
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    app.loader.import_default_modules()
    coop_tasks = [task for name, task in app.tasks.items() if not name.startswith("celery.")]
    assert len(coop_tasks) >= 10
    for task in coop_tasks:
        if getattr(task, "autoretry_for", ()):
            longest_countdown = getattr(task, "retry_backoff_max", 600)
            assert longest_countdown + 10 * 60 < timeout, task.name
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
