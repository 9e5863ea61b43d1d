"""Time month-end invoice issuing through the REST API with 16 concurrent clients.

Run with ``.venv/bin/python benchmarks/monthend_issuing.py [--scale S] [--keep-db]``. The script
creates a throw-away database (``<name>_monthend_issuing``), loads A members, each with one
Activity, one Belgian company client and an API token (not timed), and starts gunicorn (4 sync
workers, as production runs it) on a free port, with the Celery messages going to an in-memory
broker so that no document is rendered during the run. Each issue is two requests of the
member: ``POST /api/v1/invoices/`` (a draft of two lines) then ``POST .../{id}/submit/``, which
numbers it in the one series of the year. In one run it times:

- ``/healthz`` at 16 clients and one client issuing alone (the baselines);
- 16 clients issuing at once, each for members of its own (so across many Activities);

and prints issues/s, p50/p95 latency of an issue and of its submit request, and their ratios
to the baselines. Afterwards it checks that the series' numbers are gapless and unique (1..N,
the sequence row at N, one structured communication each).

How the numbering lock's share is measured, two ways:

1. *Waiting for it* (at 16 clients): a thread samples ``pg_stat_activity`` of the benchmark
   database every 5 ms and counts the backends whose wait event is a lock (``Lock`` type)
   while running the sequence's ``SELECT ... FOR UPDATE``. Backends waiting × sampling interval
   estimates the seconds spent queuing for a number; divided by the summed latency of the
   submit requests it gives the share of issuing time spent waiting for the lock.
2. *Holding it*: in this process, issues are timed one by one with ``submit_invoice`` and the
   time from taking the number to the end of the commit (an ``on_commit`` hook) is the locked
   section; ``1 / locked section`` is the most issues per second any number of clients could
   reach in one series.

``--scale 0.05`` runs a quick version (a few seconds of load).
"""

import argparse
import datetime
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")

# The messages the issues queue (documents to render) go to a Redis database where no worker
# reads (db 15 of REDIS_URL, as benchmarks/payslip_pdf.py, or MONTHEND_BENCHMARK_BROKER_URL);
# its queues "pdf" and "default" are emptied at the end.
BROKER_URL = os.environ.get("MONTHEND_BENCHMARK_BROKER_URL") or (
    urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))._replace(path="/15").geturl()
)
# Before Django reads its settings: what the issues hand to Celery goes to the benchmark's broker.
os.environ["CELERY_BROKER_URL"] = BROKER_URL
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
import redis  # noqa: E402
import requests  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

CLIENTS = 16
WORKERS = 4
SAMPLE_SECONDS = 0.005
SEQUENCE_TABLE = "invoicing_invoicesequence"


def load(members: int) -> list[dict]:
    """Members with one Activity, one Belgian company client and an API token each."""
    from invoicing.services.clients import create_client
    from members import services
    from members.models import Activity, ApiToken, Member, User

    now = timezone.now()
    users = User.objects.bulk_create(
        User(email=f"issuer-{index}@coop.test", password="!")  # noqa: S106
        for index in range(members)
    )
    people = Member.objects.bulk_create(
        Member(
            user=user,
            legal_name=f"Issuer {index}",
            street="Rue Ransfort 27",
            postal_code="1080",
            city="Bruxelles",
            iban="BE71096123456769",
            status=Member.Status.ACTIVE,
            approved_at=now,
        )
        for index, user in enumerate(users)
    )
    activities = Activity.objects.bulk_create(
        Activity(owner=member, name=f"Month-end {index}") for index, member in enumerate(people)
    )
    sellers = []
    for user, activity in zip(users, activities, strict=True):
        client, _created = create_client(
            owner=user,
            kind="company",
            name="Théâtre des Galeries SA",
            street="Galerie du Roi 32",
            postal_code="1000",
            city="Bruxelles",
            country="BE",
            email="compta@galeries.example",
            language="fr",
            vat_number="BE1000000021",
        )
        key = secrets.token_urlsafe(30)
        ApiToken.objects.create(
            user=user,
            name="month-end",
            prefix=key[:8],
            key_hash=services.hash_api_key(key),
            created_at=now,
            expires_at=now + datetime.timedelta(days=30),
        )
        sellers.append({"user": user, "activity": activity.pk, "client": client.pk, "key": key})
    return sellers


