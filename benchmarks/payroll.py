"""Time a payroll run of 35,000 payslips: engine and database, without the PDFs.

Run with ``.venv/bin/python benchmarks/payroll.py [--payslips N] [--keep-db]``. The script
creates a throw-away database (``<name>_payroll_benchmark``), loads N approved and declared
one-worker contracts with bulk inserts (not timed): N / 7 members with one Activity each and
seven one-week jobs, as a busy month looks; one run pays them all, so each member's seven
payslips are computed cumulatively on the month's pay. It then times ``run_payroll``
(payslips, ledger entries per Activity, contracts completed, SEPA file checked against its XSD)
with the Celery hand-offs switched off, and the pure engine alone. Target: 35,000 payslips in
less than 60 s.
"""

import argparse
import datetime
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

BATCH = 700
JOBS_PER_MEMBER = 7
LAST_WORK_DAY = datetime.date(2026, 9, 18)
TODAY = datetime.date(2026, 9, 21)


def load(count: int) -> None:
    """Insert ``count`` members, each with an Activity and an approved, declared contract."""
    from contracts.models import Contract, ContractWorker, DimonaDeclaration, WorkDay
    from members.models import Activity, Member, User

    now = timezone.now()
    staff = User.objects.create_user(email="bench-staff@coop.test", is_staff=True)
    members_count = -(-count // JOBS_PER_MEMBER)
    for offset in range(0, members_count, BATCH):
        size = min(BATCH, members_count - offset)
        users = User.objects.bulk_create(
            User(email=f"bench-{offset + index}@coop.test", password="!")  # noqa: S106
            for index in range(size)
        )
        members = Member.objects.bulk_create(
            Member(
                user=user,
                legal_name=f"Worker {offset + index}",
                street="Rue Ransfort 27",
                postal_code="1080",
                city="Bruxelles",
                iban="BE71096123456769",
                status=Member.Status.ACTIVE,
                approved_at=now,
                preferred_language=["fr", "nl", "en"][index % 3],
            )
            for index, user in enumerate(users)
        )
        activities = Activity.objects.bulk_create(
            Activity(owner=member, name="Benchmark") for member in members
        )
        jobs = [
            (member, activity, week)
            for member, activity in zip(members, activities, strict=True)
            for week in range(JOBS_PER_MEMBER)
        ][: count - offset * JOBS_PER_MEMBER]
        contracts = Contract.objects.bulk_create(
            Contract(
                activity=activity,
                title="Benchmark job",
                place="Brussels",
                kind=["artistic", "non_artistic"][index % 2],
                amount_to_invoice=Decimal("1500.00"),
                status=Contract.Status.APPROVED,
                first_work_day=LAST_WORK_DAY - datetime.timedelta(days=7 * week + 4),
                last_work_day=LAST_WORK_DAY - datetime.timedelta(days=7 * week),
                created_by=staff,
                approved_by=staff,
                approved_at=now,
            )
            for index, (member, activity, week) in enumerate(jobs)
        )
        workers = ContractWorker.objects.bulk_create(
            ContractWorker(
                contract=contract,
                member=member,
                daily_wage=Decimal(150 + (index % 20) * 25),
                planned_employer_cost=Decimal("900.00"),
            )
            for index, (contract, (member, _activity, _week)) in enumerate(
                zip(contracts, jobs, strict=True)
            )
        )
        WorkDay.objects.bulk_create(
            WorkDay(
                worker=worker,
                member_id=worker.member_id,
                date=contract.last_work_day - datetime.timedelta(days=day),
            )
            for worker, contract in zip(workers, contracts, strict=True)
            for day in range(5)
        )
        DimonaDeclaration.objects.bulk_create(
            DimonaDeclaration(
                worker=worker,
                kind=DimonaDeclaration.Kind.DECLARATION,
                start_date=contract.first_work_day,
                end_date=contract.last_work_day,
                worker_type="OTH",
                joint_committee="200",
                acknowledgement=f"BENCH-{worker.pk}",
            )
            for worker, contract in zip(workers, contracts, strict=True)
        )


def time_engine(count: int) -> float:
    from contracts.parameters import load_parameters
    from contracts.payroll import MonthToDate, compute_payslip_in_month

    parameters = load_parameters(LAST_WORK_DAY)
    start = time.perf_counter()
    month = MonthToDate()
    for index in range(count):
        if index % JOBS_PER_MEMBER == 0:
            month = MonthToDate()
        figures = compute_payslip_in_month(
            gross=Decimal(750 + (index % 20) * 125),
            is_artistic=index % 2 == 0,
            parameters=parameters,
            earlier=month,
        )
        month = month.including(figures)
    return time.perf_counter() - start


def time_run() -> tuple[float, int]:
    from contracts.services import payroll

    with (
        mock.patch.object(payroll, "_queue_rendering"),
        mock.patch("contracts.tasks.notify_contract_event_task.delay"),
    ):
        start = time.perf_counter()
        run = payroll.run_payroll(
            staff_user=None,
            period_start=LAST_WORK_DAY - datetime.timedelta(days=7 * JOBS_PER_MEMBER),
            period_end=LAST_WORK_DAY,
            today=TODAY,
        )
        return time.perf_counter() - start, run.payslip_count


def main() -> None:
    write = sys.stdout.write
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payslips", type=int, default=35_000)
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    options = parser.parse_args()

    database = f"{connection.settings_dict['NAME']}_payroll_benchmark"
    connection.settings_dict["TEST"] = {
        **connection.settings_dict.get("TEST", {}),
        "NAME": database,
    }
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        started = time.perf_counter()
        load(options.payslips)
        loaded = time.perf_counter() - started
        write(f"loaded {options.payslips} declared contracts in {loaded:.1f} s\n")
        engine = time_engine(options.payslips)
        write(
            f"engine only: {options.payslips} payslips in {engine:.2f} s "
            f"({options.payslips / engine:,.0f} payslips/s)\n"
        )
        elapsed, count = time_run()
        write(
            f"payroll run (engine + database + ledger + SEPA, no PDF): {count} payslips in "
            f"{elapsed:.1f} s ({count / elapsed:,.0f} payslips/s); target < 60 s: "
            f"{'met' if elapsed < 60 else 'NOT met'}\n"
        )
    finally:
        if not options.keep_db:
            connection.creation.destroy_test_db(database, verbosity=0)


if __name__ == "__main__":
    main()
