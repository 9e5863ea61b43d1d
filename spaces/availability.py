"""A room's week as an availability grid: one column per day, one row per step of the room's
slot granularity, each cell free, taken, kept free around a booking, closed or too late to book.

The grid is built from what the page reads anyway (opening hours, closed days, the week's
bookings); it decides nothing the booking rules do not check again when the member books.
"""

import datetime
import math
from dataclasses import dataclass

from spaces.errors import BookingError
from spaces.models import ClosedDay, OpeningHours, Room
from spaces.selectors import BusyTime
from spaces.services.times import local_datetime, site_zone

# Rows are never shorter than this: a room booked in steps of 5 minutes would make a grid of
# 168 rows a day.
SHORTEST_ROW_MINUTES = 15


class State:
    FREE = "free"
    BUSY = "busy"  # another's booking
    REQUESTED = "requested"  # another's request awaiting approval
    MINE = "mine"  # the user's own booking
    BUFFER = "buffer"  # kept free around a booking by the room's buffers
    CLOSED = "closed"  # a closed day, or outside the day's opening hours
    PAST = "past"  # before now, or within the room's lead time for a member


@dataclass(frozen=True)
class Booked:
    """A booking as its cells show it: times on the site's clock, the title if the user may
    read it."""

    start: datetime.time
    end: datetime.time
    state: str
    title: str


@dataclass(frozen=True)
class Cell:
    state: str
    booking: Booked | None  # the booking the cell shows, if taken
    is_first: bool  # the first cell of its booking, or of its closed day: where the label goes


@dataclass(frozen=True)
class Column:
    date: datetime.date
    closed: ClosedDay | None  # the closed day, if it is one
    is_open: bool  # the site opens this day
    cells: list[Cell]


@dataclass(frozen=True)
class WeekGrid:
    step_minutes: int
    min_minutes: int  # the room's shortest and longest booking
    max_minutes: int
    times: list[datetime.time]
    proposed_ends: list[datetime.time]  # the end a free cell's link proposes, by row
    columns: list[Column]


DAY_MINUTES = 24 * 60


def _minutes(moment: datetime.time) -> int:
    return moment.hour * 60 + moment.minute


def _time(minute: int) -> datetime.time:
    minute %= DAY_MINUTES
    return datetime.time(minute // 60, minute % 60)


class _WeekClock:
    """Moments as minutes since the week's Monday 00:00 on the site's wall clock.

    Two hundred cells compared with a week of bookings as integers rather than aware datetimes:
    the grid costs a fraction of a millisecond instead of several.
    """

    def __init__(self, room: Room, monday: datetime.date) -> None:
        self.zone = site_zone(room.site)
        self.monday = monday

    def minute(self, moment: datetime.datetime, *, round_up: bool = False) -> int:
        local = moment.astimezone(self.zone)
        minute = (local.date() - self.monday).days * DAY_MINUTES + _minutes(local.time())
        return minute + 1 if round_up and (local.second or local.microsecond) else minute

    def skipped_or_repeated(self, room: Room, day: datetime.date) -> set[int]:
        """The minutes of the day (as multiples of five) that a clock change skips or repeats,
        none on the days it does not change."""
        midnight = datetime.datetime.combine(day, datetime.time(0))
        following = midnight + datetime.timedelta(days=1)
        if self.zone.utcoffset(midnight) == self.zone.utcoffset(following):
            return set()
        unclear = set()
        for minute in range(0, DAY_MINUTES, 5):
            try:
                local_datetime(site=room.site, date=day, time=_time(minute))
            except BookingError:
                unclear.add(minute)
        return unclear


def week_grid(
    *,
    room: Room,
    monday: datetime.date,
    hours: list[OpeningHours],
    closed_days: list[ClosedDay],
    busy: list[BusyTime],
    earliest: datetime.datetime,
) -> WeekGrid:
    """Lay out the room's week from Monday: ``busy`` are its bookings meeting the week, in
    order; cells starting before ``earliest`` (now, plus the lead time for a member) are past."""
    step = room.slot_minutes * math.ceil(SHORTEST_ROW_MINUTES / room.slot_minutes)
    by_weekday = {row.weekday: row for row in hours}
    closed_by_date = {closed.date: closed for closed in closed_days}
    days = [monday + datetime.timedelta(days=offset) for offset in range(7)]
    opening = {
        day: by_weekday[day.weekday()]
        for day in days
        if day.weekday() in by_weekday and day not in closed_by_date
    }
    if opening:
        first = min(_minutes(row.opens_at) for row in opening.values())
        last = max(_minutes(row.closes_at) for row in opening.values())
        minutes = list(range(first - first % step, last, step))
    else:
        minutes = []
    clock = _WeekClock(room, monday)
    # (start, end, blocked start, blocked end) in minutes of the week, and what the cells show.
    taken_minutes = [
        (
            clock.minute(booking.start),
            clock.minute(booking.end, round_up=True),
            clock.minute(booking.blocked_start),
            clock.minute(booking.blocked_end, round_up=True),
        )
        for booking in busy
    ]
    shown = [
        Booked(
            start=booking.start.astimezone(clock.zone).time(),
            end=booking.end.astimezone(clock.zone).time(),
            state=State.MINE
            if booking.is_mine
            else (State.REQUESTED if booking.state == "tentative" else State.BUSY),
            title=booking.title,
        )
        for booking in busy
    ]
    earliest_minute = clock.minute(earliest, round_up=True)
    before, after = room.buffer_before_minutes, room.buffer_after_minutes
    shortest = max(room.min_duration_minutes, step)
    columns = []
    for offset, day in enumerate(days):
        row = opening.get(day)
        if row is None:
            cells = [Cell(State.CLOSED, None, index == 0) for index in range(len(minutes))]
            columns.append(
                Column(date=day, closed=closed_by_date.get(day), is_open=False, cells=cells)
            )
            continue
        opens, closes = _minutes(row.opens_at), _minutes(row.closes_at)
        unclear = clock.skipped_or_repeated(room, day)
        base = offset * DAY_MINUTES
        cells = []
        # The bookings are in order and do not overlap: one pass over them per day.
        taken = blocked = 0
        previous = None
        for minute in minutes:
            start, end = base + minute, base + minute + step
            booking = None
            if (
                minute < opens
                or minute + step > closes
                or (unclear and any(minute <= late < minute + step for late in unclear))
            ):
                state = State.CLOSED
            else:
                while taken < len(busy) and taken_minutes[taken][1] <= start:
                    taken += 1
                while blocked < len(busy) and taken_minutes[blocked][3] <= start - before:
                    blocked += 1
                if taken < len(busy) and taken_minutes[taken][0] < end:
                    booking = shown[taken]
                    state = booking.state
                elif start < earliest_minute:
                    state = State.PAST
                elif blocked < len(busy) and taken_minutes[blocked][2] < end + after:
                    state = State.BUFFER
                else:
                    state = State.FREE
            cell = Cell(
                state=state,
                booking=booking,
                is_first=booking is not None
                and (previous is None or previous.booking is not booking),
            )
            cells.append(cell)
            previous = cell
        columns.append(Column(date=day, closed=None, is_open=True, cells=cells))
    return WeekGrid(
        step_minutes=step,
        min_minutes=room.min_duration_minutes,
        max_minutes=room.max_duration_minutes,
        times=[_time(minute) for minute in minutes],
        proposed_ends=[_time(minute + shortest) for minute in minutes],
        columns=columns,
    )
