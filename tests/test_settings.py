"""Settings read from the environment: production passes Django's deployment checklist, a
missing secret stops start-up, and DATABASE_URL / REDIS_URL choose the servers.

Start-up behaviour runs in a fresh interpreter; values are read by executing base.py afresh
in-process. Either way the environment is built here and `.env` is ignored, so a developer's
local `.env` cannot change the result.
"""

import os
import runpy
import secrets
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import environ
import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from changemakers.beat import BEAT_SCHEDULE
from changemakers.celery import app

BASE_DIR = Path(__file__).resolve().parent.parent

# Runs before Django: stands in for "there is no .env file", then executes the given code.
_PRELUDE = """
import environ
environ.Env.read_env = classmethod(lambda cls, *args, **kwargs: None)
"""

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_ALLOWED_HOSTS": "changemakers.example",
}


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key not in {"DATABASE_URL", "REDIS_URL", "CI"}
    }
    clean["DJANGO_SETTINGS_MODULE"] = "changemakers.settings.base"
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", _PRELUDE + code],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_from(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict:
    """Execute base.py afresh under `env` (no `.env`), in-process: fast, and enough for values."""
    for key in list(os.environ):
        if key.startswith("DJANGO_") or key in {"DATABASE_URL", "REDIS_URL"}:
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(environ.Env, "read_env", classmethod(lambda cls, *a, **kw: None))
    return runpy.run_path(str(BASE_DIR / "changemakers" / "settings" / "base.py"))


_CHECK_DEPLOY = """
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
"""


