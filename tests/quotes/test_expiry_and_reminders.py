# ruff: noqa: F811 (the fixtures imported are arguments of the tests)
"""Quotes past their validity expire exactly once; clients who have not answered are reminded
exactly once per reminder, however late, often or concurrently the daily task runs."""

import datetime

import pytest
from django.core import mail

from audit.models import AuditEvent
from quotes import reminders
from quotes.models import Quote, QuoteEvent, QuoteLink, QuoteReminder
from quotes.services import LinkState, link_state
from tests.conftest import run_at_once
from tests.quotes.orders_helpers import NOW, TODAY, make_quote
from tests.quotes.test_orders import order_client  # noqa: F401 (a fixture)

DAY = datetime.timedelta(days=1)


@pytest.fixture
def sent(activity, order_client, member):
    return make_quote(
        activity=activity,
        client=order_client,
        user=member.user,
        status=Quote.Status.SENT,
        valid_until=TODAY + 20 * DAY,
        sent_at=NOW,
    )


def test_a_quote_past_its_validity_expires_once(sent, activity, order_client, member):
    changed = make_quote(
        activity=activity,
        client=order_client,
        user=member.user,
        status=Quote.Status.CHANGE_REQUESTED,
        valid_until=TODAY + 5 * DAY,
    )
    accepted = make_quote(
        activity=activity, client=order_client, user=member.user, valid_until=TODAY + DAY
    )
    # On its last valid day nothing happens; the day after, it expires.
    assert reminders.expire_quotes(today=TODAY + 20 * DAY, now=NOW) == 1  # the changed one
    assert Quote.objects.get(pk=sent.pk).status == "sent"
    assert reminders.expire_quotes(today=TODAY + 21 * DAY, now=NOW) == 1
    # The task ran late, then twice: nothing more.
    assert reminders.expire_quotes(today=TODAY + 40 * DAY, now=NOW) == 0
    assert reminders.expire_quotes(today=TODAY + 40 * DAY, now=NOW) == 0
    statuses = dict(Quote.objects.values_list("pk", "status"))
    assert (statuses[sent.pk], statuses[changed.pk], statuses[accepted.pk]) == (
        "expired",
        "expired",
        "accepted",
    )
    assert QuoteEvent.objects.filter(kind="expired").count() == 2
    assert QuoteEvent.objects.get(quote=sent, kind="expired").details == {
        "valid_until": (TODAY + 20 * DAY).isoformat()
    }
    assert AuditEvent.objects.filter(action="expired").count() == 2


def test_an_expired_quotes_link_no_longer_accepts(sent):
    link = QuoteLink.objects.create(
        version=sent.current_version, token_hash="a" * 64, expires_at=NOW + 40 * DAY
    )
    assert link_state(link, now=NOW) == LinkState.OPEN
    reminders.expire_quotes(today=TODAY + 21 * DAY, now=NOW)
    link = QuoteLink.objects.select_related("version__quote").get(pk=link.pk)
    assert link_state(link, now=NOW) == LinkState.EXPIRED


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_expire_a_quote_once(sent):
    outcomes = run_at_once(
        lambda: str(reminders.expire_quotes(today=TODAY + 21 * DAY, now=NOW)), times=3
    )
    assert outcomes == ["0", "0", "1"]
    assert QuoteEvent.objects.filter(quote=sent, kind="expired").count() == 1


def test_due_kind_windows():
    sent_on, until = TODAY, TODAY + 20 * DAY
    assert reminders.due_kind(sent_on=sent_on, valid_until=until, today=TODAY + 6 * DAY) is None
    assert reminders.due_kind(sent_on=sent_on, valid_until=until, today=TODAY + 7 * DAY) == (
        "after_sending"
    )
    assert reminders.due_kind(sent_on=sent_on, valid_until=until, today=TODAY + 16 * DAY) == (
        "after_sending"
    )
    assert reminders.due_kind(sent_on=sent_on, valid_until=until, today=TODAY + 17 * DAY) == (
        "before_expiry"
    )
    assert reminders.due_kind(sent_on=sent_on, valid_until=until, today=TODAY + 20 * DAY) == (
        "before_expiry"
    )
    assert reminders.due_kind(sent_on=sent_on, valid_until=until, today=TODAY + 21 * DAY) is None


def test_each_reminder_goes_out_once(sent, django_capture_on_commit_callbacks):
    assert reminders.send_quote_reminders(today=TODAY + 6 * DAY, now=NOW) == 0
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert reminders.send_quote_reminders(today=TODAY + 7 * DAY, now=NOW) == 1
        # Again the same day, and the next days: the after-sending reminder is not repeated.
        assert reminders.send_quote_reminders(today=TODAY + 7 * DAY, now=NOW) == 0
        assert reminders.send_quote_reminders(today=TODAY + 8 * DAY, now=NOW) == 0
        # Days without a run, then late: the before-expiry reminder, once.
        assert reminders.send_quote_reminders(today=TODAY + 19 * DAY, now=NOW) == 1
        assert reminders.send_quote_reminders(today=TODAY + 20 * DAY, now=NOW) == 0
    assert list(QuoteReminder.objects.order_by("pk").values_list("kind", flat=True)) == [
        "after_sending",
        "before_expiry",
    ]
    assert QuoteEvent.objects.filter(quote=sent, kind="reminded").count() == 2
    assert len(callbacks) == 2
    # Each e-mail carries a link of its own to the quote's page; a redelivered task sends
    # nothing more.
    first = QuoteReminder.objects.order_by("pk").first()
    reminders.send_quote_reminder_email_task(first.pk, "the-token")
    reminders.send_quote_reminder_email_task(first.pk, "the-token")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["compta@galeries.example"]
    assert "/q/the-token/" in mail.outbox[0].body
    assert sent.number in mail.outbox[0].subject
    assert QuoteLink.objects.filter(version=sent.current_version).count() == 2


def test_answered_quotes_are_not_reminded(sent, activity, order_client, member):
    make_quote(activity=activity, client=order_client, user=member.user, sent_at=NOW)
    Quote.objects.filter(pk=sent.pk).update(status=Quote.Status.DECLINED)
    assert reminders.send_quote_reminders(today=TODAY + 7 * DAY, now=NOW) == 0
    assert not QuoteReminder.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_remind_once(sent):
    outcomes = run_at_once(
        lambda: str(reminders.send_quote_reminders(today=TODAY + 7 * DAY, now=NOW)), times=3
    )
    assert outcomes == ["0", "0", "1"]
    assert QuoteReminder.objects.filter(quote=sent).count() == 1
    assert QuoteEvent.objects.filter(quote=sent, kind="reminded").count() == 1


def test_beat_runs_expiry_and_reminders_daily(db, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["expire-and-remind-quotes"]
    assert entry["task"] == "quotes.reminders.expire_and_remind_task"
    assert reminders.expire_and_remind_task() == (0, 0)
