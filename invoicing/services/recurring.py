"""Recurring invoices: a schedule, template lines, and each period invoiced exactly once.

A member sets up the client, the lines and the rhythm (``dateutil.rrule``: every N weeks,
months or years, on a day of the month that becomes the last day of shorter months). The beat
task ``run_due_recurring_invoices_task`` invoices every period that is due:

- **Exactly once.** A period is invoiced in one transaction that holds the recurring invoice's
  row lock, creates the invoice and its :class:`RecurringInvoiceRun`; the run's unique
  (recurring invoice, period) refuses a second invoice for the period even to a writer that
  bypassed the lock. A repeated or concurrent run finds ``next_date`` moved on and does nothing.
- **Late runs catch up.** After days without a run, each missed period is invoiced once, in
  order, each for its own service period (``period_start``/``period_end`` of the invoice). All
  are issued on the day of the run: an issue date is the day the number is taken, and a later
  number may never carry an earlier date (``invoicing.services.issue._take_number``).
- **Pausing skips.** Periods that fall while a recurring invoice is paused are never invoiced
  afterwards: resuming starts at the first period on or after the day it resumes.
- **One failure stays local.** A period that cannot be invoiced (the client's details became
  invalid, the member is suspended) leaves the recurring invoice where it was, with the problem
  recorded for the member to see; the others go on, and the next run tries it again.
- **Staff review rules apply.** In "issue and send" mode a period's invoice is submitted like
  any draft (``submit_invoice``): one that a rule sends to staff review waits there. In "prepare
  a draft" mode the draft is left for the member, who is told by e-mail.
"""

import datetime
import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace

from dateutil import rrule
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.services import diff_fields, field_values, record_event
from coop import bounds
from invoicing.errors import InvoicingError
from invoicing.models import (
    Client,
    RecurringInvoice,
    RecurringInvoiceLine,
    RecurringInvoiceRun,
)
from invoicing.services import drafts
from invoicing.services.drafts import LineInput
from invoicing.services.issue import sent_over_peppol, submit_invoice
from members.models import Activity, User

logger = logging.getLogger(__name__)

MAX_INTERVAL = 52
MAX_COUNT = 999
# How far ahead a first invoice may be set up.
MAX_START_DAYS_AHEAD = 366
# Periods one recurring invoice may catch up in one run; the rest follow at the next run.
MAX_PERIODS_PER_RUN = 60
# Recurring invoices looked at a batch at a time (keyset on next date and id).
BATCH_SIZE = 500
# What _invoice_next_period answers for a period found invoiced already.
ALREADY_INVOICED = object()


@dataclass(frozen=True)
class Schedule:
    """When a recurring invoice is due: every ``interval`` weeks, months or years."""

    frequency: str
    start_date: datetime.date
    interval: int = 1
    day_of_month: int | None = None
    end_date: datetime.date | None = None
    count: int | None = None

    @classmethod
    def of(cls, recurring: RecurringInvoice) -> "Schedule":
        return cls(
            frequency=recurring.frequency,
            start_date=recurring.start_date,
            interval=recurring.interval,
            day_of_month=recurring.day_of_month,
            end_date=recurring.end_date,
            count=recurring.count,
        )


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time())


def rule(schedule: Schedule, *, bounded: bool = True) -> rrule.rrule:
    """The schedule as a ``dateutil`` rule; ``bounded``: with its end date or count.

    A day of the month that a month lacks (the 31st of April) becomes that month's last day:
    the rule takes the last of the days from the 28th up to the one asked for.
    """
    options: dict = {"dtstart": _midnight(schedule.start_date), "interval": schedule.interval}
    if bounded and schedule.count:
        options["count"] = schedule.count
    if bounded and schedule.end_date:
        options["until"] = _midnight(schedule.end_date)
    if schedule.frequency == RecurringInvoice.Frequency.WEEKLY:
        return rrule.rrule(rrule.WEEKLY, **options)
    day = schedule.day_of_month or schedule.start_date.day
    options["bymonthday"] = list(range(min(day, 28), day + 1))
    options["bysetpos"] = -1
    if schedule.frequency == RecurringInvoice.Frequency.YEARLY:
        return rrule.rrule(rrule.YEARLY, bymonth=schedule.start_date.month, **options)
    return rrule.rrule(rrule.MONTHLY, **options)


