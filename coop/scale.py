# ruff: noqa: S608 - every SQL text here is built from constants and integers, never input
"""Build a SMart-sized world with server-side bulk SQL (``manage.py seed_scale``).

Every row is computed by PostgreSQL from ``generate_series`` and a deterministic hash of its
index, so the same scale always gives the same world and nothing large passes through Python.
The world keeps the invariants the application relies on:

* invoices are inserted already issued, with their lines, their frozen snapshot and totals
  computed from the same figures; numbers are gapless per series (one per year) and dates
  follow numbers; ``InvoiceSequence`` holds each series' last number and date;
* the ledger is only appended to, and its entries are exactly those the services would post:
  planned income when an invoice is issued, income moved to available with the cooperative's
  fee when it is paid (in full or in part), planned salary cost when a contract is approved,
  salaries and the release of the planned cost once per payroll run and Activity, booking
  charges; the rest are grants, supplier payments, expenses and adjustments of their own;
* bookings never overlap in a room (the exclusion constraint is added back after the load,
  which checks every booking); a member works on one contract a day at most.

Secondary indexes, foreign keys and exclusion constraints of the tables loaded are dropped
before the load and recreated afterwards from their saved definitions (kept in
``seed_scale_saved_ddl`` until they are back, so that an interrupted run restores them the next
time).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import math
import os
import re
import time
from collections.abc import Callable

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from coop.fields import fernet, fingerprint

SCALE_DOMAIN = "scale.coop.test"
DEMO_DOMAIN = "coop.test"
SCALE_PASSWORD = "coop-scale-2026"  # noqa: S105 - published login of generated members
HEAVY_MEMBERS = 3
TIME_ZONE = "Europe/Brussels"

# Full size: SMart's figures (issue #11).
FULL = {
    "members": 100_000,
    "invoices": 2_000_000,
    "ledger": 10_000_000,
    "contracts": 150_000,
    "payslips": 500_000,
    "rooms": 200,
    "bookings": 1_000_000,
}
HEAVY_INVOICES = 2_000
HEAVY_LEDGER = 20_000
CLIENTS_PER_MEMBER = 4
INVOICE_DAYS = 730  # two years of invoices
CONTRACT_DAYS = 800
ROOMS_PER_SITE = 20
BOOKING_SLOTS = (9, 11, 14, 16)  # two hours each, local time

# Tables the load writes to; their secondary indexes and constraints (foreign keys,
# exclusion) are dropped meanwhile and recreated afterwards, which checks them all.
BIG_TABLES = [
    "members_user",
    "account_emailaddress",
    "members_member",
    "members_membershipevent",
    "members_sharesubscription",
    "members_activity",
    "members_activity_co_members",
    "members_ledgerentry",
    "invoicing_client",
    "invoicing_invoice",
    "invoicing_invoiceline",
    "invoicing_payment",
    "contracts_taxprofile",
    "contracts_contract",
    "contracts_contractworker",
    "contracts_workday",
    "contracts_payslip",
    "spaces_booking",
]
# Small tables the load writes to as well.
SMALL_TABLES = [
    "contracts_payrollrun",
    "spaces_site",
    "spaces_openinghours",
    "spaces_room",
    "spaces_roomprice",
    "invoicing_invoicesequence",
]
SAVED_DDL_TABLE = "seed_scale_saved_ddl"

FIRST_NAMES = [
    "Ana", "Lucas", "Emma", "Louis", "Olivia", "Arthur", "Mila", "Jules", "Léa", "Victor",
    "Alice", "Adam", "Nora", "Liam", "Zoé", "Finn", "Inès", "Noah", "Elise", "Sam",
    "Hugo", "Lina", "Milan", "Lou", "Nathan", "Camille", "Tom", "Julie", "Simon", "Sarah",
]  # fmt: skip
LAST_NAMES = [
    "Peeters", "Dubois", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
    "Wouters", "De Smet", "Lambert", "Dupont", "Hermans", "Martin", "Lemaire", "Vermeulen",
    "Leroy", "Janssens", "Michel", "Desmet", "Smets", "Aerts", "Renard", "Lejeune", "Segers",
    "Dumont", "Stevens", "Collard", "Hendrickx", "Denis",
]  # fmt: skip
CITIES = [
    ("1000", "Bruxelles"), ("1080", "Molenbeek-Saint-Jean"), ("9000", "Gent"), ("4000", "Liège"),
    ("2000", "Antwerpen"), ("3000", "Leuven"), ("5000", "Namur"), ("2800", "Mechelen"),
    ("1050", "Ixelles"), ("8000", "Brugge"), ("6000", "Charleroi"), ("1030", "Schaerbeek"),
    ("3500", "Hasselt"), ("7000", "Mons"), ("8500", "Kortrijk"), ("1060", "Saint-Gilles"),
]  # fmt: skip
ACTIVITY_NAMES = [
    "Illustration", "Stage lighting", "Documentary photography", "Graphic design",
    "Sound engineering", "Ceramics workshop", "Theatre tour", "Translation", "Video editing",
    "Dance workshops", "Web development", "Costume design", "Music lessons", "Set building",
]  # fmt: skip
CLIENT_NAMES = [
    "Théâtre", "Kunstencentrum", "Atelier", "Festival", "Galerie", "Studio", "Maison", "Collectif",
    "Centre culturel", "Productions", "Editions", "Agence",
]  # fmt: skip
CLIENT_SUFFIXES = ["SA", "SRL", "vzw", "asbl", "BV", "SC"]
WORK = [
    ("Rehearsal days, lighting design", "Photography, opening night"),
    ("Sound engineering", "Workshop for children"),
    ("Illustrations for the season brochure", "Editing and corrections"),
    ("Set building", "Transport and installation"),
    ("Translation", "Proofreading"),
    ("Video shooting", "Video editing"),
]
JOBS = [
    ("Lighting design", "Théâtre des Galeries, Bruxelles", "artistic"),
    ("Illustrations for a children's book", "Home studio", "artistic"),
    ("Sound engineering, summer festival", "Parc de Forest", "artistic"),
    ("Website for a bakery", "Remote", "non_artistic"),
    ("Photography workshop", "LaVallée, Molenbeek", "artistic"),
    ("Translation of an exhibition catalogue", "Remote", "non_artistic"),
    ("Dance performance", "Kaaitheater, Brussel", "artistic"),
    ("Set building", "Atelier 210, Etterbeek", "non_artistic"),
]
BOOKING_TITLES = ["Team meeting", "Workshop", "Rehearsal", "Photo shoot", "Training", "Meeting"]
ROOM_KINDS = ["meeting_room", "studio", "atelier", "event_hall", "desk", "office"]
MISC = [
    ("grant", 1, "Grant received"),
    ("supplier_payment", -1, "Supplier invoice paid"),
    ("expense_reimbursement", -1, "Travel and materials"),
    ("adjustment", 1, "Correction by staff"),
]


for _text in [*FIRST_NAMES, *LAST_NAMES, *ACTIVITY_NAMES, *CLIENT_NAMES, *CLIENT_SUFFIXES]:
    # Generated texts go into JSON snapshots unescaped (see json_template).
    assert '"' not in _text and "\\" not in _text, _text


class ScaleError(Exception):
    """The world cannot be built on this database; the message says why."""


def h(expr: str, salt: int) -> str:
    """SQL for a deterministic pseudo-random non-negative integer drawn from ``expr``."""
    return f"((hashint8(({expr})::bigint * 7919 + {salt}) & 2147483647)::bigint)"


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def json_template(template: str) -> str:
    """SQL building a jsonb from JSON text whose ``⟦expression⟧`` parts are SQL (text)."""
    pieces = template.split("⟦")
    parts = [sql_literal(pieces[0])] if pieces[0] else []
    for piece in pieces[1:]:
        expression, literal = piece.split("⟧", 1)
        parts.append(f"({expression})")
        if literal:
            parts.append(sql_literal(literal))
    return "(" + " || ".join(parts) + ")::jsonb"


def sql_array(values: list[str]) -> str:
    quoted = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
    return f"(ARRAY[{quoted}]::text[])"


def pick(values: list[str], expr: str, salt: int) -> str:
    """SQL choosing one of ``values`` by the hash of ``expr``."""
    return f"{sql_array(values)}[1 + {h(expr, salt)} % {len(values)}]"


@dataclasses.dataclass(frozen=True)
class Plan:
    """How many rows of each kind a scale gives."""

    scale: float
    members: int
    invoices: int
    ledger: int
    contracts: int
    payslips: int
    rooms: int
    bookings: int
    heavy: int
    heavy_invoices: int
    heavy_ledger: int

    @classmethod
    def for_scale(cls, scale: float) -> Plan:
        def size(key: str, minimum: int) -> int:
            return max(minimum, round(FULL[key] * scale))

        members = size("members", 20)
        invoices = size("invoices", 40)
        ledger = size("ledger", 200)
        heavy = HEAVY_MEMBERS
        return cls(
            scale=scale,
            members=members,
            invoices=invoices,
            ledger=ledger,
            contracts=size("contracts", 20),
            payslips=size("payslips", 20),
            rooms=size("rooms", 1),
            bookings=size("bookings", 20),
            heavy=heavy,
            heavy_invoices=min(HEAVY_INVOICES, invoices // (10 * heavy)),
            heavy_ledger=min(HEAVY_LEDGER, ledger // (10 * heavy)),
        )


@dataclasses.dataclass
class StepResult:
    table: str
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def real_data_summary() -> str | None:
    """Say what makes this database hold real data, or None when it holds only seeded worlds.

    Real data is any user whose e-mail is not at the demo's domain (``@coop.test``, made by
    ``seed_demo``) or at ``@scale.coop.test`` (made by ``seed_scale``): every member, invoice,
    contract or booking belongs to a user, so real members bring real users.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM members_user WHERE NOT (lower(email) LIKE %s OR lower(email)"
            " LIKE %s)",
            [f"%@{DEMO_DOMAIN}", f"%@{SCALE_DOMAIN}"],
        )
        (users,) = cursor.fetchone()
    if users:
        return f"{users} user(s) with an e-mail address outside @{DEMO_DOMAIN}"
    return None


