"""Measure every screen against ``/healthz`` on a database made by ``seed_scale``.

Run with ``.venv/bin/python benchmarks/pages.py --scale 0.2 [--seed] [--duration S]
[--rounds N] [--only REGEX] [--json out.json]`` with ``DATABASE_URL`` naming the seeded
database. The script picks the heaviest member (most ledger entries), a space manager and a
staff login, and lists every screen of issue #11: each member page (from the URL conf), each
``GET`` of the API (from the OpenAPI schema), the space manager's pages, and each admin
changelist and change page (from ``admin.site._registry``). Nothing is forgotten: a URL that is
neither measured nor excluded with a reason is reported (and fails tests/test_benchmark_pages.py).

For each screen, in process (Django's test client on the same database): the SQL queries of one
warm request, each ``SELECT`` explained (``EXPLAIN (FORMAT JSON)``) to find a sequential scan of a
big table or a sort of many of its rows. Then on gunicorn (4 sync workers, a free port): member
pages and API calls under ``wrk`` at 16 connections (requests/s, p50, p95, ratio to ``/healthz``
measured in the same round); staff and space-manager pages one request at a time on the idle
server (p50, p95). Last, each worker's resident memory from /proc.

Budget (issue #11): at most 12 queries; no sequential scan or sort over a big table; member pages
and API at least 25 % of ``/healthz`` throughput; staff pages p95 under 300 ms; worker RSS under
300 MB. It is a benchmark: it exits 0 whatever the verdicts, after "N of M screens within budget".
"""

import argparse
import dataclasses
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")
# Production behaviour in process and in gunicorn: no debug query log, no debug pages, database
# connections kept for 60 s. The API throttle stays on, with a per-second rate a load test
# cannot reach (its history stays short).
SERVER_ENVIRONMENT = {
    "DEBUG": "0",
    "DATABASE_CONN_MAX_AGE": "60",
    "API_RATE_LIMIT": "100000/s",
    "COOP_STAFF_IDLE_MINUTES": "1440",
}

# seed_scale's heavy members sign in as heavy1@…, heavy2@…
HEAVY_PREFIX = "heavy"
MAX_QUERIES = 12
MIN_RATIO = 0.25
MAX_STAFF_P95_MS = 300.0
MAX_RSS_MB = 300.0
WORKERS = 4
CONNECTIONS = 16
# A table of BIG_MODELS with fewer rows than this on the measured database is not checked.
BIG_ROWS = 5_000
# A request slower than this in process is measured once there, and not loaded on gunicorn.
SLOW_SECONDS = 10.0
TOO_SLOW_SECONDS = 30.0
# A request is stopped at this many queries (an N+1 over a big table would run for minutes).
MAX_CAPTURED = 1_000
# Distinct query shapes explained per screen (an N+1 repeats one shape).
MAX_PLANS = 40
# A sort is "over a big table" when it orders at least this many rows (planner's estimate).
SORT_ROWS = 10_000

# The big tables of SMart's size, in one place: a sequential scan of one of them, or a sort of
# many of its rows, fails a screen's plan check.
BIG_MODELS = [
    "members.User",
    "members.Member",
    "members.MembershipEvent",
    "members.ShareSubscription",
    "members.Activity",
    "members.LedgerEntry",
    "invoicing.Client",
    "invoicing.Buyer",
    "invoicing.Invoice",
    "invoicing.InvoiceLine",
    "invoicing.InvoiceDocument",
    "invoicing.Payment",
    "invoicing.Reminder",
    "invoicing.Dispatch",
    "invoicing.BankStatementLine",
    "quotes.Quote",
    "quotes.QuoteVersion",
    "quotes.QuoteLine",
    "quotes.QuoteEvent",
    "quotes.OrderInvoice",
    "contracts.Contract",
    "contracts.ContractWorker",
    "contracts.WorkDay",
    "contracts.ContractEvent",
    "contracts.DimonaDeclaration",
    "contracts.Payslip",
    "contracts.ExpenseClaim",
    "spaces.Booking",
    "audit.AuditEvent",
    "sessions.Session",
]
BIG_M2M = [("members.Activity", "co_members")]

