"""Restore a backup folder into an empty database and an empty file storage."""

from pathlib import Path

import psycopg
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from coop import backup


class Command(BaseCommand):
    help = (
        "Restore a backup written by 'backup' into the configured database (which must be "
        "empty) and file storage (which must be empty), after checking every checksum of its "
        "manifest and the encryption key's fingerprint; then compare what was restored."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--input", type=Path, required=True, help="the backup folder")
        parser.add_argument(
            "--manifest-sha256",
            help="the SHA-256 of manifest.json recorded when the backup was taken: refuse "
            "any other manifest",
        )
        parser.add_argument(
            "--replace-database",
            action="store_true",
            help="drop and replace what the database holds instead of refusing",
        )
        parser.add_argument(
            "--ignore-key-mismatch",
            action="store_true",
            help="restore although FIELD_ENCRYPTION_KEY is not the backup's key "
            "(national register numbers stay unreadable until the right key is set)",
        )

    def handle(self, *args, **options):
        connection.close()
        try:
            report = backup.restore_backup(
                folder=options["input"],
                database=backup.Database.from_settings(connection.settings_dict),
                storage=default_storage,
                replace_database=options["replace_database"],
                ignore_key_mismatch=options["ignore_key_mismatch"],
                expected_manifest_sha256=options["manifest_sha256"],
            )
        except (backup.BackupError, OSError, psycopg.Error) as error:
            raise CommandError(str(error)) from error
        unknown = backup.unknown_migrations(report.manifest)
        if unknown:
            self.stderr.write(
                "warning: the backup was taken by a newer version of coop; this code does not "
                "know its migrations " + ", ".join(unknown)
            )
        totals = report.manifest["totals"]
        self.stdout.write(
            f"Restored {totals['rows']} rows in {totals['tables']} tables and "
            f"{totals['files']} files ({totals['file_bytes']} bytes) with {report.pg_restore}."
        )
        if report.encrypted_values_unreadable:
            self.stderr.write(
                f"{report.encrypted_values_unreadable} of {report.encrypted_values_tried} "
                "encrypted values tried cannot be read with the current FIELD_ENCRYPTION_KEY."
            )
        if report.differences:
            raise CommandError(
                "The restored data differs from the manifest:\n  " + "\n  ".join(report.differences)
            )
        self.stdout.write(
            "Row counts, ledger balances, files and document checksums equal the manifest. "
            "Run 'manage.py migrate' if this code has newer migrations."
        )
