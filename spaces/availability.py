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
from spaces.services.times import local_datetime

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
class Cell:
    start: datetime.datetime  # aware, on the site's clock
    end: datetime.datetime
    state: str
    booking: BusyTime | None  # the booking the cell shows, if taken
    is_first: bool  # the first cell of its booking, or of its closed day: where the label goes
    proposed_end: datetime.datetime | None  # for a free cell: the end its link proposes


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
    columns: list[Column]


def _minutes(moment: datetime.time) -> int:
    return moment.hour * 60 + moment.minute


def _at(room: Room, day: datetime.date, minute: int) -> datetime.datetime | None:
    """The aware moment ``minute`` minutes after the day's midnight on the site's clock, or None
    when a clock change skips or repeats it."""
    day += datetime.timedelta(days=minute // (24 * 60))
    minute %= 24 * 60
    try:
        return local_datetime(
            site=room.site, date=day, time=datetime.time(minute // 60, minute % 60)
        )
    except BookingError:
        return None


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
    before = datetime.timedelta(minutes=room.buffer_before_minutes)
    after = datetime.timedelta(minutes=room.buffer_after_minutes)
    shortest = datetime.timedelta(minutes=max(room.min_duration_minutes, step))
    columns = []
    for day in days:
        row = opening.get(day)
        cells = []
        # The bookings are in order and do not overlap: one pass over them per day.
        taken = blocked = 0
        for minute in minutes:
            start, end = _at(room, day, minute), _at(room, day, minute + step)
            booking = None
            if (
                row is None
                or start is None
                or end is None
                or minute < _minutes(row.opens_at)
                or minute + step > _minutes(row.closes_at)
            ):
                state = State.CLOSED
            else:
                while taken < len(busy) and busy[taken].end <= start:
                    taken += 1
                while blocked < len(busy) and busy[blocked].blocked_end <= start - before:
                    blocked += 1
                if taken < len(busy) and busy[taken].start < end:
                    booking = busy[taken]
                    if booking.is_mine:
                        state = State.MINE
                    elif booking.state == "tentative":
                        state = State.REQUESTED
                    else:
                        state = State.BUSY
                elif start < earliest:
                    state = State.PAST
                elif blocked < len(busy) and busy[blocked].blocked_start < end + after:
                    state = State.BUFFER
                else:
                    state = State.FREE
            previous = cells[-1] if cells else None
            if booking is not None:
                is_first = previous is None or previous.booking != booking
            else:
                is_first = state == State.CLOSED and row is None and previous is None
            cells.append(
                Cell(
                    start=start,
                    end=end,
                    state=state,
                    booking=booking,
                    is_first=is_first,
                    proposed_end=start + shortest if state == State.FREE else None,
                )
            )
        columns.append(
            Column(date=day, closed=closed_by_date.get(day), is_open=row is not None, cells=cells)
        )
    return WeekGrid(
        step_minutes=step,
        min_minutes=room.min_duration_minutes,
        max_minutes=room.max_duration_minutes,
        times=[datetime.time(minute // 60 % 24, minute % 60) for minute in minutes],
        columns=columns,
    )
