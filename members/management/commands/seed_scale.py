"""Load a SMart-sized world with bulk SQL: ``manage.py seed_scale [--scale 0.1] [--force]``."""

import random
import time
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.module_loading import module_has_submodule

from coop.scale import (
    FULL,
    HEAVY_INVOICES,
    HEAVY_LEDGER,
    SCALE_DOMAIN,
    SCALE_PASSWORD,
    Plan,
    ScaleError,
    ScaleSeeder,
    already_seeded,
    heavy_logins,
    real_data_summary,
)
from members.demo import DEMO_STAFF
from members.models import Member, User


class Command(BaseCommand):
    help = (
        "Load a SMart-sized world for performance work, with bulk SQL: by default "
        f"{FULL['members']:,} members with their Activities, {FULL['invoices']:,} issued "
        f"invoices with two lines each and their payments, {FULL['ledger']:,} ledger entries, "
        f"{FULL['contracts']:,} contracts (3.5 workers each, their work days), "
        f"{FULL['payslips']:,} payslips, {FULL['rooms']} rooms with {FULL['bookings']:,} "
        f"bookings, and a few heavy members ({HEAVY_INVOICES:,} invoices, {HEAVY_LEDGER:,} ledger "
        "entries) whose logins are printed. --scale multiplies every figure (0.1 for a tenth). "
        "The demo world is loaded first when missing, and its logins keep working. "
        "It refuses a database with real data unless --force is given: real data is any user "
        f"whose e-mail is neither at @coop.test (seed_demo) nor at @{SCALE_DOMAIN} (seed_scale); "
        "every member, invoice, contract and booking belongs to such a user. It also refuses a "
        "database that already holds a scaled world: start from a new database."
    )

    # A bulk loader: the system checks would only delay its refusals and its start.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Fraction of SMart's size to build (default 1: full size; 0.1 for a tenth).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even though the database holds real data (see above).",
        )

    def handle(self, *args, scale: float, force: bool, **options):
        if not 0 < scale <= 10:
            raise CommandError("--scale must be a number above 0 and at most 10.")
        if settings.DATABASE_POOLING == "transaction":
            raise CommandError(
                "seed_scale keeps session settings and temporary tables across its transactions: "
                "run it on a direct connection to PostgreSQL, not through a transaction pooler "
                "(unset DATABASE_POOLING and point DATABASE_URL at the server)."
            )
        real = real_data_summary()
        if real and not force:
            raise CommandError(
                f"This database holds real data ({real}). seed_scale adds hundreds of thousands "
                "of generated rows: use a new database, or give --force if you really mean it."
            )
        if already_seeded():
            raise CommandError(
                f"This database already holds a scaled world (users at @{SCALE_DOMAIN}): "
                "create a new database to load another one."
            )
        started = time.monotonic()
        if not User.objects.filter(email=DEMO_STAFF).exists():
            self.stdout.write("No demo world: loading it first (seed_demo).")
            call_command("seed_demo", stdout=self.stdout)
        plan = Plan.for_scale(scale)
        seeder = ScaleSeeder(plan, write=self.stdout.write)
        try:
            results = seeder.run()
        except ScaleError as error:
            raise CommandError(str(error)) from error
        except DatabaseError as error:
            raise CommandError(f"The load failed and stopped: {error}") from error
        self.seed_heavy_work(plan)
        elapsed = time.monotonic() - started
        rows = sum(result.rows for result in results if not result.table.startswith("("))
        self.stdout.write(
            self.style.SUCCESS(
                f"Scale {scale:g} loaded: {rows:,} rows in {elapsed:.1f} s "
                f"({rows / elapsed:,.0f} rows/s overall)."
            )
        )
        self.stdout.write(
            f"Heavy members ({plan.heavy_invoices:,} invoices, {plan.heavy_ledger:,} ledger "
            f"entries each), password {SCALE_PASSWORD}: {', '.join(heavy_logins(plan))}"
        )
        self.stdout.write(
            f"Every generated member signs in with the same password: member000004@{SCALE_DOMAIN}…"
        )

    def seed_heavy_work(self, plan: Plan) -> None:
        """Give the heavy members what bulk SQL does not write, through the apps' services:
        drafts with many lines, expense claims, a credit note to review, a booking feed.

        Other apps add their part from their own ``demo.seed_heavy(context)``, as for
        seed_demo."""
        started = time.monotonic()
        members = list(
            Member.objects.filter(user__email__in=heavy_logins(plan))
            .select_related("user")
            .order_by("pk")
        )
        context = {
            "rng": random.Random(2026),
            "staff": User.objects.get(email=DEMO_STAFF),
            # Four eyes: what one staff member requests, another sends (refunds, payment files).
            "second_staff": User.objects.get_or_create(
                email=f"finance@{SCALE_DOMAIN}", defaults={"is_staff": True}
            )[0],
            "members": members,
            "today": timezone.localdate(),
        }
        with transaction.atomic():
            for config in apps.get_app_configs():
                if not module_has_submodule(config.module, "demo"):
                    continue
                seed = getattr(import_module(f"{config.name}.demo"), "seed_heavy", None)
                if seed is not None:
                    seed(context, stdout=self.stdout)
        elapsed = time.monotonic() - started
        self.stdout.write(f"  heavy members' drafts and claims in {elapsed:.1f} s")
