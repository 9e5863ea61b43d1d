"""Ledger table rows written in Python: the markup of the templates' row loops, faster.

A ledger page shows 25 rows of six cells each; through the template engine every cell costs a
variable lookup, a filter call and an escape, which added up to most of the page's rendering.
These tags write the very same markup (tests/members/test_ledger_rows.py compares them with
the loops they replace, in each language).
"""

from django import template
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

from coop.templatetags.money import euro, signed_class
from members.models import LedgerEntry, LedgerStage, ledger_movement

register = template.Library()


class _ShortDates:
    """``{{ moment|date:"SHORT_DATE_FORMAT" }}``, each local day formatted once per table."""

    def __init__(self) -> None:
        self.by_day: dict = {}

    def __call__(self, moment) -> str:
        moment = template_localtime(moment)
        day = moment.date()
        text = self.by_day.get(day)
        if text is None:
            text = self.by_day[day] = conditional_escape(date_format(moment, "SHORT_DATE_FORMAT"))
        return text


class _Labels:
    """``{{ entry.get_<field>_display }}``, each value's label translated and escaped once per
    table."""

    def __init__(self, field: str) -> None:
        self.field = field
        self.by_value: dict = {}

    def __call__(self, entry: LedgerEntry) -> str:
        value = getattr(entry, self.field)
        text = self.by_value.get(value)
        if text is None:
            label = getattr(entry, f"get_{self.field}_display")()
            text = self.by_value[value] = conditional_escape(label)
        return text


class _Movements:
    """``{{ entry.movement }}``, each kind, stage and sign's words translated and escaped once
    per table."""

    def __init__(self) -> None:
        self.by_key: dict = {}

    def __call__(self, entry: LedgerEntry) -> str:
        key = (entry.kind, entry.stage, entry.amount > 0)
        text = self.by_key.get(key)
        if text is None:
            text = self.by_key[key] = conditional_escape(
                ledger_movement(entry.kind, entry.stage, entry.amount)
            )
        return text


def _amount_cell(amount) -> str:
    return (
        f'<td class="number {conditional_escape(signed_class(amount))}">'
        f"{conditional_escape(euro(amount))}</td>"
    )


_EMPTY_AMOUNT_CELL = '<td class="number"></td>'
# Between two cells of a row, as the templates' loops lay them out.
_ACTIVITY_CELL_BREAK = "\n      "
_DASHBOARD_CELL_BREAK = "\n        "


_STAGE_COLUMNS = [LedgerStage.GUARANTEED, LedgerStage.PLANNED, LedgerStage.AVAILABLE]


def _stage_cells(entry: LedgerEntry, indent: str) -> str:
    """The entry's amount under the column of its stage: guaranteed, planned, then available."""
    return indent.join(
        _amount_cell(entry.amount) if entry.stage == stage else _EMPTY_AMOUNT_CELL
        for stage in _STAGE_COLUMNS
    )


@register.simple_tag
def ledger_rows(entries: list[LedgerEntry]) -> SafeString:
    """The rows of an Activity's ledger table (members/activity_detail.html)."""
    short_date, kind, movement = _ShortDates(), _Labels("kind"), _Movements()
    rows = [
        "\n    <tr>"
        f"\n      <td>{short_date(entry.created_at)}</td>"
        f"\n      <td>{kind(entry)}</td>"
        f"\n      <td>{conditional_escape(entry.reference)}</td>"
        f"\n      <td>{conditional_escape(entry.description)}</td>"
        f"\n      <td>{movement(entry)}</td>"
        f"\n      {_stage_cells(entry, _ACTIVITY_CELL_BREAK)}"
        "\n    </tr>\n  "
        for entry in entries
    ]
    return mark_safe("".join(rows))  # noqa: S308 (every value is escaped above)


@register.simple_tag
def recent_ledger_rows(entries: list[LedgerEntry]) -> SafeString:
    """The rows of the dashboard's latest entries across Activities (members/dashboard.html)."""
    short_date, kind, movement = _ShortDates(), _Labels("kind"), _Movements()
    links: dict[int, str] = {}
    rows = []
    for entry in entries:
        link = links.get(entry.activity_id)
        if link is None:
            url = reverse("members:activity_detail", args=[entry.activity_id])
            link = links[entry.activity_id] = conditional_escape(url)
        rows.append(
            "\n      <tr>"
            f"\n        <td>{short_date(entry.created_at)}</td>"
            f'\n        <td><a href="{link}">{conditional_escape(entry.activity.name)}</a></td>'
            f"\n        <td>{kind(entry)}"
            f' <span class="muted">{conditional_escape(entry.reference)}</span></td>'
            f"\n        <td>{movement(entry)}</td>"
            f"\n        {_stage_cells(entry, _DASHBOARD_CELL_BREAK)}"
            "\n      </tr>\n    "
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value is escaped above)
