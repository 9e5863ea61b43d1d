"""Every query of a member's list page or API list can be served by an index.

On a few test rows PostgreSQL would happily read whole tables, so each query the page ran is
planned again with sequential scans priced out (``SET LOCAL enable_seqscan = off``). What the
planner still cannot do through an index is what it would do on millions of rows:

- a sequential scan of a big table: no index matches the filter at all;
- a sort of a big table's rows that were read whole (no index condition), or read for one
  owner by a plain equality (``activity_id = 5``): an index on (owner, sort key) would hand them
  over in order instead. Sorting what several index ranges returned (``= ANY(...)``, one
  Activity at a time, a page each) is bounded by the page and allowed.
"""

import json
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import api_client_for
from tests.spaces.conftest import house_activity, site  # noqa: F401 - shared fixtures
from tests.test_query_counts import CASES, World

BIG_TABLES = {
    "members_ledgerentry",
    "members_user",
    "members_member",
    "members_activity",
    "members_activity_co_members",
    "invoicing_invoice",
    "invoicing_invoiceline",
    "invoicing_payment",
    "invoicing_client",
    "contracts_contract",
    "contracts_contractworker",
    "contracts_workday",
    "contracts_payslip",
    "contracts_expenseclaim",
}
# Owner columns whose rows grow with the data: one owner's rows sorted by their own columns
# should come from an (owner, sort key) index, already in order.
GROWING = {
    "members_ledgerentry": {"activity_id"},
    "invoicing_invoice": {"activity_id", "client_id"},
    "invoicing_client": {"owner_id"},
    "contracts_contract": {"activity_id", "client_id"},
    "contracts_contractworker": {"member_id"},
    "contracts_workday": {"member_id"},
    "contracts_payslip": {"member_id", "activity_id"},
    "contracts_expenseclaim": {"member_id", "activity_id"},
}
SCANS = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"}
SORTS = {"Sort", "Incremental Sort"}
# The bookings and rooms lists belong to the spaces pages, checked with them.
SPACES = {"bookings", "rooms", "api bookings", "api rooms"}
# At a few rows PostgreSQL plans these by walking a whole (tiny) index, the cheapest way there
# but not at scale: the Activities API walks the name index on PostgreSQL 15, the contracts
# API reads the contracts by a bitmap of the whole index on 18. Their plans are checked on a
# seed_scale database by benchmarks/pages.py (docs/PERFORMANCE.md), not here.
PLANNED_OTHERWISE_WHEN_TINY = {"api activities", "api shared activities", "api contracts"}
ROWS = 3
# ``column = constant``: one owner's rows.
SINGLE_VALUE = re.compile(r"^\(*(?:\w+\.)?(\w+) = (\d+|'[^']*'(::[\w ]+)?|\$\d+)\)*$")

PAGES = [
    pytest.param(grow, url_of, api, id=case)
    for case, grow, url_of, api in CASES
    if case not in SPACES and case not in PLANNED_OTHERWISE_WHEN_TINY
] + [
    pytest.param(
        "add_shared_activities",
        lambda world: reverse("invoicing:invoice_list"),
        False,
        id="invoices of several Activities",
    ),
    pytest.param(
        "add_shared_activities",
        lambda world: "/api/v1/invoices/",
        True,
        id="api invoices of several Activities",
    ),
    pytest.param(
        "add_contracts",
        lambda world: reverse("contracts:detail", args=[world.activity.contracts.first().pk]),
        False,
        id="contract detail",
    ),
    pytest.param(
        "add_issued_invoices",
        lambda world: f"/api/v1/invoices/{world.activity.invoices.first().pk}/",
        True,
        id="api invoice detail",
    ),
]


def _children(node: dict) -> list[dict]:
    return node.get("Plans", [])


def _walk(node: dict):
    yield node
    for child in _children(node):
        yield from _walk(child)


def _rows_read_for_sort(node: dict):
    """The scans whose rows reach a sort: not through a Limit, nor from an InitPlan/SubPlan."""
    for child in _children(node):
        if child.get("Parent Relationship") in ("InitPlan", "SubPlan"):
            continue
        if child["Node Type"] == "Limit":
            continue
        if child["Node Type"] in SCANS:
            yield child
        yield from _rows_read_for_sort(child)


def _bitmap_found_by_index_conditions(scan: dict) -> bool:
    """A bitmap heap scan reads only the pages its bitmap index scans found: it is bounded
    when each of them has an index condition (PostgreSQL 18 may show no Recheck Cond above a
    bitmap made from a ``= ANY(ARRAY(subquery))`` condition)."""
    if scan["Node Type"] != "Bitmap Heap Scan":
        return False
    index_scans = [node for node in _walk(scan) if node["Node Type"] == "Bitmap Index Scan"]
    return bool(index_scans) and all(node.get("Index Cond") for node in index_scans)


