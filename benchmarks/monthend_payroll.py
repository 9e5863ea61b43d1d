"""Time the month-end payroll run for 35,000 payslips, and their PDFs.

Run with ``.venv/bin/python benchmarks/monthend_payroll.py [--scale S] [--pdfs N] [--keep-db]``.
The script creates a throw-away database (``<name>_monthend_payroll``) and loads ``35,000 × S``
approved and declared one-worker contracts with their work days (``benchmarks/payroll.py``'s
loader: 5,000 members with seven one-week jobs each, as a busy month looks; not timed). It then
times:

- the payroll run as cron runs it: ``manage.py run_payroll --from --to`` in a child process on
  that database (payslips, ledger entries per Activity, contracts completed, SEPA file; the PDF
  tasks go to a broker no worker reads, emptied afterwards), with the child's peak RSS;
- the pure engine for as many payslips in this process (the baseline of the run);
- N of the run's payslip PDFs rendered one after the other in this process, warm as in a worker,
  in turns with a minimal one-page WeasyPrint document (the baseline of a PDF): measured median
  per PDF, and the time all the run's PDFs would take on the two processes of the production
  PDF worker (projected from that median, not measured). Which library cuts the font subsets
  (HarfBuzz-Subset or fontTools) decides much of a PDF's time: it is printed.

``--scale 0.01 --pdfs 3`` runs a quick version.
"""

import argparse
import datetime
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")
# The run queues a PDF task per payslip: a Redis database where no worker reads (db 15 of
# REDIS_URL, as benchmarks/payslip_pdf.py, or MONTHEND_BENCHMARK_BROKER_URL); its queues "pdf"
# and "default" are emptied at the end.
BROKER_URL = os.environ.get("MONTHEND_BENCHMARK_BROKER_URL") or (
    urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))._replace(path="/15").geturl()
)
os.environ["CELERY_BROKER_URL"] = BROKER_URL
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.db import connection  # noqa: E402
from weasyprint import HTML  # noqa: E402
from weasyprint.pdf import fonts as weasyprint_fonts  # noqa: E402

from benchmarks.payroll import JOBS_PER_MEMBER, LAST_WORK_DAY, load, time_engine  # noqa: E402

PDF_PROCESSES = 2
WARM_UP_RUNS = 2


def database_url(name: str) -> str:
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coop")
    return urlsplit(url)._replace(path=f"/{name}").geturl()


CHILD = """
import resource, sys, time
import django
from django.core.management import call_command

django.setup()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
call_command("run_payroll", "--from", sys.argv[1], "--to", sys.argv[2])
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sys.stderr.write(f"figures {elapsed} {before} {peak}\\n")
"""


def run_command(database: str) -> dict:
    """Run ``manage.py run_payroll`` in a child process, as cron does, and read its figures.

    The child times the command itself (not Python's start) and reports its peak resident
    memory before and after it (``ru_maxrss``).
    """
    period_start = LAST_WORK_DAY - datetime.timedelta(days=7 * JOBS_PER_MEMBER)
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(database),
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DEBUG": "false",
    }
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(period_start), str(LAST_WORK_DAY)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise RuntimeError(f"run_payroll failed: {result.stderr[-3000:]}")
    line = next(line for line in result.stderr.splitlines() if line.startswith("figures "))
    elapsed, before, peak = line.split()[1:]
    return {
        "elapsed": float(elapsed),
        "rss_before": int(before) / 1024,
        "peak": int(peak) / 1024,
        "output": result.stdout.strip(),
    }


def time_pdfs(count: int) -> tuple[float, float]:
    """Median seconds of a minimal document and of one of the run's payslip PDFs (in turns)."""
    from contracts.models import Payslip
    from contracts.pdf import render_payslip_pdf

    payslips = list(Payslip.objects.order_by("pk")[: count + WARM_UP_RUNS])
    for payslip in payslips[:WARM_UP_RUNS]:
        HTML(string="<p>Hello</p>").write_pdf()
        render_payslip_pdf(payslip)
    minimal, rendered = [], []
    for payslip in payslips[WARM_UP_RUNS:]:
        start = time.perf_counter()
        HTML(string="<p>Hello</p>").write_pdf()
        minimal.append(time.perf_counter() - start)
        start = time.perf_counter()
        render_payslip_pdf(payslip)
        rendered.append(time.perf_counter() - start)
    return statistics.median(minimal), statistics.median(rendered)


def main() -> None:
    write = sys.stdout.write
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 35,000 payslips")
    parser.add_argument("--pdfs", type=int, default=20, help="payslip PDFs rendered (measured)")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    options = parser.parse_args()
    count = max(JOBS_PER_MEMBER, round(35_000 * options.scale))
    logging.getLogger("weasyprint").setLevel(logging.WARNING)

    database = f"{connection.settings_dict['NAME']}_monthend_payroll"
    connection.settings_dict["TEST"] = {
        **connection.settings_dict.get("TEST", {}),
        "NAME": database,
    }
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        started = time.perf_counter()
        load(count)
        write(
            f"database {database}: {count:,} approved and declared contracts, "
            f"{count * 5:,} work days (loaded in {time.perf_counter() - started:.0f} s, "
            "not timed)\n"
        )
        connection.close()
        result = run_command(database)
        from contracts.models import Payslip

        made = Payslip.objects.count()
        run = result["elapsed"]
        write(
            f"run_payroll (child process): {result['output']}\n"
            f"  {made:,} payslips in {run:.1f} s: {made / run:,.0f} payslips/s; peak RSS "
            f"{result['peak']:.0f} MB, {result['rss_before']:.0f} MB before the command "
            f"(+{(result['peak'] - result['rss_before']) * 1024 / max(made, 1):.1f} kB a "
            f"payslip)\n"
        )
        engine = time_engine(count)
        write(
            f"engine only (this process): {count:,} payslips in {engine:.2f} s, "
            f"{count / engine:,.0f} payslips/s; the run costs {run / engine:.1f} × the engine\n"
        )

        subsetter = "HarfBuzz-Subset" if weasyprint_fonts.harfbuzz_subset else "fontTools"
        minimal, payslip_pdf = time_pdfs(options.pdfs)
        write(
            f"PDFs (font subsets cut by {subsetter}"
            f"{'' if weasyprint_fonts.harfbuzz_subset else '; HarfBuzz-Subset is not installed'}):"
            f" measured, {options.pdfs} payslip PDFs one by one in this process (warm): median "
            f"{payslip_pdf * 1000:.0f} ms a PDF, {payslip_pdf / minimal:.1f} × the minimal "
            f"document's {minimal * 1000:.0f} ms\n"
            f"  projected, not measured: the run's {made:,} PDFs on the PDF worker's "
            f"{PDF_PROCESSES} processes ≈ {made * payslip_pdf / PDF_PROCESSES / 60:.0f} min "
            f"({PDF_PROCESSES / payslip_pdf:.1f} PDFs/s), if nothing else uses the two cores\n"
        )
        load_average = ", ".join(f"{value:.2f}" for value in os.getloadavg())
        write(f"load average at the end (1, 5, 15 min): {load_average}, {os.cpu_count()} CPUs\n")
    finally:
        connection.close()
        if not options.keep_db:
            connection.creation.destroy_test_db(database, verbosity=0)
        redis.Redis.from_url(BROKER_URL).delete("pdf", "default")


if __name__ == "__main__":
    main()