# Browser pages: (label, URL name, persona, key of the row in World.rows or None, query).
PAGES = [
    ("dashboard", "members:dashboard", "member", None, {}),
    ("Activities", "members:activity_list", "member", None, {}),
    ("new Activity form", "members:activity_create", "member", None, {}),
    ("Activity and its ledger", "members:activity_detail", "member", "activity", {}),
    ("profile", "members:profile", "member", None, {}),
    ("profile form", "members:profile_edit", "member", None, {}),
    ("API tokens", "members:api_tokens", "member", None, {}),
    ("shares", "members:shares", "member", None, {}),
    ("data exports", "audit:data_exports", "member", None, {}),
    ("invoice list", "invoicing:invoice_list", "member", None, {}),
    ("new invoice form", "invoicing:invoice_create", "member", None, {}),
    ("invoice detail", "invoicing:invoice_detail", "member", "invoice", {}),
    ("draft invoice form", "invoicing:invoice_edit", "member", "draft_invoice", {}),
    ("credit note form", "invoicing:invoice_credit", "member", "invoice", {}),
    ("recurring invoice list", "invoicing:recurring_list", "member", None, {}),
    ("new recurring invoice form", "invoicing:recurring_create", "member", None, {}),
    ("recurring invoice", "invoicing:recurring_detail", "member", "recurring_invoice", {}),
    ("recurring invoice form", "invoicing:recurring_edit", "member", "recurring_invoice", {}),
    ("quote list", "quotes:quote_list", "member", None, {}),
    ("new quote form", "quotes:quote_create", "member", None, {}),
    ("quote detail", "quotes:quote_detail", "member", "quote", {}),
    ("draft quote form", "quotes:quote_edit", "member", "draft_quote", {}),
    ("order", "orders:order_detail", "member", "order", {}),
    ("order list", "orders:order_list", "member", None, {}),
    ("order list of an Activity", "orders:order_list", "member", None, "activity"),
    ("contract from an order form", "orders:order_contract", "member", "order", {}),
    ("client list", "invoicing:client_list", "member", None, {}),
    ("new client form", "invoicing:client_create", "member", None, {}),
    ("client form", "invoicing:client_edit", "member", "client", {}),
    ("contract list", "contracts:index", "member", None, {}),
    ("new contract form", "contracts:create", "member", None, {}),
    ("salary simulator", "contracts:simulator", "member", None, {}),
    ("contract detail", "contracts:detail", "member", "contract", {}),
    ("draft contract form", "contracts:edit", "member", "draft_contract", {}),
    ("payslips", "contracts:payslips", "member", None, {}),
    ("tax certificates", "taxforms:certificates", "member", None, {}),
    ("individual accounts", "declarations:accounts", "member", None, {}),
    ("expense claims", "contracts:expenses", "member", None, {}),
    ("expense claim", "contracts:expense-claim", "member", "expense_claim", {}),
    ("mileage and per-diem form", "contracts:allowance", "member", None, {}),
    ("work statement", "contracts:work-statement", "member", None, {}),
    ("copyright payments", "copyrights:index", "member", None, {}),
    ("new copyright payment form", "copyrights:record", "member", None, {}),
    ("bookings", "spaces:index", "member", None, {}),
    ("rooms", "spaces:room_list", "member", None, {}),
    ("room and its week", "spaces:room_detail", "member", "room", {}),
    ("booking detail", "spaces:booking_detail", "member", "booking", {}),
    ("calendar feeds", "spaces:feeds", "member", None, {}),
    ("manager: day calendar", "spaces:calendar", "manager", "site", {"view": "day"}),
    ("manager: week calendar", "spaces:calendar", "manager", "site", {"view": "week"}),
    ("manager: free-room search", "spaces:search", "manager", None, "search"),
    ("manager: requests queue", "spaces:queue", "manager", None, {}),
    ("manager: occupancy (week)", "spaces:occupancy", "manager", "site", {}),
    ("manager: occupancy (month)", "spaces:occupancy", "manager", "site", {"period": "month"}),
    ("manager: leases", "spaces:lease_list", "manager", "site", {}),
    ("manager: new lease form", "spaces:lease_create", "manager", "site", {}),
    ("manager: member look-up", "spaces:lookup_members", "manager", None, {"q": "heavy"}),
    ("manager: Activity look-up", "spaces:lookup_activities", "manager", None, {"q": "heavy"}),
    (
        "manager: organisation look-up",
        "spaces:lookup_organisations",
        "manager",
        None,
        {"q": "vallée"},
    ),
    ("manager: booking detail", "spaces:booking_detail", "manager", "booking", {}),
]
# Browser URLs that are not screens, and why.
EXCLUDED_URLS = {
    "healthz": "the baseline",
    "favicon": "a redirect to a static file",
    "set_language": "POST only",
    "api-schema": "API description, not data",
    "api-docs": "API description, not data",
    "members:apply": "for applicants: the heavy member is a member already",
    "members:api_token_revoke": "POST only",
    "audit:data_export_download": "a stored file",
    "invoicing:invoice_preview": "POST only",
    "quotes:quote_preview": "POST only",
    "invoicing:invoice_delete": "confirmation of an action",
    "invoicing:invoice_submit": "POST only",
    "invoicing:invoice_pdf": "a stored file",
    "invoicing:invoice_ubl": "a stored file",
    "invoicing:invoice_resend": "POST only",
    "invoicing:recurring_pause": "POST only",
    "invoicing:recurring_resume": "POST only",
    "invoicing:recurring_end": "POST only",
    "quotes:quote_delete": "confirmation of an action",
    "quotes:quote_send": "POST only",
    "quotes:quote_resend": "POST only",
    "quotes:quote_revoke": "POST only",
    "quotes:quote_new_version": "POST only",
    "quotes:quote_pdf": "a stored file",
    "quotes:public": "needs the link's token, e-mailed once",
    "quotes:public_pdf": "needs the link's token, e-mailed once",
    "orders:order_invoice": "POST only",
    "contracts:submit": "POST only",
    "contracts:cancel": "POST only",
    "contracts:invoice": "POST only",
    "contracts:attachment-add": "POST only",
    "contracts:attachment-download": "a stored file",
    "contracts:expense-claim-submit": "POST only",
    "contracts:expense-claim-delete": "confirmation of an action",
    "contracts:expense-receipt-download": "a stored file",
    "contracts:expense-receipt-remove": "POST only",
    "contracts:payslip-download": "a stored file",
    "taxforms:certificate-download": "a stored file",
    "contracts:work-statement-pdf": "the work statement page (measured) as a PDF",
    "contracts:c4-pdf": "a document drawn from a stored snapshot",
    "contracts:c4-data": "a document drawn from a stored snapshot",
    "declarations:account-download": "a PDF document, rendered and tested on its own",
    "copyrights:cancel": "POST only",
    "copyrights:statement": "a stored file",
    "spaces:booking_cancel": "POST only",
    "spaces:booking_move": "POST only",
    "spaces:booking_check_in": "POST only",
    "spaces:booking_approve": "POST only",
    "spaces:booking_refuse": "POST only",
    "spaces:booking_no_show": "POST only",
    "spaces:feed": "needs the feed's secret, shown once",
    "checkout:pay": "the client's pay page behind the invoice's signed link: tests/checkout",
    "checkout:pay_online": "POST only",
    "checkout:pay_return": "the client's page back from the provider, behind the signed link",
    "checkout:webhook": "POST only: the payment provider's notifications",
    "checkout:simulated": "the simulated provider's page, development and demo only",
    # The client portal has its own sign-in (an e-mail link), no member session: its pages'
    # query counts are held flat by tests/portal/test_query_counts.py.
    "portal:start": "sign-in form of the client portal",
    "portal:sign_in": "needs a sign-in link's token",
    "portal:password_sign_in": "sign-in form of the client portal (with a password)",
    "portal:password": "a portal client's password form (tests/portal/test_password.py)",
    "portal:sign_out": "POST only",
    "portal:home": "a portal client's page (tests/portal/test_query_counts.py)",
    "portal:document_list": "a portal client's page (tests/portal/test_query_counts.py)",
    "portal:quote_list": "a portal client's page (tests/portal/test_quotes.py)",
    "portal:document_detail": "a portal client's page (tests/portal/test_query_counts.py)",
    "portal:document_pdf": "a stored file",
    "portal:quote_pdf": "a stored file",
    "portal:document_ubl": "a stored file",
    "portal:document_question": "POST only",
    "portal:question_answered": "POST only",
}
# API GET paths (OpenAPI) that are not screens, and why; and query strings some need.
EXCLUDED_API = {
    "/api/v1/invoices/{id}/pdf/": "a stored file",
    "/api/v1/invoices/{id}/ubl/": "a stored file",
    "/api/v1/payslips/{id}/pdf/": "a stored file",
    "/api/v1/copyright-payments/{id}/statement/": "a stored file",
    "/api/v1/portal/documents/": "a portal client's list (tests/portal/test_query_counts.py)",
    "/api/v1/portal/documents/{id}/": "a portal client's document, not a member's",
}
API_QUERIES = {
    "/api/v1/clients/lookup/": "vat",
    "/api/v1/rooms/free/": "search",
    "/api/v1/rooms/{id}/busy/": "slot",
}
# API paths also measured as the space manager (who sees every booking).
MANAGER_API = re.compile(r"^/api/v1/(sites|rooms|bookings)/")
# Admin URLs beyond the standard changelist/add/change/delete/history: measured or excluded.
ADMIN_PAGES = {
    "admin:index": None,
    "guarantee_fund": None,
    "admin:contracts_payrollrun_run": None,
    "admin:taxforms_belcotaxexport_year": None,
    "admin:declarations_dmfaexport_quarter": None,
    "admin:copyrights_copyrightpayment_record": None,
    "admin:invoicing_bankstatement_import": None,
    "admin:invoicing_invoice_review": "credit_note_to_review",
}
EXCLUDED_ADMIN = {
    "admin:contracts_payrollrun_sepa": "a stored file",
    "admin:taxforms_belcotaxexport_file": "a stored file",
    "admin:declarations_dmfaexport_file": "a stored file",
    "admin:invoicing_refundpaymentfile_sepa": "a stored file",
    "admin:members_member_national_number": "a recorded read of a national number",
    "admin:login": "sign-in",
    "admin:logout": "POST only",
    "admin:password_change": "allauth's password form",
    "admin:password_change_done": "allauth's password form",
    "admin:autocomplete": "a widget's search, measured by test_admin_scale",
    "admin:jsi18n": "static catalog",
    "admin:view_on_site": "a redirect",
    "admin:app_list": "an app's index, as admin:index",
}
ADMIN_STANDARD = ("_changelist", "_add", "_change", "_delete", "_history")
# A change page's decision buttons (approve, reject...): POST only, a list action on one row.
ADMIN_POST_ONLY = ("_object_action",)
# The change page of these models shows the heavy member's row (most related rows).
ADMIN_ROWS = {
    "members.member": "member",
    "members.user": "member_user",
    "members.activity": "activity",
    "invoicing.invoice": "invoice",
    "invoicing.client": "client",
    "contracts.contract": "contract",
    "quotes.quoteawaitingconfirmation": "quote_awaiting_confirmation",
    "quotes.orderinvoice": "order_invoice",
    "checkout.onlinepayment": "online_payment",
    "portal.portalquestion": "portal_question",
    "portal.portaltoken": "portal_token",
    "copyrights.copyrightpayment": "copyright_payment",
    "copyrights.copyrightmemberyear": "copyright_member_year",
    "taxforms.taxcertificate": "tax_certificate",
    "taxforms.belcotaxexport": "belcotax_export",
    "declarations.dmfaexport": "dmfa_export",
}