def already_seeded() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM members_user WHERE email LIKE %s)", [f"%@{SCALE_DOMAIN}"]
        )
        return cursor.fetchone()[0]


def heavy_logins(plan: Plan) -> list[str]:
    return [f"heavy{index}@{SCALE_DOMAIN}" for index in range(1, plan.heavy + 1)]


class ScaleSeeder:
    """Load the world of a :class:`Plan` into the default database, table by table."""

    def __init__(self, plan: Plan, *, write: Callable[[str], None], today=None, now=None):
        self.plan = plan
        self.write = write
        self.now = now or timezone.now()
        self.today = today or timezone.localdate(self.now)
        self.results: list[StepResult] = []

    # -- plumbing ---------------------------------------------------------------------------

    def execute(self, sql: str, params=None) -> int:
        if params is not None:
            # The SQL computes with the modulo operator: escape it from the placeholders.
            sql = re.sub(r"%(?![(s])", "%%", sql)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def scalar(self, sql: str, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def step(self, table: str, statements: list[str] | str, params=None, *, count=None) -> int:
        """Run statements in one transaction, report rows/s for ``table``."""
        if isinstance(statements, str):
            statements = [statements]
        started = time.monotonic()
        rows = 0
        explain = os.environ.get("SEED_SCALE_EXPLAIN", "") in (table, "all")
        with transaction.atomic():
            for statement in statements:
                if explain and statement.lstrip().upper().startswith(
                    ("INSERT", "UPDATE", "CREATE")
                ):
                    # Profiling: the plan with its timings (the statement runs all the same).
                    with connection.cursor() as cursor:
                        sql = re.sub(r"%(?![(s])", "%%", statement) if params else statement
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                        plan = "\n".join(row[0] for row in cursor.fetchall())
                    self.write(plan)
                    match = re.search(r"rows=(\d+) loops=1\)\n", plan)
                    affected = self.scalar("SELECT 0")
                    rows += int(match.group(1)) if match else 0
                    continue
                affected = self.execute(statement, params)
                if affected and affected > 0:
                    rows += affected
        if count is not None:
            rows = count
        elapsed = time.monotonic() - started
        result = StepResult(table, rows, elapsed)
        self.results.append(result)
        self.write(f"  {table:<34} {rows:>11,} rows {elapsed:8.1f} s {result.rate:>12,.0f} rows/s")
        return rows

    def next_id(self, table: str) -> int:
        """The last id in use: new rows take explicit ids from here."""
        return self.scalar(f"SELECT coalesce(max(id), 0) FROM {table}")

    # -- indexes and foreign keys -----------------------------------------------------------

    def restore_saved_ddl(self) -> int:
        """Recreate the indexes and constraints dropped for the load (or by an interrupted run)."""
        exists = self.scalar("SELECT to_regclass(%s) IS NOT NULL", [SAVED_DDL_TABLE])
        if not exists:
            return 0
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, kind, ddl FROM {SAVED_DDL_TABLE} ORDER BY kind DESC, id")
            rows = cursor.fetchall()
        timings = []
        for pk, _kind, ddl in rows:
            started = time.monotonic()
            with transaction.atomic():
                self.execute(ddl)
                self.execute(f"DELETE FROM {SAVED_DDL_TABLE} WHERE id = %s", [pk])
            timings.append((time.monotonic() - started, ddl))
        self.execute(f"DROP TABLE {SAVED_DDL_TABLE}")
        # Profiling: what took longest to build or check again.
        for seconds, ddl in sorted(timings, reverse=True)[:8]:
            if seconds >= 1:
                self.write(f"    {seconds:6.1f} s  {' '.join(ddl.split())[:110]}")
        return len(rows)

    def drop_secondary_structures(self) -> None:
        """Save then drop the non-unique indexes and the foreign keys of the loaded tables."""
        with transaction.atomic():
            # Inside a caller's transaction (tests), deferred checks must be done before DDL.
            self.execute("SET CONSTRAINTS ALL IMMEDIATE")
            self.execute(
                f"CREATE TABLE {SAVED_DDL_TABLE} (id serial PRIMARY KEY, kind text NOT NULL,"
                " name text NOT NULL, ddl text NOT NULL)"
            )
            # Indexes first (kind 'index' sorts after 'constraint' descending: recreated first).
            self.execute(
                f"""
                INSERT INTO {SAVED_DDL_TABLE} (kind, name, ddl)
                SELECT 'index', quote_ident(ic.relname), pg_get_indexdef(i.indexrelid)
                FROM pg_index i
                JOIN pg_class ic ON ic.oid = i.indexrelid
                JOIN pg_class tc ON tc.oid = i.indrelid
                JOIN pg_namespace n ON n.oid = tc.relnamespace
                WHERE n.nspname = current_schema() AND tc.relname = ANY(%s)
                  AND NOT i.indisunique AND NOT i.indisprimary
                  -- Partial indexes stay: small by design, and their predicate would come back
                  -- spelled differently by pg_get_indexdef on some PostgreSQL versions.
                  AND i.indpred IS NULL
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                ORDER BY tc.relname, ic.relname
                """,
                [BIG_TABLES],
            )
            self.execute(
                f"""
                INSERT INTO {SAVED_DDL_TABLE} (kind, name, ddl)
                SELECT 'constraint', quote_ident(tc.relname) || '.' || quote_ident(c.conname),
                       'ALTER TABLE ' || quote_ident(tc.relname) || ' ADD CONSTRAINT '
                       || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid)
                FROM pg_constraint c
                JOIN pg_class tc ON tc.oid = c.conrelid
                JOIN pg_namespace n ON n.oid = tc.relnamespace
                WHERE n.nspname = current_schema() AND c.contype IN ('f', 'x')
                  AND tc.relname = ANY(%s)
                ORDER BY tc.relname, c.conname
                """,
                [BIG_TABLES],
            )
            self.use_model_ddl_for_exclusions()
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT kind, name FROM {SAVED_DDL_TABLE} ORDER BY id")
                saved = cursor.fetchall()
            for kind, name in saved:
                if kind == "index":
                    self.execute(f"DROP INDEX {name}")
                else:
                    table, constraint = name.split(".", 1)
                    self.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
        indexes = sum(1 for kind, _name in saved if kind == "index")
        self.write(
            f"Dropped {indexes} secondary indexes and {len(saved) - indexes} constraints"
            " (foreign keys, the bookings' exclusion constraint)."
        )

    def use_model_ddl_for_exclusions(self) -> None:
        """Recreate exclusion constraints as their migration made them.

        PostgreSQL deparses their WHERE clause in a form that, parsed again, reads differently
        in the catalog; the model's own SQL gives back exactly the original constraint.
        """
        models = {model._meta.db_table: model for model in apps.get_models()}
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.id, c.conrelid::regclass::text, c.conname FROM {SAVED_DDL_TABLE} s"
                " JOIN pg_constraint c ON s.name = quote_ident(c.conrelid::regclass::text) || '.'"
                " || quote_ident(c.conname) WHERE c.contype = 'x'"
            )
            exclusions = cursor.fetchall()
        with connection.schema_editor(atomic=False) as editor:
            for pk, table, name in exclusions:
                model = models[table]
                constraint = next(c for c in model._meta.constraints if c.name == name)
                ddl = str(constraint.create_sql(model, editor))
                self.execute(f"UPDATE {SAVED_DDL_TABLE} SET ddl = %s WHERE id = %s", [ddl, pk])

    # -- the world --------------------------------------------------------------------------

    def run(self) -> list[StepResult]:
        started = time.monotonic()
        self.execute("SET synchronous_commit = off")
        self.execute("SET maintenance_work_mem = '1GB'")
        self.execute("SET work_mem = '256MB'")
        # Parallel workers for the CREATE TABLE AS that computes the invoices' snapshots.
        self.execute("SET parallel_setup_cost = 0")
        self.execute("SET parallel_tuple_cost = 0")
        self.execute("SET min_parallel_table_scan_size = 0")
        try:
            with transaction.atomic():
                self.execute("SET default_toast_compression = lz4")
        except DatabaseError:
            pass  # a server built without LZ4 compresses with pglz
        restored = self.restore_saved_ddl()
        if restored:
            self.write(f"Restored {restored} indexes/foreign keys an interrupted run left dropped.")
        self.prepare()
        self.drop_secondary_structures()
        try:
            self.load_members()
            self.load_invoices()
            self.load_contracts()
            self.load_spaces()
            self.load_misc_ledger()
            self.finish_numbering()
        finally:
            self.drop_staging()
            t0 = time.monotonic()
            count = self.restore_saved_ddl()
            self.results.append(
                StepResult("(indexes and foreign keys)", count, time.monotonic() - t0)
            )
            self.write(
                f"  recreated {count} indexes and constraints in {time.monotonic() - t0:.1f} s"
            )
        t0 = time.monotonic()
        self.execute("ANALYZE " + ", ".join([*BIG_TABLES, *SMALL_TABLES]))
        self.write(f"  ANALYZE in {time.monotonic() - t0:.1f} s")
        self.elapsed = time.monotonic() - started
        return self.results

    def prepare(self) -> None:
        """Look up what the SQL needs: ids to start from, dates, content types, staff."""
        plan = self.plan
        self.staff_id = self.scalar(
            "SELECT id FROM members_user WHERE is_superuser ORDER BY (email = %s) DESC, id LIMIT 1",
            ["admin@coop.test"],
        )
        if self.staff_id is None:
            raise ScaleError("No staff user: run `manage.py seed_demo` first.")
        self.ct = {
            key: ContentType.objects.get_by_natural_key(app, model).pk
            for key, (app, model) in {
                "invoice": ("invoicing", "invoice"),
                "contract": ("contracts", "contract"),
                "run": ("contracts", "payrollrun"),
                "booking": ("spaces", "booking"),
            }.items()
        }
        # Invoices take whole years before the first series already in use (the demo's), so
        # that their numbers and dates never interleave with existing ones.
        first_year = self.scalar(
            "SELECT min(substring(series from '[0-9]{4}$')::int) FROM invoicing_invoicesequence"
        )
        if first_year is None or first_year > self.today.year:
            self.inv_end = self.today
        else:
            self.inv_end = datetime.date(first_year, 1, 1) - datetime.timedelta(days=1)
        self.inv_start = self.inv_end - datetime.timedelta(days=INVOICE_DAYS - 1)
        self.members_from = self.inv_start - datetime.timedelta(days=1500)
        self.members_until = self.inv_start - datetime.timedelta(days=30)
        self.ids = {
            table: self.next_id(table)
            for table in [
                "members_user",
                "members_member",
                "members_activity",
                "invoicing_client",
                "invoicing_invoice",
                "contracts_contract",
                "contracts_contractworker",
                "contracts_payrollrun",
                "spaces_site",
                "spaces_room",
                "spaces_booking",
            ]
        }
        self.password_hash = make_password(SCALE_PASSWORD)
        self.write(
            f"Scale {plan.scale:g}: {plan.members:,} members, {plan.invoices:,} invoices, "
            f"{plan.ledger:,} ledger entries, {plan.contracts:,} contracts, "
            f"{plan.rooms:,} rooms, {plan.bookings:,} bookings; invoices from "
            f"{self.inv_start} to {self.inv_end}."
        )

    # members, users, Activities ------------------------------------------------------------

    def member_sql(self) -> dict[str, str]:
        """SQL expressions of a member's generated attributes, for index ``n`` (1..members)."""
        return {
            "first": pick(FIRST_NAMES, "n", 1),
            "last": pick(LAST_NAMES, "n", 2),
            "lang": f"(CASE WHEN {h('n', 3)} % 100 < 55 THEN 'fr' WHEN {h('n', 3)} % 100 < 95"
            " THEN 'nl' ELSE 'en' END)",
            "created": f"(%(members_from)s::date + ({h('n', 4)} % "
            f"{(self.members_until - self.members_from).days})::int + time '09:00')"
            f" AT TIME ZONE '{TIME_ZONE}'",
        }

    def load_members(self) -> None:
        plan = self.plan
        ids = self.ids
        m = self.member_sql()
        params = {
            "members_from": self.members_from,
            "password": self.password_hash,
            "staff": self.staff_id,
        }
        heavy = plan.heavy
        email = (
            f"CASE WHEN n <= {heavy} THEN 'heavy' || n ELSE 'member' || lpad(n::text, 6, '0') END"
            f" || '@{SCALE_DOMAIN}'"
        )
        self.execute("DROP TABLE IF EXISTS scale_member")
        self.execute(
            f"""CREATE TEMP TABLE scale_member AS
            SELECT n, {ids["members_user"]} + n AS user_id,
                   {ids["members_member"]} + n AS member_id,
                   {ids["members_activity"]} + n AS activity_id,
                   {email} AS email,
                   {m["first"]} || ' ' || {m["last"]} AS name,
                   {m["lang"]} AS lang,
                   {m["created"]} AS created
            FROM generate_series(1, {plan.members}) n""",
            params,
        )
        self.execute("ALTER TABLE scale_member ADD PRIMARY KEY (n)")
        self.load_niss()
        self.step(
            "members_user",
            """INSERT INTO members_user (id, password, last_login, is_superuser, email, name,
                   is_staff, is_active, date_joined)
            SELECT user_id, %(password)s, NULL, false, email, name, false, true, created
            FROM scale_member ORDER BY n""",
            params,
        )
        self.step(
            "account_emailaddress",
            """INSERT INTO account_emailaddress (email, verified, "primary", user_id)
            SELECT email, true, true, user_id FROM scale_member ORDER BY n""",
        )
        self.step(
            "members_member",
            f"""INSERT INTO members_member (id, legal_name, street, postal_code, city, country,
                   phone, preferred_language, iban, niss, niss_fingerprint, status, approved_at,
                   created_at, approved_by_id, user_id, anonymised_at)
            SELECT s.member_id, s.name, 'Rue de l''Exemple ' || (1 + {h("s.n", 5)} % 200),
                   (ARRAY{[c[0] for c in CITIES]})[1 + {h("s.n", 6)} % {len(CITIES)}],
                   (ARRAY{[c[1] for c in CITIES]})[1 + {h("s.n", 6)} % {len(CITIES)}],
                   'BE', '+32 470 ' || lpad(({h("s.n", 7)} % 1000000)::text, 6, '0'), s.lang,
                   x.iban, x.niss, x.fingerprint,
                   CASE WHEN s.n > {heavy} AND {h("s.n", 8)} % 100 = 0 THEN 'suspended'
                        ELSE 'active' END,
                   s.created + interval '3 days', s.created, %(staff)s, s.user_id, NULL
            FROM scale_member s JOIN scale_niss x ON x.n = s.n ORDER BY s.n""",
            params,
        )
        self.step(
            "members_membershipevent",
            """INSERT INTO members_membershipevent (kind, from_status, to_status, actor_id, reason,
                   created_at, notified_at, queued_at, member_id)
            SELECT e.kind, 'applicant', e.to_status, CASE WHEN e.k = 1 THEN s.user_id
                   ELSE %(staff)s END, e.reason, s.created + e.delay, s.created + e.delay, NULL,
                   s.member_id
            FROM scale_member s CROSS JOIN (VALUES
                (1, 'applied', 'applicant', '', interval '0 days'),
                (2, 'approved', 'applicant', '', interval '3 days'),
                (3, 'activated', 'active', 'Application approved and first share paid.',
                 interval '7 days')) e(k, kind, to_status, reason, delay)
            ORDER BY s.n, e.k""",
            params,
        )
        self.step(
            "members_sharesubscription",
            f"""INSERT INTO members_sharesubscription (share_class, number_of_shares,
                   nominal_value, subscribed_on, paid_on, member_id, recorded_by_id)
            SELECT 'A', (ARRAY[1, 1, 1, 2, 5])[1 + {h("n", 9)} % 5], %(nominal)s,
                   (created AT TIME ZONE '{TIME_ZONE}')::date,
                   (created AT TIME ZONE '{TIME_ZONE}')::date + 7, member_id, %(staff)s
            FROM scale_member ORDER BY n""",
            {**params, "nominal": self.share_value()},
        )
        self.step(
            "contracts_taxprofile",
            f"""INSERT INTO contracts_taxprofile (member_id, household, children,
                   is_single_parent, is_disabled, other_dependants)
            SELECT member_id, (ARRAY['single', 'single', 'spouse_with_income'])[1 + {h("n", 10)}
                   % 3], {h("n", 11)} % 3, false, false, 0
            FROM scale_member ORDER BY n""",
        )
        self.step(
            "members_activity",
            f"""INSERT INTO members_activity (id, name, description, created_at, owner_id)
            SELECT activity_id, {pick(ACTIVITY_NAMES, "n", 12)},
                   name || '''s freelance work.', created + interval '8 days', member_id
            FROM scale_member ORDER BY n""",
        )
        self.step(
            "members_activity_co_members",
            f"""INSERT INTO members_activity_co_members (activity_id, member_id)
            SELECT a.activity_id, b.member_id FROM scale_member a
            JOIN scale_member b ON b.n = a.n + 1
            WHERE a.n % 10 = 0 AND a.n > {heavy} ORDER BY a.n""",
        )

    def share_value(self):
        from members.models import ShareSubscription

        value = getattr(settings, "COOP_SHARE_NOMINAL_VALUE", None)
        if value is None:
            value = (
                ShareSubscription.objects.order_by("pk")
                .values_list("nominal_value", flat=True)
                .first()
            )
        return value or 30

    def load_niss(self) -> None:
        """National register numbers are encrypted by the application's key: made in Python."""
        started = time.monotonic()
        cipher = fernet()
        first_birth = datetime.date(1950, 1, 1)
        self.execute("DROP TABLE IF EXISTS scale_niss")
        self.execute(
            "CREATE TEMP TABLE scale_niss (n int PRIMARY KEY, iban text, niss text,"
            " fingerprint text)"
        )
        with connection.cursor() as cursor:
            raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
            with raw.copy("COPY scale_niss (n, iban, niss, fingerprint) FROM STDIN") as copy:
                for n in range(1, self.plan.members + 1):
                    birth = first_birth + datetime.timedelta(days=n % 18000)
                    # Serial numbers from 501 up: those of the demo members are below 100.
                    base = f"{birth:%y%m%d}{(n // 18000) * 2 + 501:03d}"
                    niss = base + f"{97 - int(base) % 97:02d}"
                    copy.write_row(
                        (
                            n,
                            belgian_iban(n),
                            cipher.encrypt(niss.encode()).decode(),
                            fingerprint(niss),
                        )
                    )
        self.write(f"  (national numbers encrypted in {time.monotonic() - started:.1f} s)")

    # clients, invoices, lines, payments and their ledger ---------------------------------

    def load_invoices(self) -> None:
        plan = self.plan
        ids = self.ids
        clients = CLIENTS_PER_MEMBER
        self.step(
            "invoicing_client",
            f"""INSERT INTO invoicing_client (id, kind, name, street, postal_code, city, country,
                   email, language, vat_number, enterprise_number, peppol_id,
                   payment_terms_days, created_at, owner_id, buyer_id, gln)
            SELECT {ids["invoicing_client"]} + (s.n - 1) * {clients} + k + 1,
                   CASE WHEN k < 3 THEN 'company' ELSE 'person' END,
                   CASE WHEN k < 3 THEN {pick(CLIENT_NAMES, "s.n * 4 + k", 13)} || ' '
                        || {pick(LAST_NAMES, "s.n * 4 + k", 14)} || ' '
                        || {pick(CLIENT_SUFFIXES, "s.n * 4 + k", 15)}
                        ELSE {pick(FIRST_NAMES, "s.n * 4 + k", 16)} || ' '
                        || {pick(LAST_NAMES, "s.n * 4 + k", 17)} END,
                   'Rue du Client ' || (1 + {h("s.n * 4 + k", 18)} % 150),
                   (ARRAY{[c[0] for c in CITIES]})[1 + {h("s.n * 4 + k", 19)} % {len(CITIES)}],
                   (ARRAY{[c[1] for c in CITIES]})[1 + {h("s.n * 4 + k", 19)} % {len(CITIES)}],
                   'BE', 'invoices+' || s.n || '-' || k || '@client.example', s.lang,
                   CASE WHEN k < 3 THEN 'BE' || v.enterprise ELSE '' END,
                   CASE WHEN k < 3 THEN v.enterprise ELSE '' END, '', 30,
                   s.created + interval '10 days', s.user_id, NULL, ''
            FROM scale_member s CROSS JOIN generate_series(0, {clients - 1}) k
            CROSS JOIN LATERAL (
                SELECT '0' || e::text || lpad((97 - e % 97)::text, 2, '0') AS enterprise
                FROM (SELECT 1000000 + (s.n * 4 + k) % 8999999 AS e) base
            ) v
            ORDER BY s.n, k""",
        )
        heavy_total = plan.heavy * plan.heavy_invoices
        period = max(1, plan.invoices // max(1, heavy_total))
        days = INVOICE_DAYS
        n_inv = plan.invoices
        rate = settings.COOP_FEE_RATE
        others = plan.members - plan.heavy
        self.execute("DROP TABLE IF EXISTS scale_inv")
        self.execute(
            f"""CREATE UNLOGGED TABLE scale_inv AS
            SELECT i, {ids["invoicing_invoice"]} + i AS id, member_n, issue_date, series, seq,
                   q1, p1, q2, p2, excl, vat, excl + vat AS incl, pay,
                   {ids["invoicing_client"]} + (member_n - 1) * {clients}
                       + {h("i", 20)} % {clients} + 1 AS client_id,
                   {ids["members_activity"]} + member_n AS activity_id,
                   {ids["members_user"]} + member_n AS user_id,
                   series || '-' || CASE WHEN seq < 1000000 THEN lpad(seq::text, 6, '0')
                       ELSE seq::text END AS number,
                   (issue_date + time '10:00') AT TIME ZONE '{TIME_ZONE}' AS issued_at,
                   least(issue_date + 5 + ({h("i", 21)} % 40)::int, %(today)s::date) AS paid_on
            FROM (
                SELECT i, member_n, issue_date, extract(year FROM issue_date)::int::text AS series,
                       i - (greatest(0, make_date(extract(year FROM issue_date)::int, 1, 1)
                            - %(start)s::date)::bigint * {n_inv} + {days} - 1) / {days} AS seq,
                       q1, p1, q2, p2, (q1 * p1 + q2 * p2)::numeric(12, 2) AS excl,
                       round((q1 * p1 + q2 * p2) * 0.21, 2)::numeric(12, 2) AS vat,
                       CASE WHEN {h("i", 22)} % 100 < 80 THEN 'paid'
                            WHEN {h("i", 22)} % 100 < 85 THEN 'partially_paid'
                            ELSE 'issued' END AS pay
                FROM (
                    SELECT i, %(start)s::date + ((i - 1) * {days} / {n_inv})::int AS issue_date,
                           CASE WHEN i % {period} = 0 AND i / {period} <= {heavy_total}
                                THEN (i / {period} - 1) % {plan.heavy} + 1
                                ELSE {plan.heavy} + 1 + i % {others} END AS member_n,
                           1 + {h("i", 23)} % 5 AS q1, 150 + ({h("i", 24)} % 30) * 10 AS p1,
                           1 + {h("i", 25)} % 12 AS q2, 40 + {h("i", 26)} % 60 AS p2
                    FROM generate_series(1, {n_inv}::bigint) i
                ) a
            ) b""",
            {"start": self.inv_start, "today": self.today},
        )
        # What was paid, the income it makes available and the fee on it, computed once.
        self.execute("DROP TABLE IF EXISTS scale_inv2")
        self.execute(
            f"""CREATE UNLOGGED TABLE scale_inv2 AS
            SELECT s.*, p.paid_amount, p.income_amount,
                   round(p.income_amount * {rate}, 2)::numeric(12, 2) AS fee_amount
            FROM scale_inv s CROSS JOIN LATERAL (
                SELECT CASE s.pay WHEN 'paid' THEN s.incl
                                  WHEN 'partially_paid' THEN round(s.incl / 2, 2) END
                           AS paid_amount,
                       CASE s.pay WHEN 'paid' THEN s.excl
                                  WHEN 'partially_paid' THEN round(round(s.incl / 2, 2) * s.excl
                                       / s.incl, 2) END AS income_amount
            ) p"""
        )
        self.execute("DROP TABLE scale_inv")
        self.execute("ALTER TABLE scale_inv2 RENAME TO scale_inv")
        self.execute("ANALYZE scale_inv")
        seller = dict(settings.COOP_SELLER)
        seller["peppol_id"] = f"0208:{seller['enterprise_number']}"
        seller["is_business"] = True
        registers = settings.COOP_SELLER_REGISTER
        seller_by_language = (
            "CASE c.language "
            + " ".join(
                f"WHEN '{lang}' THEN {sql_literal(json.dumps({**seller, 'register': value}))}"
                for lang, value in registers.items()
            )
            + f" ELSE {sql_literal(json.dumps(seller))} END"
        )
        work1 = pick([w[0] for w in WORK], "s.i", 27)
        work2 = pick([w[1] for w in WORK], "s.i", 27)

        def line(position: int, description: str, q: str, p: str, unit: str) -> str:
            return (
                f'{{"position": {position}, "description": "⟦{description}⟧", '
                f'"quantity": "⟦({q})::numeric(10, 2)::text⟧", "unit": "{unit}", '
                f'"unit_price": "⟦({p})::numeric(12, 2)::text⟧", '
                f'"net_amount": "⟦({q} * {p})::numeric(12, 2)::text⟧", '
                '"supply_kind": "services", "vat_category": "S", "vat_rate": "21.00", '
                f'"exemption_reason": "", "gross_amount": "⟦({q} * {p})::numeric(12, 2)::text⟧", '
                '"allowance_amount": "0.00", "allowance_percent": "", "allowance_reason": ""}'
            )

        # Built as JSON text and parsed once: json(b)_build_object looks up the type of each of
        # its arguments on every call, ten times slower on millions of rows. Every generated
        # text is free of quotes and backslashes (checked by json_template).
        snapshot = json_template(
            '{"document_type": "invoice", "number": "⟦s.number⟧", '
            '"issue_date": "⟦s.issue_date::text⟧", '
            '"due_date": "⟦(s.issue_date + c.payment_terms_days)::text⟧", "supply_date": "", '
            '"language": "⟦c.language⟧", "currency": "EUR", "period_start": "", '
            '"period_end": "", "buyer_reference": "PO-⟦s.i::text⟧", "order_reference": "", '
            '"note": "", "structured_communication": "⟦o.ogm⟧", "credited_invoice": null, '
            f'"seller": ⟦{seller_by_language}⟧, '
            '"buyer": {"name": "⟦c.name⟧", "street": "⟦c.street⟧", '
            '"postal_code": "⟦c.postal_code⟧", "city": "⟦c.city⟧", "country": "⟦c.country⟧", '
            '"vat_number": "⟦c.vat_number⟧", "enterprise_number": "⟦c.enterprise_number⟧", '
            '"peppol_id": "⟦c.peppol_id⟧", "email": "⟦c.email⟧", '
            "\"is_business\": ⟦CASE WHEN c.kind = 'company' THEN 'true' ELSE 'false' END⟧, "
            '"gln": "⟦c.gln⟧"}, '
            f'"lines": [{line(1, work1, "s.q1", "s.p1", "DAY")}, '
            f"{line(2, work2, 's.q2', 's.p2', 'HUR')}], "
            '"allowance_charges": [], '
            '"vat_breakdown": [{"category": "S", "rate": "21.00", '
            '"taxable_amount": "⟦s.excl::text⟧", "vat_amount": "⟦s.vat::text⟧", '
            '"exemption_reason": "", "exemption_code": ""}], '
            '"totals": {"line_extension": "⟦s.excl::text⟧", "allowance_total": "0.00", '
            '"charge_total": "0.00", "tax_exclusive": "⟦s.excl::text⟧", '
            '"vat": "⟦s.vat::text⟧", "tax_inclusive": "⟦s.incl::text⟧", '
            '"payable": "⟦s.incl::text⟧"}, '
            '"activity_name": "⟦a.name⟧", "member_name": "⟦m.legal_name⟧"}'
        )
        ogm = """(SELECT '+++' || substr(d, 1, 3) || '/' || substr(d, 4, 4) || '/'
                   || substr(d, 8, 5) || '+++' AS ogm
            FROM (SELECT lpad(base::text, 10, '0')
                         || lpad(coalesce(nullif(base % 97, 0), 97)::text, 2, '0') AS d
                  FROM (SELECT (s.series::int % 100) * 100000000::bigint + s.seq AS base) b
            ) digits)"""
        # The snapshots' JSON is the costly part: built by a parallel CREATE TABLE AS (the
        # planner does not parallelise INSERT ... SELECT), then copied into the invoices.
        columns = """id, kind, status, series, sequence_number, number, issue_date, due_date,
                   buyer_reference, notes, language, structured_communication, total_excl_vat,
                   total_vat, total_incl_vat, snapshot, review_reason, created_at, submitted_at,
                   issued_at, formal_notice_due_at, activity_id, client_id, created_by_id,
                   credited_invoice_id, issued_by_id, supply_date, order_reference, period_end,
                   period_start"""
        self.execute("DROP TABLE IF EXISTS scale_inv_rows")
        self.step(
            "invoicing_invoice",
            [
                f"""CREATE UNLOGGED TABLE scale_inv_rows AS
                SELECT s.id, 'invoice'::text AS kind, s.pay AS status, s.series,
                       s.seq AS sequence_number, s.number, s.issue_date,
                       s.issue_date + c.payment_terms_days AS due_date,
                       'PO-' || s.i AS buyer_reference, ''::text AS notes, c.language,
                       o.ogm AS structured_communication, s.excl AS total_excl_vat,
                       s.vat AS total_vat, s.incl AS total_incl_vat, {snapshot} AS snapshot,
                       ''::text AS review_reason, s.issued_at - interval '1 hour' AS created_at,
                       s.issued_at - interval '30 minutes' AS submitted_at, s.issued_at,
                       NULL::timestamptz AS formal_notice_due_at, s.activity_id, s.client_id,
                       s.user_id AS created_by_id, NULL::bigint AS credited_invoice_id,
                       s.user_id AS issued_by_id, NULL::date AS supply_date,
                       ''::text AS order_reference, NULL::date AS period_end,
                       NULL::date AS period_start
                FROM scale_inv s
                JOIN invoicing_client c ON c.id = s.client_id
                JOIN members_activity a ON a.id = s.activity_id
                JOIN members_member m ON m.id = a.owner_id
                CROSS JOIN LATERAL {ogm} o""",
                f"INSERT INTO invoicing_invoice ({columns}) SELECT {columns} FROM scale_inv_rows",
                "DROP TABLE scale_inv_rows",
            ],
            count=plan.invoices,
        )
        # Lines of issued invoices are frozen by a trigger: these are loaded with their invoice,
        # in the same transaction, as if written before it was issued.
        self.step(
            "invoicing_invoiceline",
            [
                "ALTER TABLE invoicing_invoiceline DISABLE TRIGGER invoicing_invoiceline_frozen",
                f"""INSERT INTO invoicing_invoiceline (position, description, quantity, unit,
                       unit_price, vat_category, vat_rate, exemption_reason, invoice_id,
                       credited_line_id, exemption_code, supply_kind, allowance_amount,
                       allowance_percent, allowance_reason, vat_correction)
                SELECT p, CASE p WHEN 1 THEN {work1} ELSE {work2} END,
                       CASE p WHEN 1 THEN s.q1 ELSE s.q2 END,
                       CASE p WHEN 1 THEN 'day' ELSE 'hour' END,
                       CASE p WHEN 1 THEN s.p1 ELSE s.p2 END, 'S', 21, '', s.id, NULL, '',
                       'services', 0, NULL, '', 0
                FROM scale_inv s CROSS JOIN (VALUES (1), (2)) v(p) ORDER BY s.i, p""",
                "ALTER TABLE invoicing_invoiceline ENABLE TRIGGER invoicing_invoiceline_frozen",
            ],
        )
        self.step(
            "invoicing_payment",
            f"""INSERT INTO invoicing_payment (amount, received_on, method, note, created_at,
                   bank_line_id, invoice_id, recorded_by_id)
            SELECT paid_amount, paid_on, 'manual', '',
                   (paid_on + time '11:00') AT TIME ZONE '{TIME_ZONE}', NULL, id, %(staff)s
            FROM scale_inv WHERE paid_amount IS NOT NULL ORDER BY paid_on, i""",
            {"staff": self.staff_id},
        )
        fee_label = f"Cooperative fee {(rate * 100).normalize()} %"
        self.step(
            "members_ledgerentry (invoices)",
            """INSERT INTO members_ledgerentry (kind, stage, amount, description, reference,
                   source_id, created_at, activity_id, author_id, source_type_id)
            SELECT 'client_income', 'planned', excl, 'Invoice issued', number, id, issued_at,
                   activity_id, user_id, %(ct)s
            FROM scale_inv ORDER BY i""",
            {"ct": self.ct["invoice"]},
        )
        self.step(
            "members_ledgerentry (payments)",
            f"""INSERT INTO members_ledgerentry (kind, stage, amount, description, reference,
                   source_id, created_at, activity_id, author_id, source_type_id)
            SELECT e.kind, e.stage,
                   CASE e.k WHEN 1 THEN -s.income_amount WHEN 2 THEN s.income_amount
                            ELSE -s.fee_amount END,
                   e.description, s.number, s.id,
                   (s.paid_on + time '11:00') AT TIME ZONE '{TIME_ZONE}', s.activity_id,
                   %(staff)s, %(ct)s
            FROM scale_inv s CROSS JOIN (VALUES
                (1, 'client_income', 'planned', 'Payment received: no longer planned'),
                (2, 'client_income', 'available', 'Payment received (excl. VAT)'),
                (3, 'cooperative_fee', 'available', %(fee_label)s)) e(k, kind, stage, description)
            WHERE s.paid_amount IS NOT NULL ORDER BY s.paid_on, s.i, e.k""",
            {"ct": self.ct["invoice"], "staff": self.staff_id, "fee_label": fee_label},
        )

    # contracts, workers, work days, payroll runs, payslips ---------------------------------

    def load_contracts(self) -> None:
        plan = self.plan
        ids = self.ids
        k_count = plan.contracts
        ctr_start = self.today - datetime.timedelta(days=CONTRACT_DAYS - 45)
        first_month = ctr_start.replace(day=1)
        params = {"start": ctr_start, "today": self.today, "first_month": first_month}
        self.execute("DROP TABLE IF EXISTS scale_ctr")
        self.execute(
            f"""CREATE TEMP TABLE scale_ctr AS
            SELECT c, {ids["contracts_contract"]} + c AS id, workers, wstart, first_day,
                   first_day + len - 1 AS last_day, len, run_n, run_date, member_n,
                   {ids["members_activity"]} + member_n AS activity_id,
                   {ids["members_user"]} + member_n AS user_id,
                   CASE WHEN run_date <= %(today)s THEN 'completed'
                        WHEN first_day <= %(today)s THEN 'in_progress'
                        WHEN first_day <= %(today)s::date + 30 THEN 'approved'
                        WHEN c % 2 = 0 THEN 'submitted' ELSE 'draft' END AS status
            FROM (
                SELECT c, workers, wstart, first_day, len,
                       ((wstart - 1) % {plan.members}) + 1 AS member_n,
                       (extract(year FROM first_day + len - 1)::int * 12
                        + extract(month FROM first_day + len - 1)::int)
                       - {first_month.year * 12 + first_month.month} + 1 AS run_n,
                       (date_trunc('month', (first_day + len - 1)::timestamp)
                        + interval '1 month 4 days')::date AS run_date
                FROM (
                    SELECT c, 3 + (c % 2 = 0)::int AS workers,
                           3 * (c - 1) + (c - 1) / 2 + 1 AS wstart,
                           %(start)s::date + ((c - 1) * {CONTRACT_DAYS} / {k_count})::int
                               AS first_day,
                           1 + (c % 3)::int AS len
                    FROM generate_series(1, {k_count}::bigint) c
                ) a
            ) b""",
            params,
        )
        self.execute("ANALYZE scale_ctr")
        runs = self.scalar(
            "SELECT coalesce(max(run_n), 0) FROM scale_ctr WHERE status = 'completed'"
        )
        self.step(
            "contracts_payrollrun",
            f"""INSERT INTO contracts_payrollrun (id, period_start, period_end, created_at,
                   payslip_count, total_net, total_employer_cost, sepa_file, sepa_message_id,
                   created_by_id)
            SELECT {ids["contracts_payrollrun"]} + r,
                   (%(first_month)s::date + (r - 1) * interval '1 month')::date,
                   (%(first_month)s::date + r * interval '1 month' - interval '1 day')::date,
                   ((%(first_month)s::date + r * interval '1 month' + interval '4 days')::date
                    + time '10:00') AT TIME ZONE '{TIME_ZONE}', 0, 0, 0, '',
                   'SCALE-RUN-' || r, %(staff)s
            FROM generate_series(1, {runs}) r""",
            {**params, "staff": self.staff_id},
        )
        titles = pick([job[0] for job in JOBS], "c", 30)
        places = pick([job[1] for job in JOBS], "c", 30)
        kinds = pick([job[2] for job in JOBS], "c", 30)
        self.step(
            "contracts_contract",
            f"""INSERT INTO contracts_contract (id, title, description, place, kind,
                   amount_to_invoice, status, first_work_day, last_work_day, created_at,
                   submitted_at, approved_at, activity_id, approved_by_id, client_id,
                   created_by_id, invoice_id, employee_category, ends_engagement)
            SELECT id, {titles}, '', {places}, {kinds}, 100 * (5 + {h("c", 31)} % 50), status,
                   first_day, last_day,
                   ((first_day - 12) + time '09:00') AT TIME ZONE '{TIME_ZONE}',
                   CASE WHEN status <> 'draft'
                        THEN ((first_day - 10) + time '09:00') AT TIME ZONE '{TIME_ZONE}' END,
                   CASE WHEN status IN ('approved', 'in_progress', 'completed')
                        THEN ((first_day - 7) + time '10:00') AT TIME ZONE '{TIME_ZONE}' END,
                   activity_id,
                   CASE WHEN status IN ('approved', 'in_progress', 'completed')
                        THEN %(staff)s END,
                   NULL, user_id, NULL, 'white_collar', false
            FROM scale_ctr ORDER BY c""",
            {"staff": self.staff_id},
        )
        self.step(
            "contracts_contractworker",
            f"""INSERT INTO contracts_contractworker (id, daily_wage, planned_gross,
                   planned_employer_cost, contract_id, member_id, is_task_based)
            SELECT {ids["contracts_contractworker"]} + w, wage,
                   CASE WHEN planned THEN wage * len ELSE 0 END,
                   CASE WHEN planned THEN round(wage * len * 1.27, 2) ELSE 0 END,
                   id, {ids["members_member"]} + ((w - 1) % {plan.members}) + 1, false
            FROM (
                SELECT s.wstart + k AS w, s.id, s.len,
                       s.status IN ('approved', 'in_progress', 'completed') AS planned,
                       (150 + ({h("s.wstart + k", 32)} % 16) * 10)::numeric(12, 2) AS wage
                FROM scale_ctr s CROSS JOIN LATERAL generate_series(0, s.workers - 1) k
            ) w ORDER BY w""",
        )
        self.step(
            "contracts_workday",
            f"""INSERT INTO contracts_workday (date, portion, is_active, member_id, worker_id)
            SELECT s.first_day + d, '1.0', true, w.member_id, w.id
            FROM contracts_contractworker w
            JOIN scale_ctr s ON s.id = w.contract_id
            CROSS JOIN LATERAL generate_series(0, s.len - 1) d
            WHERE w.id > {ids["contracts_contractworker"]}
            ORDER BY w.id, d""",
        )
        placeholder = self.placeholder_pdf()
        payslip_snapshot = json_template(
            '{"contract": {"reference": "C⟦lpad(s.id::text, 6, \'0\')⟧", "title": "⟦c.title⟧", '
            '"place": "⟦c.place⟧", "kind": "⟦c.kind⟧", "activity": "⟦a.name⟧"}, '
            '"member": {"name": "⟦m.legal_name⟧"}, "pay_date": "⟦s.run_date::text⟧", '
            '"daily_wage": "⟦w.daily_wage::text⟧", '
            '"days": [⟦(SELECT string_agg(\'["\' || (s.first_day + d)::text || \'", "1.0"]\', '
            "', ') FROM generate_series(0, s.len - 1) d)⟧], "
            '"figures": {"gross": "⟦f.gross::text⟧", "personal_onss": "⟦f.onss::text⟧", '
            '"taxable": "⟦(f.gross - f.onss)::text⟧", "withholding_tax": "⟦f.tax::text⟧", '
            '"net": "⟦(f.gross - f.onss - f.tax)::text⟧", "work_bonus": "0.00", '
            '"special_contribution": "0.00", "expenses": "0.00", '
            '"employer_cost": "⟦w.planned_employer_cost::text⟧"}}'
        )
        self.step(
            "contracts_payslip",
            f"""INSERT INTO contracts_payslip (status, file, sha256, error, attempts, created_at,
                   rendered_at, kind, reason, pay_date, days, gross, personal_onss, work_bonus,
                   taxable, withholding_tax, special_contribution, expenses, net, employer_cost,
                   language, snapshot, activity_id, corrects_id, member_id, run_id, worker_id,
                   queued_at, exit_holiday_pay, year_end_premium)
            SELECT 'ready', %(file)s, %(sha)s, '', 1, r.created_at, r.created_at, 'regular', '',
                   s.run_date, s.len, f.gross, f.onss, 0, f.gross - f.onss, f.tax, 0, 0,
                   f.gross - f.onss - f.tax, w.planned_employer_cost, m.preferred_language,
                   {payslip_snapshot},
                   s.activity_id, NULL, w.member_id, {ids["contracts_payrollrun"]} + s.run_n, w.id,
                   NULL, 0, 0
            FROM contracts_contractworker w
            JOIN scale_ctr s ON s.id = w.contract_id
            JOIN contracts_contract c ON c.id = s.id
            JOIN members_activity a ON a.id = s.activity_id
            JOIN members_member m ON m.id = w.member_id
            JOIN contracts_payrollrun r ON r.id = {ids["contracts_payrollrun"]} + s.run_n
            CROSS JOIN LATERAL (
                SELECT w.planned_gross AS gross, round(w.planned_gross * 0.1307, 2) AS onss,
                       round((w.planned_gross - round(w.planned_gross * 0.1307, 2)) * 0.1, 2)
                           AS tax
            ) f
            WHERE s.status = 'completed'
            ORDER BY w.id""",
            {"file": placeholder[0], "sha": placeholder[1]},
        )
        self.step(
            "contracts_payrollrun (totals)",
            f"""UPDATE contracts_payrollrun r SET payslip_count = t.count, total_net = t.net,
                   total_employer_cost = t.cost
            FROM (SELECT run_id, count(*) AS count, sum(net) AS net, sum(employer_cost) AS cost
                  FROM contracts_payslip WHERE run_id > {ids["contracts_payrollrun"]}
                  GROUP BY run_id) t
            WHERE r.id = t.run_id""",
        )
        self.step(
            "members_ledgerentry (contracts)",
            f"""INSERT INTO members_ledgerentry (kind, stage, amount, description, reference,
                   source_id, created_at, activity_id, author_id, source_type_id)
            SELECT 'salary_cost', 'planned', -sum(w.planned_employer_cost),
                   'Planned salary cost: ' || c.title, 'C' || lpad(c.id::text, 6, '0'), c.id,
                   c.approved_at, c.activity_id, %(staff)s, %(ct)s
            FROM contracts_contract c JOIN contracts_contractworker w ON w.contract_id = c.id
            WHERE c.id > {ids["contracts_contract"]} AND c.approved_at IS NOT NULL
            GROUP BY c.id ORDER BY c.id""",
            {"staff": self.staff_id, "ct": self.ct["contract"]},
        )
        self.step(
            "members_ledgerentry (payroll)",
            f"""INSERT INTO members_ledgerentry (kind, stage, amount, description, reference,
                   source_id, created_at, activity_id, author_id, source_type_id)
            SELECT 'salary_cost', e.stage,
                   CASE e.k WHEN 1 THEN -t.cost ELSE t.planned END,
                   CASE e.k WHEN 1 THEN 'Salaries: ' || t.count || CASE WHEN t.count = 1
                        THEN ' payslip' ELSE ' payslips' END
                        ELSE 'Planned salary cost released: paid' END,
                   'Payroll run ' || t.run_id, t.run_id, r.created_at, t.activity_id,
                   %(staff)s, %(ct)s
            FROM (
                SELECT p.run_id, p.activity_id, count(*) AS count, sum(p.employer_cost) AS cost,
                       sum(w.planned_employer_cost) AS planned
                FROM contracts_payslip p JOIN contracts_contractworker w ON w.id = p.worker_id
                WHERE p.run_id > {ids["contracts_payrollrun"]}
                GROUP BY p.run_id, p.activity_id
            ) t
            JOIN contracts_payrollrun r ON r.id = t.run_id
            CROSS JOIN (VALUES (1, 'available'), (2, 'planned')) e(k, stage)
            ORDER BY t.run_id, t.activity_id, e.k""",
            {"staff": self.staff_id, "ct": self.ct["run"]},
        )

    def placeholder_pdf(self) -> tuple[str, str]:
        """One small PDF every generated payslip points to (their content is not rendered)."""
        content = (
            b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
        )
        name = default_storage.save("documents/scale/placeholder.pdf", ContentFile(content))
        return name, hashlib.sha256(content).hexdigest()

    # sites, rooms, bookings --------------------------------------------------------------

    def load_spaces(self) -> None:
        plan = self.plan
        ids = self.ids
        rooms = plan.rooms
        sites = math.ceil(rooms / ROOMS_PER_SITE)
        per_room = math.ceil(plan.bookings / rooms)
        days = math.ceil(per_room / len(BOOKING_SLOTS))
        first_day = self.today - datetime.timedelta(days=round(days * 0.85))
        self.step(
            "spaces_site",
            f"""INSERT INTO spaces_site (id, name, street, postal_code, city, time_zone,
                   is_active, income_activity_id)
            SELECT {ids["spaces_site"]} + s, 'Scale site ' || s || ' (' || {ids["spaces_site"]}
                   + s || ')', 'Rue des Ateliers ' || s, '1080', 'Bruxelles', '{TIME_ZONE}', true,
                   NULL
            FROM generate_series(1, {sites}) s""",
        )
        self.step(
            "spaces_openinghours",
            f"""INSERT INTO spaces_openinghours (weekday, opens_at, closes_at, site_id)
            SELECT d, time '08:00', time '22:00', {ids["spaces_site"]} + s
            FROM generate_series(1, {sites}) s CROSS JOIN generate_series(0, 6) d""",
        )
        self.step(
            "spaces_room",
            f"""INSERT INTO spaces_room (id, name, kind, area_m2, capacity, floor, amenities,
                   accessibility_notes, description, is_bookable, slot_minutes,
                   min_duration_minutes, max_duration_minutes, buffer_before_minutes,
                   buffer_after_minutes, lead_time_minutes, horizon_days, requires_approval,
                   cancellation_notice_hours, cancellation_fee_percent, site_id,
                   check_in_grace_minutes)
            SELECT {ids["spaces_room"]} + r, 'Room ' || r,
                   {sql_array(ROOM_KINDS)}[1 + r % {len(ROOM_KINDS)}], 20 + r % 60,
                   4 + r % 30, r % 4, ARRAY['Wi-Fi', 'heating']::varchar(60)[], '', '', true,
                   30, 60, 480, 0, 0, 60, 400, false, 48, 50,
                   {ids["spaces_site"]} + 1 + (r - 1) / {ROOMS_PER_SITE}, NULL
            FROM generate_series(1, {rooms}) r""",
        )
        self.step(
            "spaces_roomprice",
            f"""INSERT INTO spaces_roomprice (tier, per_hour, per_half_day, per_day, per_month,
                   room_id)
            SELECT t.tier, (5 + (r % 8) * 2.5) * t.factor, NULL, NULL, NULL,
                   {ids["spaces_room"]} + r
            FROM generate_series(1, {rooms}) r
            CROSS JOIN (VALUES ('member', 1), ('external', 2)) t(tier, factor)""",
        )
        slots = "ARRAY[" + ", ".join(str(hour) for hour in BOOKING_SLOTS) + "]"
        self.step(
            "spaces_booking",
            f"""INSERT INTO spaces_booking (id, during, blocked_during, title, state,
                   contact_name, contact_email, contact_phone, created_at, tier, price_excl_vat,
                   vat_rate, vat_amount, price_incl_vat, charged_at, checked_in_at,
                   cancelled_at, cancellation_fee, refunded_amount, state_reason, activity_id,
                   created_by_id, invoice_id, member_id, organisation_id, series_id, room_id)
            SELECT {ids["spaces_booking"]} + b, tstzrange(t0, t0 + interval '2 hours'),
                   tstzrange(t0, t0 + interval '2 hours'), {pick(BOOKING_TITLES, "b", 40)},
                   state, '', '', '', created, 'member', price, 0, 0, price,
                   CASE WHEN state IN ('confirmed', 'checked_in', 'no_show') THEN created END,
                   CASE WHEN state = 'checked_in' THEN t0 + interval '5 minutes' END,
                   CASE WHEN state = 'cancelled' THEN created + interval '1 hour' END,
                   0, 0, '', {ids["members_activity"]} + member_n,
                   {ids["members_user"]} + member_n, NULL, {ids["members_member"]} + member_n,
                   NULL, NULL, {ids["spaces_room"]} + r
            FROM (
                SELECT b, r, t0, member_n, price,
                       least(t0 - ((3 + {h("b", 41)} % 30) || ' days')::interval,
                             %(now)s::timestamptz - interval '1 hour') AS created,
                       CASE WHEN {h("b", 42)} % 100 < 5 THEN 'cancelled'
                            WHEN t0 > %(now)s THEN CASE WHEN {h("b", 42)} % 100 < 15
                                 THEN 'tentative' ELSE 'confirmed' END
                            WHEN {h("b", 42)} % 100 < 7 THEN 'no_show'
                            ELSE 'checked_in' END AS state
                FROM (
                    SELECT b, r, 1 + {h("b", 43)} % {plan.members} AS member_n,
                           (2 * (5 + (r % 8) * 2.5))::numeric(12, 2) AS price,
                           ((%(first_day)s::date + (k / {len(BOOKING_SLOTS)})::int)
                            + make_time(({slots})[1 + k % {len(BOOKING_SLOTS)}], 0, 0))
                           AT TIME ZONE '{TIME_ZONE}' AS t0
                    FROM (
                        SELECT b, 1 + (b - 1) / {per_room} AS r, (b - 1) % {per_room} AS k
                        FROM generate_series(1, {plan.bookings}::bigint) b
                    ) a
                ) c
            ) d ORDER BY b""",
            {"first_day": first_day, "now": self.now},
        )
        self.step(
            "members_ledgerentry (bookings)",
            f"""INSERT INTO members_ledgerentry (kind, stage, amount, description, reference,
                   source_id, created_at, activity_id, author_id, source_type_id)
            SELECT 'booking_charge', 'available', -b.price_excl_vat,
                   r.name || ', ' || to_char(lower(b.during) AT TIME ZONE '{TIME_ZONE}',
                   'DD/MM/YYYY HH24:MI') || '–' || to_char(upper(b.during) AT TIME ZONE
                   '{TIME_ZONE}', 'HH24:MI') || ': ' || b.title,
                   'BOOKING-' || b.id, b.id, b.charged_at, b.activity_id, b.created_by_id, %(ct)s
            FROM spaces_booking b JOIN spaces_room r ON r.id = b.room_id
            WHERE b.id > {ids["spaces_booking"]} AND b.charged_at IS NOT NULL
              AND b.price_excl_vat > 0
            ORDER BY b.id""",
            {"ct": self.ct["booking"]},
        )

    # the rest of the ledger ----------------------------------------------------------------

    def load_misc_ledger(self) -> None:
        """Grants, supplier payments, expenses and adjustments up to the planned ledger size,
        the heavy members' Activities first up to their own size."""
        plan = self.plan
        ids = self.ids
        first_activity = ids["members_activity"]
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT activity_id, count(*) FROM members_ledgerentry
                WHERE activity_id > {first_activity}
                  AND activity_id <= {first_activity + plan.heavy}
                GROUP BY activity_id"""
            )
            heavy_counts = dict(cursor.fetchall())
        total = self.scalar(
            f"SELECT count(*) FROM members_ledgerentry WHERE activity_id > {first_activity}"
        )
        heavy_extra = [
            max(0, plan.heavy_ledger - heavy_counts.get(first_activity + n, 0))
            for n in range(1, plan.heavy + 1)
        ]
        rest = max(0, plan.ledger - total - sum(heavy_extra))
        # Entry e of the heavy member n, then entries spread over the others.
        parts = []
        for n, extra in enumerate(heavy_extra, start=1):
            if extra:
                parts.append(
                    f"SELECT e + {n} * 100000000 AS e, {n} AS member_n, {extra} AS total"
                    f" FROM generate_series(1, {extra}) e"
                )
        if rest:
            others = plan.members - plan.heavy
            parts.append(
                f"SELECT e, {plan.heavy} + 1 + (e - 1) % {others} AS member_n, {rest} AS total"
                f" FROM generate_series(1, {rest}) e"
            )
        if not parts:
            return
        kinds = sql_array([kind for kind, _sign, _label in MISC])
        signs = "ARRAY[" + ", ".join(str(sign) for _kind, sign, _label in MISC) + "]"
        labels = sql_array([label for _kind, _sign, label in MISC])
        self.step(
            "members_ledgerentry (other)",
            f"""INSERT INTO members_ledgerentry (kind, stage, amount, description, reference,
                   source_id, created_at, activity_id, author_id, source_type_id)
            SELECT {kinds}[1 + x.kind_i], 'available',
                   ({signs})[1 + x.kind_i] * (10 + {h("x.e", 50)} % 50000) / 100.0,
                   {labels}[1 + x.kind_i],
                   upper({kinds}[1 + x.kind_i]) || '-' || x.e, NULL,
                   ((%(start)s::date + ((x.e % x.total) * {INVOICE_DAYS} / x.total)::int)
                    + time '14:00') AT TIME ZONE '{TIME_ZONE}',
                   {first_activity} + x.member_n, %(staff)s, NULL
            FROM (SELECT e, member_n, total, {h("e", 51)} % {len(MISC)} AS kind_i
                  FROM ({" UNION ALL ".join(parts)}) p) x
            ORDER BY x.e""",
            {"start": self.inv_start, "staff": self.staff_id},
        )

    def finish_numbering(self) -> None:
        """Numbering series and identity sequences follow what was loaded."""
        self.step(
            "invoicing_invoicesequence",
            """INSERT INTO invoicing_invoicesequence (series, last_number, last_issue_date)
            SELECT series, max(seq), max(issue_date) FROM scale_inv GROUP BY series
            ON CONFLICT (series) DO UPDATE SET last_number = excluded.last_number,
                last_issue_date = excluded.last_issue_date""",
        )
        tables = [
            "members_user", "account_emailaddress", "members_member", "members_membershipevent",
            "members_sharesubscription", "members_activity", "members_activity_co_members",
            "members_ledgerentry", "invoicing_client", "invoicing_invoice",
            "invoicing_invoiceline", "invoicing_payment", "contracts_taxprofile",
            "contracts_contract", "contracts_contractworker", "contracts_workday",
            "contracts_payrollrun", "contracts_payslip", "spaces_site", "spaces_openinghours",
            "spaces_room", "spaces_roomprice", "spaces_booking",
        ]  # fmt: skip
        for table in tables:
            self.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'),"
                f" (SELECT coalesce(max(id), 1) FROM {table}))",
                [table],
            )
        self.drop_staging()

    def drop_staging(self) -> None:
        for table in (
            "scale_inv",
            "scale_inv2",
            "scale_inv_rows",
            "scale_ctr",
            "scale_member",
            "scale_niss",
        ):
            self.execute(f"DROP TABLE IF EXISTS {table}")


def belgian_iban(n: int) -> str:
    """A valid Belgian IBAN drawn from ``n``."""
    bank = ("001", "068", "096", "363", "732")[n % 5]
    bban_start = f"{bank}{(n * 7919) % 10**7:07d}"
    national_check = int(bban_start) % 97 or 97
    bban = f"{bban_start}{national_check:02d}"
    check = 98 - int(f"{bban}111400") % 97
    return f"BE{check:02d}{bban}"
