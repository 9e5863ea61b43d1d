"""Tax-form fixtures: members paid for work of the income year 2025 through the real payroll."""

import datetime
from decimal import Decimal

from contracts.models import Payslip
from contracts.services.contracts import (
    DayInput,
    WorkerInput,
    approve_contract,
    save_contract,
    submit_contract,
)
from contracts.services.payroll import run_payroll
from tests.conftest import NOW

YEAR = 2025


def weekdays(start: datetime.date, count: int) -> list[datetime.date]:
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def pay(
    staff, member, activity, *, start, count, wage, kind="non_artistic", is_task_based=False
) -> Payslip:
    """Pay the member for ``count`` days at ``wage`` from ``start``; return the payslip.

    The run also pays the copyright payments of the year approved by then."""
    days = weekdays(start, count)
    recorded_on = days[0] - datetime.timedelta(days=14)
    contract = save_contract(
        user=member.user,
        activity=activity,
        title="Lighting for 'Les Bonnes'",
        place="Théâtre des Galeries, Brussels",
        kind=kind,
        amount_to_invoice=Decimal(wage) * count * 2,
        workers=[
            WorkerInput(
                member=member,
                daily_wage=Decimal(wage),
                days=[DayInput(date=d) for d in days],
                is_task_based=is_task_based,
            )
        ],
        today=recorded_on,
    )
    submit_contract(user=member.user, contract=contract, today=recorded_on, now=NOW)
    approve_contract(staff_user=staff, contract=contract, today=recorded_on, now=NOW)
    run = run_payroll(
        staff_user=staff,
        period_start=days[0],
        period_end=days[-1],
        today=days[-1] + datetime.timedelta(days=3),
        now=NOW,
    )
    return run.payslips.get()