def next_occurrence(schedule: Schedule, on_or_after: datetime.date) -> datetime.date | None:
    """The first date of the schedule on or after a day, or None when it is over."""
    found = rule(schedule).after(_midnight(on_or_after), inc=True)
    return found.date() if found else None


def occurrences(
    schedule: Schedule, *, on_or_after: datetime.date, limit: int
) -> list[datetime.date]:
    """Up to ``limit`` dates of the schedule from a day on."""
    dates = []
    for found in rule(schedule).xafter(_midnight(on_or_after), count=limit, inc=True):
        dates.append(found.date())
    return dates


def period_end(schedule: Schedule, period_date: datetime.date) -> datetime.date:
    """The last day of the period that starts on ``period_date``: the day before the next one
    (as if the schedule went on, so that the last period has its full length)."""
    following = rule(schedule, bounded=False).after(_midnight(period_date), inc=False)
    return following.date() - datetime.timedelta(days=1)


def describe(text: str, *, start: datetime.date, end: datetime.date, language: str) -> str:
    """Fill ``{month}``, ``{year}`` and ``{period}`` with the period's, in ``language``."""
    if "{" not in text:
        return text
    with translation.override(language):
        values = {
            "{month}": date_format(start, "F"),
            "{year}": str(start.year),
            "{period}": f"{date_format(start, 'DATE_FORMAT')} – {date_format(end, 'DATE_FORMAT')}",
        }
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


# --- setting up ------------------------------------------------------------------------------


def _clean_schedule(
    schedule: Schedule, *, today: datetime.date, start_changed: bool
) -> datetime.date:
    """Refuse a schedule that makes no sense; return its first date."""
    if schedule.frequency not in RecurringInvoice.Frequency.values:
        raise InvoicingError(_("Choose weekly, monthly or yearly."), field="frequency")
    if not 1 <= schedule.interval <= MAX_INTERVAL:
        raise InvoicingError(
            _("Repeat every 1 to %(max)d weeks, months or years.") % {"max": MAX_INTERVAL},
            code="interval",
            field="interval",
        )
    if schedule.day_of_month is not None:
        if schedule.frequency == RecurringInvoice.Frequency.WEEKLY:
            raise InvoicingError(
                _("A weekly invoice has no day of the month: it follows the first date's weekday."),
                code="day_of_month",
                field="day_of_month",
            )
        if not 1 <= schedule.day_of_month <= 31:
            raise InvoicingError(
                _("The day of the month is between 1 and 31."),
                code="day_of_month",
                field="day_of_month",
            )
    if start_changed:
        if schedule.start_date < today:
            raise InvoicingError(
                _("The first invoice cannot be dated in the past."),
                code="start_date",
                field="start_date",
            )
        if schedule.start_date > today + datetime.timedelta(days=MAX_START_DAYS_AHEAD):
            raise InvoicingError(
                _("The first invoice is at most a year ahead."),
                code="start_date",
                field="start_date",
            )
    if schedule.end_date is not None and schedule.count is not None:
        raise InvoicingError(
            _("End on a date or after a number of invoices, not both."),
            code="end",
            field="count",
        )
    if schedule.end_date is not None and schedule.end_date < schedule.start_date:
        raise InvoicingError(
            _("The last date is before the first."), code="end_date", field="end_date"
        )
    if schedule.count is not None and not 1 <= schedule.count <= MAX_COUNT:
        raise InvoicingError(
            _("The number of invoices is between 1 and %(max)d.") % {"max": MAX_COUNT},
            code="count",
            field="count",
        )
    first = next_occurrence(schedule, schedule.start_date)
    if first is None:
        raise InvoicingError(
            _("This schedule has no date: move its end later."), code="end_date", field="end_date"
        )
    return first


def _clean_lines(lines: list[LineInput], *, client: Client, schedule: Schedule) -> None:
    """Check the template lines exactly as a draft's, with the first period's descriptions."""
    start = next_occurrence(schedule, schedule.start_date) or schedule.start_date
    end = period_end(schedule, start)
    filled = [
        replace(
            line,
            description=describe(line.description, start=start, end=end, language=client.language),
        )
        for line in lines
    ]
    drafts.clean_lines(filled, client=client)
    for line in filled:
        try:
            bounds.check_text_length(
                line.description.strip(),
                limit=bounds.LINE_DESCRIPTION_MAX_LENGTH,
                label=_("Description"),
            )
        except bounds.OutOfBounds as error:
            raise InvoicingError(error.message, code="lines", field="lines") from None


