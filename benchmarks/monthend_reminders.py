"""Time the daily payment-reminders run over 2,000,000 invoices.

Run with ``.venv/bin/python benchmarks/monthend_reminders.py [--scale S] [--keep-db]``. The
script creates a throw-away database (``<name>_monthend_reminders``) and loads, with one
``INSERT ... SELECT generate_series`` each (not timed), 200 members with an Activity and a
client, ``2,000,000 × S`` issued invoices over the last two years (one in twenty still open, the
rest paid; due 30 days after issue) and the reminders a daily run would have sent up to
yesterday (level L of an invoice sent on its due date + the level's offset). Paid invoices have
no payment rows: the reminders run never looks at them, and only the open ones' amount due is
computed.

In one run it times, with the e-mail hand-off switched off:

- a reference: ``SELECT count(*)`` of the invoices (one sequential scan of the table);
- today's run (``send_due_reminders``): the open invoices reaching a level today get one;
- the same run again: exactly once, it creates nothing (the cost of looking);
- the run as it was before (every open overdue invoice locked and looked at in a transaction of
  its own, all their keys loaded at once) on the first ``--old-sample`` of them, again creating
  nothing, projected to all of them (labelled as projected);

and prints invoices scanned/s (the invoices of the table for a run, and the open overdue ones
the index walk goes through), reminders sent/s, and the peak RSS of this process. The plan of a
batch's query is printed to show it walks ``invoice_open_due_idx``. ``--scale 0.005`` runs a
quick version.
"""

import argparse
import datetime
import os
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

TODAY = datetime.date(2026, 11, 30)
DAYS = 730
OPEN_ONE_IN = 20
SELLERS = 200


def rss_megabytes() -> tuple[float, float]:
    """Current and peak resident memory of this process, in MB (from /proc)."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, amount, _unit = line.split()
                values[name] = int(amount) / 1024
    return values.get("VmRSS:", 0.0), values.get("VmHWM:", 0.0)


def load_sellers(count: int) -> tuple[list[int], list[int], int]:
    """``count`` members with one Activity and one client each; return their keys and a user."""
    from invoicing.services.clients import create_client
    from members.models import Activity, Member, User

    now = timezone.now()
    users = User.objects.bulk_create(
        User(email=f"reminded-{index}@coop.test", password="!")  # noqa: S106
        for index in range(count)
    )
    members = Member.objects.bulk_create(
        Member(
            user=user,
            legal_name=f"Seller {index}",
            street="Rue Ransfort 27",
            postal_code="1080",
            city="Bruxelles",
            iban="BE71096123456769",
            status=Member.Status.ACTIVE,
            approved_at=now,
        )
        for index, user in enumerate(users)
    )
    activities = Activity.objects.bulk_create(
        Activity(owner=member, name="Reminders") for member in members
    )
    clients = [
        create_client(
            owner=user,
            kind="company",
            name="Théâtre des Galeries SA",
            street="Galerie du Roi 32",
            postal_code="1000",
            city="Bruxelles",
            country="BE",
            email="compta@galeries.example",
            language="fr",
            vat_number="BE1000000021",
        )[0].pk
        for user in users
    ]
    return [activity.pk for activity in activities], clients, users[0].pk


def load_invoices(count: int, *, today: datetime.date, sellers: int = SELLERS) -> None:
    """Insert ``count`` issued invoices over the ``DAYS`` before ``today`` and the reminders
    sent up to yesterday, in SQL.

    Invoice ``g`` is issued ``DAYS × g / count`` days into the period (numbers follow dates in
    each year's series); one in ``OPEN_ONE_IN`` is still open, the others are paid.
    """
    activities, clients, user = load_sellers(sellers)
    start = today - datetime.timedelta(days=DAYS)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO invoicing_invoice (
                kind, status, series, sequence_number, number, issue_date, due_date,
                buyer_reference, order_reference, notes, review_reason, language,
                total_excl_vat, total_vat, total_incl_vat, snapshot, created_at, submitted_at,
                issued_at, activity_id, client_id, created_by_id, issued_by_id
            )
            SELECT
                'invoice',
                CASE WHEN g %% %(open_one_in)s = 0 THEN 'issued' ELSE 'paid' END,
                extract(year FROM day)::text,
                row_number() OVER (PARTITION BY extract(year FROM day) ORDER BY g),
                extract(year FROM day)::text || '-'
                    || lpad((row_number() OVER (PARTITION BY extract(year FROM day) ORDER BY g))
                            ::text, 7, '0'),
                day, day + 30, '', '', '', '', 'fr',
                100 + g %% 900, 21 + g %% 189, 121 + g %% 900 + g %% 189,
                jsonb_build_object('buyer', jsonb_build_object('email', 'compta@galeries.example')),
                day, day, day,
                (%(activities)s::bigint[])[1 + g %% %(sellers)s],
                (%(clients)s::bigint[])[1 + g %% %(sellers)s],
                %(user)s, %(user)s
            FROM (
                SELECT g, %(start)s::date + (g::bigint * %(days)s / %(count)s)::int AS day
                FROM generate_series(0, %(count)s - 1) AS g
            ) AS numbered
            ORDER BY g
            """,
            {
                "open_one_in": OPEN_ONE_IN,
                "activities": activities,
                "clients": clients,
                "sellers": sellers,
                "user": user,
                "start": start,
                "days": DAYS,
                "count": count,
            },
        )
        for level, offset in enumerate(settings.COOP_REMINDER_OFFSETS, 1):
            cursor.execute(
                """
                INSERT INTO invoicing_reminder (invoice_id, level, sent_on, amount_due,
                    created_at, emailed_at)
                SELECT id, %s, due_date + %s, total_incl_vat, due_date + %s, due_date + %s
                FROM invoicing_invoice
                WHERE status = 'issued' AND due_date + %s < %s
                """,
                [level, offset, offset, offset, offset, today],
            )
        cursor.execute("ANALYZE invoicing_invoice")
        cursor.execute("ANALYZE invoicing_reminder")


