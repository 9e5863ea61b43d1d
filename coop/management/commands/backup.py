"""Back up the database (pg_dump, custom format) and every stored file, with a manifest."""

from pathlib import Path

import psycopg
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from coop import backup


class Command(BaseCommand):
    help = (
        "Write a backup folder: database.dump (pg_dump -Fc), files/ (every stored file) and "
        "manifest.json (checksums, row counts, ledger balances, the encryption key's "
        "fingerprint, never the key)."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=Path,
            help="folder to create (default: a dated folder under BACKUP_ROOT)",
        )

    def handle(self, *args, **options):
        now = timezone.now()
        output = options["output"] or backup.default_backup_folder(now)
        try:
            manifest = backup.create_backup(
                output=output,
                database=backup.Database.from_settings(connection.settings_dict),
                storage=default_storage,
                now=now,
            )
        except (backup.BackupError, OSError, psycopg.Error) as error:
            raise CommandError(str(error)) from error
        totals = manifest["totals"]
        self.stdout.write(
            f"Backup written to {output}: {totals['rows']} rows in {totals['tables']} tables "
            f"({totals['dump_bytes']} bytes dumped), {totals['files']} files "
            f"({totals['file_bytes']} bytes), {totals['documents']} documents; encryption key "
            f"fingerprint {manifest['encryption_key']['fingerprint']}."
        )
        self.stdout.write(
            f"manifest.json SHA-256: {backup.manifest_sha256(output)} (record it apart from the "
            "backup; 'restore --manifest-sha256' checks it)"
        )
        for name in manifest["missing_files"]:
            self.stderr.write(f"warning: {name} is named by a row but is not in the storage")
        self.stdout.write(
            "The folder holds personal data: copy it, encrypted, off-site; keep the encryption "
            "key apart from it."
        )