def _check_parties(
    *, user: User, activity: Activity, client: Client, recurring: RecurringInvoice | None
) -> None:
    from invoicing.selectors import clients_visible_to

    drafts._check_activity(user, activity)
    # A co-member editing a recurring invoice keeps the client its author chose.
    if recurring is not None and recurring.client_id == client.pk:
        return
    if not clients_visible_to(user).filter(pk=client.pk).exists():
        raise InvoicingError(_("Unknown client."), code="client", field="client")


def _check_texts(*, title: str, buyer_reference: str, order_reference: str, notes: str) -> None:
    if not title.strip():
        raise InvoicingError(_("Give the recurring invoice a name."), code="title", field="title")
    for field, text, limit, label in (
        ("title", title, bounds.TITLE_MAX_LENGTH, _("Name")),
        (
            "buyer_reference",
            buyer_reference,
            bounds.BUYER_REFERENCE_MAX_LENGTH,
            _("Buyer reference"),
        ),
        (
            "order_reference",
            order_reference,
            bounds.BUYER_REFERENCE_MAX_LENGTH,
            _("Purchase order"),
        ),
        ("notes", notes, bounds.NOTES_MAX_LENGTH, _("Notes")),
    ):
        try:
            bounds.check_text_length(text.strip(), limit=limit, label=label)
        except bounds.OutOfBounds as error:
            raise InvoicingError(error.message, code=field, field=field) from None


def _check_references(*, client: Client, buyer_reference: str, order_reference: str) -> None:
    """Refuse now what would refuse every invoice later (see ``issue.check_references``)."""
    if sent_over_peppol(client) and not (buyer_reference.strip() or order_reference.strip()):
        raise InvoicingError(
            _(
                "This client receives its invoices over Peppol, which requires their reference "
                "or purchase order number: ask the client for one and add it."
            ),
            code="reference_required",
            field="buyer_reference",
        )


def _store_lines(recurring: RecurringInvoice, lines: list[LineInput]) -> None:
    cleaned = drafts.clean_lines(lines, client=recurring.client)
    RecurringInvoiceLine.objects.bulk_create(
        RecurringInvoiceLine(
            recurring_invoice=recurring,
            position=position,
            description=given.description.strip(),
            quantity=line.quantity,
            unit=given.unit,
            unit_price=line.unit_price,
            vat_category=line.vat_category,
            vat_rate=line.vat_rate,
            supply_kind=given.supply_kind,
            # The member's own reason; the law's mentions are written on each invoice.
            exemption_reason=given.exemption_reason.strip(),
            exemption_code=line.exemption_code,
            allowance_percent=line.allowance_percent,
            allowance_amount=line.allowance_amount,
            allowance_reason=line.allowance_reason,
        )
        for position, (given, line) in enumerate(zip(lines, cleaned, strict=True), 1)
    )


def _last_period(recurring: RecurringInvoice) -> datetime.date | None:
    return recurring.runs.aggregate(last=Max("period_date"))["last"]


def _next_date_from(recurring: RecurringInvoice, *, today: datetime.date) -> datetime.date | None:
    """The first period on or after today that is not invoiced yet."""
    since = today
    last = _last_period(recurring)
    if last is not None:
        since = max(since, last + datetime.timedelta(days=1))
    return next_occurrence(Schedule.of(recurring), since)


@transaction.atomic
def create_recurring_invoice(
    *,
    user: User,
    activity: Activity,
    client: Client,
    title: str,
    schedule: Schedule,
    mode: str,
    lines: list[LineInput],
    today: datetime.date,
    buyer_reference: str = "",
    order_reference: str = "",
    notes: str = "",
) -> RecurringInvoice:
    """Set up a recurring invoice; its first period is invoiced on its first date."""
    _check_parties(user=user, activity=activity, client=client, recurring=None)
    _check_texts(
        title=title, buyer_reference=buyer_reference, order_reference=order_reference, notes=notes
    )
    if mode not in RecurringInvoice.Mode.values:
        raise InvoicingError(_("Choose how each invoice is sent."), code="mode", field="mode")
    first = _clean_schedule(schedule, today=today, start_changed=True)
    _clean_lines(lines, client=client, schedule=schedule)
    _check_references(
        client=client, buyer_reference=buyer_reference, order_reference=order_reference
    )
    recurring = RecurringInvoice.objects.create(
        activity=activity,
        client=client,
        title=title.strip(),
        frequency=schedule.frequency,
        interval=schedule.interval,
        day_of_month=schedule.day_of_month,
        start_date=schedule.start_date,
        end_date=schedule.end_date,
        count=schedule.count,
        mode=mode,
        next_date=first,
        buyer_reference=buyer_reference.strip(),
        order_reference=order_reference.strip(),
        notes=notes.strip(),
        created_by=user,
    )
    _store_lines(recurring, lines)
    record_event(action="created", obj=recurring, actor=user)
    return recurring


