"""A member's personal data across the apps: the export zip, and the registry of the apps' parts.

Each app that holds personal data has a ``privacy`` module, listed in
``settings.COOP_PRIVACY_MODULES``, with any of these functions:

- ``export_member_data(member) -> dict`` returns ``{"data": {...}, "files": [(name, file)]}``:
  the member's rows as JSON-ready values and the stored documents to put in the zip;
- ``anonymisation_blockers(member) -> list[str]`` returns why the member cannot be anonymised
  yet (translated messages, empty when nothing blocks);
- ``anonymise_member_data(*, member, placeholder, now) -> None`` removes the app's personal data.

The audit app imports none of them: the registry keeps the dependencies pointing up.
"""

import datetime
import hashlib
import json
import shutil
import tempfile
import zipfile
from functools import cache
from importlib import import_module
from types import ModuleType

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction, DataExport
from audit.services import AuditError, json_value, record_event
from coop.db import reads_from_replica

EXPORT_LIFETIME = datetime.timedelta(days=7)
# A pending export untouched this long is queued again (its task was lost).
EXPORT_STALE_AFTER = datetime.timedelta(minutes=10)
MAX_EXPORT_ATTEMPTS = 5


@cache
def _modules(paths: tuple[str, ...]) -> list[ModuleType]:
    return [import_module(path) for path in paths]


def privacy_modules() -> list[ModuleType]:
    """Return the apps' privacy modules, in the order settings list them."""
    return _modules(tuple(settings.COOP_PRIVACY_MODULES))


def model_dict(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict:
    """Return a row's concrete fields as JSON-ready values (keys of related rows, file names)."""
    values = {}
    for field in obj._meta.concrete_fields:
        if field.name in exclude:
            continue
        value = getattr(obj, field.attname)
        if isinstance(field, models.FileField):
            value = value.name if value else ""
        elif hasattr(value, "lower") and hasattr(value, "upper") and not isinstance(value, str):
            value = {"lower": json_value(value.lower), "upper": json_value(value.upper)}
        values[field.name] = json_value(value)
    return values


def collect_member_data(member) -> tuple[dict, list[tuple[str, File]]]:
    """Gather every app's part of a member's data: the JSON document and the files."""
    data: dict = {
        "format": "coop-member-data/1",
        "generated_at": timezone.now().isoformat(),
    }
    files: list[tuple[str, File]] = []
    for module in privacy_modules():
        export = getattr(module, "export_member_data", None)
        if export is None:
            continue
        part = export(member)
        data.update(part.get("data", {}))
        files.extend(part.get("files", []))
    return data, files


def write_export_zip(member, destination) -> list[str]:
    """Write the member's zip (``data.json`` and their documents) to a binary file object.

    Return the names written. A document missing from storage is listed in ``data.json`` under
    ``missing_files`` rather than failing the whole export.
    """
    data, files = collect_member_data(member)
    names = ["data.json"]
    missing = []
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        seen = set()
        for name, stored in files:
            if name in seen:
                continue
            seen.add(name)
            try:
                handle = stored.open("rb")
            except OSError:
                missing.append(name)
                continue
            with handle, archive.open(name, "w") as target:
                shutil.copyfileobj(handle, target)
            names.append(name)
        data["missing_files"] = missing
        archive.writestr(
            "data.json", json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
        )
    return names


def _member_of(user):
    member_model = get_user_model()._meta.get_field("member").related_model
    return member_model.objects.filter(user_id=user.pk).first()


@transaction.atomic
def request_data_export(*, user, now: datetime.datetime | None = None) -> DataExport:
    """Queue a zip of the user's data; one export is prepared at a time."""
    now = now or timezone.now()
    if _member_of(user) is None:
        raise AuditError(_("You have no member profile yet."), code="no_member")
    # Serialise requests of one user: two quick clicks make one export.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    pending = DataExport.objects.filter(user=user, status=DataExport.Status.PENDING).first()
    if pending is not None:
        raise AuditError(_("Your data export is already being prepared."), code="export_pending")
    export = DataExport.objects.create(user=user, created_at=now)
    record_event(action=AuditAction.REQUESTED, obj=export, actor=user)
    from audit.tasks import build_data_export_task

    transaction.on_commit(lambda: build_data_export_task.delay(export.pk))
    return export


def build_data_export(*, export: DataExport, now: datetime.datetime | None = None) -> bool:
    """Build a pending export's zip, store it with its SHA-256; return whether it was built.

    Runs in a worker. A redelivered task finds the export ready and does nothing.
    """
    with transaction.atomic():
        export = DataExport.objects.select_for_update().select_related("user").get(pk=export.pk)
        if export.status != DataExport.Status.PENDING:
            return False
        export.attempts += 1
        export.save(update_fields=["attempts"])
    with tempfile.TemporaryFile() as scratch:
        # The member's rows are read from the replica when one is configured (coop.db).
        with reads_from_replica():
            member = _member_of(export.user)
            write_export_zip(member, scratch)
        scratch.seek(0)
        digest = hashlib.sha256()
        for chunk in iter(lambda: scratch.read(1 << 20), b""):
            digest.update(chunk)
        size = scratch.tell()
        scratch.seek(0)
        with transaction.atomic():
            export = DataExport.objects.select_for_update().get(pk=export.pk)
            if export.status != DataExport.Status.PENDING:
                return False
            now = now or timezone.now()
            export.file.save(f"data-{export.user_id}-{export.pk}.zip", File(scratch), save=False)
            export.sha256 = digest.hexdigest()
            export.size = size
            export.status = DataExport.Status.READY
            export.ready_at = now
            export.expires_at = now + EXPORT_LIFETIME
            export.error = ""
            fields = ["file", "sha256", "size", "status", "ready_at", "expires_at", "error"]
            export.save(update_fields=fields)
            record_event(
                action=AuditAction.EXPORTED,
                obj=member,
                actor=export.user,
                changes={"niss": [None, None]},
                reason=f"data export {export.pk}",
            )
    return True


def fail_data_export(*, export: DataExport, error: str) -> None:
    """Mark an export failed after its last attempt, so the member can ask again."""
    DataExport.objects.filter(pk=export.pk, status=DataExport.Status.PENDING).update(
        status=DataExport.Status.FAILED, error=error[:2000]
    )


def expire_data_exports(*, now: datetime.datetime) -> int:
    """Delete the files of exports past their expiry; return how many expired."""
    expired = 0
    for export in DataExport.objects.filter(
        status=DataExport.Status.READY, expires_at__lte=now
    ).iterator():
        expire_data_export(export=export)
        expired += 1
    return expired


@transaction.atomic
def expire_data_export(*, export: DataExport) -> None:
    """Delete one export's file now (expiry, or the member's anonymisation)."""
    export = DataExport.objects.select_for_update().get(pk=export.pk)
    if export.file:
        export.file.delete(save=False)
    export.status = DataExport.Status.EXPIRED
    export.save(update_fields=["file", "status"])


def stale_pending_exports(*, now: datetime.datetime):
    """Pending exports whose task seems lost."""
    return DataExport.objects.filter(
        status=DataExport.Status.PENDING,
        created_at__lt=now - EXPORT_STALE_AFTER,
        attempts__lt=MAX_EXPORT_ATTEMPTS,
    )
