"""Month-end runs at a small size: the reminders walk every due invoice once, batch by batch."""

import datetime

import pytest

from benchmarks import monthend_reminders
from invoicing.models import Invoice, Reminder
from invoicing.services import reminders

TODAY = datetime.date(2026, 11, 30)
NOW = datetime.datetime(2026, 11, 30, 6, 0, tzinfo=datetime.UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiet_emails(monkeypatch):
    monkeypatch.setattr("invoicing.tasks.send_reminder_email_task.delay", lambda pk: None)


def test_reminders_over_many_invoices_in_small_batches(settings, monkeypatch, quiet_emails):
    settings.COOP_REMINDER_OFFSETS = [7, 21, 35]
    # About five open invoices a day: batches of 3 end between invoices of the same due date.
    monkeypatch.setattr(monthend_reminders, "OPEN_ONE_IN", 4)
    monthend_reminders.load_invoices(15_000, today=TODAY, sellers=2)
    open_invoices = Invoice.objects.filter(status="issued")
    due_today = {
        level: set(
            open_invoices.filter(due_date=TODAY - datetime.timedelta(days=offset)).values_list(
                "pk", flat=True
            )
        )
        for level, offset in enumerate(settings.COOP_REMINDER_OFFSETS, 1)
    }
    assert all(len(pks) > 3 for pks in due_today.values())
    before = Reminder.objects.count()
    # Batches of 3: the keyset walk must neither skip nor repeat an invoice between batches.
    monkeypatch.setattr(reminders, "BATCH_SIZE", 3)
    walked = [pk for batch in reminders.reminder_candidates(today=TODAY) for pk in batch]
    assert sorted(walked) == sorted(set().union(*due_today.values()))

    created = reminders.send_due_reminders(today=TODAY, now=NOW)

    assert created == sum(len(pks) for pks in due_today.values())
    new = Reminder.objects.filter(sent_on=TODAY)
    assert {
        level: set(new.filter(level=level).values_list("invoice_id", flat=True))
        for level in due_today
    } == due_today
    assert Reminder.objects.count() == before + created
    assert reminders.send_due_reminders(today=TODAY, now=NOW) == 0
    assert list(reminders.reminder_candidates(today=TODAY)) == []
    # The next day, only the invoices reaching a level then get one.
    tomorrow = TODAY + datetime.timedelta(days=1)
    reaching = open_invoices.filter(
        due_date__in=[
            tomorrow - datetime.timedelta(days=offset) for offset in settings.COOP_REMINDER_OFFSETS
        ]
    )
    assert reminders.send_due_reminders(today=tomorrow, now=NOW) == reaching.count() > 0
    assert set(
        Reminder.objects.filter(sent_on=tomorrow).values_list("invoice_id", flat=True)
    ) == set(reaching.values_list("pk", flat=True))
