"""The copyright statement's PDF layout, filled from the statement's snapshot."""

import datetime
from decimal import Decimal

from coop.pdf import render_pdf
from copyrights.models import CopyrightStatement, WorkKind


def statement_context(statement: CopyrightStatement) -> dict:
    snapshot = statement.snapshot
    return {
        "statement": statement,
        "reference": statement.reference,
        "snapshot": snapshot,
        "work_kind": WorkKind(snapshot["work_kind"]).label,
        "figures": {name: Decimal(value) for name, value in snapshot["figures"].items()},
        "pay_date": datetime.date.fromisoformat(snapshot["pay_date"]),
        "created": statement.created_at.date(),
    }


def render_statement_pdf(statement: CopyrightStatement) -> bytes:
    """Render the statement in the member's language."""
    return render_pdf(
        "copyrights/pdf/statement.html", statement_context(statement), language=statement.language
    )