@dataclasses.dataclass
class Screen:
    label: str
    kind: str  # member, api, manager, staff
    persona: str  # member, manager, staff
    url: str | None  # None: no row to show on this database
    queries: int | None = None
    status: int | None = None
    plan_problems: list[str] = dataclasses.field(default_factory=list)
    requests_per_second: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    ratio: float | None = None
    error: str = ""
    # Set when one request took longer than TOO_SLOW_SECONDS in process: not loaded, FAIL.
    too_slow_seconds: float | None = None

    @property
    def measured_by_throughput(self) -> bool:
        return self.kind in ("member", "api")

    def verdicts(self) -> dict[str, bool | None]:
        """PASS (True) or FAIL (False) per criterion; None when not measured."""
        if self.url is None or self.error:
            return {"queries": None, "plans": None, "speed": None}
        speed: bool | None
        if self.too_slow_seconds is not None:
            speed = False
        elif self.measured_by_throughput:
            speed = None if self.ratio is None else self.ratio >= MIN_RATIO
        else:
            speed = None if self.p95_ms is None else self.p95_ms < MAX_STAFF_P95_MS
        return {
            "queries": None if self.queries is None else self.queries <= MAX_QUERIES,
            "plans": None if self.queries is None else not self.plan_problems,
            "speed": speed,
        }

    @property
    def within_budget(self) -> bool:
        verdicts = self.verdicts()
        return all(value is True for value in verdicts.values())


# --- Discovery ------------------------------------------------------------------------------


def url_names() -> dict[str, str]:
    """Every named URL outside the admin and allauth: name → route."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: dict[str, str] = {}

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                route = prefix + str(pattern.pattern)
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                if not route.startswith(("admin/", "accounts/")):
                    found.setdefault(name, route)

    walk(get_resolver().url_patterns, "", None)
    return found


def admin_url_names() -> set[str]:
    """Every named URL of the admin site, including each ModelAdmin's own views."""
    from django.contrib import admin
    from django.urls import URLPattern, URLResolver

    names: set[str] = set()

    def walk(patterns) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"admin:{pattern.name}")

    walk(admin.site.get_urls())
    names.add("guarantee_fund")
    return names


def unclassified_urls() -> list[str]:
    """URL names that are neither measured nor excluded with a reason: each is a forgotten
    screen."""
    measured = {name for _label, name, *_rest in PAGES}
    browser = [
        name
        for name in url_names()
        if not name.startswith("api:") and name not in measured and name not in EXCLUDED_URLS
    ]
    admin = [
        name
        for name in admin_url_names()
        if not name.endswith(ADMIN_STANDARD + ADMIN_POST_ONLY)
        and name not in ADMIN_PAGES
        and name not in EXCLUDED_ADMIN
    ]
    api = [path for path in api_get_paths() if path not in EXCLUDED_API and "{" in path.strip("/")]
    api = [path for path in api if not _api_detail_resolvable(path)]
    return sorted(browser + admin + api)


def _api_detail_resolvable(path: str) -> bool:
    """A templated API path whose parameters the script knows how to fill."""
    names = re.findall(r"{(\w+)}", path)
    return names == ["id"] and path.startswith("/api/v1/")


