"""Payment reminders: each level goes out once, whatever the scheduler does."""

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from invoicing.models import Invoice, Reminder


def due_level(*, days_overdue: int, sent_levels: set[int]) -> int | None:
    """Return the lowest reminder level that is due and not sent yet, or None."""
    for level, offset in enumerate(settings.COOP_REMINDER_OFFSETS, 1):
        if days_overdue >= offset and level not in sent_levels:
            return level
    return None


def send_due_reminders(*, today: datetime.date, now: datetime.datetime | None = None) -> int:
    """Create the reminders due today and queue their e-mails; return how many were created.

    At most one reminder per invoice a day: after days without a run, the missed levels follow
    on the next days instead of reaching the client all at once. The unique (invoice, level)
    constraint makes a second run on the same day, or a concurrent one, create nothing.
    """
    now = now or timezone.now()
    created = 0
    overdue = (
        Invoice.objects.filter(
            kind=Invoice.Kind.INVOICE,
            status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID],
            due_date__lt=today,
        )
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)
    )
    for invoice_pk in overdue:
        if _send_reminder(invoice_pk=invoice_pk, today=today, now=now):
            created += 1
    return created


@transaction.atomic
def _send_reminder(*, invoice_pk: int, today: datetime.date, now: datetime.datetime) -> bool:
    from invoicing.tasks import send_reminder_email_task

    invoice = Invoice.objects.select_for_update().get(pk=invoice_pk)
    if invoice.status not in (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID):
        return False
    sent = dict(invoice.reminders.values_list("level", "sent_on"))
    if today in sent.values():
        return False  # at most one reminder a day, however often the task runs
    sent_levels = set(sent)
    level = due_level(days_overdue=(today - invoice.due_date).days, sent_levels=sent_levels)
    if level is None:
        return False
    amount_due = Invoice.objects.with_amounts().get(pk=invoice.pk).amount_due
    try:
        with transaction.atomic():
            reminder = Reminder.objects.create(
                invoice=invoice, level=level, sent_on=today, amount_due=amount_due, created_at=now
            )
    except IntegrityError:
        return False
    if level == len(settings.COOP_REMINDER_OFFSETS) and invoice.formal_notice_due_at is None:
        invoice.formal_notice_due_at = now
        invoice.save(update_fields=["formal_notice_due_at"])
    transaction.on_commit(lambda: send_reminder_email_task.delay(reminder.pk), robust=True)
    return True
