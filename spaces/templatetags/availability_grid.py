"""``{% availability_grid grid %}``: a room's week (spaces.availability.WeekGrid) as a table.

Seven days of half hours make two hundred cells: written here with string joins rather than a
template loop (see room_rows). The cells carry stable data attributes that static/js/room-grid.js
and browser tests read:

- ``data-slot``: the cell's date and start on the site's clock, ``2026-03-10T10:00``;
- ``data-date``, ``data-start``, ``data-end``: the date and the wall-clock times (``HH:MM``);
- ``data-state``: free, busy, requested, mine, buffer, closed or past (spaces.availability.State).

The table itself carries ``data-step``, ``data-min-minutes`` and ``data-max-minutes``: the row's
length and the room's shortest and longest booking.

A free cell holds a link that reloads the page with the booking form filled in for that start
and the room's shortest booking, so the grid books without JavaScript as well.
"""

from django import template
from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext, pgettext

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


@register.simple_tag
def availability_grid(grid: WeekGrid, caption: str, bookable: bool) -> SafeString:
    """The grid's table: a header of days, a row per time, a cell per day and time; the free
    cells of a ``bookable`` room link to the booking form."""
    words = _state_words()
    escaped_words = {state: conditional_escape(word) for state, word in words.items()}
    headers = []
    day_names = []
    for column in grid.columns:
        day_names.append(conditional_escape(date_format(column.date, "l j F")))
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
            f'<abbr title="{day_names[-1]}">{conditional_escape(date_format(column.date, "D j/n"))}'
            f"</abbr>{note}</th>"
        )
    rows = []
    for index, time in enumerate(grid.times):
        start = f"{time:%H:%M}"
        end = "{:02d}:{:02d}".format(
            *divmod((time.hour * 60 + time.minute + grid.step_minutes) % (24 * 60), 60)
        )
        cells = []
        for column, day_name in zip(grid.columns, day_names, strict=True):
            cell = column.cells[index]
            spoken = f"{day_name}, {start}–{end}: {escaped_words[cell.state]}"
            label = ""
            if cell.booking is not None:
                zone = cell.start.tzinfo
                booked = (
                    f"{cell.booking.start.astimezone(zone):%H:%M}–"
                    f"{cell.booking.end.astimezone(zone):%H:%M}"
                )
                title = conditional_escape(capfirst(cell.booking.title or words[cell.state]))
                spoken += f" ({title}, {booked})"
                if cell.is_first:
                    label = f'<span class="grid-label" aria-hidden="true">{title} {booked}</span>'
            elif cell.is_first:
                word = conditional_escape(capfirst(words[cell.state]))
                label = f'<span class="grid-label" aria-hidden="true">{word}</span>'
            hidden = f'<span class="visually-hidden">{spoken}</span>'
            if cell.state == State.FREE and bookable:
                link = (
                    f"?date={column.date:%Y-%m-%d}&amp;start={start}"
                    f"&amp;end={cell.proposed_end:%H:%M}#book"
                )
                content = f'<a href="{link}">{hidden}</a>'
            else:
                content = f"{hidden}{label}"
            cells.append(
                f'<td data-slot="{column.date:%Y-%m-%d}T{start}" data-date="{column.date:%Y-%m-%d}"'
                f' data-start="{start}" data-end="{end}" data-state="{cell.state}">{content}</td>'
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