def api_get_paths() -> list[str]:
    """Every path of the OpenAPI schema with a GET operation, in the schema's order."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [path for path, operations in schema["paths"].items() if "get" in operations]


# --- The world: who signs in, which rows the detail pages show --------------------------------


@dataclasses.dataclass
class World:
    member_user: object
    manager_user: object | None
    staff_user: object | None
    rows: dict[str, int | None]


def _first_pk(queryset) -> int | None:
    return queryset.order_by("-pk").values_list("pk", flat=True).first()


def heaviest_member_pk() -> int | None:
    """The member whose Activities hold the most ledger entries.

    seed_scale names its heavy members heavy<N>@…: only they are counted when they exist, so
    the full-size database is not grouped whole.
    """
    from django.db import connection

    from members.models import Member

    heavy = list(
        Member.objects.filter(user__email__startswith=HEAVY_PREFIX).values_list("pk", flat=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT activity.owner_id
            FROM members_ledgerentry entry
            JOIN members_activity activity ON activity.id = entry.activity_id
            {"WHERE activity.owner_id = ANY(%s)" if heavy else ""}
            GROUP BY activity.owner_id
            ORDER BY count(*) DESC, activity.owner_id
            LIMIT 1
            """,  # noqa: S608 - no user input
            [heavy] if heavy else [],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def pick_world(member_email: str | None = None) -> World:
    """Choose the personas and, for each detail page, a row the persona may open."""
    from allauth.mfa.models import Authenticator
    from django.db import connection
    from django.db.models import Count

    from checkout.models import OnlinePayment
    from contracts import selectors as contract_selectors
    from contracts.models import Contract
    from copyrights.models import CopyrightMemberYear, CopyrightPayment
    from declarations.models import DmfaExport
    from invoicing import selectors as invoice_selectors
    from invoicing.models import Invoice
    from members.models import Activity, LedgerEntry, Member, User
    from portal.models import PortalQuestion, PortalToken
    from quotes import selectors as quote_selectors
    from quotes.models import OrderInvoice, Quote
    from spaces import selectors as space_selectors
    from spaces.apps import SPACE_MANAGERS_GROUP
    from spaces.models import Room, Site
    from taxforms.models import BelcotaxExport, TaxCertificate

    if member_email:
        member = Member.objects.select_related("user").get(user__email=member_email)
    else:
        member = Member.objects.select_related("user").get(pk=heaviest_member_pk())
    user = member.user
    totp = Authenticator.objects.filter(type=Authenticator.Type.TOTP).values("user_id")
    staff = (
        User.objects.filter(is_staff=True, is_superuser=True, is_active=True, pk__in=totp)
        .order_by("pk")
        .first()
    )
    manager = (
        User.objects.filter(
            groups__name=SPACE_MANAGERS_GROUP, is_staff=False, is_active=True, pk__in=totp
        )
        .order_by("pk")
        .first()
        or User.objects.filter(groups__name=SPACE_MANAGERS_GROUP, is_staff=False, is_active=True)
        .order_by("pk")
        .first()
    )
    owned = list(Activity.objects.filter(owner=member).values_list("pk", flat=True))
    activity = None
    if owned:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT activity_id FROM members_ledgerentry WHERE activity_id = ANY(%s)"
                " GROUP BY activity_id ORDER BY count(*) DESC LIMIT 1",
                [owned],
            )
            row = cursor.fetchone()
        activity = row[0] if row else owned[0]
    invoices = Invoice.objects.filter(activity_id__in=owned)
    questions = PortalQuestion.objects.filter(invoice__activity_id__in=owned)
    issued = invoices.filter(
        kind=Invoice.Kind.INVOICE,
        status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID, Invoice.Status.PAID],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT room.site_id FROM spaces_booking booking"
            " JOIN spaces_room room ON room.id = booking.room_id"
            " GROUP BY room.site_id ORDER BY count(*) DESC, room.site_id LIMIT 1"
        )
        row = cursor.fetchone()
    # The site with the most bookings: the busiest calendars.
    site = Site.objects.filter(pk=row[0]).first() if row else Site.objects.order_by("pk").first()
    rows = {
        "member": member.pk,
        "member_user": user.pk,
        "activity": activity,
        "invoice": _first_pk(issued),
        # The draft with the most lines (an order's deposit drawn up has one).
        "draft_invoice": (
            invoices.filter(status=Invoice.Status.DRAFT)
            .annotate(line_count=Count("lines"))
            .order_by("-line_count", "-pk")
            .values_list("pk", flat=True)
            .first()
        ),
        "client": _first_pk(invoice_selectors.clients_visible_to(user)),
        "recurring_invoice": _first_pk(invoice_selectors.recurring_invoices_visible_to(user)),
        "quote": _first_pk(quote_selectors.quotes_visible_to(user)),
        "draft_quote": _first_pk(
            quote_selectors.quotes_visible_to(user).filter(status=Quote.Status.DRAFT)
        ),
        "order": _first_pk(
            quote_selectors.quotes_visible_to(user).filter(ordered_version__isnull=False)
        ),
        "quote_awaiting_confirmation": _first_pk(
            quote_selectors.quotes_visible_to(user).filter(status=Quote.Status.ACCEPTED)
        ),
        "order_invoice": _first_pk(OrderInvoice.objects.filter(quote__activity_id__in=owned)),
        "online_payment": _first_pk(OnlinePayment.objects.filter(invoice__activity_id__in=owned)),
        "portal_question": _first_pk(questions),
        # The links e-mailed to the clients who asked those questions.
        "portal_token": _first_pk(PortalToken.objects.filter(email__in=questions.values("email"))),
        # The heavy member's paid copyright payment, its year, its tax certificate (another
        # heavy member's when this one has none); the newest exports.
        "copyright_payment": _first_pk(CopyrightPayment.objects.filter(member=member))
        or _first_pk(CopyrightPayment.objects.all()),
        "copyright_member_year": _first_pk(CopyrightMemberYear.objects.filter(member=member))
        or _first_pk(CopyrightMemberYear.objects.all()),
        "tax_certificate": _first_pk(TaxCertificate.objects.filter(member=member))
        or _first_pk(TaxCertificate.objects.all()),
        "belcotax_export": _first_pk(BelcotaxExport.objects.all()),
        "dmfa_export": _first_pk(DmfaExport.objects.all()),
        "contract": _first_pk(contract_selectors.contracts_visible_to(user)),
        "draft_contract": _first_pk(
            contract_selectors.contracts_visible_to(user).filter(status=Contract.Status.DRAFT)
        ),
        "expense_claim": _first_pk(contract_selectors.expense_claims_visible_to(user)),
        "booking": _first_pk(space_selectors.bookings_visible_to(user)),
        "room": _first_pk(Room.objects.filter(site=site)) if site else None,
        "site": site.pk if site else None,
        "credit_note_to_review": _first_pk(
            Invoice.objects.filter(
                kind=Invoice.Kind.CREDIT_NOTE, status=Invoice.Status.PENDING_REVIEW
            )
        ),
        "ledger_entries": LedgerEntry.objects.filter(activity_id__in=owned).count(),
        "invoices": invoices.count(),
    }
    return World(member_user=user, manager_user=manager, staff_user=staff, rows=rows)


def _query_string(kind, world: World) -> dict:
    """Query parameters for the screens that need a search."""
    from django.utils import timezone

    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    if kind == "search":
        return {
            "site": world.rows["site"],
            "date": tomorrow.isoformat(),
            "start_time": "10:00",
            "duration_minutes": "120",
        }
    if kind == "slot":
        start = datetime.datetime.combine(tomorrow, datetime.time(10), tzinfo=datetime.UTC)
        return {
            "start": start.isoformat(),
            "end": (start + datetime.timedelta(hours=2)).isoformat(),
        }
    if kind == "vat":
        return {"vat_number": "BE0403170701", "country": "BE"}
    if kind == "activity":
        return {"activity": world.rows["activity"]}
    return kind or {}


