"""Drill: kill a payroll run midway (four times, at four stages), then run it to the end.

Run with ``.venv/bin/python drills/payroll_interrupt.py [--workers 5000]``. The drill starts its
own PostgreSQL and Valkey (``drills/stack.py``), loads the given number of approved, declared
one-worker contracts (as ``benchmarks/payroll.py`` does) and runs
``manage.py run_payroll --from 2026-07-01 --to 2026-09-30`` in a process of its own. It kills
that process with SIGKILL four times: one second after it starts, while it writes the payslips
(PostgreSQL shows a query on ``contracts_payslip``), while it posts the ledger entries (a query
on ``members_ledgerentry``) and after it wrote the SEPA file (a query on
``contracts_contractevent``), checking after each kill that nothing of the run is left.
Then it lets a run finish, runs it once more (which must find nothing to pay) and prints:
workers paid, paid twice, not paid, the SEPA file's transfers against the payslips, the ledger
debits against the employer cost, and the SEPA files the killed runs left in storage (the next
run removes them).
"""

import argparse
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drills.stack import PYTHON, ROOT, Stack, say

PERIOD = ["--from", "2026-07-01", "--to", "2026-09-30"]
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
STAGES = [
    ("one second after the start", None),
    ("while the payslips are written", "contracts_payslip"),
    ("while the ledger entries are posted", "members_ledgerentry"),
    ("after the SEPA file was written, as the contracts complete", "contracts_contractevent"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=5000)
    options = parser.parse_args()

    stack = Stack("payroll_interrupt")
    try:
        stack.start(demo=False)
        run(stack, options)
    finally:
        stack.stop()


def start_run(stack: Stack) -> subprocess.Popen:
    log = (stack.logs / "run_payroll.log").open("a")
    return subprocess.Popen(
        [PYTHON, str(ROOT / "manage.py"), "run_payroll", *PERIOD],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def query_running(pattern: str) -> bool:
    """Tell whether another session runs a statement that mentions the pattern."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE %s "
            "AND state = 'active'",
            [f"%{pattern}%"],
        )
        return cursor.fetchone() is not None


def left_behind() -> dict:
    from contracts.models import Contract, PayrollRun, Payslip
    from members.models import LedgerEntry, LedgerEntryKind

    return {
        "runs": PayrollRun.objects.count(),
        "payslips": Payslip.objects.count(),
        "salary ledger entries": LedgerEntry.objects.filter(
            kind=LedgerEntryKind.SALARY_COST
        ).count(),
        "contracts completed": Contract.objects.filter(status=Contract.Status.COMPLETED).count(),
    }


def interrupt(stack: Stack, description: str, pattern: str | None) -> None:
    process = start_run(stack)
    began = time.monotonic()
    if pattern is None:
        time.sleep(1)
    else:
        while process.poll() is None and not query_running(pattern):
            time.sleep(0.01)
    if process.poll() is not None:
        say(f"kill {description}: the run had already ended (exit code {process.returncode})")
        return
    process.send_signal(signal.SIGKILL)
    process.wait()
    time.sleep(0.5)  # PostgreSQL notices the closed connection and rolls back
    remains = left_behind()
    say(
        f"killed {description} ({time.monotonic() - began:.1f} s in); left behind: "
        + ", ".join(f"{what} {count}" for what, count in remains.items())
    )


def run(stack: Stack, options) -> None:
    from django.db.models import Count, Sum
    from lxml import etree

    from benchmarks.payroll import load
    from contracts.models import ContractWorker, PayrollRun, Payslip
    from members.models import LedgerEntry, LedgerEntryKind, LedgerStage

    began = time.monotonic()
    load(options.workers)
    say(f"loaded {options.workers} approved contracts in {time.monotonic() - began:.1f} s")
    for description, pattern in STAGES:
        interrupt(stack, description, pattern)
    left_files = sorted(path.name for path in (stack.media / "payroll").rglob("*.xml"))

    began = time.monotonic()
    finished = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), "run_payroll", *PERIOD],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    say(f"run to the end in {time.monotonic() - began:.1f} s: {finished.stdout.strip()}")
    again = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), "run_payroll", *PERIOD],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    say(f"run again: exit code {again.returncode}, {again.stderr.strip().splitlines()[-1]}")

    workers = ContractWorker.objects.count()
    per_worker = Payslip.objects.filter(kind="regular").values("worker").annotate(n=Count("pk"))
    paid_twice = per_worker.filter(n__gt=1).count()
    paid = per_worker.count()
    payroll_run = PayrollRun.objects.get()
    tree = etree.fromstring(payroll_run.sepa_file.read())
    transfers = [element.text for element in tree.iterfind(".//p:EndToEndId", NS)]
    positive = Payslip.objects.filter(run=payroll_run, net__gt=0)
    references = {payslip.reference for payslip in positive.only("pk")}
    net_total = positive.aggregate(total=Sum("net"))["total"] or Decimal("0")
    cost_total = Payslip.objects.filter(run=payroll_run).aggregate(total=Sum("employer_cost"))
    debited = LedgerEntry.objects.filter(
        kind=LedgerEntryKind.SALARY_COST, stage=LedgerStage.AVAILABLE
    ).aggregate(total=Sum("amount"))["total"]
    stored = sorted(path.name for path in (stack.media / "payroll").rglob("*.xml"))
    say("")
    say(f"workers to pay:                        {workers}")
    say(f"workers paid:                          {paid}")
    say(f"workers paid twice:                    {paid_twice}")
    say(f"workers not paid:                      {workers - paid}")
    say(f"payroll runs recorded:                 {PayrollRun.objects.count()}")
    say(f"SEPA transfers / payslips with net > 0: {len(transfers)} / {positive.count()}")
    say(f"SEPA transfers twice:                  {len(transfers) - len(set(transfers))}")
    say(
        "SEPA transfers matching the payslips:  "
        + ("yes" if set(transfers) == references else "NO")
    )
    say(
        f"SEPA control sum / payslips' net:      "
        f"{tree.findtext('.//p:GrpHdr/p:CtrlSum', namespaces=NS)} / {net_total}"
    )
    say(f"ledger salary debits / employer cost:  {-debited} / {cost_total['total']}")
    say(f"SEPA files left by the killed runs:    {len(left_files)} ({', '.join(left_files)})")
    say(f"SEPA files in storage at the end:      {len(stored)} ({', '.join(stored)})")
    say(f"SEPA files of no recorded run:         {len(stored) - 1}")


if __name__ == "__main__":
    main()
