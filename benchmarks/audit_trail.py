"""Open the audit trail's admin pages on millions of rows and EXPLAIN every query they run.

Run with ``.venv/bin/python benchmarks/audit_trail.py [--rows N]`` against an empty, migrated
database (it refuses a trail that already has rows, and empties it again at the end with
TRUNCATE: the append-only trigger refuses row deletes). For each page (the list, each filter,
the searches, an object's history) it prints the page's wall time and, for each query on the
trail, its execution time from ``EXPLAIN (ANALYZE, BUFFERS)``, the buffers it touched and the
scan it used. Target: no sequential scan of the trail, every page well under a second.
"""

import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from audit.models import AuditEvent  # noqa: E402
from members.models import User  # noqa: E402

FILL = """
INSERT INTO audit_auditevent
    (occurred_at, actor_id, actor_label, action, object_type, object_pk, object_repr,
     changes, reason, ip, user_agent)
SELECT now() - (n %% 1000000) * interval '90 seconds',
       CASE WHEN n %% 1000 = 0 THEN %(actor)s END,
       'user' || (n %% 100000) || '@example.test',
       (ARRAY['created','changed','approved','rejected','issued','viewed','downloaded',
              'cancelled','exported','signed_in'])[1 + n %% 10],
       (ARRAY['members.member','invoicing.invoice','invoicing.payment','contracts.contract',
              'contracts.payslip','contracts.expenseclaim','spaces.booking','members.user'])
           [1 + (n / 10) %% 8],
       ((n::bigint * 7919) %% 200000)::text,
       'object ' || n,
       '{}'::jsonb, '', NULL, ''
FROM generate_series(1, %(rows)s) AS n
"""


SCAN = re.compile(
    r"(Seq Scan|Index Only Scan|Index Scan|Bitmap Heap Scan)(?: Backward)?"
    r" (?:using (\w+) )?on audit_auditevent"
)
write = sys.stdout.write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    rows = parser.parse_args().rows
    if AuditEvent.objects.exists():
        sys.exit("The audit trail has rows: run this on an empty development database only.")
    admin = User.objects.filter(email="audit-benchmark@example.test").first() or (
        User.objects.create_superuser("audit-benchmark@example.test", "benchmark-password-1")
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FILL, {"rows": rows, "actor": admin.pk})
        cursor.execute("ANALYZE audit_auditevent")
    write(f"filled {rows:,} rows in {time.perf_counter() - started:.1f} s\n")
    try:
        measure(admin)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditevent")


def measure(admin) -> None:
    pages = {
        "list": {},
        "action filter (viewed)": {"action": "viewed"},
        "type filter (payslips)": {"object_type": "contracts.payslip"},
        "date range (one week)": {"occurred_from": "2026-01-05", "occurred_until": "2026-01-11"},
        "search by e-mail": {"q": "user4242@example.test"},
        "search by object key": {"q": "4242"},
        "object history": {"object_type": "invoicing.invoice", "q": "12345"},
        "actor (raw id)": {"actor__id__exact": str(admin.pk)},
    }
    client = Client()
    client.force_login(admin)
    url = reverse("admin:audit_auditevent_changelist")
    with override_settings(ALLOWED_HOSTS=["*"], COOP_STAFF_REQUIRE_TWO_FACTOR=False):
        client.get(url)  # warm caches
        for name, params in pages.items():
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url, params)
                elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (name, response.status_code)
            write(f"\n{name}: HTTP 200 in {elapsed:.0f} ms, {len(queries)} queries\n")
            for query in queries.captured_queries:
                sql = query["sql"]
                if "audit_auditevent" not in sql or not sql.lstrip().upper().startswith("SELECT"):
                    continue
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                took = re.search(r"Execution Time: ([\d.]+) ms", plan).group(1)
                buffers = re.search(r"Buffers: shared (?:hit=(\d+))?(?: read=(\d+))?", plan)
                scans = sorted(set(SCAN.findall(plan)))
                hit, read = buffers.group(1) or 0, buffers.group(2) or 0
                used = ", ".join(" ".join(filter(None, scan)) for scan in scans)
                write(f"  {took:>8} ms  buffers hit={hit} read={read}  {used}\n")


if __name__ == "__main__":
    main()
