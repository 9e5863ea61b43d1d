"""Time payslip PDFs per second rendered by a Celery worker with two processes.

Run with ``.venv/bin/python benchmarks/payslip_pdf.py [--payslips N] [--keep]``. The script
creates a throw-away database (``<name>_payslip_pdf_benchmark``), loads N approved and declared
contracts and runs the payroll with the Celery hand-offs switched off (as
``benchmarks/payroll.py`` does, not timed), so that N payslips wait for their PDF. It then
starts ``celery -A coop worker -Q pdf --concurrency 2 --pool prefork`` on that database, with
the broker on a Redis database of its own (db 15 of ``REDIS_URL``, or
``PAYSLIP_BENCHMARK_BROKER_URL``) and the files in a temporary ``MEDIA_ROOT``, and times
enqueueing every ``render_payslip_task`` until every payslip is ready (the database is polled
every 0.2 s). In the same run, before the worker starts, a minimal one-page WeasyPrint
document, ``HTML(string="<p>Hello</p>").write_pdf()``, and a payslip rendered in this process
are timed in turns (medians) for comparison: two processes rendering only the minimal document
would make 2 / median documents per second. The machine's load average is printed at the end:
the figures mean little when other work shares the two cores.
Target: at least 10 payslip PDFs per second on a 2-core machine.
"""

import argparse
import logging
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")
# Before Django reads its settings: the tasks go to a Redis database of their own, so that a
# running worker of the project never takes them, nor this benchmark's worker anything else.
BROKER_URL = os.environ.get("PAYSLIP_BENCHMARK_BROKER_URL") or (
    urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))._replace(path="/15").geturl()
)
os.environ["CELERY_BROKER_URL"] = BROKER_URL
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from weasyprint import HTML  # noqa: E402

from benchmarks.payroll import load, time_run  # noqa: E402

QUEUE = "pdf"
CONCURRENCY = 2
POLL_SECONDS = 0.2
WARM_UP_RUNS = 3
TARGET_PER_SECOND = 10


def median_seconds(pks: list[int], runs: int) -> tuple[float, float]:
    """Median wall times of the minimal document and of a payslip rendered in this process.

    Both are timed in turns after a warm-up, so that a busy machine slows both alike. The
    payslip goes through ``render_payslip_pdf`` as in a warm worker process (font configuration
    and stylesheets kept), without touching its database row.
    """
    from contracts.models import Payslip
    from contracts.pdf import render_payslip_pdf

    payslips = list(Payslip.objects.filter(pk__in=pks[:runs]))
    for payslip in payslips[:WARM_UP_RUNS]:
        HTML(string="<p>Hello</p>").write_pdf()
        render_payslip_pdf(payslip)
    minimal, payslip_timings = [], []
    for index in range(runs):
        start = time.perf_counter()
        HTML(string="<p>Hello</p>").write_pdf()
        minimal.append(time.perf_counter() - start)
        start = time.perf_counter()
        render_payslip_pdf(payslips[index % len(payslips)])
        payslip_timings.append(time.perf_counter() - start)
    return statistics.median(minimal), statistics.median(payslip_timings)


def database_url(name: str) -> str:
    """DATABASE_URL of the settings, pointing at the database ``name``."""
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coop")
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def purge_queue() -> int:
    """Drop the messages left in the benchmark's queue (on the benchmark's broker only)."""
    from coop.celery import app

    with app.connection_for_write() as broker:
        return broker.default_channel.queue_purge(QUEUE) or 0


def start_worker(database: str, media_root: Path, log: Path) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(database),
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "MEDIA_ROOT": str(media_root),
    }
    # A production worker keeps its database connection from one task to the next.
    environment.setdefault("DATABASE_CONN_MAX_AGE", "60")
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "coop",
        "worker",
        "-Q",
        QUEUE,
        "--concurrency",
        str(CONCURRENCY),
        "--pool",
        "prefork",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "WARNING",
        "--hostname",
        f"payslip-pdf-benchmark-{os.getpid()}@%h",
    ]
    with log.open("wb") as output:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_ready(worker: subprocess.Popen, timeout: float) -> float:
    """Wait until the worker answers a ping; return the seconds it took."""
    from coop.celery import app

    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker stopped with exit code {worker.returncode}")
        hostname = f"payslip-pdf-benchmark-{os.getpid()}@"
        replies = app.control.ping(timeout=0.5)
        if any(name.startswith(hostname) for reply in replies for name in reply):
            return time.perf_counter() - start
    raise RuntimeError(f"the worker did not answer a ping within {timeout:.0f} s")


def stop_worker(worker: subprocess.Popen) -> None:
    """Warm shutdown (SIGTERM), then kill the worker's own process group if it lingers."""
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


