"""The PDF of a sent quote version, rendered from its snapshot alone."""

import datetime
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from coop.pdf import render_pdf
from invoicing.calculation import percentage_of
from invoicing.pdf import _line, _mentions, _party, _vat_group

TEMPLATE = "quotes/pdf/quote.html"
STYLESHEET = "invoicing/pdf/invoice.css"


def render_quote_pdf(snapshot: dict) -> bytes:
    """Render the quote to PDF bytes, in the snapshot's language."""
    return render_pdf(
        TEMPLATE, quote_context(snapshot), language=snapshot["language"], stylesheets=[STYLESHEET]
    )


def _date(value: str) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def schedule_rows(schedule: list[dict]) -> list[dict]:
    """The payment schedule's parts with when each falls due, in words or as a date."""
    rows = []
    for part in schedule or []:
        due = part["due"]
        if due == "order":
            when = _("when the order is confirmed")
        elif due == "delivery":
            when = _("on delivery")
        else:
            when = _date(due)
        rows.append({"label": part["label"], "percent": Decimal(part["percent"]), "when": when})
    return rows


def quote_context(snapshot: dict) -> dict:
    """Turn the snapshot's strings into the dates, amounts and words the template shows."""
    deposit = snapshot.get("deposit_percent") or ""
    return {
        "snapshot": snapshot,
        "title": _("Quote"),
        "issue_date": _date(snapshot["issue_date"]),
        "valid_until": _date(snapshot["valid_until"]),
        "work_start": _date(snapshot.get("work_start", "")),
        "work_end": _date(snapshot.get("work_end", "")),
        "deposit_percent": Decimal(deposit) if deposit else None,
        "deposit_amount": (
            percentage_of(Decimal(snapshot["totals"]["tax_inclusive"]), Decimal(deposit))
            if deposit
            else None
        ),
        "schedule": schedule_rows(snapshot.get("schedule", [])),
        "seller": _party(snapshot["seller"]),
        "buyer": _party(snapshot["buyer"]),
        "lines": [_line(line) for line in snapshot["lines"]],
        "vat_breakdown": [_vat_group(group) for group in snapshot["vat_breakdown"]],
        "mentions": _mentions(snapshot["vat_breakdown"]),
        "totals": {name: Decimal(value) for name, value in snapshot["totals"].items()},
    }
