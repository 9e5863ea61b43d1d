"""Run the restore drill on a scaled world: the demo world multiplied with bulk inserts.

Run with ``.venv/bin/python benchmarks/restore_drill.py [--members N] [--entries N]
[--documents N] [--keep-db]``. The script creates a throw-away database
(``<name>_restore_drill_benchmark``) and a throw-away storage folder, loads the demo world
(its documents rendered), then adds N members (national register numbers encrypted), one
Activity each, issued invoices copied from a demo invoice under their own numbering series
(gapless, with its counter), a PDF and a UBL document for each (the demo document's bytes with
a per-copy trailer, stored through the storage API with their SHA-256), one planned-income ledger
entry per invoice and the rest of the N ledger entries spread over the Activities. The ledger is
only ever INSERTed into. Then it runs ``manage.py restore_drill`` and prints its figures.
"""

import argparse
import datetime
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")
MEDIA = tempfile.mkdtemp(prefix="coop-restore-drill-media-")
os.environ["MEDIA_ROOT"] = MEDIA

import django  # noqa: E402

django.setup()

from django.core.files.base import ContentFile  # noqa: E402
from django.core.files.storage import default_storage  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

BATCH = 1000
SERIES = "BENCH"


def load_members(count: int) -> list[int]:
    """Insert ``count`` active members with an encrypted national number and one Activity each."""
    import random

    from members.management.commands.seed_demo import belgian_iban, national_number
    from members.models import Activity, Member, User

    rng = random.Random(9)  # noqa: S311 - test data
    now = timezone.now()
    activity_pks = []
    for offset in range(0, count, BATCH):
        size = min(BATCH, count - offset)
        users = User.objects.bulk_create(
            User(email=f"scaled-{offset + index}@coop.test", password="!")  # noqa: S106
            for index in range(size)
        )
        members = Member.objects.bulk_create(
            Member(
                user=user,
                legal_name=f"Scaled Member {offset + index}",
                street="Rue Ransfort 27",
                postal_code="1080",
                city="Bruxelles",
                iban=belgian_iban(rng),
                niss=national_number(rng, (offset + index) % 499),
                status=Member.Status.ACTIVE,
                approved_at=now,
                preferred_language=["fr", "nl", "en"][index % 3],
            )
            for index, user in enumerate(users)
        )
        activity_pks += [
            activity.pk
            for activity in Activity.objects.bulk_create(
                Activity(owner=member, name=f"Scaled Activity {offset + index}")
                for index, member in enumerate(members)
            )
        ]
    return activity_pks


def load_invoices(activity_pks: list[int], documents: int) -> int:
    """Copy an issued demo invoice ``documents // 2`` times, each with its PDF and UBL."""
    from invoicing.models import Invoice, InvoiceDocument, InvoiceLine, InvoiceSequence
    from invoicing.services.issue import structured_communication_for
    from members.models import LedgerEntry

    template = (
        Invoice.objects.filter(kind="invoice", number__isnull=False)
        .exclude(documents__file="")
        .order_by("pk")
        .first()
    )
    contents = {
        document.format: document.file.read() for document in template.documents.exclude(file="")
    }
    fields = [
        field.attname
        for field in Invoice._meta.concrete_fields
        if not field.primary_key and field.attname not in ("credited_invoice_id",)
    ]
    template_lines = list(template.lines.all())
    line_fields = [
        field.attname
        for field in InvoiceLine._meta.concrete_fields
        if not field.primary_key and field.attname != "invoice_id"
    ]
    count = documents // 2
    issue_date = datetime.date(2025, 1, 2)
    now = timezone.now()
    for offset in range(0, count, BATCH):
        size = min(BATCH, count - offset)
        drafts, issued = [], []
        for index in range(offset, offset + size):
            draft = Invoice(**{name: getattr(template, name) for name in fields})
            draft.activity_id = activity_pks[index % len(activity_pks)]
            draft.status = Invoice.Status.DRAFT
            for name in ("sequence_number", "number", "issue_date", "due_date", "snapshot"):
                setattr(draft, name, None)
            draft.series = ""
            draft.structured_communication = None
            drafts.append(draft)
        # As the issue service does: the lines go in while it is a draft, then it is issued.
        copies = Invoice.objects.bulk_create(drafts)
        InvoiceLine.objects.bulk_create(
            InvoiceLine(invoice=invoice, **{name: getattr(line, name) for name in line_fields})
            for invoice in copies
            for line in template_lines
        )
        for index, copy in zip(range(offset, offset + size), copies, strict=True):
            copy.series = SERIES
            copy.sequence_number = index + 1
            copy.number = f"{SERIES}-{index + 1:06d}"
            copy.issue_date = issue_date + datetime.timedelta(days=index * 360 // count)
            copy.due_date = copy.issue_date + datetime.timedelta(days=30)
            copy.snapshot = {**template.snapshot, "number": copy.number}
            # Its own range of OGM numbers, apart from the demo's.
            copy.structured_communication = structured_communication_for(
                issue_date=copy.issue_date, sequence_number=90_000_000 + index + 1
            )
            copy.status = Invoice.Status.ISSUED
            issued.append(copy)
        Invoice.objects.bulk_update(
            issued,
            [
                "series",
                "sequence_number",
                "number",
                "issue_date",
                "due_date",
                "snapshot",
                "structured_communication",
                "status",
            ],
        )
        rows = []
        for invoice in copies:
            for file_format, content in contents.items():
                trailer = (
                    f"\n%% copy {invoice.number}\n"
                    if file_format == "pdf"
                    else f"\n<!-- copy {invoice.number} -->\n"
                ).encode()
                body = content + trailer
                extension = "pdf" if file_format == "pdf" else "xml"
                name = default_storage.save(
                    f"documents/scaled/{invoice.number}.{extension}", ContentFile(body)
                )
                rows.append(
                    InvoiceDocument(
                        invoice=invoice,
                        format=file_format,
                        status="ready",
                        file=name,
                        sha256=hashlib.sha256(body).hexdigest(),
                        rendered_at=now,
                    )
                )
        InvoiceDocument.objects.bulk_create(rows)
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                activity_id=invoice.activity_id,
                kind="client_income",
                stage="planned",
                amount=invoice.total_excl_vat,
                description="Invoice issued",
                reference=invoice.number,
            )
            for invoice in copies
        )
    last = copies[-1] if count else None
    if last:
        InvoiceSequence.objects.create(
            series=SERIES, last_number=count, last_issue_date=last.issue_date
        )
    return count


