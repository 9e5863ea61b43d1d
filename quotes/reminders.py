"""Quotes that expire, and reminders to clients who have not answered: each exactly once.

The daily beat task (``expire_and_remind_task``) may run late, twice, or on two workers at
once. Expiring locks the quote and looks at its status again: a quote expires once, with one
event. A reminder is a row whose unique (version, kind) constraint lets only one insert win,
taken under the quote's row lock; its e-mail goes after the commit with a fresh link.

Reminders (settings ``QUOTE_REMINDER_AFTER_DAYS``, ``QUOTE_REMINDER_BEFORE_EXPIRY_DAYS``): one
some days after sending, while the quote is still far from its end; one some days before it
expires. Only a sent quote nobody answered is reminded; at most one reminder a day.
"""

import datetime
import hashlib
import secrets

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from audit.services import record_event
from quotes.models import Quote, QuoteEvent, QuoteLink, QuoteReminder

OPEN_STATUSES = (Quote.Status.SENT, Quote.Status.CHANGE_REQUESTED)
BATCH_SIZE = 500
TOKEN_BYTES = 32


def after_sending_days() -> int:
    return int(getattr(settings, "QUOTE_REMINDER_AFTER_DAYS", 7))


def before_expiry_days() -> int:
    return int(getattr(settings, "QUOTE_REMINDER_BEFORE_EXPIRY_DAYS", 3))


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _batches(queryset) -> list[int]:
    """The keys of the rows, a batch at a time by keyset on the primary key."""
    after = 0
    while True:
        keys = list(
            queryset.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:BATCH_SIZE]
        )
        if not keys:
            return
        yield keys
        if len(keys) < BATCH_SIZE:
            return
        after = keys[-1]


# Expiry ---------------------------------------------------------------------------------------


def expire_quotes(*, today: datetime.date, now: datetime.datetime | None = None) -> int:
    """Expire the sent (or change-requested) quotes whose last valid day is past; return how
    many this run expired (a quote expires once, whichever run gets it)."""
    now = now or timezone.now()
    candidates = Quote.objects.filter(
        status__in=OPEN_STATUSES, current_version__valid_until__lt=today
    )
    expired = 0
    for keys in _batches(candidates):
        for pk in keys:
            expired += expire_quote(quote_pk=pk, today=today, now=now)
    return expired


@transaction.atomic
def expire_quote(*, quote_pk: int, today: datetime.date, now: datetime.datetime) -> bool:
    """Expire one quote if it is still open and past its validity; False if not (or no more)."""
    quote = (
        Quote.objects.select_for_update(of=("self",))
        .select_related("current_version")
        .filter(pk=quote_pk)
        .first()
    )
    if quote is None or quote.status not in OPEN_STATUSES:
        return False
    version = quote.current_version
    if version is None or version.valid_until >= today:
        return False
    quote.status = Quote.Status.EXPIRED
    quote.updated_at = now
    quote.save(update_fields=["status", "updated_at"])
    QuoteEvent.objects.create(
        quote=quote,
        version=version,
        kind=QuoteEvent.Kind.EXPIRED,
        at=now,
        details={"valid_until": version.valid_until.isoformat()},
    )
    record_event(action="expired", obj=quote)
    return True


# Reminders ------------------------------------------------------------------------------------


def due_kind(
    *, sent_on: datetime.date, valid_until: datetime.date, today: datetime.date
) -> str | None:
    """The reminder due today for a version sent on ``sent_on``, if any (not yet sent or not:
    the caller checks). The two windows do not overlap: at most one reminder a day."""
    if sent_on >= today or valid_until < today:
        return None
    if today >= valid_until - datetime.timedelta(days=before_expiry_days()):
        return QuoteReminder.Kind.BEFORE_EXPIRY
    if today >= sent_on + datetime.timedelta(days=after_sending_days()):
        return QuoteReminder.Kind.AFTER_SENDING
    return None


