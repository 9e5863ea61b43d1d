#!/usr/bin/env python3
"""Set up the development environment and run coop with its services.

Usage:
    python3 dev.py up               migrate, seed the demo data, run web + worker + beat
    python3 dev.py test [ARGS]      ruff, migrations check, pytest -n 2 (ARGS go to pytest)
    python3 dev.py manage ARGS      run manage.py ARGS with the development services

This file uses the standard library only: it runs before the virtual environment exists.
It creates .venv, installs the uv version pinned in uv.lock, runs ``uv sync --frozen`` when
uv.lock or pyproject.toml changed, then hands over to ``coop.devstack`` inside .venv.
"""

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:
    sys.exit("dev.py needs Python 3.11 or newer (python3 --version).")

REPOSITORY_ROOT = Path(__file__).resolve().parent
VIRTUAL_ENVIRONMENT = REPOSITORY_ROOT / ".venv"
VENV_PYTHON = VIRTUAL_ENVIRONMENT / "bin" / "python"
VENV_UV = VIRTUAL_ENVIRONMENT / "bin" / "uv"
LOCK_FILE = REPOSITORY_ROOT / "uv.lock"
PROJECT_FILE = REPOSITORY_ROOT / "pyproject.toml"
SYNC_STAMP = VIRTUAL_ENVIRONMENT / ".dev-sync-stamp"
COMMANDS = ("up", "test", "manage")


def say(message: str) -> None:
    """Print a progress line at once (before an exec, buffered output would be lost)."""
    print(f"dev.py: {message}", flush=True)


def run(command: list[str], **options) -> None:
    """Run a command and stop dev.py with its exit code when it fails."""
    result = subprocess.run(command, check=False, **options)
    if result.returncode != 0:
        say(f"failed (exit code {result.returncode}): {' '.join(command)}")
        sys.exit(result.returncode)


def pinned_uv_package() -> dict:
    """Return the uv entry of uv.lock: its version and the hashes of its files."""
    with LOCK_FILE.open("rb") as lock_file:
        lock = tomllib.load(lock_file)
    for package in lock["package"]:
        if package["name"] == "uv":
            return package
    raise SystemExit("dev.py: uv.lock has no 'uv' package; pin uv in the dev dependency group.")


def pinned_uv_version() -> str:
    """Return the uv version pinned in uv.lock (the Dockerfile reads it from here too)."""
    return pinned_uv_package()["version"]


def install_uv() -> None:
    """Create .venv and install the pinned uv into it, checking the hashes from uv.lock."""
    package = pinned_uv_package()
    if not VENV_PYTHON.exists():
        say("creating .venv")
        run([sys.executable, "-m", "venv", str(VIRTUAL_ENVIRONMENT)])
    hashes = [wheel["hash"] for wheel in package.get("wheels", [])]
    if "sdist" in package:
        hashes.append(package["sdist"]["hash"])
    hash_options = " ".join(f"--hash={file_hash}" for file_hash in hashes)
    requirement = f"uv=={package['version']} {hash_options}"
    say(f"installing uv {package['version']}")
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as requirements:
        requirements.write(requirement + "\n")
        requirements.flush()
        pip = [str(VENV_PYTHON), "-m", "pip", "--disable-pip-version-check", "--quiet"]
        run([*pip, "install", "--require-hashes", "--requirement", requirements.name])


def dependency_fingerprint() -> str:
    """Return the SHA-256 of uv.lock and pyproject.toml, which decide what .venv holds."""
    digest = hashlib.sha256()
    for path in (LOCK_FILE, PROJECT_FILE):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def sync_dependencies() -> None:
    """Run ``uv sync --frozen`` unless the last successful sync saw the same files."""
    fingerprint = dependency_fingerprint()
    if SYNC_STAMP.exists() and SYNC_STAMP.read_text().strip() == fingerprint:
        return
    say("syncing .venv with uv.lock (uv sync --frozen --all-groups)")
    environment = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(VIRTUAL_ENVIRONMENT)}
    environment.pop("VIRTUAL_ENV", None)
    run([str(VENV_UV), "sync", "--frozen", "--all-groups"], cwd=REPOSITORY_ROOT, env=environment)
    SYNC_STAMP.write_text(fingerprint + "\n")


def main() -> None:
    """Bootstrap .venv, then replace this process with ``coop.devstack``."""
    arguments = sys.argv[1:]
    if not arguments or arguments[0] not in COMMANDS:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
    if not VENV_UV.exists():
        install_uv()
    sync_dependencies()
    os.chdir(REPOSITORY_ROOT)
    command = [str(VENV_PYTHON), "-m", "coop.devstack", *arguments]
    # Replace this process, so that signals and the exit code reach devstack directly.
    os.execv(command[0], command)  # noqa: S606 - a fixed program with an argument list


if __name__ == "__main__":
    main()
