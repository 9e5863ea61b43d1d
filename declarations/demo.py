"""The declarations part of the demo world: a white-collar employee who leaves, paid with the
exit holiday pay on the last payslip, and a blue-collar job, in the DmfA of their quarter."""

import datetime
import time
from decimal import Decimal

from contracts.demo import _weekdays
from contracts.models import Contract
from contracts.services import contracts as services
from contracts.services.contracts import DayInput, WorkerInput
from contracts.services.payroll import run_payroll
from declarations.selectors import Quarter
from declarations.services import export_dmfa, set_engagement_terms
from members.models import Activity

JOBS = [
    (
        "Visitor guide for the autumn exhibition",
        "Musée des Égouts, Bruxelles",
        Contract.EmployeeCategory.WHITE_COLLAR,
        True,
        Decimal("210.00"),
    ),
    (
        "Stage rigging, festival set-up",
        "Parc Josaphat, Schaerbeek",
        Contract.EmployeeCategory.BLUE_COLLAR,
        False,
        Decimal("190.00"),
    ),
]


def seed(context: dict, *, stdout) -> None:
    """Pay a white-collar exit and a blue-collar job that ended last week."""
    staff, today = context["staff"], context["today"]
    pairs = []
    for member in context["members"]:
        activity = Activity.objects.filter(owner=member).order_by("pk").first()
        if activity is not None and member.niss:
            pairs.append((member, activity))
    # Members the contracts demo leaves free, so that no work day overlaps theirs.
    chosen = pairs[4:6] if len(pairs) >= 6 else pairs[-2:]
    if len(chosen) < len(JOBS):
        return
    days = _weekdays(today - datetime.timedelta(days=14), 5)
    recorded_on = days[0] - datetime.timedelta(days=10)
    for (member, activity), (title, place, category, leaves, wage) in zip(
        chosen, JOBS, strict=True
    ):
        contract = services.save_contract(
            user=member.user,
            activity=activity,
            title=title,
            place=place,
            kind=Contract.Kind.NON_ARTISTIC,
            amount_to_invoice=Decimal("1800.00"),
            workers=[
                WorkerInput(
                    member=member,
                    daily_wage=wage,
                    days=[DayInput(date=day) for day in days],
                )
            ],
            today=recorded_on,
        )
        set_engagement_terms(
            staff_user=staff, contract=contract, employee_category=category, ends_engagement=leaves
        )
        services.submit_contract(user=member.user, contract=contract, today=recorded_on)
        services.approve_contract(
            staff_user=staff, contract=contract, today=recorded_on + datetime.timedelta(days=2)
        )
    run = run_payroll(staff_user=staff, period_start=days[0], period_end=days[-1], today=today)
    stdout.write(
        f"A white-collar exit and a blue-collar job: payroll run with {run.payslip_count} payslips."
    )


def seed_heavy(context: dict, *, stdout) -> None:
    """The DmfA file of last quarter, exported whole: its export page has a row to show."""
    today = context["today"]
    started = time.monotonic()
    export = export_dmfa(
        staff_user=context["staff"], quarter=Quarter.of(today).previous, today=today
    )
    stdout.write(
        f"  the DmfA file of {export.year}-{export.quarter}: {export.workers:,} workers, "
        f"in {time.monotonic() - started:.1f} s"
    )
