"""Back up, restore into a new database and a new storage folder, and compare with the source."""

import time
from pathlib import Path

import psycopg
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from coop import backup


class Command(BaseCommand):
    help = (
        "Restore drill: back up the database and the file storage, restore them into a new "
        "database and a new folder, compare row counts of every table, ledger balances per "
        "Activity and every document's SHA-256, print the figures; exit non-zero on any "
        "difference."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--keep",
            action="store_true",
            help="keep the backup folder, the restored database and the restored files",
        )

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        source = backup.Database.from_settings(connection.settings_dict)
        now = timezone.now()
        stamp = f"{now:%Y%m%d%H%M%S}"
        with backup.temporary_folder("coop-restore-drill-") as work:
            work_folder = work
            if options["keep"]:
                work_folder = backup.default_backup_folder(now).with_name(f"drill-{stamp}")
                work_folder.mkdir(parents=True, mode=0o700)
            try:
                differences = self.drill(source, work_folder, stamp, keep=options["keep"])
            except (backup.BackupError, OSError, psycopg.Error) as error:
                raise CommandError(str(error)) from error
        if differences:
            raise CommandError(
                f"Restore drill FAILED: {len(differences)} differences:\n  "
                + "\n  ".join(differences[:50])
            )
        self.stdout.write("Restore drill passed: everything restored equals the source.")

    def drill(self, source: backup.Database, work: Path, stamp: str, *, keep: bool) -> list[str]:
        started = time.perf_counter()
        manifest = backup.create_backup(
            output=work / "backup", database=source, storage=default_storage, now=timezone.now()
        )
        backup_seconds = time.perf_counter() - started

        target = backup.create_database(source, f"{source.name}_drill_{stamp}"[:63])
        storage = FileSystemStorage(location=work / "restored-files")
        try:
            started = time.perf_counter()
            report = backup.restore_backup(folder=work / "backup", database=target, storage=storage)
            restore_seconds = time.perf_counter() - started
            started = time.perf_counter()
            document_problems, documents_equal = self.compare_documents(manifest, report, storage)
            restored_files = [storage.size(name) for name in backup.storage_files(storage)]
            compare_seconds = time.perf_counter() - started
        finally:
            if not keep:
                backup.drop_database(target)
        differences = report.differences + document_problems
        self.print_figures(
            manifest,
            report,
            documents_equal=documents_equal,
            restored_files=restored_files,
            durations={
                "backup": backup_seconds,
                "restore and verify": restore_seconds,
                "document comparison": compare_seconds,
            },
            target=target,
            work=work,
            keep=keep,
        )
        if self.verbosity >= 2:
            self.print_tables(manifest, report)
        return differences

    def compare_documents(self, manifest, report, storage) -> tuple[list[str], int]:
        """Compare each document's SHA-256: source row, source file, restored row, restored file.

        Return the problems and the number of documents equal on all four.
        """
        source_files = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
        restored_rows = {(row["model"], row["pk"]): row for row in report.restored["documents"]}
        problems = []
        equal = 0
        for row in manifest["documents"]:
            restored_row = restored_rows.get((row["model"], row["pk"]), {})
            try:
                with storage.open(row["path"], "rb") as stream:
                    restored_file, _size = backup.sha256_of(stream)
            except FileNotFoundError:
                restored_file = None
            found = {
                "source file": source_files.get(row["path"]),
                "restored row": restored_row.get("sha256"),
                "restored file": restored_file,
            }
            if all(value == row["sha256"] for value in found.values()):
                equal += 1
            else:
                problems.append(
                    f"document {row['model']} {row['pk']} ({row['path']}): source row "
                    f"{row['sha256']}, "
                    + ", ".join(f"{name} {value}" for name, value in found.items())
                )
        return problems, equal

    def print_figures(
        self, manifest, report, *, documents_equal, restored_files, durations, target, work, keep
    ):
        restored = report.restored
        counts = manifest["row_counts"], restored["row_counts"]
        tables_equal = sum(
            1 for table, rows in counts[0].items() if counts[1].get(table) == rows
        ) == len(counts[0]) and len(counts[0]) == len(counts[1])
        balances = manifest["ledger_balances"], restored["ledger_balances"]
        activities_equal = sum(
            1 for activity, stages in balances[0].items() if balances[1].get(activity) == stages
        )
        files_unequal = sum(1 for line in report.differences if line.startswith("file "))
        totals = manifest["totals"]
        rows = [
            ("tables", len(counts[0]), len(counts[1]), tables_equal),
            ("rows, all tables", sum(counts[0].values()), sum(counts[1].values()), None),
            (
                "Activities with ledger entries",
                len(balances[0]),
                len(balances[1]),
                activities_equal == len(balances[0]) == len(balances[1]),
            ),
        ]
        for stage in sorted(set(manifest["ledger_totals"]) | set(restored["ledger_totals"])):
            rows.append(
                (
                    f"ledger total, {stage}",
                    manifest["ledger_totals"].get(stage),
                    restored["ledger_totals"].get(stage),
                    None,
                )
            )
        documents = len(manifest["documents"])
        rows += [
            ("documents with a file", documents, len(restored["documents"]), None),
            (
                "document SHA-256 equal (4 ways)",
                documents,
                documents_equal,
                documents_equal == documents,
            ),
            ("stored files", totals["files"], len(restored_files), None),
            ("stored bytes", totals["file_bytes"], sum(restored_files), None),
            ("files with equal SHA-256", totals["files"], totals["files"] - files_unequal, None),
            ("database dump bytes", totals["dump_bytes"], "-", "-"),
            (
                "encrypted values readable (sample)",
                report.encrypted_values_tried,
                report.encrypted_values_tried - report.encrypted_values_unreadable,
                None,
            ),
        ]
        write = self.stdout.write
        write(f"Restore drill of {manifest['database']['name']} into {target.name}")
        write(f"tools: {manifest['database']['pg_dump']}, {report.pg_restore}")
        write(f"{'figure':<34} {'source':>16} {'restored':>16}  equal")
        for label, before, after, equal in rows:
            if equal is None:
                equal = before == after
            shown = equal if equal == "-" else "yes" if equal else "NO"
            write(f"{label:<34} {before!s:>16} {after!s:>16}  {shown}")
        write(
            "durations: "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in durations.items())
        )
        if manifest["missing_files"]:
            write(
                f"{len(manifest['missing_files'])} files named by rows were already missing "
                "from the source storage: " + ", ".join(manifest["missing_files"][:10])
            )
        if keep:
            write(f"kept: database {target.name}, folder {work}")

    def print_tables(self, manifest, report):
        for table, rows in sorted(manifest["row_counts"].items()):
            restored = report.restored["row_counts"].get(table)
            self.stdout.write(f"  {table:<50} {rows:>10} {restored!s:>10}")
