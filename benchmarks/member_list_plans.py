# ruff: noqa: T201, S608 - a benchmark prints its figures; the SQL it explains is made by Django
"""EXPLAIN (ANALYZE, BUFFERS) of the hot queries of a member's lists, as they were and as they are.

Run on a copy of a database made by ``seed_scale`` (never the full-size one in Python memory:
this only plans and times queries, it loads no rows)::

    DATABASE_URL=postgres://…/coop_x_big python benchmarks/member_list_plans.py \
        --email heavy1@scale.coop.test [--email member000500@scale.coop.test] [--plans]

For each query it prints the execution time, the shared buffers hit and read, and whether the
plan holds a sequential scan or a sort of a big table. ``before``: the visibility filters and
orderings of the code before keyset pagination (``OR`` of subqueries, ``IN (subquery)``, offset
pages with a ``COUNT(*)``); ``after``: the selectors of today.
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Exists, OuterRef, Q  # noqa: E402

from contracts import selectors as contract_selectors  # noqa: E402
from contracts.models import Contract  # noqa: E402
from coop.keyset import keyset_queryset  # noqa: E402
from invoicing import selectors as invoice_selectors  # noqa: E402
from invoicing.models import Client, Invoice  # noqa: E402
from members import selectors as member_selectors  # noqa: E402
from members.models import Activity, LedgerEntry, User  # noqa: E402

PAGE = 25
API_PAGE = 50
BIG = re.compile(
    r"on (members_ledgerentry|invoicing_invoice|invoicing_invoiceline|invoicing_payment|"
    r"invoicing_client|contracts_contract|contracts_contractworker|contracts_workday|"
    r"contracts_payslip|contracts_expenseclaim|members_user|members_member|members_activity)\b"
)


def old_activities_of(user):
    shared = Activity.co_members.through.objects.filter(
        activity_id=OuterRef("pk"), member__user=user
    )
    return Activity.objects.filter(Q(owner__user=user) | Exists(shared))


def count_of(queryset) -> tuple[str, tuple]:
    """The page count a paginator asks for: a COUNT(*) of the whole list."""
    sql, params = queryset.order_by().query.sql_with_params()
    return f"SELECT COUNT(*) FROM ({sql}) counted", params


def explain(query) -> tuple[float, int, int, list[str]]:
    sql, params = query.query.sql_with_params() if hasattr(query, "query") else query
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        lines = [row[0] for row in cursor.fetchall()]
    time = float(re.search(r"Execution Time: ([\d.]+)", "\n".join(lines)).group(1))
    buffers = next((line for line in lines if "Buffers:" in line), "")
    hit = sum(int(value) for value in re.findall(r"shared hit=(\d+)", buffers))
    read = sum(int(value) for value in re.findall(r"read=(\d+)", buffers))
    return time, hit, read, lines


def flags(lines: list[str]) -> str:
    text = "\n".join(lines)
    found = []
    if any("Seq Scan" in line and BIG.search(line) for line in lines):
        found.append("SEQ SCAN")
    if re.search(r"Sort Method: (top-N heapsort|quicksort|external merge)", text):
        big_sorts = re.findall(r"Sort Method: \S+ (?:\S+ )?Memory: (\d+)kB", text)
        if big_sorts and max(int(size) for size in big_sorts) > 64:
            found.append("BIG SORT")
    return ", ".join(found) or "index only"


def queries(user):
    """(page, query name, before, after) for one user."""
    activity_ids = list(Activity.objects.of_user(user).values_list("pk", flat=True))
    old_visible = old_activities_of(user).values("pk")
    old_invoices = Invoice.objects.select_related("client", "activity").with_amounts()
    old_invoices = old_invoices.filter(activity__in=old_visible)
    new_invoices, split = invoice_selectors.invoice_list_of(user)
    keyset = invoice_selectors.INVOICE_KEYSET
    old_contracts = (
        Contract.objects.select_related("activity", "client", "invoice")
        .filter(Q(activity__in=old_visible) | Q(workers__member__user=user))
        .distinct()
        .order_by("-first_work_day", "-pk")
    )
    new_contracts = contract_selectors.contracts_visible_to(user).order_by("-first_work_day", "-pk")
    clients = Client.objects.filter(owner=user).order_by("name", "pk")

    def keyset_sql(queryset, size, cursor=None):
        return keyset_queryset(queryset, keyset, size=size, cursor=cursor, split=split)

    ledger_old = (
        LedgerEntry.objects.filter(activity__in=old_visible)
        .select_related("activity")
        .order_by("-created_at", "-pk")[:10]
    )
    ledger_new = keyset_queryset(
        LedgerEntry.objects.select_related("activity"),
        member_selectors.LEDGER_KEYSET,
        size=10,
        split=("activity_id", activity_ids),
    )
    yield "dashboard", "recent ledger entries", ledger_old, ledger_new
    yield (
        "invoice list",
        f"page of {PAGE}",
        old_invoices.order_by("-issue_date", "-sequence_number", "-created_at")[:PAGE],
        keyset_sql(new_invoices, PAGE),
    )
    yield (
        "invoice list",
        "count (before) / has any (after)",
        count_of(old_invoices),
        invoice_selectors.invoices_visible_to(user).order_by().values("pk")[:1],
    )
    # Page 40: the keyset starts after the last row of page 39 instead of skipping 975 rows.
    last_of_39 = list(keyset_sql(new_invoices.order_by(), 975))[-2]
    yield (
        "invoice list",
        "page 40 (offset 975 before)",
        old_invoices.order_by("-issue_date", "-sequence_number", "-created_at")[975:1000],
        keyset_sql(new_invoices, PAGE, keyset.cursor_of(last_of_39, older=True)),
    )
    yield "client list", f"page of {PAGE}", clients[:PAGE], clients[:PAGE]
    yield (
        "client list",
        "count",
        count_of(clients),
        count_of(clients),
    )
    yield "contract list", f"page of {PAGE}", old_contracts[:PAGE], new_contracts[:PAGE]
    yield (
        "contract list",
        "count",
        count_of(old_contracts),
        count_of(new_contracts),
    )
    api_old = old_invoices.with_refundable().order_by(
        "-issue_date", "-sequence_number", "-created_at"
    )
    api_new = new_invoices.with_refundable()
    yield (
        "GET /api/v1/invoices/",
        f"page of {API_PAGE}",
        api_old[:API_PAGE],
        keyset_sql(api_new, API_PAGE),
    )
    yield (
        "GET /api/v1/invoices/",
        "count (before only)",
        count_of(api_old),
        None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--email", action="append", required=True)
    parser.add_argument("--plans", action="store_true", help="print the plans after")
    parser.add_argument("--only", choices=["before", "after", "both"], default="both")
    options = parser.parse_args()
    print(
        f"| member | page | query | {'before ms | ' if options.only != 'after' else ''}"
        f"{'after ms | ' if options.only != 'before' else ''}plan |"
    )
    for email in options.email:
        user = User.objects.get(email=email)
        for page, name, before, after in queries(user):
            cells = []
            plan_flags = ""
            if options.only != "after":
                time, hit, read, lines = explain(before)
                cells.append(f"{time:.1f} ({hit + read} buf)")
                plan_flags = f"before: {flags(lines)}"
            if options.only != "before":
                if after is None:
                    cells.append("—")
                else:
                    time, hit, read, lines = explain(after)
                    cells.append(f"{time:.1f} ({hit + read} buf)")
                    plan_flags += f"; after: {flags(lines)}"
                    if options.plans:
                        print("\n".join(lines), file=sys.stderr)
            print(f"| {email} | {page} | {name} | {' | '.join(cells)} | {plan_flags} |")


if __name__ == "__main__":
    main()
