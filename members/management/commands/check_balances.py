"""Compare every Activity's balance row with its ledger; ``--rebuild`` recomputes them."""

from django.core.management.base import BaseCommand, CommandError

from members import balances

MAX_LISTED = 50


class Command(BaseCommand):
    help = (
        "Compare each Activity's balance row (members_activitybalance, kept by a trigger) with "
        "the sums of its ledger entries. Lists the Activities that differ and exits with status "
        "1 if any does, 0 otherwise. --rebuild recomputes the rows from the ledger first (after "
        "a bulk load with triggers off) and records it in the audit trail."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="recompute every balance row from the ledger, then check",
        )

    def handle(self, *args, **options):
        if options["rebuild"]:
            self._rebuild()
        checked = mismatches = 0
        for comparison in balances.compare_balances():
            checked += 1
            if comparison.agrees:
                continue
            mismatches += 1
            if mismatches <= MAX_LISTED:
                self.stderr.write(f"MISMATCH {comparison.describe()}")
        if mismatches > MAX_LISTED:
            self.stderr.write(f"… and {mismatches - MAX_LISTED} more.")
        self.stdout.write(
            f"{checked} Activities checked, {mismatches} balance rows differ from the ledger."
        )
        if mismatches:
            raise CommandError(
                f"{mismatches} Activities have a balance that differs from their ledger; "
                "run 'manage.py check_balances --rebuild' to recompute them.",
                returncode=1,
            )

    def _rebuild(self) -> None:
        from audit.services import record_event

        result = balances.rebuild_balances()
        for activity, before, after in result.sample[:MAX_LISTED]:
            self.stdout.write(f"Rebuilt Activity {activity}: {before} -> {after}")
        self.stdout.write(
            f"Rebuild: {result.corrected} balance rows written, {result.removed} removed."
        )
        if result.corrected or result.removed:
            record_event(
                action="changed",
                object_type="members.activitybalance",
                object_repr="Activity balances rebuilt from the ledger",
                # The audit trail's form: {field: [before, after]}; the first corrections only.
                changes={
                    "corrected": result.corrected,
                    "removed": result.removed,
                    **{
                        f"activity {activity}": [before, after]
                        for activity, before, after in result.sample
                    },
                    **{
                        f"activity {activity}": ["row without entries", "none"]
                        for activity in result.removed_sample
                    },
                },
                reason="manage.py check_balances --rebuild",
            )
