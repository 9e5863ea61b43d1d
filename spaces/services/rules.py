"""Booking rules: ``check_booking_rules`` refuses a slot that breaks a room rule (duration, steps,
lead time, horizon) or a site rule (opening hours, closed days, leases), ``find_conflict`` finds
the active booking whose blocked time meets the slot's, and ``_conflict_error`` words the refusal.
"""

import datetime
import functools
from decimal import Decimal

import holidays
from django.utils import dateformat, timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from spaces.errors import BookingError
from spaces.models import ACTIVE_STATES, Booking, ClosedDay, Lease, Room
from spaces.services.times import blocked_range, format_local, site_zone


def check_booking_rules(
    *,
    room: Room,
    start: datetime.datetime,
    end: datetime.datetime,
    now: datetime.datetime,
    by_manager: bool,
) -> None:
    """Refuse a slot that breaks a room or site rule; managers skip lead time and horizon."""
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise BookingError(_("Times must carry a time zone."), code="naive_time")
    start, end = start.astimezone(datetime.UTC), end.astimezone(datetime.UTC)
    if end <= start:
        raise BookingError(
            _("The end must be after the start."), code="end_before_start", field="end_time"
        )
    if not room.is_bookable:
        raise BookingError(
            _("%(room)s cannot be booked by the hour.") % {"room": room.name}, code="not_bookable"
        )
    if not room.site.is_active:
        raise BookingError(_("This site is closed for bookings."), code="site_inactive")
    if start < now:
        raise BookingError(_("This slot is in the past."), code="past", field="start_time")
    zone = site_zone(room.site)
    local_start = start.astimezone(zone)
    local_end = end.astimezone(zone)
    minutes = int((end - start).total_seconds() // 60)
    if minutes < room.min_duration_minutes:
        raise BookingError(
            ngettext(
                "%(room)s is booked for at least %(minutes)d minute.",
                "%(room)s is booked for at least %(minutes)d minutes.",
                room.min_duration_minutes,
            )
            % {"room": room.name, "minutes": room.min_duration_minutes},
            code="too_short",
            field="end_time",
        )
    if minutes > room.max_duration_minutes:
        raise BookingError(
            ngettext(
                "%(room)s is booked for at most %(hours)s hour.",
                "%(room)s is booked for at most %(hours)s hours.",
                _hours_count(room.max_duration_minutes),
            )
            % {"room": room.name, "hours": _hours(room.max_duration_minutes)},
            code="too_long",
            field="end_time",
        )
    start_minute = local_start.hour * 60 + local_start.minute
    if (
        start_minute % room.slot_minutes
        or minutes % room.slot_minutes
        or local_start.second
        or local_end.second
    ):
        raise BookingError(
            ngettext(
                "%(room)s is booked in steps of %(minutes)d minute (for instance 10:00–11:30).",
                "%(room)s is booked in steps of %(minutes)d minutes (for instance 10:00–11:30).",
                room.slot_minutes,
            )
            % {"room": room.name, "minutes": room.slot_minutes},
            code="granularity",
            field="start_time",
        )
    day = local_start.date()
    if local_end.date() != day and local_end.time() != datetime.time(0):
        raise BookingError(
            _("A booking starts and ends on the same day; use a series for several days."),
            code="several_days",
            field="end_time",
        )
    closed = ClosedDay.objects.filter(site=room.site, date=day).first()
    if closed is not None:
        raise BookingError(
            _("%(site)s is closed on %(date)s%(reason)s.")
            % {
                "site": room.site.name,
                "date": date_format(day, "SHORT_DATE_FORMAT"),
                "reason": f" ({closed_day_reason(closed)})" if closed.reason else "",
            },
            code="closed_day",
            field="date",
        )
    hours = room.site.opening_hours.filter(weekday=day.weekday()).first()
    if hours is None:
        raise BookingError(
            _("%(site)s is closed on %(weekday)s.")
            % {"site": room.site.name, "weekday": _weekday_name(day)},
            code="closed_weekday",
            field="date",
        )
    end_time = local_end.time() if local_end.date() == day else datetime.time(23, 59, 59)
    if local_start.time() < hours.opens_at or end_time > hours.closes_at:
        raise BookingError(
            _("%(site)s is open from %(opens)s to %(closes)s on %(weekday)s.")
            % {
                "site": room.site.name,
                "opens": hours.opens_at.strftime("%H:%M"),
                "closes": hours.closes_at.strftime("%H:%M"),
                "weekday": _weekday_name(day),
            },
            code="outside_opening_hours",
            field="start_time",
        )
    if Lease.objects.filter(room=room, period__contains=day).exists():
        raise BookingError(
            _("%(room)s is leased on %(date)s.")
            % {"room": room.name, "date": date_format(day, "SHORT_DATE_FORMAT")},
            code="leased",
        )
    if by_manager:
        return
    if start < now + datetime.timedelta(minutes=room.lead_time_minutes):
        raise BookingError(
            ngettext(
                "%(room)s must be booked at least %(hours)s hour ahead.",
                "%(room)s must be booked at least %(hours)s hours ahead.",
                _hours_count(room.lead_time_minutes),
            )
            % {"room": room.name, "hours": _hours(room.lead_time_minutes)},
            code="lead_time",
            field="start_time",
        )
    if day > timezone.localdate(now, zone) + datetime.timedelta(days=room.horizon_days):
        raise BookingError(
            ngettext(
                "%(room)s can be booked at most %(days)d day ahead.",
                "%(room)s can be booked at most %(days)d days ahead.",
                room.horizon_days,
            )
            % {"room": room.name, "days": room.horizon_days},
            code="horizon",
            field="date",
        )


def _hours(minutes: int) -> str:
    value = Decimal(minutes) / 60
    return f"{value.normalize():f}"


def _hours_count(minutes: int) -> int:
    """Return the number that picks the plural form of ``_hours(minutes)`` hours."""
    # Gettext plural rules take integers; a fraction ("1.5 hours") reads as a plural.
    return minutes // 60 if minutes % 60 == 0 else minutes


def _weekday_name(day: datetime.date) -> str:
    """Return the weekday as the active language writes it mid-sentence.

    English capitalises weekdays ("Saturday"), French and Dutch do not ("samedi", "zaterdag").
    """
    return dateformat.format(day, "l")


# The site's public holidays come from the ``holidays`` package (see spaces.demo), which names
# them in these languages; Django's language code -> the package's.
HOLIDAY_LANGUAGES = {"fr": "fr", "nl": "nl", "en": "en_US"}


@functools.cache
def _public_holidays(year: int, language: str | None) -> dict[datetime.date, str]:
    return dict(holidays.country_holidays("BE", years=year, language=language))


def closed_day_reason(closed: ClosedDay) -> str:
    """Return a closed day's reason in the active language when it is a public holiday's name.

    A reason the package wrote (in whichever of its languages) is shown in the page's language;
    a reason a manager typed is shown as entered.
    """
    language = HOLIDAY_LANGUAGES.get((translation.get_language() or "").split("-")[0])
    if language is None:
        return closed.reason
    year = closed.date.year
    names = {
        _public_holidays(year, other).get(closed.date)
        for other in (None, *holidays.BE.supported_languages)
    }
    if closed.reason not in names:
        return closed.reason
    return _public_holidays(year, language)[closed.date]


def find_conflict(
    room: Room,
    start: datetime.datetime,
    end: datetime.datetime,
    *,
    exclude_pk: int | None = None,
) -> Booking | None:
    """Return an active booking whose blocked time meets this slot's blocked time."""
    lower, upper = blocked_range(room, start, end)
    conflicts = Booking.objects.filter(
        room=room, state__in=ACTIVE_STATES, blocked_during__overlap=(lower, upper)
    )
    if exclude_pk:
        conflicts = conflicts.exclude(pk=exclude_pk)
    return conflicts.order_by("during").first()


def _conflict_error(room: Room, conflict: Booking) -> BookingError:
    zone = site_zone(room.site)
    values = {
        "room": room.name,
        "start": format_local(conflict.start, zone),
        "end": conflict.end.astimezone(zone).strftime("%H:%M"),
        "before": room.buffer_before_minutes,
        "after": room.buffer_after_minutes,
    }
    if room.buffer_before_minutes or room.buffer_after_minutes:
        message = _(
            "%(room)s is already booked from %(start)s to %(end)s "
            "(with %(before)d min before and %(after)d min after kept free)."
        )
    else:
        message = _("%(room)s is already booked from %(start)s to %(end)s.")
    return BookingError(message % values, code="conflict", field="start_time")
