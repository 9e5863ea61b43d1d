"""The limits of every date and text people type, shared by forms, serializers and services.

A value outside them is refused with a message saying what is allowed; nothing is cut short.
Each date check is a function of the value and today, so services and tests pass their own
``today``; ``date_validator`` turns one into a field validator for forms and serializers.
"""

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import formats, timezone
from django.utils.translation import gettext as _

# No activity of the cooperative predates this.
EARLIEST_DATE = datetime.date(2000, 1, 1)
# An invoice is paid within a year of its issue.
MAX_PAYMENT_TERM_DAYS = 366
# Work is invoiced, done or booked at most this far ahead.
SUPPLY_DATE_MAX_DAYS_AHEAD = 366
WORK_DAY_MAX_DAYS_AHEAD = 2 * 366
# Each room has its own, shorter, booking horizon; this bounds every room's.
BOOKING_MAX_DAYS_AHEAD = 10 * 366
# A receipt older than this is no longer reimbursed.
RECEIPT_MAX_AGE_DAYS = 2 * 366

# Texts: what the PDF prints in full (it wraps long words) and the database keeps.
NOTES_MAX_LENGTH = 1000
TITLE_MAX_LENGTH = 200
SHORT_TEXT_MAX_LENGTH = 255
BUYER_REFERENCE_MAX_LENGTH = 100
LINE_DESCRIPTION_MAX_LENGTH = 300
DESCRIPTION_MAX_LENGTH = 2000
REASON_MAX_LENGTH = 1000


def _format(value: datetime.date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


class OutOfBounds(ValueError):
    """``message`` says which dates are allowed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_between(
    value: datetime.date,
    *,
    earliest: datetime.date,
    latest: datetime.date,
    too_early: str,
    too_late: str,
) -> None:
    if value < earliest:
        raise OutOfBounds(too_early % {"date": _format(earliest)})
    if value > latest:
        raise OutOfBounds(too_late % {"date": _format(latest)})


def check_due_date(due_date: datetime.date, *, issue_date: datetime.date) -> None:
    """An invoice falls due on or after its issue date, and within a year."""
    check_between(
        due_date,
        earliest=issue_date,
        latest=issue_date + datetime.timedelta(days=MAX_PAYMENT_TERM_DAYS),
        too_early=_("The due date cannot be before the invoice date (%(date)s)."),
        too_late=_("The due date must be on or before %(date)s, a year after the invoice date."),
    )


def check_draft_due_date(due_date: datetime.date, *, today: datetime.date) -> None:
    """A draft is issued today at the earliest."""
    check_due_date(due_date, issue_date=today)


def check_supply_date(supply_date: datetime.date, *, today: datetime.date) -> None:
    check_between(
        supply_date,
        earliest=EARLIEST_DATE,
        latest=today + datetime.timedelta(days=SUPPLY_DATE_MAX_DAYS_AHEAD),
        too_early=_("The date of supply cannot be before %(date)s."),
        too_late=_("The date of supply cannot be after %(date)s."),
    )


def check_work_day(day: datetime.date, *, today: datetime.date) -> None:
    check_between(
        day,
        earliest=EARLIEST_DATE,
        latest=today + datetime.timedelta(days=WORK_DAY_MAX_DAYS_AHEAD),
        too_early=_("A work day cannot be before %(date)s."),
        too_late=_("A work day cannot be after %(date)s."),
    )


def check_booking_date(day: datetime.date, *, today: datetime.date) -> None:
    check_between(
        day,
        earliest=EARLIEST_DATE,
        latest=today + datetime.timedelta(days=BOOKING_MAX_DAYS_AHEAD),
        too_early=_("Choose a date on or after %(date)s."),
        too_late=_("Rooms are booked at most ten years ahead: choose a date before %(date)s."),
    )


def check_receipt_date(spent_on: datetime.date, *, today: datetime.date) -> None:
    check_between(
        spent_on,
        earliest=today - datetime.timedelta(days=RECEIPT_MAX_AGE_DAYS),
        latest=today,
        too_early=_("Receipts older than two years are not reimbursed (before %(date)s)."),
        too_late=_("A receipt cannot be dated in the future (after %(date)s)."),
    )


def check_past_date(day: datetime.date, *, today: datetime.date) -> None:
    """A date something already happened on: a payment received, say."""
    check_between(
        day,
        earliest=EARLIEST_DATE,
        latest=today,
        too_early=_("The date cannot be before %(date)s."),
        too_late=_("The date cannot be in the future (after %(date)s)."),
    )


def check_any_date(day: datetime.date, *, today: datetime.date) -> None:
    """A date used to search: anything from 2000 to ten years ahead."""
    check_between(
        day,
        earliest=EARLIEST_DATE,
        latest=today + datetime.timedelta(days=10 * 366),
        too_early=_("The date cannot be before %(date)s."),
        too_late=_("The date cannot be after %(date)s."),
    )


def date_validator(check):
    """A form or serializer field validator running ``check`` against today's date."""

    def validate(value: datetime.date | None) -> None:
        if value is None:
            return
        try:
            check(value, today=timezone.localdate())
        except OutOfBounds as error:
            raise ValidationError(error.message, code="date_bounds") from None

    validate.__name__ = f"validate_{check.__name__.removeprefix('check_')}"
    return validate


def max_length_validator(limit: int) -> MaxLengthValidator:
    return MaxLengthValidator(limit)


def check_text_length(value: str, *, limit: int, label: str) -> None:
    """For services: refuse a text longer than ``limit`` rather than cut it."""
    if len(value) > limit:
        raise OutOfBounds(
            _("%(label)s: at most %(limit)d characters (you gave %(length)d).")
            % {"label": label, "limit": limit, "length": len(value)}
        )
