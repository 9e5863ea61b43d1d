"""The site's wall clock, shared by the other modules of the package: the site's time zone,
local times (refusing those a clock change skips or repeats), a booking's aware range and the
longer range its room's buffers block, and moments formatted for messages.
"""

import datetime
from zoneinfo import ZoneInfo

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from spaces.errors import BookingError
from spaces.models import Room, Site


def site_zone(site: Site) -> ZoneInfo:
    return ZoneInfo(site.time_zone)


def format_local(moment: datetime.datetime, zone: ZoneInfo) -> str:
    """Write a moment as the site's local date, in the active language, and 24-hour time."""
    local = moment.astimezone(zone)
    return f"{date_format(local, 'SHORT_DATE_FORMAT')} {local:%H:%M}"


def local_datetime(*, site: Site, date: datetime.date, time: datetime.time) -> datetime.datetime:
    """Return the aware moment a wall-clock time of the site designates, refusing DST gaps.

    In Brussels 02:30 on the last Sunday of March does not exist and 02:30 on the last Sunday
    of October happens twice: both are refused rather than silently shifted.
    """
    zone = site_zone(site)
    naive = datetime.datetime.combine(date, time)
    moment = naive.replace(tzinfo=zone)
    round_trip = moment.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:
        raise BookingError(
            _(
                "%(time)s on %(date)s does not exist in %(zone)s: the clocks go forward "
                "that night. Choose another time."
            )
            % {
                "time": time.strftime("%H:%M"),
                "date": date_format(date, "SHORT_DATE_FORMAT"),
                "zone": zone,
            },
            code="nonexistent_time",
            field="start_time",
        )
    if moment.utcoffset() != naive.replace(tzinfo=zone, fold=1).utcoffset():
        raise BookingError(
            _(
                "%(time)s on %(date)s happens twice in %(zone)s: the clocks go back that "
                "night. Choose another time."
            )
            % {
                "time": time.strftime("%H:%M"),
                "date": date_format(date, "SHORT_DATE_FORMAT"),
                "zone": zone,
            },
            code="ambiguous_time",
            field="start_time",
        )
    return moment


def booking_range(
    *,
    site: Site,
    date: datetime.date,
    start_time: datetime.time,
    end_time: datetime.time,
) -> tuple[datetime.datetime, datetime.datetime]:
    """Turn a date and two wall-clock times of the site into an aware range."""
    # Arithmetic on two datetimes of the same ZoneInfo ignores the clock change: use UTC.
    start = local_datetime(site=site, date=date, time=start_time).astimezone(datetime.UTC)
    end = local_datetime(site=site, date=date, time=end_time).astimezone(datetime.UTC)
    if end <= start:
        raise BookingError(
            _("The end must be after the start."), code="end_before_start", field="end_time"
        )
    return start, end


def blocked_range(
    room: Room, start: datetime.datetime, end: datetime.datetime
) -> tuple[datetime.datetime, datetime.datetime]:
    return (
        start - datetime.timedelta(minutes=room.buffer_before_minutes),
        end + datetime.timedelta(minutes=room.buffer_after_minutes),
    )
