"""Backups restore into a new database and storage, equal to the source, or refuse clearly.

The backup reads the database with pg_dump from another connection, so these tests commit their
data (transactional tests) and restore into databases they create and drop themselves.
"""

import hashlib
import io
import json
import re
import uuid

import pytest
from cryptography.fernet import Fernet
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from coop import backup
from coop.celery import app as celery_app
from coop.fields import key_fingerprint
from tests.conftest import make_member

committed = pytest.mark.django_db(transaction=True)


KEY = Fernet.generate_key().decode()
OTHER_KEY = Fernet.generate_key().decode()


@pytest.fixture
def world(settings, tmp_path):
    """A committed member (with an encrypted national number) and two stored files."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FIELD_ENCRYPTION_KEY = KEY
    member = make_member("backup@coop.test", legal_name="Backup Person", niss="85073003328")
    default_storage.save("expenses/1/receipt.pdf", ContentFile(b"%PDF-1.7 receipt"))
    default_storage.save("payroll/2026/run.xml", ContentFile(b"<Document/>"))
    return member


@pytest.fixture
def source():
    return backup.Database.from_settings(connection.settings_dict)


@pytest.fixture
def empty_database(source):
    database = backup.create_database(source, f"{source.name}_restore_{uuid.uuid4().hex[:8]}")
    yield database
    backup.drop_database(database)


def take_backup(source, tmp_path):
    folder = tmp_path / "backup"
    manifest = backup.create_backup(
        output=folder, database=source, storage=default_storage, now=timezone.now()
    )
    return folder, manifest


def tables_in(database) -> int:
    with database.connect() as database_connection, database_connection.cursor() as cursor:
        return len(backup.table_names(cursor))


def test_generate_encryption_key_prints_a_fernet_key_and_its_fingerprint():
    out = io.StringIO()
    call_command("generate_encryption_key", stdout=out)
    key = re.search(r"^FIELD_ENCRYPTION_KEY=(\S+)$", out.getvalue(), re.MULTILINE).group(1)
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"
    fingerprint = hashlib.sha256(key.encode()).hexdigest()[:16]
    assert f"fingerprint: {fingerprint}\n" in out.getvalue()

    quiet = io.StringIO()
    call_command("generate_encryption_key", "--quiet", stdout=quiet)
    assert len(quiet.getvalue().strip()) == 44 and quiet.getvalue().strip() != key


@pytest.fixture
def tasks_run_at_once():
    """Run Celery tasks in the process, as a worker would right after the commit."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@committed
def test_restore_drill_passes_on_the_demo_world(settings, tmp_path, tasks_run_at_once):
    from contracts.models import Payslip
    from invoicing.models import InvoiceDocument
    from members.models import LedgerEntry
    from quotes.models import QuoteDocument

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FIELD_ENCRYPTION_KEY = KEY
    call_command("seed_demo", stdout=io.StringIO())
    # Every kind of generated document: invoices, payslips, quotes.
    kinds = backup.document_models()
    assert {InvoiceDocument, Payslip, QuoteDocument} <= set(kinds)
    documents = sum(kind.objects.filter(status="ready").count() for kind in kinds)
    assert documents == sum(kind.objects.count() for kind in kinds) > 30
    files = list(backup.storage_files(default_storage))
    totals = {
        row["stage"]: row["total"]
        for row in LedgerEntry.objects.values("stage").order_by().annotate(total=Sum("amount"))
    }

    out = io.StringIO()
    call_command("restore_drill", stdout=out)

    figures = {
        match.group(1).strip(): match.group(2, 3, 4)
        for match in re.finditer(r"^(.{34}) +(\S+) +(\S+)  (\S+)$", out.getvalue(), re.MULTILINE)
    }
    assert figures["documents with a file"] == (str(documents), str(documents), "yes")
    assert figures["document SHA-256 equal (4 ways)"] == (str(documents),) * 2 + ("yes",)
    assert figures["stored files"] == (str(len(files)), str(len(files)), "yes")
    assert figures["ledger total, available"] == (str(totals["available"]),) * 2 + ("yes",)
    assert figures["ledger total, planned"] == (str(totals["planned"]),) * 2 + ("yes",)
    assert figures["Activities with ledger entries"] == ("17", "17", "yes")
    assert figures["encrypted values readable (sample)"][2] == "yes"
    assert "Restore drill passed" in out.getvalue()
    assert drill_databases() == 0

    # A stored document that no longer matches the SHA-256 of its row fails the drill.
    payslip = Payslip.objects.filter(status="ready").order_by("pk").first()
    (settings.MEDIA_ROOT / payslip.file.name).write_bytes(b"%PDF-1.7 not the payslip")
    out = io.StringIO()
    with pytest.raises(CommandError, match="Restore drill FAILED: ") as failure:
        call_command("restore_drill", stdout=out)
    assert f"document contracts.Payslip {payslip.pk} ({payslip.file.name})" in str(failure.value)
    assert f"source row {payslip.sha256}" in str(failure.value)
    assert re.search(
        r"document SHA-256 equal \(4 ways\) +(\d+) +(\d+)  NO", out.getvalue()
    ).groups() == (
        str(documents),
        str(documents - 1),
    )
    assert drill_databases() == 0


