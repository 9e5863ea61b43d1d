"""Payment reminders: each level goes out once, whatever the scheduler does."""

import datetime
from collections.abc import Iterator

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from invoicing.models import Invoice, Reminder


def due_level(*, days_overdue: int, sent_levels: set[int]) -> int | None:
    """Return the lowest reminder level that is due and not sent yet, or None."""
    for level, offset in enumerate(settings.COOP_REMINDER_OFFSETS, 1):
        if days_overdue >= offset and level not in sent_levels:
            return level
    return None


# Invoices whose reminders are looked at, a batch at a time (keyset on due date and id).
BATCH_SIZE = 1000
OPEN_STATUSES = [Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID]


def _due_for_a_reminder(today: datetime.date) -> Q:
    """Open invoices with a reminder level due and not sent, and none sent today (SQL)."""
    sent_today = Reminder.objects.filter(invoice=OuterRef("pk"), sent_on=today)
    some_level_due = Q()
    for level, offset in enumerate(settings.COOP_REMINDER_OFFSETS, 1):
        some_level_due |= Q(due_date__lte=today - datetime.timedelta(days=offset)) & ~Exists(
            Reminder.objects.filter(invoice=OuterRef("pk"), level=level)
        )
    return some_level_due & ~Exists(sent_today)


def reminder_candidates(
    *, today: datetime.date, batch_size: int | None = None
) -> Iterator[list[int]]:
    """Yield, a batch at a time, the keys of the open invoices that may need a reminder today.

    The scan walks the partial index of open invoices by due date (``invoice_open_due_idx``)
    from the oldest, keyset-paginated so that memory stays bounded and no batch restarts the
    scan; invoices without a level due (all sent, or one sent today) are left out in SQL.
    """
    overdue = Invoice.objects.filter(
        kind=Invoice.Kind.INVOICE, status__in=OPEN_STATUSES, due_date__lt=today
    ).filter(_due_for_a_reminder(today))
    batch_size = batch_size or BATCH_SIZE
    after: tuple[datetime.date, int] | None = None
    while True:
        batch = overdue
        if after is not None:
            # (due_date, id) > after, written so that the index range starts at the due date.
            batch = batch.filter(due_date__gte=after[0]).filter(
                Q(due_date__gt=after[0]) | Q(pk__gt=after[1])
            )
        rows = list(batch.order_by("due_date", "pk").values_list("due_date", "pk")[:batch_size])
        if not rows:
            return
        yield [pk for _due_date, pk in rows]
        if len(rows) < batch_size:
            return
        after = rows[-1]


def send_due_reminders(*, today: datetime.date, now: datetime.datetime | None = None) -> int:
    """Create the reminders due today and queue their e-mails; return how many were created.

    At most one reminder per invoice a day: after days without a run, the missed levels follow
    on the next days instead of reaching the client all at once. The unique (invoice, level)
    constraint makes a second run on the same day, or a concurrent one, create nothing.
    """
    now = now or timezone.now()
    created = 0
    for invoice_pks in reminder_candidates(today=today):
        for invoice_pk in invoice_pks:
            if _send_reminder(invoice_pk=invoice_pk, today=today, now=now):
                created += 1
    return created


@transaction.atomic
def _send_reminder(*, invoice_pk: int, today: datetime.date, now: datetime.datetime) -> bool:
    from invoicing.tasks import send_reminder_email_task

    invoice = Invoice.objects.select_for_update().get(pk=invoice_pk)
    if invoice.status not in OPEN_STATUSES:
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
