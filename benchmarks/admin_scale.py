"""Time every staff admin changelist and the heavy change pages on a big database.

    DATABASE_URL=postgres://.../coop_scale01 .venv/bin/python benchmarks/admin_scale.py [--rounds 5]

Opens each page in this process with Django's test client, signed in as the demo's admin, on
an idle machine: prints the queries, p50 and p95 of the page, its slowest query and the
process's peak memory (what a gunicorn worker would keep). Read-only: nothing is written but
the session.
"""

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib import admin  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

STAFF = "admin@coop.test"
HEAVY = "heavy1@scale.coop.test"


def out(text: str) -> None:
    sys.stdout.write(text + "\n")


def change_pages():
    """(name, url) of change pages on the heaviest rows: the heavy member and its records."""
    from contracts.models import Contract, Payslip
    from invoicing.models import Invoice, Payment
    from members.models import Activity, Member
    from spaces.models import Booking

    pages = []
    member = Member.objects.filter(user__email=HEAVY).first()
    if member is not None:
        pages.append(("member change (heavy)", "members", "member", member.pk))
        activity = Activity.objects.filter(owner=member).order_by("pk").first()
        if activity is not None:
            pages.append(("activity change (heavy)", "members", "activity", activity.pk))
        invoice = Invoice.objects.filter(activity__owner=member).order_by("-pk").only("pk").first()
        if invoice is not None:
            pages.append(("invoice change (heavy)", "invoicing", "invoice", invoice.pk))
    for name, model in [
        ("payment change", Payment),
        ("contract change", Contract),
        ("payslip change", Payslip),
        ("booking change", Booking),
    ]:
        row = model.objects.order_by("-pk").only("pk").first()
        if row is not None:
            meta = model._meta
            pages.append((name, meta.app_label, meta.model_name, row.pk))
    return [
        (name, reverse(f"admin:{app}_{model}_change", args=[pk])) for name, app, model, pk in pages
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="", help="a part of the page names to keep")
    options = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]
    from members.models import User

    client = Client()
    client.force_login(User.objects.get(email=STAFF))
    pages = [
        (
            f"{model._meta.label_lower} list",
            reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"),
        )
        for model in admin.site._registry
    ]
    pages.append(("guarantee fund", reverse("guarantee_fund")))
    pages += change_pages()
    pages = [page for page in pages if options.only in page[0]]

    out(
        f"{'page':42} {'status':>6} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'slowest query ms':>16} {'KB':>7}"
    )
    for name, url in pages:
        client.get(url)  # warm: caches, the session
        times, slowest, queries, size, status = [], 0.0, 0, 0, 0
        for _round in range(options.rounds):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            status, size, queries = response.status_code, len(response.content), len(captured)
            slowest = max(
                [slowest, *(float(query["time"]) * 1000 for query in captured.captured_queries)]
            )
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        out(
            f"{name:42} {status:>6} {queries:>7} {statistics.median(times):>8.0f} {p95:>8.0f} "
            f"{slowest:>16.1f} {size / 1024:>7.0f}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out(f"peak memory of this process after every page: {peak:.0f} MB")


if __name__ == "__main__":
    main()
