"""dev.py: ``manage`` finds the services of a running ``up``; ``up`` restarts what stops."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from coop import devstack


@pytest.fixture
def live_process():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


@pytest.fixture
def services_file(tmp_path, monkeypatch):
    path = tmp_path / "services.json"
    monkeypatch.setattr(devstack, "SERVICES_FILE", path)
    return path


def real_urls() -> tuple[str, str]:
    database = settings.DATABASES["default"]
    return (
        f"postgres://postgres@{database['HOST']}:{database['PORT']}/coop",
        settings.CELERY_BROKER_URL,
    )


def write(path, **record) -> None:
    path.write_text(json.dumps(record))


def test_manage_uses_the_services_of_a_running_up(services_file, live_process, monkeypatch):
    database_url, redis_url = real_urls()
    write(services_file, pid=live_process.pid, database_url=database_url, redis_url=redis_url)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    services = devstack.Services()
    services.start(reuse_running_up=True)
    assert services.postgres is None and services.valkey is None  # nothing started
    assert os.environ["DATABASE_URL"] == database_url
    assert os.environ["REDIS_URL"] == redis_url


def test_a_dead_up_or_silent_services_are_not_reused(services_file, live_process):
    database_url, redis_url = real_urls()
    write(services_file, pid=live_process.pid, database_url=database_url, redis_url=redis_url)
    assert devstack.running_up_services()["pid"] == live_process.pid
    live_process.kill()
    live_process.wait()
    assert devstack.running_up_services() is None
    silent = f"redis://127.0.0.1:{devstack.free_port()}/0"
    write(services_file, pid=os.getppid(), database_url=database_url, redis_url=silent)
    assert devstack.running_up_services() is None
    services_file.write_text("{not json")
    assert devstack.running_up_services() is None


def test_up_publishes_its_services_and_withdraws_only_its_own_file(services_file, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5999/coop")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6999/0")
    devstack.publish_up_services()
    record = json.loads(services_file.read_text())
    assert record == {
        "pid": os.getpid(),
        "database_url": "postgres://postgres@127.0.0.1:5999/coop",
        "redis_url": "redis://127.0.0.1:6999/0",
    }
    devstack.withdraw_up_services()
    assert not services_file.exists()
    write(services_file, pid=1, database_url="x", redis_url="y")  # another up's file
    devstack.withdraw_up_services()
    assert services_file.exists()


def test_a_stopped_process_is_restarted_with_growing_delays_reset_once_it_runs_a_while():
    running = {"state": True}
    starts = []

    def start():
        starts.append(clock["now"])
        running["state"] = True

    clock = {"now": 1000.0}
    item = devstack.Supervised(
        "worker",
        start=start,
        is_running=lambda: running["state"],
        describe_stop=lambda: "exited unexpectedly (exit code -9)",
    )
    item.started_at = clock["now"]

    def tick(seconds: float) -> None:
        clock["now"] += seconds
        item.check(clock["now"])

    restart_times = []
    for delay in (1, 2, 5):
        running["state"] = False
        tick(0.5)  # the stop is noticed at the next check
        tick(delay - 0.1)
        assert len(starts) == len(restart_times)  # not before its delay
        tick(0.1)
        restart_times.append(clock["now"])
    assert starts == restart_times
    assert item.stops_in_a_row == 3
    tick(devstack.STABLE_AFTER_SECONDS)
    assert item.stops_in_a_row == 0
    running["state"] = False
    tick(0.5)
    tick(devstack.RESTART_DELAYS_SECONDS[0])
    assert len(starts) == 4


def test_a_server_that_cannot_start_yet_is_tried_again_later():
    attempts = []

    def start():
        attempts.append(1)
        if len(attempts) == 1:
            raise devstack.StartupError('lock file "postmaster.pid" already exists\nmore')

    item = devstack.Supervised(
        "PostgreSQL", start=start, is_running=lambda: False, describe_stop=lambda: "stopped"
    )
    item.check(0.0)  # stop noticed, restart in 1 s
    item.check(1.0)  # first attempt fails, next in 2 s
    assert len(attempts) == 1 and item.restart_at is not None
    item.check(3.5)
    assert len(attempts) == 2


@pytest.mark.parametrize("is_root", [True, False])
def test_dev_py_installs_chromium_as_root_or_says_how(monkeypatch, capsys, tmp_path, is_root):
    commands = []
    monkeypatch.setattr(devstack, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.setattr(devstack.os, "geteuid", lambda: 0 if is_root else 1000)
    monkeypatch.setattr(devstack.shutil, "which", lambda name: f"/usr/bin/{name}")

    def run(command, **options):
        commands.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(devstack.subprocess, "run", run)

    devstack.ensure_chromium()

    if is_root:
        assert commands == [["apt-get", "install", "--yes", "--no-install-recommends", "chromium"]]
    else:
        assert commands == []
        assert "sudo apt-get install chromium" in capsys.readouterr().out


def test_dev_py_leaves_an_installed_chromium_alone(monkeypatch, tmp_path):
    (tmp_path / "chromium").touch()
    monkeypatch.setattr(devstack, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.setattr(devstack.subprocess, "run", lambda *arguments, **options: pytest.fail())

    devstack.ensure_chromium()


def test_up_points_links_in_emails_and_pdfs_at_the_port_it_serves(monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("SITE_URL", "")
    monkeypatch.delenv("SITE_URL")
    commands = []
    monkeypatch.setattr(devstack, "run_foreground", lambda command: commands.append(command) or 1)

    assert devstack.command_up(None, []) == 1

    assert os.environ["SITE_URL"] == "http://127.0.0.1:8123"
    assert "migrate" in commands[0]


def test_up_keeps_the_site_url_it_is_given(monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("SITE_URL", "https://coop.example")
    monkeypatch.setattr(devstack, "run_foreground", lambda command: 1)

    devstack.command_up(None, [])

    assert os.environ["SITE_URL"] == "https://coop.example"