SCHEDULE_FIELDS = ["frequency", "interval", "day_of_month", "start_date", "end_date", "count"]


@transaction.atomic
def update_recurring_invoice(
    *,
    user: User,
    recurring: RecurringInvoice,
    activity: Activity,
    client: Client,
    title: str,
    schedule: Schedule,
    mode: str,
    lines: list[LineInput],
    today: datetime.date,
    buyer_reference: str = "",
    order_reference: str = "",
    notes: str = "",
) -> RecurringInvoice:
    """Change a recurring invoice that has not ended; invoices already drawn up stay as they are.

    Periods already invoiced are never invoiced again: the next date is the new schedule's first
    on or after today that comes after the last period invoiced.
    """
    recurring = (
        RecurringInvoice.objects.select_for_update().select_related("client").get(pk=recurring.pk)
    )
    if recurring.is_ended:
        raise InvoicingError(_("This recurring invoice has ended."), code="ended")
    _check_parties(user=user, activity=activity, client=client, recurring=recurring)
    _check_texts(
        title=title, buyer_reference=buyer_reference, order_reference=order_reference, notes=notes
    )
    if mode not in RecurringInvoice.Mode.values:
        raise InvoicingError(_("Choose how each invoice is sent."), code="mode", field="mode")
    _clean_schedule(
        schedule, today=today, start_changed=schedule.start_date != recurring.start_date
    )
    _clean_lines(lines, client=client, schedule=schedule)
    _check_references(
        client=client, buyer_reference=buyer_reference, order_reference=order_reference
    )
    fields = {
        "activity": activity,
        "client": client,
        "title": title.strip(),
        "frequency": schedule.frequency,
        "interval": schedule.interval,
        "day_of_month": schedule.day_of_month,
        "start_date": schedule.start_date,
        "end_date": schedule.end_date,
        "count": schedule.count,
        "mode": mode,
        "buyer_reference": buyer_reference.strip(),
        "order_reference": order_reference.strip(),
        "notes": notes.strip(),
    }
    before = field_values(recurring, fields)
    for name, value in fields.items():
        setattr(recurring, name, value)
    recurring.next_date = _next_date_from(recurring, today=today)
    if recurring.next_date is None and recurring.is_active:
        raise InvoicingError(
            _("This schedule has no date left: move its end later, or end it."),
            code="end_date",
            field="end_date",
        )
    recurring.save()
    recurring.lines.all().delete()
    _store_lines(recurring, lines)
    changes = diff_fields(before, field_values(recurring, fields))
    record_event(action="changed", obj=recurring, actor=user, changes=changes)
    return recurring


def _lock(recurring: RecurringInvoice) -> RecurringInvoice:
    return RecurringInvoice.objects.select_for_update().get(pk=recurring.pk)


@transaction.atomic
def pause_recurring_invoice(
    *, user: User | None, recurring: RecurringInvoice, now: datetime.datetime | None = None
) -> RecurringInvoice:
    """Stop invoicing until resumed; the periods in between are never invoiced."""
    recurring = _lock(recurring)
    if not recurring.is_active:
        raise InvoicingError(_("Only an active recurring invoice can be paused."), code="status")
    recurring.status = RecurringInvoice.Status.PAUSED
    recurring.paused_at = now or timezone.now()
    recurring.save(update_fields=["status", "paused_at"])
    record_event(action="paused", obj=recurring, actor=user)
    return recurring


