"""Drill: two web servers and two Celery workers on one database, through PgBouncer.

Run with ``.venv/bin/python drills/pgbouncer.py [--server postgres://postgres@127.0.0.1:5432/]
[--database coop_drill_pgbouncer] [--invoices 120] [--payslips 60]``. The drill creates the
database afresh on that PostgreSQL server, migrates it and loads the demo world (directly), then
starts its own PgBouncer (Debian's package; in transaction pooling, on a free port, with a pool
of 4 server connections, ``--pool-size``) in front of it and points every process at PgBouncer with
``DATABASE_POOLING=transaction``: two gunicorn processes (two workers each), two Celery workers
(two processes each), the payroll run and the drill itself. Its own Valkey carries Celery's
messages.

The load, all at once: members issue invoices through the API (draft, then submit) on both web
servers; the payroll of the loaded contracts runs (``manage.py run_payroll``); members book the
same room slots through the API (one wins each slot). Then staff record each invoice's payment
twice at the same moment (one must be refused). When the workers have rendered every document
and sent every sending, the drill prints: HTTP answers by status, invoice numbers gapped or
doubled, invoices paid twice, ledger entries not matching their invoices or payslips, double
bookings, documents not ready, errors in the logs, and PgBouncer's figures (transactions,
queries, most client and server connections at once).
"""

import argparse
import contextlib
import datetime
import os
import pwd
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coop.devstack import free_port
from drills.stack import PYTHON, ROOT, Stack, say, wait_until

PGBOUNCER = "/usr/sbin/pgbouncer"
# PgBouncer's admin console speaks only the simple query protocol: ask it with psql.
PSQL = ["psql", "-X", "-A", "-F", "|", "-h", "127.0.0.1", "-d", "pgbouncer"]
# Two gunicorn on one host: no control socket, or the second finds the first's in use.
GUNICORN = [PYTHON, "-m", "gunicorn", "coop.wsgi", "--workers", "2", "--no-control-socket"]
GUNICORN_LOGS = ["--access-logfile", "-", "--error-logfile", "-"]
PAYROLL_PERIOD = ["--from", "2026-07-01", "--to", "2026-09-30"]
ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL|Traceback)\b")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--database", default="coop_drill_pgbouncer")
    parser.add_argument("--invoices", type=int, default=120)
    parser.add_argument("--payslips", type=int, default=60)
    parser.add_argument("--pool-size", type=int, default=4, help="server connections")
    parser.add_argument("--timeout", type=float, default=900)
    options = parser.parse_args()
    if not ensure_pgbouncer():
        sys.exit(1)

    direct = options.server.rstrip("/") + "/" + options.database
    bouncer = PgBouncer(direct, pool_size=options.pool_size)
    stack = Stack("pgbouncer")
    try:
        bouncer.start()
        stack.start(
            database_url=direct,
            serving={
                "DATABASE_URL": bouncer.url(options.database),
                "DATABASE_POOLING": "transaction",
                "DATABASE_CONN_MAX_AGE": "60",
                "API_RATE_LIMIT": "100000/hour",
            },
        )
        run(stack, bouncer, options)
    finally:
        stack.stop()
        bouncer.stop(stack.logs)


def ensure_pgbouncer() -> bool:
    """Install Debian's pgbouncer as root, or print the command to; tell whether it is there."""
    if Path(PGBOUNCER).exists():
        return True
    install = ["apt-get", "install", "--yes", "--no-install-recommends", "pgbouncer"]
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        say(f"the drill needs PgBouncer; install it with: sudo {' '.join(install)}")
        return False
    say(f"installing PgBouncer: {' '.join(install)}")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(install, env=environment, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], env=environment, check=False)
        subprocess.run(install, env=environment, check=False)
    return Path(PGBOUNCER).exists()