def discover(world: World, browsers: dict) -> list[Screen]:
    """Every screen of issue #11 for this world, in a stable order."""
    from urllib.parse import urlencode

    from django.contrib import admin
    from django.test import RequestFactory
    from django.urls import NoReverseMatch, reverse

    screens: list[Screen] = []

    def with_query(url: str, query: dict) -> str:
        query = {key: value for key, value in query.items() if value is not None}
        return f"{url}?{urlencode(query)}" if query else url

    personas = {"member": world.member_user, "manager": world.manager_user}
    for label, name, persona, row_key, query in PAGES:
        kind = "manager" if persona == "manager" else "member"
        if personas[persona] is None:
            screens.append(Screen(label, kind, persona, None, error="no such login"))
            continue
        if row_key is None:
            url = reverse(name)
        elif world.rows.get(row_key) is None:
            screens.append(Screen(label, kind, persona, None))
            continue
        else:
            url = reverse(name, args=[world.rows[row_key]])
        screens.append(Screen(label, kind, persona, with_query(url, _query_string(query, world))))

    detail_ids = {
        "/api/v1/activities/": world.rows["activity"],
        "/api/v1/invoices/": world.rows["invoice"],
    }
    for persona in ("member", "manager"):
        if personas[persona] is None:
            continue
        paths = [path for path in api_get_paths() if path not in EXCLUDED_API]
        if persona == "manager":
            paths = [path for path in paths if MANAGER_API.match(path)]
        for path in paths:
            label = f"GET {path}" if persona == "member" else f"manager: GET {path}"
            query = _query_string(API_QUERIES.get(path), world)
            if "{id}" in path:
                collection = path.split("{id}")[0]
                pk = detail_ids.get(collection) if persona == "member" else None
                if pk is None:
                    pk = _first_api_id(browsers[persona], collection)
                if pk is None:
                    screens.append(Screen(label, "api", persona, None))
                    continue
                path = path.replace("{id}", str(pk))
            screens.append(Screen(label, "api", persona, with_query(path, query)))

    if world.staff_user is not None:
        request = RequestFactory().get("/admin/")
        request.user = world.staff_user
        screens.append(Screen("admin index", "staff", "staff", reverse("admin:index")))
        for model, model_admin in admin.site._registry.items():
            info = (model._meta.app_label, model._meta.model_name)
            title = f"admin {model._meta.label}"
            screens.append(
                Screen(
                    f"{title} changelist",
                    "staff",
                    "staff",
                    reverse("admin:{}_{}_changelist".format(*info)),
                )
            )
            row_key = ADMIN_ROWS.get(model._meta.label_lower)
            pk = world.rows.get(row_key) if row_key else None
            if pk is None:
                pk = _first_pk(model_admin.get_queryset(request))
            try:
                url = reverse("admin:{}_{}_change".format(*info), args=[pk]) if pk else None
            except NoReverseMatch:
                continue
            screens.append(Screen(f"{title} change", "staff", "staff", url))
        for name, row_key in ADMIN_PAGES.items():
            if name == "admin:index":
                continue
            if row_key is None:
                url = reverse(name)
            else:
                pk = world.rows.get(row_key)
                url = reverse(name, args=[pk]) if pk else None
            screens.append(Screen(f"admin page {name}", "staff", "staff", url))
    return screens


def _first_api_id(browser, collection: str) -> int | None:
    """The id of the first row of an API list, as the persona sees it."""
    response = browser.get(collection)
    if response.status_code != 200:
        return None
    body = response.json()
    rows = body.get("results", body) if isinstance(body, dict) else body
    if not rows or not isinstance(rows, list):
        return None
    return rows[0].get("id", rows[0].get("pk"))


# --- Queries and plans, in process ----------------------------------------------------------


def big_tables(*, min_rows: int = 0) -> set[str]:
    """The database tables of BIG_MODELS (and their many-to-many tables) that hold at least
    ``min_rows`` rows (planner's estimate): on a small table a sequential scan is right."""
    from django.apps import apps
    from django.db import connection

    tables = {apps.get_model(label)._meta.db_table for label in BIG_MODELS}
    for label, field in BIG_M2M:
        tables.add(apps.get_model(label)._meta.get_field(field).remote_field.through._meta.db_table)
    if min_rows:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND reltuples >= %s",
                [sorted(tables), min_rows],
            )
            tables = {row[0] for row in cursor.fetchall()}
    return tables


def plan_problems(plan: dict, big: set[str]) -> list[str]:
    """Sequential scans of big tables and sorts of at least SORT_ROWS rows drawn from them."""
    problems: list[str] = []

    def relations(node: dict) -> set[str]:
        found = {node["Relation Name"]} if "Relation Name" in node else set()
        for child in node.get("Plans", []):
            found |= relations(child)
        return found

    def visit(node: dict) -> None:
        node_type = node["Node Type"]
        if node_type == "Seq Scan" and node.get("Relation Name") in big:
            problems.append(f"seq scan {node['Relation Name']}")
        if node_type in ("Sort", "Incremental Sort"):
            rows = max(
                [node["Plan Rows"], *(child["Plan Rows"] for child in node.get("Plans", []))]
            )
            touched = relations(node) & big
            if touched and rows >= SORT_ROWS:
                problems.append(f"sort of {rows:,} rows of {'/'.join(sorted(touched))}")
        for child in node.get("Plans", []):
            visit(child)

    visit(plan["Plan"])
    return problems


def explain(sql: str) -> dict:
    """The planner's plan (no execution) of a captured query."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        result = cursor.fetchone()[0]
    return (json.loads(result) if isinstance(result, str) else result)[0]


class TooManyQueries(Exception):
    pass


def _query_limit():
    """An execute wrapper that stops a request at its MAX_CAPTURED + 1st query."""
    count = [0]

    def wrapper(execute, sql, params, many, context):
        count[0] += 1
        if count[0] > MAX_CAPTURED:
            raise TooManyQueries
        return execute(sql, params, many, context)

    return wrapper


def query_shape(sql: str) -> str:
    """The SQL with its literals blanked: one plan per shape is enough."""
    return re.sub(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b", "?", sql)


def measure_queries(
    browser, url: str, big: set[str], *, slow: float = SLOW_SECONDS
) -> tuple[int, int, list[str], list[dict], float]:
    """Status, query count and plan problems of one warm request, the problem queries and the
    seconds of the request.

    A first request warms sessions, content types and caches; when it took more than ``slow``
    seconds its own queries are kept rather than waiting as long again.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def request():
        began = time.perf_counter()
        with (
            CaptureQueriesContext(connection) as captured,
            connection.execute_wrapper(_query_limit()),
        ):
            response = browser.get(url)
        return response, captured, time.perf_counter() - began

    try:
        response, captured, seconds = request()
        if seconds <= slow:
            response, captured, seconds = request()
    except TooManyQueries:
        # Each row its own query: the page would run for minutes. Its first queries are shown.
        return 0, MAX_CAPTURED + 1, [f"stopped after {MAX_CAPTURED:,} queries"], [], float("inf")
    problems: list[str] = []
    hot: list[dict] = []
    shapes: set[str] = set()
    for query in captured.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        shape = query_shape(sql)
        if shape in shapes or len(shapes) >= MAX_PLANS:
            continue
        shapes.add(shape)
        try:
            plan = explain(sql)
        except Exception as error:
            problems.append(f"no plan: {type(error).__name__}")
            continue
        found = plan_problems(plan, big)
        if found:
            problems.extend(found)
            hot.append({"sql": sql, "problems": found, "plan": plan})
    return response.status_code, len(captured), sorted(set(problems)), hot, seconds