@transaction.atomic
def resume_recurring_invoice(
    *,
    user: User | None,
    recurring: RecurringInvoice,
    today: datetime.date,
) -> RecurringInvoice:
    """Invoice again from the first period on or after today (paused periods are skipped)."""
    recurring = _lock(recurring)
    if not recurring.is_paused:
        raise InvoicingError(_("Only a paused recurring invoice can be resumed."), code="status")
    next_date = _next_date_from(recurring, today=today)
    if next_date is None:
        raise InvoicingError(
            _("Its schedule has no date left: edit its end, or end it."), code="schedule_over"
        )
    recurring.status = RecurringInvoice.Status.ACTIVE
    recurring.next_date = next_date
    recurring.paused_at = None
    recurring.save(update_fields=["status", "next_date", "paused_at"])
    record_event(action="resumed", obj=recurring, actor=user)
    return recurring


@transaction.atomic
def end_recurring_invoice(
    *, user: User | None, recurring: RecurringInvoice, now: datetime.datetime | None = None
) -> RecurringInvoice:
    """Invoice no more periods; the invoices drawn up stay."""
    recurring = _lock(recurring)
    if recurring.is_ended:
        raise InvoicingError(_("This recurring invoice has already ended."), code="status")
    _end(recurring, now=now or timezone.now())
    record_event(action="ended", obj=recurring, actor=user)
    return recurring


def _end(recurring: RecurringInvoice, *, now: datetime.datetime) -> None:
    recurring.status = RecurringInvoice.Status.ENDED
    recurring.next_date = None
    recurring.ended_at = now
    recurring.save(update_fields=["status", "next_date", "ended_at"])


# --- invoicing the periods -------------------------------------------------------------------


def due_recurring_invoices(
    *, today: datetime.date, batch_size: int | None = None
) -> Iterator[list[int]]:
    """Yield, a batch at a time, the keys of the active recurring invoices due by ``today``,
    walking the partial index ``recurring_due_idx`` by (next date, id)."""
    due = RecurringInvoice.objects.filter(
        status=RecurringInvoice.Status.ACTIVE, next_date__lte=today
    )
    batch_size = batch_size or BATCH_SIZE
    after: tuple[datetime.date, int] | None = None
    while True:
        batch = due
        if after is not None:
            batch = batch.filter(next_date__gte=after[0]).filter(
                Q(next_date__gt=after[0]) | Q(pk__gt=after[1])
            )
        rows = list(batch.order_by("next_date", "pk").values_list("next_date", "pk")[:batch_size])
        if not rows:
            return
        yield [pk for _next_date, pk in rows]
        if len(rows) < batch_size:
            return
        after = rows[-1]


def run_due_recurring_invoices(
    *, today: datetime.date, now: datetime.datetime | None = None
) -> int:
    """Invoice every period due by ``today`` of every active recurring invoice, once; return how
    many invoices were drawn up. Safe to run as often, as late and as concurrently as wanted."""
    now = now or timezone.now()
    created = 0
    for pks in due_recurring_invoices(today=today):
        for pk in pks:
            created += invoice_due_periods(recurring_pk=pk, today=today, now=now)
    return created


def invoice_due_periods(*, recurring_pk: int, today: datetime.date, now: datetime.datetime) -> int:
    """Invoice the due periods of one recurring invoice, oldest first, each in its own
    transaction; stop at the first that fails and record why. Return how many were invoiced."""
    created = 0
    while created < MAX_PERIODS_PER_RUN:
        try:
            run = _invoice_next_period(recurring_pk=recurring_pk, today=today, now=now)
        except InvoicingError as error:
            _record_failure(recurring_pk=recurring_pk, message=error.message, now=now)
            break
        except Exception:
            logger.exception("Recurring invoice %s could not be invoiced", recurring_pk)
            _record_failure(
                recurring_pk=recurring_pk,
                message=_("The invoice could not be drawn up; the cooperative was told."),
                now=now,
            )
            break
        if run is None:
            break
        if run is not ALREADY_INVOICED:
            created += 1
    return created


def template_lines(recurring: RecurringInvoice, *, start, end, language) -> list[LineInput]:
    """The template lines as the period's invoice gets them."""
    return [
        LineInput(
            description=describe(line.description, start=start, end=end, language=language),
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            vat_category=line.vat_category,
            vat_rate=line.vat_rate,
            exemption_reason=line.exemption_reason,
            supply_kind=line.supply_kind,
            exemption_code=line.exemption_code,
            allowance_percent=line.allowance_percent,
            allowance_amount=(line.allowance_amount or None)
            if line.allowance_percent is None
            else None,
            allowance_reason=line.allowance_reason,
        )
        for line in recurring.lines.all()
    ]


