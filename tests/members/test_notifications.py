"""Members hear about their membership by e-mail, in their language, exactly once."""

import uuid

from django.core import mail
from kombu import Connection

from coop.celery import app as celery_app
from members import services
from members.models import MembershipEvent
from members.tasks import notify_membership_event_task
from tests.conftest import make_member


def test_approval_is_mailed_once_after_commit(db, staff, django_capture_on_commit_callbacks):
    applicant = make_member("a@coop.test", legal_name="Ana", niss="85073003328", active=False)
    applicant.preferred_language = "en"
    applicant.save(update_fields=["preferred_language"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.approve_application(member=applicant, actor=staff, reason="Welcome")
    assert len(callbacks) == 1
    assert len(mail.outbox) == 0

    event = applicant.events.get(kind=MembershipEvent.Kind.APPROVED)
    notify_membership_event_task(event.pk)
    notify_membership_event_task(event.pk)  # a redelivered task sends nothing more
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["a@coop.test"]
    assert message.subject == "[coop] Your membership application is approved"
    assert "Reason: Welcome" in message.body
    event.refresh_from_db()
    assert event.notified_at is not None


def test_application_itself_sends_no_mail(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_member("a@coop.test", legal_name="Ana", niss="85073003328", active=False)
    assert callbacks == []


def test_tasks_reach_the_broker(db):
    queue = f"test-{uuid.uuid4().hex}"
    notify_membership_event_task.apply_async(args=[12345], queue=queue)
    with Connection(celery_app.conf.broker_url) as connection:
        simple = connection.SimpleQueue(queue)
        message = simple.get(timeout=5)
        message.ack()
        simple.queue.delete()
        simple.close()
    assert message.headers["task"] == "members.tasks.notify_membership_event_task"
    assert message.headers["argsrepr"] == "[12345]"


def test_pdf_tasks_have_their_own_queue():
    router = celery_app.amqp.router
    assert router.route({}, "invoicing.tasks.render_invoice_pdf_task")["queue"].name == "pdf"
    assert router.route({}, "members.tasks.notify_membership_event_task")["queue"].name == "default"