def _reads_all(scan: dict) -> bool:
    return scan.get("Relation Name") in BIG_TABLES and not (
        scan.get("Index Cond")
        or scan.get("Recheck Cond")
        or _bitmap_found_by_index_conditions(scan)
    )


def _sorts_one_owners_rows(sort: dict, scan: dict) -> bool:
    """Whether a sort orders one owner's rows of a growing table by that table's own columns."""
    found = SINGLE_VALUE.match(scan.get("Index Cond") or scan.get("Recheck Cond") or "")
    if not found or found.group(1) not in GROWING.get(scan.get("Relation Name"), ()):
        return False
    for key in sort.get("Sort Key", []):
        column = key.split(" ")[0].replace('"', "")
        if "." in column and column.split(".")[0] != scan.get("Alias"):
            return False
    return True


def plan_problems(sql: str) -> list[str]:
    """What in the plan of one query would read a big table beyond its rows."""
    with transaction.atomic(), connection.cursor() as cursor:
        # Plans follow the statistics. A test's tables hold a few rows; once autovacuum has
        # analysed one, reading all of it is the cheapest plan and nothing shows whether an
        # index could serve the page. So, for this transaction only (rolled back), every big
        # table is made to look never analysed: PostgreSQL then sizes it from its pages,
        # whatever autovacuum did or did not do during the test.
        cursor.execute(
            "UPDATE pg_class SET reltuples = -1, relpages = 0, relallvisible = 0"
            " WHERE relkind = 'r' AND relname = ANY(%s)",
            [sorted(BIG_TABLES)],
        )
        cursor.execute(
            "DELETE FROM pg_statistic WHERE starelid = ANY(%s::regclass[])", [sorted(BIG_TABLES)]
        )
        # A page's rows come from index ranges joined by index lookups (nested loops); with
        # those the only way left to read a whole table shows as a scan without a condition.
        for method in ("seqscan", "hashjoin", "mergejoin"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        (plan,) = cursor.fetchone()
    if isinstance(plan, str):
        plan = json.loads(plan)
    problems = []
    for node in _walk(plan[0]["Plan"]):
        if node["Node Type"] in SCANS and _reads_all(node):
            problems.append(f"{node['Node Type']} of all {node['Relation Name']}")
        if node["Node Type"] in SORTS:
            for scan in _rows_read_for_sort(node):
                if _sorts_one_owners_rows(node, scan):
                    problems.append(
                        f"{node['Node Type']} by {node.get('Sort Key')} over {scan['Node Type']}"
                        f" on {scan['Relation Name']}"
                        f" ({scan.get('Index Cond') or scan.get('Recheck Cond') or 'all rows'})"
                    )
    return problems


def _short(sql: str) -> str:
    """The query without its column list, enough to tell which one it is."""
    return re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", sql, count=1, flags=re.S)[:400]


def _selects(captured: CaptureQueriesContext) -> list[str]:
    return [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith(("SELECT", "WITH", "("))
    ]


@pytest.mark.parametrize(("grow", "url_of", "api"), PAGES)
def test_every_query_of_a_member_list_uses_an_index(
    settings,
    client,
    staff,
    member,
    activity,
    site,  # noqa: F811
    grow,
    url_of,
    api,
):
    settings.COOP_INVOICE_REVIEW_NEW_CLIENTS = False
    settings.COOP_INVOICE_REVIEW_THRESHOLD = 1000000
    world = World(staff, member, activity, site)
    getattr(world, grow)(ROWS)
    if grow == "add_shared_activities":
        world.add_invoices(ROWS)
    if api:
        browser = api_client_for(member.user)
    else:
        browser = client
        browser.force_login(member.user)
    url = url_of(world)
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(url)
    assert response.status_code == 200, url
    problems = [(sql, plan_problems(sql)) for sql in _selects(captured)]

    assert [(_short(sql), found) for sql, found in problems if found] == []


def test_the_check_finds_a_scan_and_a_sort_an_index_would_spare(db):
    """The plan check itself: it must fail on the queries it is there to catch."""
    assert plan_problems("SELECT * FROM members_ledgerentry WHERE amount > 0") == [
        "Seq Scan of all members_ledgerentry"
    ]
    sorted_by_reference = plan_problems(
        "SELECT * FROM members_ledgerentry WHERE activity_id = 5 ORDER BY reference LIMIT 10"
    )
    assert len(sorted_by_reference) == 1
    assert sorted_by_reference[0].startswith("Sort by ['reference'] over Index Scan")
    assert (
        plan_problems(
            "SELECT * FROM members_ledgerentry WHERE activity_id = 5 "
            "ORDER BY created_at DESC, id DESC LIMIT 10"
        )
        == []
    )