def drill_databases() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_database WHERE datname LIKE %s",
            [f"{connection.settings_dict['NAME']}_drill_%"],
        )
        return cursor.fetchone()[0]


@committed
def test_the_manifest_holds_checksums_figures_and_the_key_fingerprint_never_the_key(
    world, source, tmp_path
):
    from members.models import Member, User

    folder, manifest = take_backup(source, tmp_path)

    dump = (folder / "database.dump").read_bytes()
    assert manifest["database"]["dump"] == {
        "path": "database.dump",
        "size": len(dump),
        "sha256": hashlib.sha256(dump).hexdigest(),
    }
    assert manifest["files"] == [
        {
            "path": "expenses/1/receipt.pdf",
            "size": 16,
            "sha256": hashlib.sha256(b"%PDF-1.7 receipt").hexdigest(),
        },
        {
            "path": "payroll/2026/run.xml",
            "size": 11,
            "sha256": hashlib.sha256(b"<Document/>").hexdigest(),
        },
    ]
    assert (folder / "files/payroll/2026/run.xml").read_bytes() == b"<Document/>"
    assert manifest["row_counts"]["members_member"] == Member.objects.count() == 1
    assert manifest["row_counts"]["members_user"] == User.objects.count() == 2
    assert "0001_initial" in manifest["migrations"]["members"]
    assert manifest["encryption_key"]["fingerprint"] == key_fingerprint(KEY)
    for path in folder.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes()
    assert oct(folder.stat().st_mode & 0o777) == "0o700"


@committed
def test_a_backup_restores_equal_into_an_empty_database_and_storage(
    world, source, empty_database, tmp_path
):
    folder, manifest = take_backup(source, tmp_path)
    storage = FileSystemStorage(location=tmp_path / "restored")

    report = backup.restore_backup(folder=folder, database=empty_database, storage=storage)

    assert report.differences == []
    assert report.restored["row_counts"] == manifest["row_counts"]
    assert (report.encrypted_values_tried, report.encrypted_values_unreadable) == (1, 0)
    assert storage.open("expenses/1/receipt.pdf").read() == b"%PDF-1.7 receipt"
    with empty_database.connect() as restored, restored.cursor() as cursor:
        cursor.execute("SELECT niss FROM members_member")
        (encrypted,) = cursor.fetchone()
    assert Fernet(KEY.encode()).decrypt(encrypted.encode()) == b"85073003328"

    # Into a database that holds data only when asked to replace it.
    with pytest.raises(backup.BackupError, match="is not empty; restore into a new, empty"):
        backup.restore_backup(
            folder=folder,
            database=empty_database,
            storage=FileSystemStorage(location=tmp_path / "again"),
        )
    report = backup.restore_backup(
        folder=folder,
        database=empty_database,
        storage=FileSystemStorage(location=tmp_path / "again"),
        replace_database=True,
    )
    assert report.differences == []


