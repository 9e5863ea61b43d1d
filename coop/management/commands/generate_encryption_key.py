"""Print a new key for FIELD_ENCRYPTION_KEY."""

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand

from coop.fields import key_fingerprint


class Command(BaseCommand):
    help = (
        "Print a new Fernet key for FIELD_ENCRYPTION_KEY, and its fingerprint. Keep the key as "
        "the README's 'Encryption key custody' describes: never in a backup."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--quiet",
            action="store_true",
            help="print the key alone, for scripts (FIELD_ENCRYPTION_KEY=$(... --quiet))",
        )

    def handle(self, *args, **options):
        key = Fernet.generate_key().decode()
        if options["quiet"]:
            self.stdout.write(key)
            return
        self.stdout.write(f"FIELD_ENCRYPTION_KEY={key}")
        self.stdout.write(f"fingerprint: {key_fingerprint(key)}")
        self.stdout.write(
            "Store the key in the secret store and its sealed copy before using it; backups "
            "record only the fingerprint. Changing the key of a running platform makes the "
            "national register numbers already stored unreadable: see the README's "
            "'Encryption key custody'."
        )