@transaction.atomic
def _invoice_next_period(*, recurring_pk: int, today: datetime.date, now: datetime.datetime):
    """Invoice the recurring invoice's next period if it is due: its run, ``ALREADY_INVOICED``
    when a run of the period exists (the date is moved on), None when nothing is due."""
    from invoicing.tasks import notify_recurring_draft_task

    recurring = (
        RecurringInvoice.objects.select_for_update(of=("self",))
        .select_related("client", "activity", "created_by")
        .get(pk=recurring_pk)
    )
    if not recurring.is_active or recurring.next_date is None or recurring.next_date > today:
        return None
    schedule = Schedule.of(recurring)
    period = recurring.next_date
    if recurring.runs.filter(period_date=period).exists():
        # Invoiced already (by a writer that did not move the date on): move on only.
        _advance(recurring, schedule, period, now=now)
        return ALREADY_INVOICED
    end = period_end(schedule, period)
    client = recurring.client
    invoice = drafts.save_draft(
        user=recurring.created_by,
        activity=recurring.activity,
        client=client,
        lines=template_lines(recurring, start=period, end=end, language=client.language),
        today=today,
        buyer_reference=recurring.buyer_reference,
        order_reference=recurring.order_reference,
        notes=recurring.notes,
        period_start=period,
        period_end=end,
    )
    if recurring.mode == RecurringInvoice.Mode.AUTO_SEND:
        invoice = submit_invoice(user=recurring.created_by, invoice=invoice, today=today, now=now)
    # The database's last word: a second invoice for this period rolls all of this back.
    run = RecurringInvoiceRun.objects.create(
        recurring_invoice=recurring, period_date=period, invoice=invoice, created_at=now
    )
    _advance(recurring, schedule, period, now=now)
    record_event(
        action="period_invoiced",
        obj=recurring,
        actor=recurring.created_by,
        reason=period.isoformat(),
    )
    if recurring.mode == RecurringInvoice.Mode.REVIEW_FIRST:
        transaction.on_commit(lambda: notify_recurring_draft_task.delay(run.pk), robust=True)
    return run


def _advance(
    recurring: RecurringInvoice, schedule: Schedule, period: datetime.date, *, now
) -> None:
    """Move the locked recurring invoice on to the period after ``period`` (or end it)."""
    following = rule(schedule).after(_midnight(period), inc=False)
    recurring.last_error = ""
    recurring.last_error_at = None
    if following is None:
        recurring.save(update_fields=["last_error", "last_error_at"])
        _end(recurring, now=now)
    else:
        recurring.next_date = following.date()
        recurring.save(update_fields=["next_date", "last_error", "last_error_at"])


@transaction.atomic
def _record_failure(*, recurring_pk: int, message: str, now: datetime.datetime) -> None:
    recurring = RecurringInvoice.objects.select_for_update().get(pk=recurring_pk)
    repeated = recurring.last_error == message
    recurring.last_error = message
    recurring.last_error_at = now
    recurring.save(update_fields=["last_error", "last_error_at"])
    # Tried again at every run: the audit trail notes a problem once, not every hour.
    if not repeated:
        record_event(action="period_failed", obj=recurring, reason=message)


def notify_member_of_draft(
    *, run: RecurringInvoiceRun, now: datetime.datetime | None = None
) -> bool:
    """E-mail the member that a period's draft waits for their review, once."""
    with transaction.atomic():
        run = (
            RecurringInvoiceRun.objects.select_for_update(of=("self",))
            .select_related("recurring_invoice__created_by__member", "invoice")
            .get(pk=run.pk)
        )
        if run.member_notified_at is not None:
            return False
        recurring = run.recurring_invoice
        user = recurring.created_by
        member = getattr(user, "member", None)
        language = member.preferred_language if member else settings.LANGUAGE_CODE
        with translation.override(language):
            context = {
                "recurring": recurring,
                "run": run,
                "invoice": run.invoice,
                "site_url": settings.SITE_URL,
            }
            subject = render_to_string("emails/recurring_draft_subject.txt", context).strip()
            body = render_to_string("emails/recurring_draft.txt", context)
        send_mail(subject, body, None, [user.email])
        run.member_notified_at = now or timezone.now()
        run.save(update_fields=["member_notified_at"])
    return True