def draft_payload(seller: dict, index: int) -> dict:
    return {
        "activity": seller["activity"],
        "client": seller["client"],
        "buyer_reference": f"PO-{index}",
        "lines": [
            {
                "description": f"Lighting design, performance {index}",
                "quantity": "3",
                "unit": "hour",
                "unit_price": f"{60 + index % 40}.50",
                "vat_category": "S",
                "vat_rate": "21",
            },
            {"description": "Travel", "quantity": "1", "unit": "piece", "unit_price": "40"},
        ],
    }


def database_url(name: str) -> str:
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coop")
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(database: str, port: int, log: Path) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(database),
        "DATABASE_CONN_MAX_AGE": "60",
        "DEBUG": "false",
        # Document rendering is queued on commit, to a broker no worker reads during the run.
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "API_RATE_LIMIT": "10000000/hour",
        "COOP_INVOICE_REVIEW_NEW_CLIENTS": "false",
        "COOP_INVOICE_REVIEW_THRESHOLD": "100000000",
    }
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "coop.wsgi",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
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


def wait_for(base: str, server: subprocess.Popen, timeout: float = 60) -> None:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped with exit code {server.returncode}")
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def issue_over_http(session: requests.Session, base: str, seller: dict, index: int) -> tuple:
    """Create a draft and submit it; return (issue seconds, submit seconds, number)."""
    headers = {"Authorization": f"Token {seller['key']}", "Accept-Language": "en"}
    start = time.perf_counter()
    created = session.post(
        f"{base}/api/v1/invoices/", json=draft_payload(seller, index), headers=headers, timeout=60
    )
    if created.status_code != 201:
        raise RuntimeError(f"draft: {created.status_code} {created.text[:300]}")
    submit_start = time.perf_counter()
    submitted = session.post(
        f"{base}/api/v1/invoices/{created.json()['pk']}/submit/", headers=headers, timeout=60
    )
    end = time.perf_counter()
    if submitted.status_code != 200:
        raise RuntimeError(f"submit: {submitted.status_code} {submitted.text[:300]}")
    return end - start, end - submit_start, submitted.json()["number"]


def run_clients(base: str, sellers: list[dict], issues: int, clients: int, offset: int) -> dict:
    """``clients`` threads issue ``issues`` invoices in all; each uses members of its own."""

    def client(slot: int) -> list[tuple]:
        session = requests.Session()
        mine = sellers[slot::clients]
        results = []
        for index in range(slot, issues, clients):
            results.append(issue_over_http(session, base, mine[index % len(mine)], offset + index))
        return results

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = [row for rows in pool.map(client, range(clients)) for row in rows]
    elapsed = time.perf_counter() - start
    return {"elapsed": elapsed, "results": results}


def run_healthz(base: str, requests_count: int, clients: int) -> dict:
    def client(slot: int) -> list[float]:
        session = requests.Session()
        timings = []
        for _ in range(slot, requests_count, clients):
            start = time.perf_counter()
            session.get(f"{base}/healthz", timeout=30).raise_for_status()
            timings.append(time.perf_counter() - start)
        return timings

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        timings = [value for values in pool.map(client, range(clients)) for value in values]
    return {"elapsed": time.perf_counter() - start, "timings": timings}


class LockSampler(threading.Thread):
    """Sample pg_stat_activity: how many backends wait for the sequence row's lock."""

    def __init__(self, database: str) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.stopping = threading.Event()
        self.samples = 0
        self.waiting = 0
        self.active = 0
        self.elapsed = 0.0

    def run(self) -> None:
        with psycopg.connect(database_url(self.database), autocommit=True) as sampler:
            start = time.perf_counter()
            while not self.stopping.is_set():
                waiting, active = sampler.execute(
                    "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock' AND query ILIKE %s),"
                    " count(*) FILTER (WHERE state <> 'idle')"
                    " FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    [f"%{SEQUENCE_TABLE}%FOR UPDATE%", self.database],
                ).fetchone()
                self.samples += 1
                self.waiting += waiting
                self.active += active
                time.sleep(SAMPLE_SECONDS)
            self.elapsed = time.perf_counter() - start

    def lock_wait_seconds(self) -> float:
        """Backend-seconds spent waiting for the sequence lock (samples × mean interval)."""
        return self.waiting * self.elapsed / max(self.samples, 1)


