"""The artists' part of the demo world: an artist paid per task over the last year and a half
(for the work statement and a C4), and a member with mileage and per-diems on a payslip.

Called from ``contracts.demo.seed`` once its own payroll run is done: this part pays work that
ended more than three months ago, in a run of its own.
"""

import datetime
from decimal import Decimal

from contracts.allowances import AllowanceInput, claim_allowance
from contracts.c4 import produce_c4
from contracts.models import AllowanceRate, ContractWorker
from contracts.services import contracts as services
from contracts.services.contracts import DayInput, WorkerInput
from contracts.services.expenses import approve_expense_claim
from contracts.services.payroll import run_payroll
from members.models import Activity, LedgerEntryKind, LedgerStage
from members.services import post_ledger_entry

# Task-paid engagements of the artist: days before today, days of work, the cachet (gross).
TASKS = [
    ("Solo exhibition, opening performance", 520, 1, Decimal("1850.00")),
    ("Chamber music, three concerts", 430, 3, Decimal("2400.00")),
    ("Theatre tour, twelve dates", 330, 10, Decimal("7600.00")),
    ("Festival set, main stage", 240, 1, Decimal("3200.00")),
    ("Recording session, one album", 150, 4, Decimal("2750.00")),
]
# Per-diems abroad by country: a few rows standing in for the Foreign Affairs table in the demo.
DEMO_COUNTRY_RATES = [("FR", "47.00"), ("NL", "51.00"), ("DE", "45.00"), ("LU", "49.00")]


def _weekdays(start: datetime.date, count: int) -> list[datetime.date]:
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def _job(member, activity, staff, *, title, start, count, daily_wage, task_based):
    days = _weekdays(start, count)
    recorded_on = days[0] - datetime.timedelta(days=10)
    contract = services.save_contract(
        user=member.user,
        activity=activity,
        title=title,
        place="Brussels",
        kind="artistic",
        amount_to_invoice=(daily_wage * count * 2).quantize(Decimal("1")),
        workers=[
            WorkerInput(
                member=member,
                daily_wage=daily_wage,
                days=[DayInput(date=day) for day in days],
                is_task_based=task_based,
            )
        ],
        today=recorded_on,
    )
    services.submit_contract(user=member.user, contract=contract, today=recorded_on)
    return services.approve_contract(
        staff_user=staff, contract=contract, today=recorded_on + datetime.timedelta(days=1)
    )


def seed(context: dict, *, stdout) -> None:
    staff, today = context["staff"], context["today"]
    pairs = []
    for member in context["members"]:
        activity = Activity.objects.filter(owner=member).order_by("pk").first()
        if activity is not None and member.niss:
            pairs.append((member, activity))
    if len(pairs) < 2:
        return
    AllowanceRate.objects.bulk_create(
        AllowanceRate(
            key=AllowanceRate.Key.PER_DIEM_ABROAD,
            country=country,
            value=Decimal(value),
            valid_from=datetime.date(2025, 8, 1),
            source="Demo placeholder, not the Foreign Affairs table",
            is_unverified=True,
        )
        for country, value in DEMO_COUNTRY_RATES
    )
    # The artist: the last demo member with an Activity, paid per task.
    artist, artist_activity = pairs[-1]
    contracts = []
    for title, days_ago, count, cachet in TASKS:
        daily_wage = (cachet / count).quantize(Decimal("0.01"))
        contracts.append(
            _job(
                artist,
                artist_activity,
                staff,
                title=title,
                start=today - datetime.timedelta(days=days_ago),
                count=count,
                daily_wage=daily_wage,
                task_based=True,
            )
        )
    # The traveller: a member whose allowances are paid with a job of their own.
    traveller, activity = pairs[0]
    _job(
        traveller,
        activity,
        staff,
        title="Street theatre, touring Wallonia",
        start=today - datetime.timedelta(days=120),
        count=5,
        daily_wage=Decimal("220.00"),
        task_based=False,
    )
    allowances = [
        AllowanceInput(
            kind="mileage",
            travelled_on=today - datetime.timedelta(days=118),
            description="Van to Namur and Liège, with the set",
            kilometres=Decimal("286.0"),
        ),
        AllowanceInput(
            kind="per_diem_belgium",
            travelled_on=today - datetime.timedelta(days=118),
            description="Touring days in Wallonia",
            days=20,
        ),
        AllowanceInput(
            kind="per_diem_abroad",
            travelled_on=today - datetime.timedelta(days=100),
            description="Festival in Lille",
            days=2,
            country="FR",
        ),
    ]
    for allowance in allowances:
        claim = claim_allowance(
            user=traveller.user, activity=activity, allowance=allowance, today=today
        )
        approve_expense_claim(staff_user=staff, claim=claim)
    # The client paid the tour: the allowances are reimbursed from money received.
    post_ledger_entry(
        activity=activity,
        kind=LedgerEntryKind.CLIENT_INCOME,
        stage=LedgerStage.AVAILABLE,
        amount=Decimal("3000.00"),
        reference="DEMO-TOUR",
        description="Touring fee",
        author=staff,
    )
    run = run_payroll(
        staff_user=staff,
        period_start=today - datetime.timedelta(days=600),
        period_end=today - datetime.timedelta(days=91),
        today=today,
    )
    worker = ContractWorker.objects.get(contract=contracts[-1], member=artist)
    produce_c4(staff_user=staff, worker=worker, end_reason="end_of_task", today=today)
    stdout.write(
        f"{len(TASKS)} task-paid engagements of an artist and a C4, {len(allowances)} allowances, "
        f"payroll run with {run.payslip_count} payslips."
    )