# --- Load on gunicorn -----------------------------------------------------------------------

WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) unexpected = 0 end
function response(status, headers, body)
  if status ~= 200 then unexpected = unexpected + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("unexpected") end
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "not_200": %d,'
    .. ' "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), bad,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn with WORKERS sync workers on a free port of 127.0.0.1."""

    def __init__(self, log: Path):
        self.port = free_port()
        environment = {**os.environ, **SERVER_ENVIRONMENT, "PYTHONPATH": str(ROOT)}
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "coop.wsgi:application",
                "--workers",
                str(WORKERS),
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "300",
            ],
            cwd=ROOT,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.get("/healthz", {})[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer; see {log}")

    def get(self, url: str, headers: dict) -> tuple[int, float]:
        """Status and seconds of one GET on a fresh connection."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            began = time.perf_counter()
            connection.request("GET", url, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status, time.perf_counter() - began
        finally:
            connection.close()

    def worker_rss_mb(self) -> dict[int, float]:
        """Resident memory of each worker (children of the master), in MB."""
        sizes = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if fields.get("PPid", "").strip() == str(self.process.pid):
                sizes[int(entry.name)] = int(fields["VmRSS"].split()[0]) / 1024
        return sizes

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def load(server: Server, url: str, headers: dict, duration: float, script: Path | None) -> dict:
    """Requests/s, p50 and p95 (ms) at CONNECTIONS concurrent connections for ``duration``."""
    if script is not None:
        command = [
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "60s",
            "-s",
            str(script),
        ]
        for key, value in headers.items():
            command += ["-H", f"{key}: {value}"]
        output = subprocess.run(
            [*command, f"http://127.0.0.1:{server.port}{url}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        figures = json.loads(output.strip().splitlines()[-1])
        drain(server)
        # wrk counts only the answers that came within the duration: a page slower than
        # duration × CONNECTIONS / WORKERS would show no figures. Such a page is measured again
        # by the Python load, which waits for the requests in flight.
        if figures["requests"] >= CONNECTIONS:
            seconds = figures["duration_us"] / 1e6
            return {
                "rps": figures["requests"] / seconds,
                "p50": figures["p50_us"] / 1000,
                "p95": figures["p95_us"] / 1000,
                "not_200": figures["not_200"] + figures["socket_errors"],
            }
    result = _python_load(server, url, headers, duration)
    drain(server)
    return result


def drain(server: "Server") -> None:
    """Wait until the workers have answered what a load left in their queue."""
    threads = [
        threading.Thread(target=server.get, args=("/healthz", {})) for _index in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _python_load(server: Server, url: str, headers: dict, duration: float) -> dict:
    """The same measure without wrk: CONNECTIONS threads with keep-alive connections."""
    timings: list[float] = []
    not_200 = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def run() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
        while time.monotonic() < stop_at:
            began = time.perf_counter()
            try:
                connection.request("GET", url, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
                status = 0
            elapsed = time.perf_counter() - began
            with lock:
                timings.append(elapsed)
                not_200[0] += status != 200
        connection.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=run) for _index in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    p50, p95 = percentiles(timings) if timings else (None, None)
    return {"rps": len(timings) / elapsed, "p50": p50, "p95": p95, "not_200": not_200[0]}


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds (nearest rank)."""
    if not seconds:
        return 0.0, 0.0
    ordered = sorted(seconds)
    return (
        statistics.median(ordered) * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000,
    )


def sequential(server: Server, url: str, headers: dict, duration: float, count: int) -> dict:
    """p50 and p95 of requests one at a time: at most ``count``, at least 3, for ``duration``."""
    timings: list[float] = []
    not_200 = 0
    began = time.monotonic()
    while len(timings) < count and (len(timings) < 3 or time.monotonic() - began < duration):
        status, seconds = server.get(url, headers)
        not_200 += status != 200
        timings.append(seconds)
    p50, p95 = percentiles(timings)
    return {"p50": p50, "p95": p95, "not_200": not_200, "requests": len(timings)}


# --- Report ---------------------------------------------------------------------------------


def mark(value: bool | None) -> str:
    return {True: "PASS", False: "**FAIL**", None: "–"}[value]


def number(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def report(screens: list[Screen], facts: dict, baseline: dict, rss: dict[int, float]) -> str:
    """The markdown table, the machine facts and the summary line."""
    lines = [
        f"### `benchmarks/pages.py --scale {facts['scale']}` — {facts['date']}",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in facts.items()),
        "",
        f"`/healthz`: {number(baseline['rps'])} requests/s, p50 {number(baseline['p50'], 1)} ms, "
        f"p95 {number(baseline['p95'], 1)} ms at c={CONNECTIONS}.",
        "",
        f"Budget: ≤ {MAX_QUERIES} queries; no seq scan or sort (≥ {SORT_ROWS:,} rows) over a big "
        f"table; member pages and API ≥ {MIN_RATIO:.0%} of `/healthz` requests/s at "
        f"c={CONNECTIONS}; staff and space-manager pages p95 < {MAX_STAFF_P95_MS:.0f} ms one at "
        f"a time; worker RSS < {MAX_RSS_MB:.0f} MB.",
        "",
        "| screen | kind | queries | plans | req/s | ratio | p50 ms | p95 ms | "
        "queries ≤ 12 | plans | speed | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for screen in screens:
        verdicts = screen.verdicts()
        if screen.url is None:
            verdict = "not measured: " + (screen.error or "no row on this database")
        elif screen.error:
            verdict = f"**ERROR** {screen.error}"
        elif screen.queries is not None and screen.queries > MAX_CAPTURED:
            verdict = f"**FAIL** (more than {MAX_CAPTURED:,} queries: stopped, not loaded)"
        elif screen.too_slow_seconds is not None:
            verdict = f"**FAIL** ({screen.too_slow_seconds:.0f} s a request: not loaded)"
        else:
            verdict = "PASS" if screen.within_budget else "**FAIL**"
        lines.append(
            f"| {screen.label} | {screen.kind} | {number(screen.queries)} | "
            f"{'; '.join(screen.plan_problems) or 'ok' if screen.queries is not None else '–'} | "
            f"{number(screen.requests_per_second, 1)} | {number(screen.ratio, 3)} | "
            f"{number(screen.p50_ms, 1)} | {number(screen.p95_ms, 1)} | "
            f"{mark(verdicts['queries'])} | {mark(verdicts['plans'])} | "
            f"{mark(verdicts['speed'])} | {verdict} |"
        )
    largest = max(rss.values()) if rss else None
    lines += [
        "",
        "Worker RSS after every screen: "
        + ", ".join(f"{size:.0f} MB" for size in sorted(rss.values()))
        + f" — {mark(largest is not None and largest < MAX_RSS_MB)} (< {MAX_RSS_MB:.0f} MB)",
    ]
    measured = [screen for screen in screens if screen.url is not None]
    within = sum(screen.within_budget for screen in measured)
    lines += [
        "",
        f"{within} of {len(measured)} screens within budget"
        f" ({len(screens) - len(measured)} not measured: no row or login on this database).",
    ]
    return "\n".join(lines)


def plan_tree(node: dict, depth: int = 0) -> list[str]:
    """A plan as indented lines: node, relation, index, estimated rows."""
    parts = [node["Node Type"]]
    if "Relation Name" in node:
        parts.append(f"on {node['Relation Name']}")
    if "Index Name" in node:
        parts.append(f"using {node['Index Name']}")
    if "Sort Key" in node:
        keys = ", ".join(node["Sort Key"])
        parts.append(f"by {keys if len(keys) <= 120 else keys[:120] + ' …'}")
    for key in ("Filter", "Index Cond", "Hash Cond"):
        if key in node:
            parts.append(f"{key.lower()} {node[key][:120]}")
    parts.append(f"(rows {node['Plan Rows']:,}, cost {node['Total Cost']:,.0f})")
    lines = ["  " * depth + "-> " + " ".join(parts)]
    for child in node.get("Plans", []):
        lines += plan_tree(child, depth + 1)
    return lines


def hot_plans_markdown(hot_plans: list[dict]) -> str:
    """The queries that failed the plan check, once each, with the screens that run them."""
    by_sql: dict[str, dict] = {}
    for item in hot_plans:
        problems = list(dict.fromkeys(item["problems"]))
        entry = by_sql.setdefault(
            item["sql"], {"screens": [], "problems": problems, "plan": item["plan"]}
        )
        entry["screens"].append(item["screen"])
    lines: list[str] = []
    costliest = sorted(by_sql.items(), key=lambda pair: -pair[1]["plan"]["Plan"]["Total Cost"])
    for sql, entry in costliest:
        shown = sql if len(sql) <= 600 else sql[:600] + " …"
        lines += [
            f"#### {'; '.join(entry['problems'])}",
            "",
            f"Screens: {', '.join(sorted(set(entry['screens'])))}.",
            "",
            "```",
            shown,
            "",
            *plan_tree(entry["plan"]["Plan"]),
            "```",
            "",
        ]
    return "\n".join(lines)


# --- Main -----------------------------------------------------------------------------------


def machine_facts(scale: str, world: World) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relname = ANY(%s)",
            [["members_ledgerentry", "invoicing_invoice", "members_member", "spaces_booking"]],
        )
        sizes = dict(cursor.fetchall())
    wrk = shutil.which("wrk")
    return {
        "scale": scale,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "database": connection.settings_dict["NAME"],
        "cores": os.cpu_count(),
        "memory": f"{_meminfo_gb():.0f} GB",
        "load average at start": " ".join(f"{value:.1f}" for value in os.getloadavg()),
        "PostgreSQL": version,
        "gunicorn": f"{WORKERS} sync workers",
        "load": f"wrk, {CONNECTIONS} connections" if wrk else "Python threads (no wrk)",
        "rows (planner's estimate)": ", ".join(
            f"{name} {max(count, 0):,}" for name, count in sorted(sizes.items())
        ),
        "heavy member": (
            f"{world.member_user.email}: {world.rows['invoices']:,} invoices, "
            f"{world.rows['ledger_entries']:,} ledger entries"
        ),
    }


def _meminfo_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def login_browsers(world: World) -> tuple[dict, dict, list]:
    """A signed-in test client per persona (real database sessions, reused by gunicorn), the
    HTTP headers that carry them, and what to delete afterwards."""
    import secrets

    from django.conf import settings
    from django.test import Client
    from django.utils import timezone
    from rest_framework.test import APIClient

    from members.models import ApiToken
    from members.services import hash_api_key

    browsers: dict = {}
    headers: dict = {}
    created: list = []
    for persona, user in (
        ("member", world.member_user),
        ("manager", world.manager_user),
        ("staff", world.staff_user),
    ):
        if user is None:
            continue
        browser = Client()
        browser.force_login(user)
        browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        browsers[persona] = browser
        session = browser.cookies[settings.SESSION_COOKIE_NAME].value
        created.append(("session", session))
        headers[persona] = {
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; "
            f"{settings.LANGUAGE_COOKIE_NAME}=en"
        }
        if persona in ("member", "manager"):
            key = secrets.token_urlsafe(30)
            token = ApiToken.objects.create(
                user=user,
                name="benchmarks/pages.py",
                prefix=key[:8],
                key_hash=hash_api_key(key),
                created_at=timezone.now(),
                expires_at=timezone.now() + datetime.timedelta(days=1),
                second_factor_verified=persona == "manager",
            )
            created.append(("token", token.pk))
            api = APIClient()
            api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            browsers[f"{persona}-api"] = api
            headers[f"{persona}-api"] = {"Authorization": f"Token {key}"}
    return browsers, headers, created


def clean_up(created: list) -> None:
    from django.contrib.sessions.models import Session

    from members.models import ApiToken

    Session.objects.filter(
        session_key__in=[key for kind, key in created if kind == "session"]
    ).delete()
    ApiToken.objects.filter(pk__in=[key for kind, key in created if kind == "token"]).delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", required=True, help="the seed_scale size, e.g. 0.2 or 1")
    parser.add_argument("--seed", action="store_true", help="run seed_scale --scale first")
    parser.add_argument("--duration", type=float, default=10, help="seconds per load (wrk -d)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--staff-requests", type=int, default=20, help="sequential requests")
    parser.add_argument("--only", help="only screens whose label or URL matches this regex")
    parser.add_argument("--member", help="e-mail of the member to sign in as (default: heaviest)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--plans", type=Path, help="write the problem queries' plans here")
    arguments = parser.parse_args()
    if arguments.seed:
        subprocess.run(
            [sys.executable, "manage.py", "seed_scale", "--scale", arguments.scale],
            cwd=ROOT,
            check=True,
        )

    os.environ.update(SERVER_ENVIRONMENT)
    import django

    django.setup()
    from django.db import connection

    began = time.monotonic()
    missing = unclassified_urls()
    if missing:
        sys.stdout.write(f"Screens neither measured nor excluded: {', '.join(missing)}\n")
    world = pick_world(arguments.member)
    browsers, headers, created = login_browsers(world)
    try:
        screens = discover(
            world,
            {
                "member": browsers["member-api"],
                **({"manager": browsers["manager-api"]} if "manager-api" in browsers else {}),
            },
        )
        if arguments.only:
            only = re.compile(arguments.only)
            screens = [s for s in screens if only.search(s.label) or only.search(s.url or "")]
        facts = machine_facts(arguments.scale, world)
        sys.stdout.write(f"{len(screens)} screens; measuring queries and plans in process…\n")
        big = big_tables(min_rows=BIG_ROWS)
        facts["big tables checked"] = ", ".join(sorted(big))
        hot_plans: list[dict] = []
        for screen in screens:
            if screen.url is None:
                continue
            browser = browsers[f"{screen.persona}-api" if screen.kind == "api" else screen.persona]
            try:
                status, count, problems, hot, seconds = measure_queries(browser, screen.url, big)
            except Exception as error:
                connection.close()
                screen.error = f"{type(error).__name__}: {error}"[:120]
                sys.stdout.write(f"  {screen.label}: {screen.error}\n")
                continue
            screen.status, screen.queries, screen.plan_problems = status, count, problems
            sys.stdout.write(
                f"  {screen.label}: {count} queries, {len(problems)} plan problems, "
                f"{seconds:.2f} s\n"
            )
            if count > MAX_CAPTURED:
                screen.too_slow_seconds = seconds
            elif status != 200:
                screen.error = f"HTTP {status}"
            elif seconds > TOO_SLOW_SECONDS:
                screen.too_slow_seconds = seconds
            for item in hot:
                hot_plans.append({"screen": screen.label, **item})
        connection.close()
        sys.stdout.write(f"  done in {time.monotonic() - began:.0f} s; starting gunicorn…\n")

        with tempfile.TemporaryDirectory() as scratch:
            script = None
            if shutil.which("wrk"):
                script = Path(scratch) / "report.lua"
                script.write_text(WRK_SCRIPT)
            server = Server(Path(scratch) / "gunicorn.log")
            try:
                baseline, rss = run_load(server, screens, headers, script, arguments)
            finally:
                server.stop()
    finally:
        clean_up(created)
        connection.close()

    sys.stdout.write("\n" + report(screens, facts, baseline, rss) + "\n")
    sys.stdout.write(f"\n(run took {time.monotonic() - began:.0f} s)\n")
    if arguments.json:
        arguments.json.write_text(
            json.dumps(
                {
                    "facts": facts,
                    "healthz": baseline,
                    "worker_rss_mb": sorted(rss.values()),
                    "screens": [
                        {**dataclasses.asdict(screen), "within_budget": screen.within_budget}
                        for screen in screens
                    ],
                },
                indent=2,
                default=str,
            )
        )
    if arguments.plans:
        arguments.plans.write_text(hot_plans_markdown(hot_plans))


def baseline_load(server: Server, script, arguments) -> dict:
    result = load(server, "/healthz", {}, arguments.duration, script)
    sys.stdout.write(f"/healthz {result['rps']:.0f} requests/s\n")
    return result


def run_load(server: Server, screens, headers, script, arguments) -> tuple[dict, dict]:
    """/healthz, then each round: every screen, /healthz; figures are the medians of the
    rounds, the baseline the median of every /healthz run (the machine's load may drift)."""
    candidates = [
        screen
        for screen in screens
        if screen.url is not None and not screen.error and screen.too_slow_seconds is None
    ]
    # Check each screen answers 200 on gunicorn. Every screen is first opened once by every
    # worker (a worker compiles a template, or fills its per-process caches, on first use).
    for screen in candidates:
        key = f"{screen.persona}-api" if screen.kind == "api" else screen.persona
        times = WORKERS
        statuses: list[int] = []
        threads = [
            threading.Thread(
                target=lambda url=screen.url, key=key, statuses=statuses: statuses.append(
                    server.get(url, headers[key])[0]
                )
            )
            for _index in range(times)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if any(status != 200 for status in statuses):
            screen.error = f"HTTP {sorted(set(statuses))} on gunicorn"
    candidates = [screen for screen in candidates if not screen.error]
    sys.stdout.write("  gunicorn warmed up.\n")
    healthz: list[dict] = []
    figures: dict[int, list[dict]] = {id(screen): [] for screen in candidates}
    for round_number in range(arguments.rounds):
        sys.stdout.write(f"round {round_number + 1}: ")
        healthz.append(baseline_load(server, script, arguments))
        for screen in candidates:
            key = f"{screen.persona}-api" if screen.kind == "api" else screen.persona
            if screen.measured_by_throughput:
                result = load(server, screen.url, headers[key], arguments.duration, script)
            else:
                result = sequential(
                    server, screen.url, headers[key], arguments.duration, arguments.staff_requests
                )
            figures[id(screen)].append(result)
            sys.stdout.write(
                f"  {screen.label}: "
                + (f"{result['rps']:.1f} req/s, " if "rps" in result else "")
                + f"p50 {number(result['p50'])} ms, p95 {number(result['p95'])} ms\n"
            )
    sys.stdout.write("end: ")
    healthz.append(baseline_load(server, script, arguments))
    baseline = {
        key: statistics.median(run[key] for run in healthz) for key in ("rps", "p50", "p95")
    }
    for screen in candidates:
        runs = figures[id(screen)]
        answered = [run for run in runs if run["p50"] is not None]
        if answered:
            screen.p50_ms = statistics.median(run["p50"] for run in answered)
            screen.p95_ms = statistics.median(run["p95"] for run in answered)
        if any(run["not_200"] for run in runs):
            screen.error = f"{sum(run['not_200'] for run in runs)} answers not 200"
        if "rps" in runs[0]:
            screen.requests_per_second = statistics.median(run["rps"] for run in runs)
            screen.ratio = screen.requests_per_second / baseline["rps"]
    return baseline, server.worker_rss_mb()


if __name__ == "__main__":
    main()