def time_locked_section(sellers: list[dict], count: int) -> dict:
    """Issue ``count`` drafts in this process, one by one; time the locked section of each.

    It runs from the call that takes the number to the end of the COMMIT (``connection.commit``
    wrapped), so the ``on_commit`` hand-offs to the broker, which run after it, are not in it.
    The SQL statements run inside it are timed too.
    """
    from invoicing.models import Client
    from invoicing.services import issue as issue_module
    from invoicing.services.drafts import LineInput, save_draft
    from members.models import Activity

    today = timezone.localdate()
    take_number = issue_module._take_number
    commit = connection.commit
    marks: dict[str, float] = {}
    statements: dict[str, float] = {}

    def timed_take_number(**kwargs):
        marks["locked"] = time.perf_counter()
        return take_number(**kwargs)

    def timed_commit():
        start = time.perf_counter()
        commit()
        end = time.perf_counter()
        if "locked" in marks:
            statements["COMMIT"] = statements.get("COMMIT", 0.0) + end - start
            marks["held"] = end - marks.pop("locked")

    def timed_statement(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if "locked" in marks:
                words = sql.split()
                label = (
                    " ".join(words[:3])
                    if words[0] != "SELECT"
                    else "SELECT … "
                    + next(
                        (words[index + 1] for index, word in enumerate(words) if word == "FROM"), ""
                    )
                )
                statements[label] = statements.get(label, 0.0) + time.perf_counter() - start

    locked, whole = [], []
    issue_module._take_number = timed_take_number
    connection.commit = timed_commit
    try:
        with connection.execute_wrapper(timed_statement):
            for index in range(count):
                seller = sellers[index % len(sellers)]
                draft = save_draft(
                    user=seller["user"],
                    activity=Activity.objects.get(pk=seller["activity"]),
                    client=Client.objects.get(pk=seller["client"]),
                    lines=[
                        LineInput(
                            description=f"Rehearsal {index}",
                            quantity=Decimal("2"),
                            unit="hour",
                            unit_price=Decimal("55.00"),
                        )
                    ],
                    today=today,
                    buyer_reference=f"IN-{index}",
                )
                marks.clear()
                start = time.perf_counter()
                issue_module.submit_invoice(user=seller["user"], invoice=draft, today=today)
                end = time.perf_counter()
                whole.append(end - start)
                locked.append(marks["held"])
    finally:
        issue_module._take_number = take_number
        del connection.commit
    top = sorted(statements.items(), key=lambda item: -item[1])[:6]
    return {
        "locked": statistics.median(locked),
        "whole": statistics.median(whole),
        "statements": ", ".join(f"{label} {total / count * 1000:.1f} ms" for label, total in top),
    }


def check_numbers() -> tuple[bool, str]:
    """Every series gapless 1..N, matching its sequence row, numbers and OGMs unique."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.series, count(*), count(DISTINCT i.sequence_number), min(i.sequence_number),"
            " max(i.sequence_number), count(DISTINCT i.number),"
            " count(DISTINCT i.structured_communication), s.last_number"
            " FROM invoicing_invoice i JOIN invoicing_invoicesequence s ON s.series = i.series"
            " WHERE i.number IS NOT NULL GROUP BY i.series, s.last_number"
        )
        rows = cursor.fetchall()
    good = bool(rows)
    lines = []
    for series, count, distinct, low, high, numbers, ogms, last in rows:
        ok = count == distinct == numbers == ogms == high == last and low == 1
        good = good and ok
        lines.append(
            f"series {series}: {count} invoices, numbers {low}..{high}, {distinct} distinct, "
            f"sequence row at {last}, {ogms} distinct OGMs: "
            f"{'gapless and unique' if ok else 'BROKEN'}"
        )
    return good, "; ".join(lines)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    write = sys.stdout.write
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1 = 200 members, 1,600 issues at 16 clients"
    )
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--locked-section-only",
        action="store_true",
        help="time only the locked section in this process (no gunicorn)",
    )
    options = parser.parse_args()
    members = max(options.clients, round(200 * options.scale))
    issues = max(options.clients * 2, round(1600 * options.scale))
    single = max(10, round(100 * options.scale))
    in_process = max(10, round(100 * options.scale))

    database = f"{connection.settings_dict['NAME']}_monthend_issuing"
    connection.settings_dict["TEST"] = {
        **connection.settings_dict.get("TEST", {}),
        "NAME": database,
    }
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    server = None
    log = Path(tempfile.gettempdir()) / f"monthend_issuing_{os.getpid()}.log"
    try:
        started = time.perf_counter()
        from django.test import override_settings

        with override_settings(
            COOP_INVOICE_REVIEW_NEW_CLIENTS=False,
            COOP_INVOICE_REVIEW_THRESHOLD=Decimal("100000000"),
        ):
            sellers = load(members)
        write(
            f"database {database}: {members} members, each with an Activity, a client and a "
            f"token (loaded in {time.perf_counter() - started:.1f} s, not timed)\n"
        )
        rate = None
        if not options.locked_section_only:
            connection.close()
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            server = start_gunicorn(database, port, log)
            wait_for(base, server)
            run_healthz(base, 64, options.clients)  # warm every worker up
            run_clients(base, sellers, options.clients, options.clients, offset=900_000)
            write(f"gunicorn {WORKERS} sync workers on {base}, {os.cpu_count()} CPUs\n")

            health = run_healthz(base, 800, options.clients)
            health_rate = len(health["timings"]) / health["elapsed"]
            write(
                f"/healthz at {options.clients} clients: {health_rate:.0f} requests/s, p50 "
                f"{statistics.median(health['timings']) * 1000:.0f} ms\n"
            )

            alone = run_clients(base, sellers, single, 1, offset=0)
            alone_rate = len(alone["results"]) / alone["elapsed"]
            alone_p50 = statistics.median(row[0] for row in alone["results"])
            write(
                f"1 client: {len(alone['results'])} issues (draft + submit) in "
                f"{alone['elapsed']:.1f} s, "
                f"{alone_rate:.1f} issues/s, p50 {alone_p50 * 1000:.0f} ms, p95 "
                f"{percentile([row[0] for row in alone['results']], 0.95) * 1000:.0f} ms; submit "
                f"p50 {statistics.median(row[1] for row in alone['results']) * 1000:.0f} ms\n"
            )

            sampler = LockSampler(database)
            sampler.start()
            busy = run_clients(base, sellers, issues, options.clients, offset=100_000)
            sampler.stopping.set()
            sampler.join()
            rate = len(busy["results"]) / busy["elapsed"]
            latencies = [row[0] for row in busy["results"]]
            submits = [row[1] for row in busy["results"]]
            write(
                f"{options.clients} clients over {members} Activities: {len(latencies)} "
                f"issues in {busy['elapsed']:.1f} s, {rate:.1f} issues/s "
                f"({rate / alone_rate:.2f} × 1 client, {rate * 2 / health_rate:.3f} × /healthz "
                f"requests/s counting 2 requests an issue); "
                f"issue p50 {statistics.median(latencies) * 1000:.0f} ms, p95 "
                f"{percentile(latencies, 0.95) * 1000:.0f} ms "
                f"({statistics.median(latencies) / alone_p50:.1f} × 1 client's p50); "
                f"submit p50 {statistics.median(submits) * 1000:.0f} ms, p95 "
                f"{percentile(submits, 0.95) * 1000:.0f} ms\n"
            )
            waited = sampler.lock_wait_seconds()
            write(
                f"numbering lock, waiting (pg_stat_activity sampled {sampler.samples} times, every "
                f"{sampler.elapsed / max(sampler.samples, 1) * 1000:.1f} ms): on average "
                f"{sampler.waiting / max(sampler.samples, 1):.2f} backends waiting for the "
                f"sequence row, {sampler.active / max(sampler.samples, 1):.2f} busy; "
                f"≈ {waited:.1f} s of waiting = {waited / sum(submits):.1%} of the submit "
                f"requests' time, "
                f"{waited / sum(latencies):.1%} of the issues' time\n"
            )
            stop(server)
            server = None

        with override_settings(
            COOP_INVOICE_REVIEW_NEW_CLIENTS=False,
            COOP_INVOICE_REVIEW_THRESHOLD=Decimal("100000000"),
        ):
            section = time_locked_section(sellers, in_process)
        write(
            f"numbering lock, holding (in this process, {in_process} issues one by one): "
            f"submit_invoice median {section['whole'] * 1000:.1f} ms, of which from taking the "
            f"number to the end of the commit {section['locked'] * 1000:.1f} ms "
            f"({section['locked'] / section['whole']:.0%}); one series allows at most "
            f"{1 / section['locked']:.0f} issues/s whatever the clients"
            + (
                f", {1 / section['locked'] / rate:.1f} × the rate measured at "
                f"{options.clients} clients"
                if rate
                else ""
            )
            + "\n"
            f"  statements in the locked section, mean per issue: {section['statements']}\n"
        )
        good, detail = check_numbers()
        write(f"numbers: {detail}\n")
        if not good:
            raise SystemExit("numbers are not gapless and unique")
    finally:
        if server is not None:
            stop(server)
            write(f"gunicorn log: {log.read_text(errors='replace')[-3000:]}\n")
        connection.close()
        if not options.keep_db:
            connection.creation.destroy_test_db(database, verbosity=0)
        log.unlink(missing_ok=True)
        redis.Redis.from_url(BROKER_URL).delete("pdf", "default")


if __name__ == "__main__":
    main()
