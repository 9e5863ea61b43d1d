"""The tax-forms part of the demo world: a paid year before this one, and its certificates."""

import datetime
from decimal import Decimal

from contracts.services import contracts as contract_services
from contracts.services.contracts import DayInput, WorkerInput
from contracts.services.payroll import run_payroll
from members.models import Activity
from taxforms.services import export_belcotax, prepare_certificates

# Work of the previous year: (month, day, working days, daily wage, kind).
JOBS = [
    (3, 10, 8, Decimal("300"), "artistic"),
    (6, 16, 6, Decimal("350"), "non_artistic"),
    (10, 6, 10, Decimal("400"), "artistic"),
]


def _weekdays(start: datetime.date, count: int) -> list[datetime.date]:
    days: list[datetime.date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def seed(context: dict, *, stdout) -> None:
    """Pay a few members for work of the previous year and prepare its tax certificates."""
    staff, today = context["staff"], context["today"]
    year = today.year - 1
    pairs = []
    for member in context["members"]:
        activity = Activity.objects.filter(owner=member).order_by("pk").first()
        if activity is not None and member.niss:
            pairs.append((member, activity))
    if not pairs:
        return
    runs = 0
    for index, (month, day, count, wage, kind) in enumerate(JOBS):
        days = _weekdays(datetime.date(year, month, day), count)
        recorded_on = days[0] - datetime.timedelta(days=14)
        for member, activity in pairs[: 3 - index % 2]:
            contract = contract_services.save_contract(
                user=member.user,
                activity=activity,
                title="Season work",
                place="Brussels",
                kind=kind,
                amount_to_invoice=wage * count * 2,
                workers=[
                    WorkerInput(
                        member=member, daily_wage=wage, days=[DayInput(date=d) for d in days]
                    )
                ],
                today=recorded_on,
            )
            contract_services.submit_contract(
                user=member.user, contract=contract, today=recorded_on
            )
            contract_services.approve_contract(
                staff_user=staff, contract=contract, today=recorded_on + datetime.timedelta(days=1)
            )
        run_payroll(
            staff_user=staff,
            period_start=days[0],
            period_end=days[-1],
            today=days[-1] + datetime.timedelta(days=3),
        )
        runs += 1
    prepared = prepare_certificates(year=year, staff_user=staff)
    stdout.write(f"{runs} payroll runs in {year}, {prepared.created} tax certificates of {year}.")


def seed_heavy(context: dict, *, stdout) -> None:
    """The heavy members' tax certificates of last year (theirs only, not 100,000 members'),
    sent in one Belcotax file: the certificate and export pages have rows to show."""
    members = [member for member in context["members"] if member.niss]
    if not members:
        return
    year = context["today"].year - 1
    prepared = prepare_certificates(
        year=year, staff_user=context["staff"], members=[member.pk for member in members]
    )
    if not prepared.created:
        stdout.write(f"  no pay of the heavy members in {year}: no tax certificates")
        return
    export = export_belcotax(year=year, staff_user=context["staff"])
    stdout.write(
        f"  {prepared.created} tax certificates of the heavy members for {year}, "
        f"sent in the Belcotax file {export.pk}"
    )
