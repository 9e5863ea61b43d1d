"""The payslip PDF layout, filled from the payslip's snapshot."""

import datetime
from decimal import Decimal

from contracts.allowances import allowance_lines
from contracts.models import Payslip
from coop.pdf import render_pdf


def payslip_context(payslip: Payslip) -> dict:
    snapshot = payslip.snapshot
    figures = {name: Decimal(value) for name, value in snapshot["figures"].items()}
    month = None
    # Payslips from before monthly withholding have no month totals; alone in its month, a
    # payslip's figures are the month's.
    if snapshot.get("month", {}).get("payslips", 0) > 1:
        month = {
            name: value if name == "payslips" else Decimal(value)
            for name, value in snapshot["month"].items()
            if name != "start"
        }
        month["start"] = datetime.date.fromisoformat(snapshot["month"]["start"])
    return {
        "payslip": payslip,
        "reference": payslip.reference,
        "kind": payslip.kind,
        "snapshot": snapshot,
        "daily_wage": Decimal(snapshot["daily_wage"]),
        "figures": figures,
        "month": month,
        "days": [
            (datetime.date.fromisoformat(day), Decimal(portion))
            for day, portion in snapshot["days"]
        ],
        "pay_date": datetime.date.fromisoformat(snapshot["pay_date"]),
        "created": payslip.created_at.date(),
        "allowances": allowance_lines(snapshot),
    }


def render_payslip_pdf(payslip: Payslip) -> bytes:
    """Render the payslip in the member's language."""
    return render_pdf(
        "contracts/pdf/payslip.html", payslip_context(payslip), language=payslip.language
    )
