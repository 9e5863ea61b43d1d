"""benchmarks/pages.py forgets no screen, counts queries as the test client sees them, and its
plan checker catches a sequential scan or a big sort of a big table."""

import importlib.util
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.models import LedgerEntry, Member

_SPEC = importlib.util.spec_from_file_location(
    "benchmark_pages", Path(__file__).resolve().parent.parent / "benchmarks" / "pages.py"
)
pages = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(pages)


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo")
    world = pages.pick_world()
    browsers, headers, _created = pages.login_browsers(world)
    return world, browsers, headers


def _screens(world, browsers):
    return pages.discover(
        world, {"member": browsers["member-api"], "manager": browsers["manager-api"]}
    )


def test_every_url_is_measured_or_excluded_with_a_reason(db):
    assert pages.unclassified_urls() == []
    # What the script excludes still exists: a stale entry would hide a renamed screen.
    names = pages.url_names()
    assert sorted(set(pages.EXCLUDED_URLS) - set(names)) == []
    assert sorted({name for _label, name, *_rest in pages.PAGES} - set(names)) == []
    assert sorted(set(pages.EXCLUDED_API) - set(pages.api_get_paths())) == []


def test_every_admin_model_and_api_list_is_a_screen(demo):
    world, browsers, _headers = demo
    # The member whose Activities hold the most ledger entries (the first of them on a tie).
    heaviest = (
        Member.objects.annotate(entries=Count("activities__ledger_entries"))
        .order_by("-entries", "pk")
        .first()
    )
    assert world.member_user == heaviest.user
    assert world.staff_user is not None
    assert world.manager_user is not None
    screens = _screens(world, browsers)
    urls = {screen.url for screen in screens}
    labels = {screen.label for screen in screens}
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        assert reverse("admin:{}_{}_changelist".format(*info)) in urls, info
        assert f"admin {model._meta.label} change" in labels, info
    lists = [
        path for path in pages.api_get_paths() if "{" not in path and path not in pages.EXCLUDED_API
    ]
    assert "/api/v1/invoices/" in lists
    assert "/api/v1/bookings/" in lists
    for path in lists:
        assert any(screen.url and screen.url.split("?")[0] == path for screen in screens), path
        assert f"GET {path}" in labels, path
    # The demo fills the heavy member's detail pages and the admin's main change pages.
    measured = {screen.label for screen in screens if screen.url is not None}
    for label in [
        "Activity and its ledger",
        "invoice detail",
        "contract detail",
        "GET /api/v1/invoices/{id}/",
        "GET /api/v1/activities/{id}/ledger/",
        "manager: week calendar",
        "admin members.Member change",
        "admin invoicing.Invoice change",
        "admin page guarantee_fund",
        # Orders, online payments and the portal: the demo has a row of each.
        "admin quotes.QuoteAwaitingConfirmation change",
        "admin quotes.OrderInvoice change",
        "admin checkout.OnlinePayment change",
        "admin portal.PortalQuestion change",
        "admin portal.PortalToken change",
    ]:
        assert label in measured, label
    member_change = next(s for s in screens if s.label == "admin members.Member change")
    assert member_change.url == reverse("admin:members_member_change", args=[world.rows["member"]])


def test_in_process_measure_counts_the_queries_of_one_warm_request(demo):
    world, browsers, _headers = demo
    screens = {screen.label: screen for screen in _screens(world, browsers)}
    big = pages.big_tables()
    for label, browser in [
        ("dashboard", browsers["member"]),
        ("GET /api/v1/invoices/", browsers["member-api"]),
        ("admin invoicing.Invoice changelist", browsers["staff"]),
    ]:
        url = screens[label].url
        status, count, problems, _hot, _seconds = pages.measure_queries(browser, url, big)
        with CaptureQueriesContext(connection) as captured:
            again = browser.get(url)
        assert (status, again.status_code) == (200, 200), label
        assert count == len(captured) > 0, label
        assert all(problem.startswith(("seq scan ", "sort of ")) for problem in problems)


def _sql(queryset) -> str:
    """The SQL of a queryset as the benchmark captures it (parameters inlined)."""
    with CaptureQueriesContext(connection) as captured:
        list(queryset)
    return captured.captured_queries[-1]["sql"]


def test_plan_checker_flags_a_seq_scan_of_a_big_table(db):
    big = pages.big_tables()
    assert {"members_ledgerentry", "invoicing_invoice", "spaces_booking"} <= big
    # Every table of the list exists: a renamed model would silently drop out of the check.
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE tablename = ANY(%s)", [sorted(big)])
        assert sorted(row[0] for row in cursor.fetchall()) == sorted(big)

    unindexed = _sql(LedgerEntry.objects.filter(description="Grant").order_by())
    problems = pages.plan_problems(pages.explain(unindexed), big)
    assert problems == ["seq scan members_ledgerentry"]
    by_key = _sql(LedgerEntry.objects.filter(pk=1))
    assert pages.plan_problems(pages.explain(by_key), big) == []
    # A small table is not a big one, whatever the plan.
    assert pages.plan_problems(pages.explain("SELECT * FROM spaces_site"), big) == []


def _sort(rows: int, relation: str) -> dict:
    scan = {"Node Type": "Seq Scan", "Relation Name": relation, "Plan Rows": rows}
    return {"Plan": {"Node Type": "Sort", "Plan Rows": rows, "Plans": [scan]}}


def test_plan_checker_flags_a_sort_of_many_rows_of_a_big_table():
    big = {"invoicing_invoice"}
    assert pages.plan_problems(_sort(300_000, "invoicing_invoice"), big) == [
        "sort of 300,000 rows of invoicing_invoice",
        "seq scan invoicing_invoice",
    ]
    index_scan = {
        "Plan": {
            "Node Type": "Sort",
            "Plan Rows": 200,
            "Plans": [
                {"Node Type": "Index Scan", "Relation Name": "invoicing_invoice", "Plan Rows": 200}
            ],
        }
    }
    assert pages.plan_problems(index_scan, big) == []
    assert pages.plan_problems(_sort(300_000, "spaces_site"), big) == []