def _reminder_candidates(today: datetime.date):
    """Sent quotes nobody answered with a reminder window open today and its reminder unsent."""
    sent = Exists(
        QuoteReminder.objects.filter(
            version=OuterRef("current_version"), kind=QuoteReminder.Kind.BEFORE_EXPIRY
        )
    )
    sent_after = Exists(
        QuoteReminder.objects.filter(
            version=OuterRef("current_version"), kind=QuoteReminder.Kind.AFTER_SENDING
        )
    )
    expiry_window = (
        Q(
            current_version__valid_until__gte=today,
            current_version__valid_until__lte=today + datetime.timedelta(days=before_expiry_days()),
        )
        & ~sent
    )
    after_window = (
        Q(
            current_version__sent_at__lt=_start_of(
                today - datetime.timedelta(days=after_sending_days() - 1)
            ),
            current_version__valid_until__gt=today + datetime.timedelta(days=before_expiry_days()),
        )
        & ~sent_after
    )
    return Quote.objects.filter(
        status=Quote.Status.SENT, current_version__sent_at__lt=_start_of(today)
    ).filter(expiry_window | after_window)


def send_quote_reminders(*, today: datetime.date, now: datetime.datetime | None = None) -> int:
    """Create the reminders due today and queue their e-mails; return how many were created."""
    now = now or timezone.now()
    created = 0
    for keys in _batches(_reminder_candidates(today)):
        for pk in keys:
            created += remind_client(quote_pk=pk, today=today, now=now)
    return created


@transaction.atomic
def remind_client(*, quote_pk: int, today: datetime.date, now: datetime.datetime) -> bool:
    """Create the reminder due today for one quote, once; False if none is due (any more)."""
    quote = (
        Quote.objects.select_for_update(of=("self",))
        .select_related("current_version", "client")
        .filter(pk=quote_pk)
        .first()
    )
    if quote is None or quote.status != Quote.Status.SENT or quote.current_version is None:
        return False
    version = quote.current_version
    if version.sent_at is None:
        return False
    kind = due_kind(
        sent_on=timezone.localdate(version.sent_at), valid_until=version.valid_until, today=today
    )
    if kind is None:
        return False
    if QuoteReminder.objects.filter(quote=quote, created_at__gte=_start_of(today)).exists():
        return False  # at most one reminder a day
    try:
        with transaction.atomic():
            reminder = QuoteReminder.objects.create(
                quote=quote,
                version=version,
                kind=kind,
                recipient=quote.client.email,
                created_at=now,
            )
    except IntegrityError:
        return False
    token = secrets.token_urlsafe(TOKEN_BYTES)
    QuoteLink.objects.create(
        version=version,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        recipient=quote.client.email,
        created_at=now,
        expires_at=_start_of(version.valid_until + datetime.timedelta(days=1)),
    )
    QuoteEvent.objects.create(
        quote=quote, version=version, kind=QuoteEvent.Kind.REMINDED, at=now, details={"kind": kind}
    )
    transaction.on_commit(
        lambda: send_quote_reminder_email_task.delay(reminder.pk, token), robust=True
    )
    return True


def send_reminder_email(*, reminder: QuoteReminder, token: str, now=None) -> bool:
    """E-mail one reminder to the client, once (in the quote's language)."""
    with transaction.atomic():
        reminder = (
            QuoteReminder.objects.select_for_update(of=("self",))
            .select_related("quote__client", "version")
            .get(pk=reminder.pk)
        )
        if reminder.emailed_at is not None or not reminder.recipient:
            return False
        quote = reminder.quote
        with translation.override(quote.language):
            context = {
                "quote": quote,
                "version": reminder.version,
                "reminder": reminder,
                "url": f"{settings.SITE_URL}/q/{token}/",
                "seller": settings.COOP_SELLER,
            }
            subject = render_to_string("quotes/emails/reminder_subject.txt", context).strip()
            body = render_to_string("quotes/emails/reminder.txt", context)
        EmailMessage(subject=subject, body=body, to=[reminder.recipient]).send()
        reminder.emailed_at = now or timezone.now()
        reminder.save(update_fields=["emailed_at"])
    return True


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_quote_reminder_email_task(reminder_pk: int, token: str) -> None:
    """E-mail one quote reminder (does nothing if already sent)."""
    reminder = QuoteReminder.objects.filter(pk=reminder_pk).first()
    if reminder is not None:
        send_reminder_email(reminder=reminder, token=token)


@shared_task
def expire_and_remind_task() -> tuple[int, int]:
    """Expire the quotes past their validity, then remind the clients who have not answered
    (daily, from Celery beat)."""
    today = timezone.localdate()
    return expire_quotes(today=today), send_quote_reminders(today=today)