class PgBouncer:
    """A PgBouncer of the drill's own, in transaction pooling, in front of one server.

    PgBouncer refuses to run as root: as root it runs as the ``postgres`` system user (which
    Debian's package creates), with its files in a temporary folder that user owns.
    """

    def __init__(self, server_url: str, *, pool_size: int) -> None:
        parts = urlsplit(server_url)
        self.server_host = parts.hostname or "127.0.0.1"
        self.server_port = parts.port or 5432
        self.user = parts.username or "postgres"
        self.port = free_port()
        self.pool_size = pool_size
        self.folder = Path(tempfile.mkdtemp(prefix="coop-pgbouncer-"))
        self.process: subprocess.Popen | None = None

    def url(self, database: str) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        ini = self.folder / "pgbouncer.ini"
        (self.folder / "users.txt").write_text(f'"{self.user}" ""\n')
        ini.write_text(
            "[databases]\n"
            f"* = host={self.server_host} port={self.server_port}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.folder / 'users.txt'}\n"
            f"admin_users = {self.user}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {self.pool_size}\n"
            "max_client_conn = 500\n"
            f"logfile = {self.folder / 'pgbouncer.log'}\n"
            f"pidfile = {self.folder / 'pgbouncer.pid'}\n"
        )
        system_user = None
        if os.geteuid() == 0:
            system_user = "postgres"
            account = pwd.getpwnam(system_user)
            for path in [self.folder, *self.folder.iterdir()]:
                os.chown(path, account.pw_uid, account.pw_gid)
        self.process = subprocess.Popen(
            [PGBOUNCER, str(ini)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            user=system_user,
            start_new_session=True,
        )
        if wait_until(lambda: self.show("VERSION") is not None, timeout=15) is None:
            raise RuntimeError(f"PgBouncer did not start: see {self.folder / 'pgbouncer.log'}")
        say(f"{self.show('VERSION')[1][0]} on port {self.port}, transaction pooling")

    def show(self, what: str) -> list[list[str]] | None:
        """Ask PgBouncer's admin console (simple query protocol, hence psql)."""
        result = subprocess.run(
            [*PSQL, "-p", str(self.port), "-U", self.user, "-c", f"SHOW {what}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            return None
        return [
            line.split("|")
            for line in result.stdout.splitlines()
            if line and not re.fullmatch(r"\(\d+ rows?\)", line)
        ]

    def table(self, what: str) -> list[dict[str, str]]:
        rows = self.show(what) or []
        if not rows:
            return []
        header, *body = rows
        return [dict(zip(header, row, strict=False)) for row in body]

    def log_lines(self) -> list[str]:
        path = self.folder / "pgbouncer.log"
        return path.read_text(errors="replace").splitlines() if path.exists() else []

    def stop(self, logs: Path) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            self.process.wait(timeout=15)
        with contextlib.suppress(OSError):
            shutil.copy(self.folder / "pgbouncer.log", logs / "pgbouncer.log")
        shutil.rmtree(self.folder, ignore_errors=True)


class Sampler(threading.Thread):
    """Sample PgBouncer's pools: the most client and server connections at once."""

    def __init__(self, bouncer: PgBouncer, database: str) -> None:
        super().__init__(daemon=True)
        self.bouncer, self.database = bouncer, database
        self.stopping = threading.Event()
        self.clients = self.servers = self.waiting = 0

    def run(self) -> None:
        while not self.stopping.is_set():
            for pool in self.bouncer.table("POOLS"):
                if pool.get("database") != self.database:
                    continue
                clients = int(pool["cl_active"]) + int(pool["cl_waiting"])
                servers = sum(int(pool[key]) for key in pool if key.startswith("sv_"))
                self.clients = max(self.clients, clients)
                self.servers = max(self.servers, servers)
                self.waiting = max(self.waiting, int(pool["cl_waiting"]))
            self.stopping.wait(0.5)


class Http:
    """API calls spread over the two web servers; every answer's status is counted."""

    def __init__(self, ports: list[int]) -> None:
        import requests

        self.ports = ports
        self.statuses: Counter = Counter()
        self.unexpected: list[str] = []
        self.lock = threading.Lock()
        self.local = threading.local()
        self.requests = requests
        self.turn = 0

    def call(self, method: str, path: str, token: str, expected: set[int], **kwargs):
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = self.requests.Session()
        with self.lock:
            self.turn += 1
            port = self.ports[self.turn % len(self.ports)]
        response = session.request(
            method,
            f"http://127.0.0.1:{port}{path}",
            headers={"Authorization": f"Token {token}", "Accept-Language": "en"},
            timeout=120,
            **kwargs,
        )
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code not in expected:
                self.unexpected.append(f"{method} {path}: {response.status_code} {response.text}")
        return response


def make_token(user) -> str:
    import secrets

    from django.utils import timezone

    from members.models import ApiToken
    from members.services import hash_api_key

    key = secrets.token_urlsafe(30)
    ApiToken.objects.create(
        user=user,
        name="drill",
        prefix=key[:8],
        key_hash=hash_api_key(key),
        created_at=timezone.now(),
        expires_at=timezone.now() + datetime.timedelta(days=7),
        second_factor_verified=True,
    )
    return key


def sellers(count: int) -> list[dict]:
    """Active demo members with an Activity, each with a client and an API token."""
    from invoicing.services.clients import create_client
    from members.models import Activity

    chosen = []
    activities = Activity.objects.select_related("owner__user").order_by("pk")
    for activity in activities[:count]:
        client, _created = create_client(
            owner=activity.owner.user,
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
        chosen.append(
            {
                "token": make_token(activity.owner.user),
                "activity": activity.pk,
                "client": client.pk,
            }
        )
    return chosen


def booking_room():
    """A site open every day 08:00–22:00 and one room bookable a year ahead."""
    from members.models import Activity
    from spaces.models import OpeningHours, Room, RoomPrice, Site

    site = Site.objects.create(
        name="Drill hall",
        street="Rue Adolphe Lavallée 39",
        postal_code="1080",
        city="Molenbeek-Saint-Jean",
        income_activity=Activity.objects.order_by("-pk").first(),
    )
    for weekday in range(7):
        OpeningHours.objects.create(
            site=site, weekday=weekday, opens_at=datetime.time(8), closes_at=datetime.time(22)
        )
    room = Room.objects.create(
        site=site,
        name="Drill room",
        kind=Room.Kind.MEETING_ROOM,
        area_m2=Decimal("45.0"),
        capacity=20,
        lead_time_minutes=60,
        horizon_days=365,
    )
    RoomPrice.objects.create(
        room=room,
        tier="member",
        per_hour=Decimal("12.00"),
        per_half_day=Decimal("40.00"),
        per_day=Decimal("70.00"),
    )
    return room


def issue_invoices(http: Http, seller: dict, count: int, invoice_pks: list[int]) -> None:
    for index in range(count):
        draft = http.call(
            "POST",
            "/api/v1/invoices/",
            seller["token"],
            {201},
            json={
                "activity": seller["activity"],
                "client": seller["client"],
                "buyer_reference": f"PO-{index}",
                "lines": [
                    {
                        "description": f"Lighting design, performance {index}",
                        "quantity": "3",
                        "unit": "hour",
                        "unit_price": "65.00",
                        "vat_category": "S",
                        "vat_rate": "21",
                    }
                ],
            },
        )
        if draft.status_code != 201:
            continue
        pk = draft.json()["pk"]
        submitted = http.call("POST", f"/api/v1/invoices/{pk}/submit/", seller["token"], {200})
        if submitted.status_code == 200:
            invoice_pks.append(pk)


def book_slots(http: Http, seller: dict, room_pk: int, slots: list, outcomes: Counter) -> None:
    for day, hour in random.sample(slots, len(slots)):
        response = http.call(
            "POST",
            "/api/v1/bookings/",
            seller["token"],
            {201, 400},
            json={
                "room": room_pk,
                "title": "Rehearsal",
                "date": day.isoformat(),
                "start_time": f"{hour:02d}:00",
                "end_time": f"{hour + 1:02d}:00",
                "activity": seller["activity"],
            },
        )
        outcomes[response.status_code] += 1


def pay_twice(http: Http, token: str, invoice, outcomes: Counter) -> None:
    """Two staff requests paying the whole invoice at the same moment."""
    barrier = threading.Barrier(2)

    def pay() -> int:
        barrier.wait(timeout=30)
        return http.call(
            "POST",
            f"/api/v1/invoices/{invoice.pk}/payments/",
            token,
            {201, 400},
            json={
                "amount": str(invoice.total_incl_vat),
                "received_on": datetime.date.today().isoformat(),
            },
        ).status_code

    with ThreadPoolExecutor(2) as pool:
        for status in pool.map(lambda _index: pay(), range(2)):
            outcomes[status] += 1


def run(stack: Stack, bouncer: PgBouncer, options) -> None:
    from django.db import connection

    from benchmarks.payroll import load
    from members.demo import DEMO_STAFF
    from members.models import User

    began = time.monotonic()
    load(options.payslips)
    say(f"loaded {options.payslips} approved contracts in {time.monotonic() - began:.1f} s")
    seller_list = sellers(6)
    staff_token = make_token(User.objects.get(email=DEMO_STAFF))
    room = booking_room()
    connection.close()

    ports = [free_port(), free_port()]
    for number, port in enumerate(ports, start=1):
        stack.spawn(
            f"web{number}",
            [*GUNICORN, "--bind", f"127.0.0.1:{port}", *GUNICORN_LOGS],
        )
    stack.start_worker("worker1")
    stack.start_worker("worker2")
    http = Http(ports)
    for port in ports:
        wait_until(lambda port=port: healthz(port) == 200, timeout=120)
    say(f"two gunicorn processes on ports {ports[0]} and {ports[1]}, two Celery workers")

    sampler = Sampler(bouncer, options.database)
    sampler.start()
    load_began = time.monotonic()
    invoice_pks: list[int] = []
    booking_outcomes: Counter = Counter()
    today = datetime.date.today()
    slots = [(today + datetime.timedelta(days=day), hour) for day in (7, 8) for hour in (9, 11, 14)]
    payroll_log = (stack.logs / "run_payroll.log").open("a")
    payroll = subprocess.Popen(
        [PYTHON, str(ROOT / "manage.py"), "run_payroll", *PAYROLL_PERIOD],
        cwd=ROOT,
        stdout=payroll_log,
        stderr=subprocess.STDOUT,
    )
    per_seller = -(-options.invoices // len(seller_list))
    with ThreadPoolExecutor(len(seller_list) + 4) as pool:
        jobs = [
            pool.submit(issue_invoices, http, seller, per_seller, invoice_pks)
            for seller in seller_list
        ]
        jobs += [
            pool.submit(book_slots, http, seller, room.pk, slots, booking_outcomes)
            for seller in seller_list[:4]
        ]
        for job in jobs:
            job.result()
    payroll.wait()
    say(
        f"issued {len(invoice_pks)} invoices through the API and booked, with the payroll run,"
        f" in {time.monotonic() - load_began:.1f} s (payroll exit code {payroll.returncode})"
    )

    from invoicing.models import Invoice

    payment_outcomes: Counter = Counter()
    paying = list(Invoice.objects.with_amounts().filter(pk__in=invoice_pks))
    with ThreadPoolExecutor(4) as pool:
        for job in [
            pool.submit(pay_twice, http, staff_token, invoice, payment_outcomes)
            for invoice in paying
        ]:
            job.result()
    say(
        f"paid {len(paying)} invoices, each twice at once, in {time.monotonic() - load_began:.1f} s"
    )

    settled = wait_until(lambda: all_done(invoice_pks), timeout=options.timeout, interval=1)
    sampler.stopping.set()
    sampler.join()
    report(
        stack,
        bouncer,
        sampler,
        options,
        http,
        invoice_pks,
        booking_outcomes,
        payment_outcomes,
        slots,
        settled,
        load_began,
    )


def healthz(port: int) -> int | None:
    import requests

    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code
    except requests.RequestException:
        return None


def all_done(invoice_pks: list[int]) -> bool:
    from contracts.models import Payslip
    from coop.documents import DocumentStatus
    from drills.invoices import dispatches_of, documents_of
    from invoicing.models import Dispatch

    return (
        not documents_of(invoice_pks).exclude(status=DocumentStatus.READY).exists()
        and not dispatches_of(invoice_pks).exclude(status=Dispatch.Status.SENT).exists()
        and not Payslip.objects.exclude(status=DocumentStatus.READY).exists()
    )


def ledger_mismatches(invoice_pks: list[int]) -> int:
    """Invoices whose ledger entries do not match what was issued and paid."""
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Sum

    from coop.money import round_money
    from invoicing.models import Invoice
    from members.models import LedgerEntry, LedgerEntryKind, LedgerStage

    invoice_type = ContentType.objects.get_for_model(Invoice)
    sums: dict = {}
    for row in (
        LedgerEntry.objects.filter(source_type=invoice_type, source_id__in=invoice_pks)
        .values("source_id", "kind", "stage")
        .annotate(total=Sum("amount"))
    ):
        sums[(row["source_id"], row["kind"], row["stage"])] = row["total"]
    wrong = 0
    for invoice in Invoice.objects.with_amounts().filter(pk__in=invoice_pks):
        paid = invoice.amount_paid >= invoice.total_incl_vat
        excl = invoice.total_excl_vat
        zero = Decimal("0.00")
        expected = {
            (LedgerEntryKind.CLIENT_INCOME, LedgerStage.PLANNED): zero if paid else excl,
            (LedgerEntryKind.CLIENT_INCOME, LedgerStage.AVAILABLE): excl if paid else zero,
            (LedgerEntryKind.COOPERATIVE_FEE, LedgerStage.AVAILABLE): (
                -round_money(excl * settings.COOP_FEE_RATE) if paid else zero
            ),
        }
        for (kind, stage), amount in expected.items():
            if sums.get((invoice.pk, kind, stage), zero) != amount:
                wrong += 1
                break
    return wrong


def log_errors(stack: Stack) -> dict[str, int]:
    counts = {}
    for path in sorted(stack.logs.glob("*.log")):
        if path.name in {"pgbouncer.log", "manage.log"}:
            continue
        counts[path.stem] = sum(
            1 for line in path.read_text(errors="replace").splitlines() if ERROR_LINE.search(line)
        )
    return counts


def report(
    stack,
    bouncer,
    sampler,
    options,
    http,
    invoice_pks,
    booking_outcomes,
    payment_outcomes,
    slots,
    settled,
    load_began,
) -> None:
    from collections import Counter as Tally

    from django.db import connection
    from django.db.models import Count, Sum

    from contracts.models import ContractWorker, Payslip
    from coop.documents import DocumentStatus
    from drills.invoices import dispatches_of, documents_of
    from invoicing.models import Dispatch, Invoice, InvoiceSequence
    from members.models import LedgerEntry, LedgerEntryKind, LedgerStage
    from spaces.models import ACTIVE_STATES

    gaps = doubled = 0
    for sequence in InvoiceSequence.objects.all():
        numbers = Invoice.objects.filter(number__startswith=f"{sequence.series}-").values_list(
            "number", flat=True
        )
        counted = Tally(int(number.rsplit("-", 1)[1]) for number in numbers)
        doubled += sum(count - 1 for count in counted.values())
        gaps += len(set(range(1, sequence.last_number + 1)) - set(counted))
    paid_twice = (
        Invoice.objects.filter(pk__in=invoice_pks)
        .annotate(payments_count=Count("payments"))
        .filter(payments_count__gt=1)
        .count()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM spaces_booking a JOIN spaces_booking b
              ON a.room_id = b.room_id AND a.id < b.id AND a.blocked_during && b.blocked_during
             WHERE a.state = ANY(%s) AND b.state = ANY(%s)
            """,
            [list(ACTIVE_STATES), list(ACTIVE_STATES)],
        )
        double_bookings = cursor.fetchone()[0]
    documents = documents_of(invoice_pks)
    dispatches = dispatches_of(invoice_pks)
    # The loaded contracts only (the demo world has payslips and salary entries of its own).
    loaded = {"activity__owner__user__email__startswith": "bench-"}
    workers = ContractWorker.objects.filter(
        **{f"contract__{key}": value for key, value in loaded.items()}
    )
    payslips = Payslip.objects.filter(worker__in=workers)
    paid_workers = payslips.values("worker").distinct().count()
    cost = payslips.aggregate(total=Sum("employer_cost"))["total"] or Decimal("0.00")
    debited = LedgerEntry.objects.filter(
        kind=LedgerEntryKind.SALARY_COST, stage=LedgerStage.AVAILABLE, **loaded
    ).aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
    stats = next(
        (row for row in bouncer.table("STATS") if row.get("database") == options.database), {}
    )
    bouncer_problems = [
        line for line in bouncer.log_lines() if " ERROR " in line or " WARNING " in line
    ]
    errors = log_errors(stack)

    say("")
    say(f"HTTP answers by status:               {dict(sorted(http.statuses.items()))}")
    say(f"HTTP answers not expected:            {len(http.unexpected)}")
    for line in http.unexpected[:5]:
        say(f"    {line[:300]}")
    say(f"invoices issued through the API:      {len(invoice_pks)} / {options.invoices}")
    say(f"invoice numbers gapped / doubled:     {gaps} / {doubled}")
    say(f"payments accepted / refused (2 each): {payment_outcomes[201]} / {payment_outcomes[400]}")
    say(f"invoices paid twice:                  {paid_twice}")
    say(f"invoices whose ledger does not match: {ledger_mismatches(invoice_pks)}")
    say(f"workers paid / to pay:                {paid_workers} / {workers.count()}")
    say(f"ledger salary debits / employer cost: {-debited} / {cost}")
    say(
        f"bookings made / refused:              {booking_outcomes[201]} / {booking_outcomes[400]}"
        f" (4 members on the same {len(slots)} slots)"
    )
    say(f"double bookings:                      {double_bookings}")
    say(
        "documents ready / expected:           "
        f"{documents.filter(status=DocumentStatus.READY).count()} / {documents.count()}"
    )
    say(
        "payslips ready / made:                "
        f"{Payslip.objects.filter(status=DocumentStatus.READY).count()} / {Payslip.objects.count()}"
    )
    say(
        "sendings sent / expected:             "
        f"{dispatches.filter(status=Dispatch.Status.SENT).count()} / {dispatches.count()}"
    )
    say(
        "everything settled after:             "
        + (f"{time.monotonic() - load_began:.1f} s" if settled is not None else "NOT SETTLED")
    )
    say(f"error lines in the logs:              {errors}")
    say(f"PgBouncer warnings and errors:        {len(bouncer_problems)}")
    for line in bouncer_problems[:5]:
        say(f"    {line[:200]}")
    say(
        "PgBouncer transactions / queries:     "
        f"{stats.get('total_xact_count', '?')} / {stats.get('total_query_count', '?')}"
    )
    say(
        f"PgBouncer peak clients / servers:     {sampler.clients} / {sampler.servers}"
        f" (pool size {bouncer.pool_size}; most clients waiting at once: {sampler.waiting})"
    )


if __name__ == "__main__":
    main()
