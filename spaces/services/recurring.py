"""Recurring bookings: plan the occurrences of a weekly, fortnightly or monthly rule on the site's
wall clock, book a series (every occurrence, or only the free ones) through
``lifecycle.book_room``, and cancel the rest of a series.
"""

import datetime
from dataclasses import dataclass, field

from dateutil import rrule
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from invoicing.models import Client
from members.models import Activity, User
from spaces.errors import BookingError
from spaces.models import Booking, BookingSeries, BookingState, Room
from spaces.selectors import is_space_manager
from spaces.services.lifecycle import book_room, cancel_booking
from spaces.services.rules import _conflict_error, check_booking_rules, find_conflict
from spaces.services.times import booking_range, site_zone

MAX_OCCURRENCES = 104


@dataclass
class Occurrence:
    start: datetime.datetime
    end: datetime.datetime
    problem: str = ""


@dataclass
class SeriesResult:
    series: BookingSeries | None
    bookings: list[Booking] = field(default_factory=list)
    skipped: list[Occurrence] = field(default_factory=list)


FREQUENCIES = {
    BookingSeries.Frequency.WEEKLY: (rrule.WEEKLY, 1),
    BookingSeries.Frequency.BIWEEKLY: (rrule.WEEKLY, 2),
    BookingSeries.Frequency.MONTHLY: (rrule.MONTHLY, 1),
}


def plan_series(
    *,
    actor: User,
    room: Room,
    date: datetime.date,
    start_time: datetime.time,
    end_time: datetime.time,
    frequency: str,
    until: datetime.date | None = None,
    count: int | None = None,
    now: datetime.datetime | None = None,
) -> list[Occurrence]:
    """List the occurrences of a rule, each with the problem that prevents booking it."""
    now = now or timezone.now()
    if frequency not in FREQUENCIES:
        raise BookingError(_("Choose how often the booking repeats."), code="frequency")
    if until is None and count is None:
        raise BookingError(
            _("A repeating booking needs an end: a last date or a number of occurrences."),
            code="no_end",
            field="until",
        )
    if until is not None and count is not None:
        raise BookingError(
            _("End the series either on a date or after a number of occurrences, not both."),
            code="two_ends",
            field="count",
        )
    if count is not None and not 1 <= count <= MAX_OCCURRENCES:
        raise BookingError(
            ngettext(
                "A series has between 1 and %(max)d occurrence.",
                "A series has between 1 and %(max)d occurrences.",
                MAX_OCCURRENCES,
            )
            % {"max": MAX_OCCURRENCES},
            code="count",
            field="count",
        )
    if until is not None and until < date:
        raise BookingError(
            _("The series must end after its first date."), code="until", field="until"
        )
    room = Room.objects.select_related("site").get(pk=room.pk)
    by_manager = is_space_manager(actor)
    freq, interval = FREQUENCIES[frequency]
    # Repeat on the wall clock: 10:00 stays 10:00 across the change to summer time.
    dates = list(
        rrule.rrule(
            freq,
            interval=interval,
            dtstart=datetime.datetime.combine(date, datetime.time(0)),
            until=datetime.datetime.combine(until, datetime.time(0)) if until else None,
            count=count,
        )[: MAX_OCCURRENCES + 1]
    )
    if len(dates) > MAX_OCCURRENCES:
        raise BookingError(
            ngettext(
                "A series has at most %(max)d occurrence.",
                "A series has at most %(max)d occurrences.",
                MAX_OCCURRENCES,
            )
            % {"max": MAX_OCCURRENCES},
            code="count",
            field="until",
        )
    occurrences = []
    for day in dates:
        try:
            start, end = booking_range(
                site=room.site, date=day.date(), start_time=start_time, end_time=end_time
            )
        except BookingError as error:
            moment = datetime.datetime.combine(day.date(), start_time, site_zone(room.site))
            occurrences.append(Occurrence(moment, moment, error.message))
            continue
        occurrence = Occurrence(start, end)
        try:
            check_booking_rules(room=room, start=start, end=end, now=now, by_manager=by_manager)
            conflict = find_conflict(room, start, end)
            if conflict is not None:
                raise _conflict_error(room, conflict)
        except BookingError as error:
            occurrence.problem = error.message
        occurrences.append(occurrence)
    return occurrences


@transaction.atomic
def book_series(
    *,
    actor: User,
    room: Room,
    date: datetime.date,
    start_time: datetime.time,
    end_time: datetime.time,
    title: str,
    frequency: str,
    until: datetime.date | None = None,
    count: int | None = None,
    book_free_only: bool = False,
    activity: Activity | None = None,
    organisation: Client | None = None,
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    now: datetime.datetime | None = None,
) -> SeriesResult:
    """Book every occurrence of a rule; with conflicts, book the free ones or none.

    Without ``book_free_only`` any problem refuses the whole series and lists the problems.
    """
    now = now or timezone.now()
    occurrences = plan_series(
        actor=actor,
        room=room,
        date=date,
        start_time=start_time,
        end_time=end_time,
        frequency=frequency,
        until=until,
        count=count,
        now=now,
    )
    problems = [occurrence for occurrence in occurrences if occurrence.problem]
    if problems and not book_free_only:
        zone = site_zone(room.site)
        listed = "; ".join(
            f"{date_format(occurrence.start.astimezone(zone), 'SHORT_DATE_FORMAT')}: "
            f"{occurrence.problem}"
            for occurrence in problems[:10]
        )
        raise BookingError(
            ngettext(
                "%(count)d of %(total)d occurrence cannot be booked, so none was: %(list)s",
                "%(count)d of %(total)d occurrences cannot be booked, so none was: %(list)s",
                len(occurrences),
            )
            % {"count": len(problems), "total": len(occurrences), "list": listed},
            code="series_conflicts",
        )
    free = [occurrence for occurrence in occurrences if not occurrence.problem]
    if not free:
        raise BookingError(_("No occurrence of this series is free."), code="series_conflicts")
    series = BookingSeries.objects.create(
        room=room,
        frequency=frequency,
        until=until,
        count=count,
        created_by=actor,
        created_at=now,
    )
    result = SeriesResult(series=series, skipped=problems)
    for occurrence in free:
        result.bookings.append(
            book_room(
                actor=actor,
                room=room,
                start=occurrence.start,
                end=occurrence.end,
                title=title,
                activity=activity,
                organisation=organisation,
                contact_name=contact_name,
                contact_email=contact_email,
                contact_phone=contact_phone,
                series=series,
                now=now,
            )
        )
    return result


@transaction.atomic
def cancel_rest_of_series(
    *,
    actor: User,
    booking: Booking,
    reason: str = "",
    waive_fee: bool = False,
    now: datetime.datetime | None = None,
) -> list[Booking]:
    """Cancel this occurrence and every later active one of its series."""
    now = now or timezone.now()
    if booking.series_id is None:
        raise BookingError(_("This booking is not part of a series."), code="no_series")
    later = Booking.objects.filter(
        series_id=booking.series_id,
        state__in=[BookingState.TENTATIVE, BookingState.CONFIRMED],
        during__startswith__gte=booking.start,
    ).order_by("during")
    return [
        cancel_booking(actor=actor, booking=item, reason=reason, waive_fee=waive_fee, now=now)
        for item in later
    ]
