"""What every drill shares: a throwaway PostgreSQL and Valkey, and the processes on them.

A drill kills and flushes servers, so it never uses the machine's: ``Stack`` starts its own
PostgreSQL and Valkey with the ``coop.devstack`` helpers, on free ports, with their data under
``var/drills/<drill>/`` (deleted at the start of each run, kept afterwards for inspection),
points ``DATABASE_URL``, ``REDIS_URL``, ``MEDIA_ROOT`` and ``EMAIL_FILE_PATH`` at them, migrates
and loads the demo world. Import this module before Django: ``Stack.start()`` sets the
environment, then calls ``django.setup()``.
"""

import contextlib
import email
import email.policy
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "coop.settings"

from coop.devstack import EmbeddedPostgres, EmbeddedValkey  # noqa: E402

PYTHON = sys.executable
CELERY = [PYTHON, "-m", "celery", "-A", "coop"]


class Stack:
    """A drill's own servers and processes, under var/drills/<name>/."""

    def __init__(self, name: str) -> None:
        self.folder = ROOT / "var" / "drills" / name
        self.logs = self.folder / "log"
        self.media = self.folder / "media"
        self.mail = self.folder / "mail"
        self.postgres = EmbeddedPostgres(data=self.folder / "postgres", log=self.logs / "pg.log")
        self.valkey = EmbeddedValkey(data=self.folder / "valkey", log=self.logs / "valkey.log")
        self.processes: dict[str, subprocess.Popen] = {}

    def start(
        self,
        *,
        demo: bool = True,
        database_url: str | None = None,
        serving: dict[str, str] | None = None,
    ) -> None:
        """Start fresh servers, export their URLs, migrate (and seed), then set Django up.

        With ``database_url`` the drill uses that database (created afresh) on a running server
        instead of a PostgreSQL of its own. ``serving`` is environment set after the migrations,
        before Django is set up: what the drill's processes and the drill itself then use.
        """
        shutil.rmtree(self.folder, ignore_errors=True)
        for folder in (self.logs, self.media, self.mail):
            folder.mkdir(parents=True)
        if database_url:
            recreate_database(database_url)
        os.environ.update(
            {
                "DATABASE_URL": database_url or self.postgres.start(),
                "REDIS_URL": self.valkey.start(),
                "CELERY_BROKER_URL": self.valkey.url(),
                "MEDIA_ROOT": str(self.media),
                "EMAIL_FILE_PATH": str(self.mail),
                "COOP_ENV": "development",
                "CELERY_TASK_ALWAYS_EAGER": "false",
                "COOP_INVOICE_REVIEW_NEW_CLIENTS": "false",
                "COOP_INVOICE_REVIEW_THRESHOLD": "100000000",
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.manage("migrate", "--noinput")
        if demo:
            self.manage("seed_demo")
        os.environ.update(serving or {})
        import django

        django.setup()

    def manage(self, *arguments: str) -> None:
        """Run a manage.py command on the drill's servers; stop the drill if it fails."""
        with (self.logs / "manage.log").open("a") as log:
            subprocess.run(
                [PYTHON, str(ROOT / "manage.py"), *arguments],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
            )

    def spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        """Start a process in a process group of its own, logging to var/drills/…/log/."""
        log = (self.logs / f"{name}.log").open("a")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def start_worker(self, name: str = "worker") -> subprocess.Popen:
        """Start a Celery worker on both queues with two processes, as dev.py up does."""
        options = ["-Q", "default,pdf", "--concurrency", "2", "--loglevel", "INFO"]
        return self.spawn(name, [*CELERY, "worker", *options, "--hostname", f"{name}@drill"])

    def start_beat(self) -> subprocess.Popen:
        """Start Celery beat (the recovery sweep every minute)."""
        schedule = str(self.folder / "celerybeat-schedule")
        return self.spawn("beat", [*CELERY, "beat", "--loglevel", "INFO", "--schedule", schedule])

    def kill(self, name: str) -> None:
        """Kill a process and its whole group with SIGKILL, as a crash or the OOM killer would."""
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        """Stop every process the drill started, then its servers."""
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for name, process in list(self.processes.items()):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill(name)
        self.processes.clear()
        self.valkey.stop()
        self.postgres.stop()

    def mails_by_subject(self) -> Counter:
        """Count the e-mails written to EMAIL_FILE_PATH by their (decoded) subject."""
        subjects = Counter()
        separator = "\n" + "-" * 79 + "\n"
        for path in self.mail.glob("*.log"):
            for raw in path.read_text(errors="replace").split(separator):
                if raw.strip():
                    message = email.message_from_string(raw, policy=email.policy.default)
                    subjects[str(message["Subject"])] += 1
        return subjects

    def valkey_client_llen(self, queue: str) -> int:
        """How many messages wait in one of the drill broker's queues."""
        import redis

        client = redis.Redis.from_url(self.valkey.url())
        try:
            return client.llen(queue)
        finally:
            client.close()

    def count_files_of(self, folder: str, numbers: set[str]) -> int:
        """Count the files stored under a folder of MEDIA_ROOT for these document numbers.

        A file is named after its number (``2026-000123.pdf``); a second file for the same
        number gets a suffix from the storage (``2026-000123_AbCdEfG.pdf``) and counts too.
        """
        return sum(
            1
            for path in (self.media / folder).rglob("*")
            if path.is_file() and path.stem[:11] in numbers
        )


def recreate_database(url: str) -> None:
    """Drop the database the URL names (if it exists) and create it empty."""
    from urllib.parse import urlsplit

    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = parts._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def wait_until(condition, *, timeout: float, interval: float = 0.5) -> float | None:
    """Poll a condition; return the seconds it took, or None if it did not hold in time."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if condition():
            return time.monotonic() - began
        time.sleep(interval)
    return None


def say(message: str) -> None:
    """Print a line of the drill's report at once."""
    sys.stdout.write(message + "\n")
    sys.stdout.flush()
