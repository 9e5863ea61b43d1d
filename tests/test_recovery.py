"""Lost background work: the broker's side of the recovery sweep and Celery's settings."""

import datetime
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
    assert schedule["schedule"] == recovery.SWEEP_INTERVAL_SECONDS
    assert recovery.LOST_AFTER.total_seconds() + schedule["schedule"] <= 90


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


def test_a_lost_membership_notice_is_enqueued_again_then_every_ten_minutes_for_a_day(member):
    from members import tasks
    from members.models import MembershipEvent

    approved = member.events.get(kind=MembershipEvent.Kind.APPROVED)
    applied = member.events.get(kind=MembershipEvent.Kind.APPLIED)  # never notified
    MembershipEvent.objects.filter(member=member).update(notified_at=None)
    created = approved.created_at
    message = ("members.tasks.notify_membership_event_task", f"({approved.pk},)")
    before = waiting_messages("default")[message]

    def sweep(after: datetime.timedelta, idle=("default",)) -> int:
        return tasks.recover_lost_work(now=created + after, idle_queues=set(idle))

    assert sweep(datetime.timedelta(seconds=59)) == 0
    assert sweep(datetime.timedelta(seconds=61), idle=("pdf",)) == 0  # a backlog in "default"
    events = MembershipEvent.objects.filter(member=member, notified_at__isnull=True)
    requeued = sweep(datetime.timedelta(seconds=61))
    assert requeued == events.exclude(pk=applied.pk).count() >= 1
    assert waiting_messages("default")[message] == before + 1
    assert sweep(datetime.timedelta(minutes=5)) == 0
    assert sweep(datetime.timedelta(minutes=12)) == requeued
    assert waiting_messages("default")[message] == before + 2
    assert sweep(datetime.timedelta(days=1, minutes=1)) == 0  # given up after a day
    MembershipEvent.objects.filter(member=member).update(notified_at=created)
    assert sweep(datetime.timedelta(minutes=30)) == 0
