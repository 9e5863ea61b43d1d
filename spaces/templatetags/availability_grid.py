"""``{% availability_grid grid %}``: a room's week (spaces.availability.WeekGrid) as a table.

Seven days of half hours make two hundred cells: written here with string joins rather than a
template loop (see room_rows). The cells carry stable data attributes that static/js/room-grid.js
and browser tests read:

- ``data-slot``: the cell's date and start on the site's clock, ``2026-03-10T10:00``;
- ``data-start``, ``data-end``: its start and end on the site's clock (``HH:MM``);
- ``data-state``: free, busy, requested, mine, buffer, closed or past (spaces.availability.State).

The table itself carries ``data-step``, ``data-min-minutes`` and ``data-max-minutes``: the row's
length and the room's shortest and longest booking.

A free cell holds a link that reloads the page with the booking form filled in for that start
and the room's shortest booking, so the grid books without JavaScript as well.
"""

import datetime
import functools

from django import template
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext, pgettext

from spaces.availability import State, WeekGrid
from spaces.services.rules import closed_day_reason

register = template.Library()


def _state_words() -> dict[str, str]:
    return {
        State.FREE: pgettext("slot", "free"),
        State.BUSY: pgettext("slot", "booked"),
        State.REQUESTED: pgettext("slot", "requested"),
        State.MINE: pgettext("slot", "your booking"),
        State.BUFFER: pgettext("slot", "kept free between bookings"),
        State.CLOSED: pgettext("slot", "closed"),
        State.PAST: pgettext("slot", "no longer bookable"),
    }


def _clock(minute: int) -> str:
    """A minute of the day as the site's clock shows it, 24:00 as 00:00."""
    return "{:02d}:{:02d}".format(*divmod(minute % (24 * 60), 60))


@functools.lru_cache(maxsize=256)
def _day_names(day: datetime.date, language: str) -> tuple[str, str]:
    """A day's name in full ("mardi 8 décembre") and short ("mar 8/12"), escaped: formatting a
    date costs a tenth of a millisecond, and every visit of a week asks for the same seven."""
    with translation.override(language):
        return (
            conditional_escape(date_format(day, "l j F")),
            conditional_escape(date_format(day, "D j/n")),
        )


@register.simple_tag
def availability_grid(grid: WeekGrid, caption: str, bookable: bool) -> SafeString:
    """The grid's table: a header of days, a row per time, a cell per day and time; the free
    cells of a ``bookable`` room link to the booking form."""
    words = _state_words()
    escaped_words = {state: conditional_escape(word) for state, word in words.items()}
    headers = []
    language = get_language()
    for column in grid.columns:
        day_name, short_name = _day_names(column.date, language)
        note = ""
        if not column.is_open:
            reason = (
                closed_day_reason(column.closed) if column.closed and column.closed.reason else ""
            )
            note = f'<br><span class="grid-closed">{escaped_words[State.CLOSED]}</span>'
            if reason:
                note += f' <span class="muted">({conditional_escape(reason)})</span>'
        headers.append(
            f'<th scope="col" data-date="{column.date:%Y-%m-%d}">'
            f'<abbr title="{day_name}">{short_name}'
            f"</abbr>{note}</th>"
        )
    dates = [f"{column.date:%Y-%m-%d}" for column in grid.columns]
    labels = {
        state: f'<span class="grid-label" aria-hidden="true">{conditional_escape(capfirst(word))}'
        "</span>"
        for state, word in words.items()
    }
    hidden = {
        state: f'<span class="visually-hidden">{word}</span>'
        for state, word in escaped_words.items()
    }
    rows = []
    for index, time in enumerate(grid.times):
        start = _clock(time.hour * 60 + time.minute)
        end = _clock(time.hour * 60 + time.minute + grid.step_minutes)
        proposed_end = grid.proposed_ends[index]
        link = f"&amp;start={start}&amp;end={proposed_end.hour:02d}:{proposed_end.minute:02d}#book"
        cells = []
        for column, date in zip(grid.columns, dates, strict=True):
            cell = column.cells[index]
            state = cell.state
            if cell.booking is not None:
                # The row and column headers give the cell's time and day; the cell its state
                # and the booking's title and times.
                booked = f"{cell.booking.start:%H:%M}–{cell.booking.end:%H:%M}"
                title = conditional_escape(capfirst(cell.booking.title or words[state]))
                spoken = f"{escaped_words[state]} ({title}, {booked})"
                content = f'<span class="visually-hidden">{spoken}</span>'
                if cell.is_first:
                    content += (
                        f'<span class="grid-label" aria-hidden="true">{title} {booked}</span>'
                    )
            elif state == State.FREE and bookable:
                content = f'<a href="?date={date}{link}">{hidden[state]}</a>'
            else:
                content = hidden[state] + labels[state] if cell.is_first else hidden[state]
            cells.append(
                f'<td data-slot="{date}T{start}" data-start="{start}" data-end="{end}"'
                f' data-state="{state}">{content}</td>'
            )
        rows.append(f'<tr><th scope="row">{start}</th>{"".join(cells)}</tr>\n')
    return mark_safe(  # noqa: S308 (every value is escaped above)
        f'<table class="availability-grid" role="grid" aria-describedby="grid-help"'
        f' data-step="{grid.step_minutes}" data-min-minutes="{grid.min_minutes}"'
        f' data-max-minutes="{grid.max_minutes}">'
        f'<caption class="visually-hidden">{conditional_escape(caption)}</caption>'
        f'<thead><tr><th scope="col">{conditional_escape(gettext("Time"))}</th>{"".join(headers)}'
        f"</tr></thead>\n<tbody>{''.join(rows)}</tbody></table>"
    )
