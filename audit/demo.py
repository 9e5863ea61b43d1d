"""Demo rows of the audit app: a member's ready data export in the scaled world."""

from django.utils import timezone

from audit.privacy import build_data_export, request_data_export


def seed(context: dict, *, stdout) -> None:
    """Leave the demo members without a data export: they ask for theirs on the privacy page,
    and the export shows what the other apps seed after this one."""


def seed_heavy(context: dict, *, stdout) -> None:
    """Build the first heavy member's data export, the largest there is: the data export pages
    of the member and of staff have their heaviest row to show."""
    if not context["members"]:
        return
    now = timezone.now()
    export = request_data_export(user=context["members"][0].user, now=now)
    build_data_export(export=export, now=now)
    export.refresh_from_db()
    stdout.write(f"A data export of {export.size:,} bytes for {export.user.email}.")