def load_ledger(activity_pks: list[int], count: int) -> None:
    """INSERT ``count`` ledger entries spread over the Activities (amounts in exact numerics)."""
    from members.models import LedgerEntry

    table = LedgerEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table}
                (activity_id, kind, stage, amount, description, reference, created_at)
            SELECT (%(activities)s::bigint[])[1 + g %% %(activity_count)s],
                   CASE WHEN g %% 4 = 0 THEN 'cooperative_fee' ELSE 'client_income' END,
                   CASE WHEN g %% 3 = 0 THEN 'planned' ELSE 'available' END,
                   CASE WHEN g %% 4 = 0 THEN -1 ELSE 1 END
                       * ((g::bigint * 7919) %% 500000 + 100)::numeric(12, 2) / 100,
                   'Scaled entry',
                   'SCALED-' || g,
                   now() - make_interval(secs => g)
            FROM generate_series(1, %(count)s) AS g
            """,  # noqa: S608 - the table name is the model's
            {"activities": activity_pks, "activity_count": len(activity_pks), "count": count},
        )


def main() -> None:
    write = sys.stdout.write
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--entries", type=int, default=100_000, help="ledger entries added")
    parser.add_argument("--documents", type=int, default=3_000, help="documents added")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    options = parser.parse_args()

    from coop.celery import app as celery_app
    from members.models import LedgerEntry

    database = f"{connection.settings_dict['NAME']}_restore_drill_benchmark"
    connection.settings_dict["TEST"] = {
        **connection.settings_dict.get("TEST", {}),
        "NAME": database,
    }
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        started = time.perf_counter()
        celery_app.conf.task_always_eager = True
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        celery_app.conf.task_always_eager = False
        write(f"demo world with its documents rendered: {time.perf_counter() - started:.1f} s\n")

        started = time.perf_counter()
        with transaction.atomic():
            activity_pks = load_members(options.members)
            invoices = load_invoices(activity_pks, options.documents)
            load_ledger(activity_pks, options.entries - invoices)
        write(
            f"scaled up in {time.perf_counter() - started:.1f} s: +{options.members} members "
            f"and Activities, +{invoices} issued invoices with {2 * invoices} documents, "
            f"+{options.entries} ledger entries ({LedgerEntry.objects.count()} in all)\n"
        )
        started = time.perf_counter()
        call_command("restore_drill", stdout=sys.stdout)
        write(f"restore drill in all: {time.perf_counter() - started:.1f} s\n")
    finally:
        if not options.keep_db:
            connection.creation.destroy_test_db(database, verbosity=0)
        import shutil

        shutil.rmtree(MEDIA, ignore_errors=True)


if __name__ == "__main__":
    main()