def test_production_settings_pass_the_deployment_checklist_without_warnings():
    result = run_python(
        _CHECK_DEPLOY,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        **PRODUCTION_ENV,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output


@pytest.mark.parametrize("keys", ["", "not-a-fernet-key"])
def test_the_deployment_checklist_fails_without_usable_field_encryption_keys(keys):
    result = run_python(
        _CHECK_DEPLOY,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_FIELD_ENCRYPTION_KEYS=keys,
        **PRODUCTION_ENV,
    )

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert ("core.E001" if not keys else "core.E002") in output
    assert "DJANGO_FIELD_ENCRYPTION_KEYS" in output


def test_field_encryption_keys_are_read_in_order_and_derived_only_in_debug(monkeypatch):
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    loaded = settings_from(
        monkeypatch,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_FIELD_ENCRYPTION_KEYS=f"{new},{old}",
        **PRODUCTION_ENV,
    )
    assert loaded["FIELD_ENCRYPTION_KEYS"] == [new, old]
    assert settings_from(monkeypatch, DJANGO_DEBUG="true")["FIELD_ENCRYPTION_KEYS"] == []


def test_settings_refuse_to_load_without_a_secret_key_when_debug_is_off():
    result = run_python("import django; django.setup()", **PRODUCTION_ENV)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_settings_refuse_to_load_without_allowed_hosts_when_debug_is_off(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_ALLOWED_HOSTS"):
        settings_from(
            monkeypatch, DJANGO_DEBUG="false", DJANGO_SECRET_KEY=secrets.token_urlsafe(64)
        )


def test_embedded_defaults_use_sqlite_and_the_filesystem_broker(monkeypatch):
    loaded = settings_from(monkeypatch, DJANGO_DEBUG="true")

    assert loaded["DEBUG"] is True
    database = loaded["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(database["NAME"]) == BASE_DIR / "var" / "changemakers.sqlite3"
    assert loaded["CELERY_BROKER_URL"] == "filesystem://"
    assert (BASE_DIR / "var" / "celery" / "queue").is_dir()


def test_beat_sends_the_sweeper_every_minute_unless_told_otherwise(monkeypatch):
    default = settings_from(monkeypatch, DJANGO_DEBUG="true")["CELERY_BEAT_SCHEDULE"]
    faster = settings_from(monkeypatch, DJANGO_DEBUG="true", DJANGO_PAYOUT_SWEEP_EVERY="5")

    sweep = default["sweep-disbursements"]
    assert sweep["task"] == "donations.tasks.sweep_disbursements"
    assert (sweep["schedule"], sweep["options"]["expires"]) == (60.0, 54.0)
    assert faster["CELERY_BEAT_SCHEDULE"]["sweep-disbursements"]["schedule"] == 5.0
    assert default["send-milestone-reminders"] == BEAT_SCHEDULE["send-milestone-reminders"]


def test_large_grants_take_two_approvers_above_10000_unless_told_otherwise(monkeypatch):
    default = settings_from(monkeypatch, DJANGO_DEBUG="true")["SECOND_APPROVAL_ABOVE"]
    higher = settings_from(
        monkeypatch, DJANGO_DEBUG="true", DJANGO_SECOND_APPROVAL_ABOVE="50000.50"
    )

    assert default == Decimal("10000")
    assert higher["SECOND_APPROVAL_ABOVE"] == Decimal("50000.50")
    assert isinstance(higher["SECOND_APPROVAL_ABOVE"], Decimal)  # money, never a float


def test_database_url_and_redis_url_are_honoured(monkeypatch):
    loaded = settings_from(
        monkeypatch,
        DATABASE_URL="postgres://cm:pw@db.internal:5433/changemakers_prod",
        REDIS_URL="redis://broker.internal:6380/2",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        **PRODUCTION_ENV,
    )

    database = loaded["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], str(database["PORT"]), database["NAME"]) == (
        "db.internal",
        "5433",
        "changemakers_prod",
    )
    assert database["CONN_HEALTH_CHECKS"] is True
    assert loaded["CELERY_BROKER_URL"] == "redis://broker.internal:6380/2"
    assert loaded["CELERY_BROKER_TRANSPORT_OPTIONS"]["visibility_timeout"] > 0
    # Rate-limit counters live where every web process sees them.
    assert loaded["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert loaded["CACHES"]["default"]["LOCATION"] == "redis://broker.internal:6380/2"


def test_this_test_run_uses_the_servers_the_environment_names():
    # What CI relies on: DATABASE_URL and REDIS_URL really reach the suite.
    database_url = os.environ.get("DATABASE_URL", "")
    expected_vendor = "postgresql" if database_url.startswith("postgres") else "sqlite"
    assert connection.vendor == expected_vendor
    assert app.conf.broker_url == (os.environ.get("REDIS_URL") or "filesystem://")
    assert app.conf.broker_url == settings.CELERY_BROKER_URL


def _manage_py_debug(**env: str) -> str:
    result = run_python(
        """
import runpy, sys
sys.argv = ["manage.py", "shell", "-v", "0", "-c",
            "from django.conf import settings; print('DEBUG', settings.DEBUG)"]
runpy.run_path("manage.py", run_name="__main__")
""",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_manage_py_in_a_checkout_with_no_secret_runs_in_debug():
    assert _manage_py_debug() == "DEBUG True"


def test_manage_py_in_a_deployment_keeps_debug_off():
    secret = secrets.token_urlsafe(64)
    assert _manage_py_debug(DJANGO_SECRET_KEY=secret, **PRODUCTION_ENV) == "DEBUG False"
    assert (
        _manage_py_debug(DJANGO_SECRET_KEY=secret, DJANGO_ALLOWED_HOSTS="changemakers.example")
        == "DEBUG False"
    )


@pytest.mark.parametrize(
    "env",
    [{}, {"DJANGO_PAYOUT_RETRY_BACKOFF_MAX": "900"}, {"DJANGO_PAYOUT_RETRY_BACKOFF_MAX": "5"}],
)
def test_the_redis_visibility_timeout_outlasts_any_countdown_plus_the_time_limit(monkeypatch, env):
    """A retry waiting out its countdown sits unacknowledged in a worker: if Redis's
    visibility timeout ran out first, Redis would hand it to a second worker as well."""
    loaded = settings_from(monkeypatch, DJANGO_DEBUG="true", REDIS_URL="redis://r:6379/0", **env)
    # The longest countdown: the payout backoff cap (full jitter stays under it) and the cap
    # of every task that retries itself with Celery's backoff.
    # (600 s unless the task says otherwise, as in celery.app.autoretry).
    import donations.tasks  # noqa: F401  registers the tasks

    caps = [loaded["PAYOUT_RETRY_BACKOFF_MAX"]] + [
        getattr(task, "retry_backoff_max", 600)
        for task in app.tasks.values()
        if getattr(task, "retry_backoff", 0)
    ]
    assert len(caps) > 1  # the email tasks retry themselves
    longest = max(caps) + loaded["CELERY_TASK_TIME_LIMIT"]

    visibility = loaded["CELERY_BROKER_TRANSPORT_OPTIONS"]["visibility_timeout"]

    assert visibility >= 2 * longest
    if env:
        backoff_max = int(env["DJANGO_PAYOUT_RETRY_BACKOFF_MAX"])
        assert visibility >= 2 * (backoff_max + loaded["CELERY_TASK_TIME_LIMIT"])
