"""Production settings pass Django's deployment checklist and refuse to start half-configured."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, **environment: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "SECRET_KEY"}}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def production_environment(**overrides: str) -> dict[str, str]:
    return {
        "COOP_ENV": "production",
        "SECRET_KEY": "x" * 20 + "k9!Qz" * 10,
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "coop.example",
        **overrides,
    }


def test_check_deploy_prints_no_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **production_environment())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert result.stderr == ""


def test_production_refuses_a_missing_secret_key():
    result = run_manage("check", **production_environment(SECRET_KEY=""))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_missing_encryption_key():
    result = run_manage("check", **production_environment(FIELD_ENCRYPTION_KEY=""))
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be set" in result.stderr


def test_production_switches_debug_off_and_secures_cookies():
    script = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS,"
        " s.EMAIL_BACKEND)"
    )
    result = run_manage("shell", "--no-imports", "-c", script, **production_environment())
    assert result.stdout.split() == [
        "False",
        "True",
        "True",
        "31536000",
        "django.core.mail.backends.smtp.EmailBackend",
    ]