@committed
@pytest.mark.parametrize("tampering", ["file", "dump", "missing", "extra"])
def test_a_tampered_backup_is_refused_before_anything_is_restored(
    tampering, world, source, empty_database, tmp_path
):
    folder, _manifest = take_backup(source, tmp_path)
    if tampering == "file":
        (folder / "files/expenses/1/receipt.pdf").write_bytes(b"%PDF-1.7 receipT")
        expected = "files/expenses/1/receipt.pdf: SHA-256 "
    elif tampering == "dump":
        dump = bytearray((folder / "database.dump").read_bytes())
        dump[len(dump) // 2] ^= 1
        (folder / "database.dump").write_bytes(bytes(dump))
        expected = "database.dump: SHA-256 "
    elif tampering == "missing":
        (folder / "files/payroll/2026/run.xml").unlink()
        expected = "files/payroll/2026/run.xml: missing from the backup"
    else:
        (folder / "files/payroll/2026/other.xml").write_bytes(b"<Other/>")
        expected = "files/payroll/2026/other.xml: in the backup but not in the manifest"
    storage = FileSystemStorage(location=tmp_path / "restored")

    with pytest.raises(backup.BackupError) as refusal:
        backup.restore_backup(folder=folder, database=empty_database, storage=storage)

    assert str(refusal.value).startswith(
        "The backup does not match its manifest; nothing was restored:\n  "
    )
    assert expected in str(refusal.value)
    assert tables_in(empty_database) == 0
    assert list(backup.storage_files(storage)) == []


@committed
def test_restore_without_the_backup_key_says_which_key_it_needs(
    world, source, empty_database, settings, tmp_path
):
    folder, _manifest = take_backup(source, tmp_path)
    needed = key_fingerprint(KEY)

    settings.FIELD_ENCRYPTION_KEY = ""
    with pytest.raises(CommandError) as refusal:
        call_command("restore", "--input", str(folder))
    message = str(refusal.value)
    assert f"encrypted with the key of fingerprint {needed} (FIELD_ENCRYPTION_KEY)" in message
    assert "but FIELD_ENCRYPTION_KEY is not set" in message
    assert "'Operations', 'Encryption key custody'" in message
    assert "Nothing was restored; to restore anyway, pass --ignore-key-mismatch." in message

    settings.FIELD_ENCRYPTION_KEY = OTHER_KEY
    storage = FileSystemStorage(location=tmp_path / "restored")
    with pytest.raises(backup.BackupError) as refusal:
        backup.restore_backup(folder=folder, database=empty_database, storage=storage)
    assert f"but FIELD_ENCRYPTION_KEY has the fingerprint {key_fingerprint(OTHER_KEY)}" in str(
        refusal.value
    )
    assert tables_in(empty_database) == 0
    assert list(backup.storage_files(storage)) == []

    # Restored anyway, the national numbers are there but unreadable with this key.
    report = backup.restore_backup(
        folder=folder, database=empty_database, storage=storage, ignore_key_mismatch=True
    )
    assert report.differences == []
    assert (report.encrypted_values_tried, report.encrypted_values_unreadable) == (1, 1)


@committed
def test_restore_refuses_a_database_or_storage_that_is_not_empty(
    world, source, empty_database, tmp_path
):
    folder, _manifest = take_backup(source, tmp_path)

    with pytest.raises(CommandError, match=f"The database {source.name} is not empty"):
        call_command("restore", "--input", str(folder))

    storage = FileSystemStorage(location=tmp_path / "restored")
    storage.save("left/over.txt", ContentFile(b"x"))
    with pytest.raises(backup.BackupError, match="The file storage is not empty"):
        backup.restore_backup(folder=folder, database=empty_database, storage=storage)
    assert tables_in(empty_database) == 0


@committed
def test_a_pg_dump_older_than_the_server_is_refused_with_what_to_do(
    world, source, settings, tmp_path
):
    old = tmp_path / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    settings.PG_DUMP = str(old)
    server = source.server_major_version()

    with pytest.raises(CommandError) as refusal:
        call_command("backup", "--output", str(tmp_path / "backup"))

    assert str(refusal.value) == (
        f"No pg_dump of PostgreSQL {server} or newer was found (seen: {old} (9)). Install the "
        f"PostgreSQL {server} client tools, or set PG_DUMP to the path of a pg_dump of version "
        f"{server} or newer."
    )
    assert not (tmp_path / "backup").exists()


def test_the_oldest_pg_dump_at_least_as_new_as_the_server_is_chosen(source):
    server = source.server_major_version()
    path, major = backup.find_tool("pg_dump", minimum_major=server)
    assert major >= server
    assert backup.tool_major_version(path) == major
    candidates = [backup.tool_major_version(path) for path in backup.tool_candidates("pg_dump")]
    assert major == min(version for version in candidates if version and version >= server)


@committed
def test_backup_command_writes_a_dated_folder_under_backup_root(world, settings, tmp_path):
    settings.BACKUP_ROOT = tmp_path / "backups"
    out = io.StringIO()
    call_command("backup", stdout=out)
    (folder,) = (tmp_path / "backups").iterdir()
    assert re.fullmatch(r"coop-\d{8}T\d{6}Z", folder.name)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert f"Backup written to {folder}: {manifest['totals']['rows']} rows" in out.getvalue()
    assert backup.verify_backup(folder, manifest) == []


@committed
def test_a_failed_pg_dump_leaves_no_folder_that_looks_like_a_backup(world, settings, tmp_path):
    broken = tmp_path / "pg_dump"
    broken.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = --version ]; then echo "pg_dump (PostgreSQL) 99.0"; exit 0; fi\n'
        'echo "pg_dump: error: disk full" >&2; exit 1\n'
    )
    broken.chmod(0o755)
    settings.PG_DUMP = str(broken)

    with pytest.raises(
        CommandError, match=r"^pg_dump failed \(exit 1\): pg_dump: error: disk full$"
    ):
        call_command("backup", "--output", str(tmp_path / "backup"))
    assert not (tmp_path / "backup").exists()


@committed
@pytest.mark.parametrize(
    "damage",
    [
        lambda manifest: manifest.pop("files"),
        lambda manifest: manifest["database"]["dump"].update(size="big"),
        lambda manifest: manifest["encryption_key"].pop("fingerprint"),
        lambda manifest: manifest["ledger_balances"].update({"../x": {}}),
    ],
)
def test_a_malformed_manifest_is_refused_clearly(damage, world, source, tmp_path):
    folder, manifest = take_backup(source, tmp_path)
    damage(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(CommandError, match=r"manifest\.json is incomplete or malformed"):
        call_command("restore", "--input", str(folder))


@committed
def test_a_manifest_other_than_the_recorded_one_is_refused(world, source, tmp_path):
    folder, manifest = take_backup(source, tmp_path)
    recorded = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    # Someone changes a file and its line in the manifest alike.
    (folder / "files/expenses/1/receipt.pdf").write_bytes(b"forged")
    manifest["files"][0].update(size=6, sha256=hashlib.sha256(b"forged").hexdigest())
    (folder / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(CommandError) as refusal:
        call_command("restore", "--input", str(folder), "--manifest-sha256", recorded)
    assert f"not the {recorded} recorded when the backup was taken" in str(refusal.value)