def time_rendering(pks: list[int], worker: subprocess.Popen, timeout: float) -> dict:
    """Enqueue every payslip's render task and wait until all are ready (or fail, or time out)."""
    from django.db.models import Max, Min

    from contracts.models import Payslip
    from contracts.tasks import render_payslip_task
    from coop.documents import DocumentStatus

    payslips = Payslip.objects.filter(pk__in=pks)
    started_at = time.time()
    start = time.perf_counter()
    for pk in pks:
        render_payslip_task.delay(pk)
    enqueued = time.perf_counter() - start
    ready = failed = 0
    while True:
        ready = payslips.filter(status=DocumentStatus.READY).count()
        failed = payslips.filter(status=DocumentStatus.FAILED).count()
        elapsed = time.perf_counter() - start
        if ready + failed >= len(pks) or elapsed > timeout or worker.poll() is not None:
            break
        time.sleep(POLL_SECONDS)
    times = payslips.filter(status=DocumentStatus.READY).aggregate(
        first=Min("rendered_at"), last=Max("rendered_at")
    )
    return {
        "enqueued": enqueued,
        "elapsed": elapsed,
        "ready": ready,
        "failed": failed,
        "first": times["first"].timestamp() - started_at if times["first"] else None,
        "last": times["last"].timestamp() - started_at if times["last"] else None,
    }


def main() -> None:
    write = sys.stdout.write
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payslips", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20, help="runs of the minimal document")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for PDFs")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database and the rendered files"
    )
    options = parser.parse_args()
    # WeasyPrint reports every step at INFO level: keep the log writes out of the timings.
    logging.getLogger("weasyprint").setLevel(logging.WARNING)

    database = f"{connection.settings_dict['NAME']}_payslip_pdf_benchmark"
    connection.settings_dict["TEST"] = {
        **connection.settings_dict.get("TEST", {}),
        "NAME": database,
    }
    media_root = Path(tempfile.mkdtemp(prefix="payslip-pdf-benchmark-"))
    log = media_root / "worker.log"
    worker = None
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from contracts.models import Payslip
        from coop.documents import DocumentStatus

        started = time.perf_counter()
        load(options.payslips)
        _elapsed, count = time_run()
        pks = list(
            Payslip.objects.filter(status=DocumentStatus.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        write(
            f"database {database}: {count} payslips from a payroll run, {len(pks)} PDFs pending "
            f"(prepared in {time.perf_counter() - started:.1f} s, not timed)\n"
        )

        minimal, one_payslip = median_seconds(pks, options.runs)
        write(
            f'minimal document, HTML(string="<p>Hello</p>").write_pdf(): median of '
            f"{options.runs} runs after {WARM_UP_RUNS} warm-up runs {minimal * 1000:.1f} ms, "
            f"{1 / minimal:.1f} documents/s on 1 process, "
            f"{CONCURRENCY / minimal:.1f} documents/s on {CONCURRENCY} processes\n"
            f"payslip PDF rendered in this process (warm, no database write), in turns with it: "
            f"median {one_payslip * 1000:.1f} ms ({one_payslip / minimal:.1f} × minimal), "
            f"at most {CONCURRENCY / one_payslip:.1f} PDFs/s on {CONCURRENCY} processes\n"
        )

        purged = purge_queue()
        if purged:
            write(f"purged {purged} messages left in queue {QUEUE!r} on {BROKER_URL}\n")
        connection.close()  # the worker's processes open their own connections
        worker = start_worker(database, media_root, log)
        ready_after = wait_until_ready(worker, timeout=60)
        write(
            f"worker ready after {ready_after:.1f} s (queue {QUEUE!r}, {CONCURRENCY} prefork "
            f"processes, broker {BROKER_URL})\n"
        )

        result = time_rendering(pks, worker, options.timeout)
        ready, elapsed = result["ready"], result["elapsed"]
        rate = ready / elapsed
        write(
            f"payslip PDFs: {ready} of {len(pks)} ready, {result['failed']} failed, in "
            f"{elapsed:.2f} s from the first enqueue to the last seen ready "
            f"(enqueueing took {result['enqueued']:.2f} s): {rate:.1f} PDFs/s, "
            f"{rate * minimal / CONCURRENCY:.2f} × the minimal documents/s on "
            f"{CONCURRENCY} processes; target ≥ {TARGET_PER_SECOND}/s: "
            f"{'met' if rate >= TARGET_PER_SECOND and ready == len(pks) else 'NOT met'}\n"
        )
        if result["first"] is not None and ready > 1:
            steady = (ready - 1) / (result["last"] - result["first"])
            write(
                f"  first PDF stored {result['first']:.2f} s after the first enqueue, last "
                f"{result['last']:.2f} s; between them {steady:.1f} PDFs/s "
                f"({CONCURRENCY / steady * 1000:.0f} ms per PDF and process)\n"
            )
        load_average = ", ".join(f"{value:.2f}" for value in os.getloadavg())
        write(f"load average after the run (1, 5, 15 min): {load_average}, {os.cpu_count()} CPUs\n")
        if ready < len(pks):
            write(f"worker log ({log}):\n{log.read_text(errors='replace')[-4000:]}\n")
    finally:
        if worker is not None:
            stop_worker(worker)
        try:
            purge_queue()
        except Exception as error:
            write(f"could not purge queue {QUEUE!r}: {error}\n")
        if options.keep:
            write(f"kept database {database} and files in {media_root}\n")
        else:
            connection.creation.destroy_test_db(database, verbosity=0)
            shutil.rmtree(media_root, ignore_errors=True)


if __name__ == "__main__":
    main()