def old_run(*, today: datetime.date, now: datetime.datetime, limit: int) -> tuple[int, int]:
    """The run as it was: every open overdue invoice's key loaded, each looked at in a
    transaction of its own. Stops after ``limit`` invoices; return (looked at, created)."""
    from invoicing.models import Invoice
    from invoicing.services.reminders import _send_reminder

    overdue = (
        Invoice.objects.filter(
            kind=Invoice.Kind.INVOICE,
            status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID],
            due_date__lt=today,
        )
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)
    )
    looked = created = 0
    for invoice_pk in overdue:
        if looked == limit:
            break
        looked += 1
        created += _send_reminder(invoice_pk=invoice_pk, today=today, now=now)
    return looked, created


def main() -> None:
    write = sys.stdout.write
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 2,000,000 invoices")
    parser.add_argument("--old-sample", type=int, default=10_000)
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    options = parser.parse_args()
    count = max(1000, round(2_000_000 * options.scale))

    from invoicing.models import Invoice, Reminder
    from invoicing.services import reminders

    database = f"{connection.settings_dict['NAME']}_monthend_reminders"
    connection.settings_dict["TEST"] = {
        **connection.settings_dict.get("TEST", {}),
        "NAME": database,
    }
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        started = time.perf_counter()
        load_invoices(count, today=TODAY)
        open_overdue = Invoice.objects.filter(
            kind="invoice", status__in=reminders.OPEN_STATUSES, due_date__lt=TODAY
        ).count()
        write(
            f"database {database}: {count:,} issued invoices, {open_overdue:,} open and overdue, "
            f"{Reminder.objects.count():,} reminders sent before today (loaded in "
            f"{time.perf_counter() - started:.0f} s, not timed); reminder offsets "
            f"{settings.COOP_REMINDER_OFFSETS} days\n"
        )
        rss_before, _peak = rss_megabytes()

        with connection.cursor() as cursor:
            start = time.perf_counter()
            cursor.execute("SELECT count(*) FROM invoicing_invoice")
            cursor.fetchone()
            reference = time.perf_counter() - start
            candidates = Invoice.objects.filter(
                kind="invoice", status__in=reminders.OPEN_STATUSES, due_date__lt=TODAY
            ).filter(reminders._due_for_a_reminder(TODAY))
            query = candidates.order_by("due_date", "pk").values_list("due_date", "pk")[:1000]
            sql, params = query.query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = [row[0] for row in cursor.fetchall()]
        write(
            f"reference: counting the invoices (one sequential scan) {reference * 1000:.0f} ms "
            f"({count / reference:,.0f} invoices/s)\n"
            f"plan of a batch: {plan[0].strip()} / "
            f"{next((line.strip() for line in plan if 'invoice_open_due_idx' in line), plan[1])}\n"
        )

        now = timezone.now()
        with mock.patch("invoicing.tasks.send_reminder_email_task.delay") as delay:
            start = time.perf_counter()
            created = reminders.send_due_reminders(today=TODAY, now=now)
            first = time.perf_counter() - start
            queued = delay.call_count
        rss_after, peak = rss_megabytes()
        write(
            f"today's run: {created:,} reminders created ({queued:,} e-mails queued) in "
            f"{first:.2f} s over {count:,} invoices: {count / first:,.0f} invoices/s of the "
            f"table, {open_overdue / first:,.0f} open overdue invoices/s, "
            f"{created / first:,.1f} reminders sent/s; {first / reference:.1f} × the reference "
            f"count\n"
        )
        with mock.patch("invoicing.tasks.send_reminder_email_task.delay"):
            start = time.perf_counter()
            again = reminders.send_due_reminders(today=TODAY, now=now)
            second = time.perf_counter() - start
        write(
            f"the same run again: {again} reminders created (exactly once per level) in "
            f"{second:.2f} s ({count / second:,.0f} invoices/s of the table; "
            f"{second / reference:.1f} × the reference count)\n"
        )

        with mock.patch("invoicing.tasks.send_reminder_email_task.delay"):
            start = time.perf_counter()
            looked, old_created = old_run(today=TODAY, now=now, limit=options.old_sample)
            old = time.perf_counter() - start
        projected = old / looked * open_overdue if looked else 0.0
        write(
            f"the run as it was, again the same day: {looked:,} open overdue invoices looked at "
            f"in {old:.2f} s (measured, {old_created} created, {looked / old:,.0f}/s); for all "
            f"{open_overdue:,}: {projected:.0f} s (projected), "
            f"{projected / second:.0f} × today's repeated run\n"
        )
        write(
            f"memory of this process: {rss_before:.0f} MB before the runs, {rss_after:.0f} MB "
            f"after, peak {peak:.0f} MB (VmHWM, loading included)\n"
        )
    finally:
        connection.close()
        if not options.keep_db:
            connection.creation.destroy_test_db(database, verbosity=0)


if __name__ == "__main__":
    main()
