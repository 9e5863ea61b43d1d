"""Fuzz the whole API with Schemathesis as six personas and print what it found.

Run with ``.venv/bin/python benchmarks/api_fuzz.py [--examples N] [--operations REGEX] [--keep]``.
The script builds its own database (``coop_bench_api_fuzz`` on the configured server, dropped
afterwards unless ``--keep``), loads the demo world, then sends generated requests, valid and
invalid, to every operation of the OpenAPI schema, in process, as a member (token), the same
member in a browser session, another member, an applicant, a space manager and staff (session).
Each answer must be documented by the schema (status code, content type, body, headers) and
none may be a server error. It prints each operation's cases and failures, then the totals;
its exit status is 1 when something failed.
"""

import argparse
import os
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
BENCH_DATABASE = "coop_bench_api_fuzz"
_url = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coop"))
ADMIN_URL = urlunparse(_url._replace(scheme="postgresql", path="/postgres"))
os.environ["DATABASE_URL"] = urlunparse(_url._replace(path=f"/{BENCH_DATABASE}"))

import django  # noqa: E402
import psycopg  # noqa: E402


def _create_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
        admin.execute(f"CREATE DATABASE {BENCH_DATABASE}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=25, help="per operation, mode, persona")
    parser.add_argument("--operations", help="only operations whose label matches this regex")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    arguments = parser.parse_args()

    _create_database()
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from members.demo import DEMO_MEMBER, DEMO_STAFF
    from members.models import User
    from tests import api_fuzz

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    # As in production: an unknown address is answered by the project's handlers, not by
    # Django's debugging page.
    settings.DEBUG = False
    # The run sends thousands of requests: the per-user rate limit is not what it tests.
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"user": "1000000/hour"}
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    member = User.objects.get(email=DEMO_MEMBER)
    personas = [
        api_fuzz.token_persona("member", member),
        api_fuzz.session_persona("member (browser)", member),
        api_fuzz.token_persona("other member", User.objects.get(email="lucas.dubois@coop.test")),
        api_fuzz.token_persona("applicant", User.objects.get(email="noah.janssens@coop.test")),
        api_fuzz.token_persona("space manager", User.objects.get(email="spaces@coop.test")),
        api_fuzz.session_persona("staff", User.objects.get(email=DEMO_STAFF)),
    ]

    # The report grows as the run goes: each operation's figures are the growth since the last.
    seen = {"cases": 0, "failures": 0}

    def progress(label: str, report) -> None:
        cases = report.cases - seen["cases"]
        failures = len(report.failures) - seen["failures"]
        seen.update(cases=report.cases, failures=len(report.failures))
        sys.stdout.write(f"{label:60s} {cases:7d} cases {failures:5d} failures\n")
        sys.stdout.flush()

    began = time.perf_counter()
    report = api_fuzz.run(
        personas,
        examples=arguments.examples,
        operations=re.compile(arguments.operations) if arguments.operations else None,
        progress=progress,
    )
    elapsed = time.perf_counter() - began
    for failure in report.failures[:50]:
        sys.stdout.write(
            f"\nFAILURE {failure.persona} {failure.operation} {failure.status}\n{failure.message}\n"
        )
    statuses = ", ".join(f"{code}: {count}" for code, count in sorted(report.statuses.items()))
    sys.stdout.write(
        f"\npersonas {len(personas)}, operations {report.operations}, cases {report.cases},"
        f" failures {len(report.failures)} in {elapsed:.0f} s\nstatuses {statuses}\n"
    )
    connection.close()
    if not arguments.keep:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
