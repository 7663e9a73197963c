"""Shared fixtures, and the guard that keeps CI honest: under CI=true the suite refuses to
start unless DATABASE_URL is PostgreSQL and REDIS_URL is set, so nothing that needs them can
quietly run on SQLite or skip."""

import os
import socket
import subprocess
import sys
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import override_settings

from changemakers.core import page_cache
from tests.factories import (
    CreatorFactory,
    NonprofitContactFactory,
    UserFactory,
)


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        database_url = os.environ.get("DATABASE_URL", "")
        if not database_url.startswith(("postgres://", "postgresql://")):
            pytest.exit("CI runs on PostgreSQL: set DATABASE_URL to a postgres:// URL.", 3)
        if not os.environ.get("REDIS_URL", "").startswith("redis://"):
            pytest.exit("CI runs with Redis: set REDIS_URL to a redis:// URL.", 3)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`postgres`, `broker` and `html_checker` tests skip on a laptop without what they need
    (the servers; Java and vnu), never in CI."""
    from tests.security import vnu

    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    has_redis = bool(os.environ.get("REDIS_URL"))
    for item in items:
        if item.get_closest_marker("postgres") and not on_postgres and not _in_ci():
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL=postgres://..."))
        if item.get_closest_marker("broker") and not has_redis and not _in_ci():
            item.add_marker(pytest.mark.skip(reason="needs REDIS_URL=redis://..."))
        if item.get_closest_marker("html_checker") and not vnu.available() and not _in_ci():
            item.add_marker(pytest.mark.skip(reason=vnu.MISSING))


# The test settings turn the "pages" cache off; the tests of what it keeps turn this one on.
IN_MEMORY = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages"},
}


@pytest.fixture
def pages():
    """A real, empty, in-memory pages cache for the test (and its live server's thread)."""
    with override_settings(CACHES=IN_MEMORY):
        page_cache._pages().clear()
        yield page_cache._pages()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True, username="staff@example.org")


@pytest.fixture
def proposer_user(db):
    """Staff who propose grants: someone else (staff_user) approves and schedules them."""
    return UserFactory(is_staff=True, is_superuser=True, username="proposer@example.org")


@pytest.fixture
def creator_user(db):
    return CreatorFactory(user=UserFactory()).user


@pytest.fixture
def other_creator_user(db):
    return CreatorFactory(user=UserFactory()).user


@pytest.fixture
def nonprofit_user(db):
    return NonprofitContactFactory().user


@pytest.fixture(autouse=True)
def _one_approver_unless_a_test_asks(settings):
    """Most tests are about something else than the second approval, and approve a $25,000
    grant with one approver; those about it set SECOND_APPROVAL_ABOVE themselves (see
    tests/donations/test_duties.py). The production default is checked in test_settings.py."""
    settings.SECOND_APPROVAL_ABOVE = Decimal("1000000000")


@pytest.fixture(autouse=True)
def _english_by_default():
    """A request served in French leaves French active in the thread; start each test in the
    default language so messages compare as written."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _rate_limits_start_at_zero():
    """Rate-limit counts live in the cache, which a test's rollback does not empty: a count
    kept under a user's id would follow the id into the next test that reuses it."""
    from django.core.cache import cache

    cache.clear()


BASE_DIR = Path(__file__).resolve().parent.parent


class Worker:
    """A real `celery worker` process on a queue of its own, reading the test database."""

    def __init__(self, *, pool: str, concurrency: int, include: tuple[str, ...], env: dict):
        from django.db import connection

        self.queue = f"test-{uuid.uuid4().hex}"
        self.hostname = f"{self.queue}@{socket.gethostname()}"
        database = connection.settings_dict
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "changemakers", "worker"),
                *("--pool", pool, "--concurrency", str(concurrency), "-l", "warning"),
                *("-n", self.hostname),
                *(arg for module in include for arg in ("--include", module)),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            ],
            cwd=BASE_DIR,
            env={
                **os.environ,
                # Production settings, pointed at the test database and this worker's queue.
                "DJANGO_SETTINGS_MODULE": "changemakers.settings.base",
                "DJANGO_DEBUG": "false",
                "DJANGO_SECRET_KEY": "test-worker-only-not-a-secret-" + "x" * 40,
                "DJANGO_ALLOWED_HOSTS": "localhost",
                "DJANGO_CELERY_QUEUE": self.queue,
                "DATABASE_URL": (
                    f"postgres://{database['USER']}:{database['PASSWORD'] or ''}"
                    f"@{database['HOST']}:{database['PORT']}/{database['NAME']}"
                ),
                **env,
            },
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def children(self) -> list[int]:
        """The pids of a prefork worker's pool processes."""
        found = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        )
        return [int(pid) for pid in found.stdout.split()]

    def stop(self) -> None:
        from changemakers.celery import app

        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(self.queue)
            redis = conn.default_channel.client
            leftovers = list(redis.scan_iter(match=f"_kombu.binding*.{self.queue}"))
            if leftovers:
                redis.delete(*leftovers)


@pytest.fixture
def start_worker(transactional_db):
    """Start real workers: `start_worker(pool="prefork", concurrency=2, env={...})`.

    While the test runs, tasks go through the broker (not eagerly) to the last worker's
    queue; the workers are stopped and their queues deleted afterwards.
    """
    from changemakers.celery import app

    workers: list[Worker] = []
    default_queue = app.conf.task_default_queue

    def start(
        *,
        pool: str = "solo",
        concurrency: int = 1,
        include: tuple[str, ...] = (),
        env: dict | None = None,
    ) -> Worker:
        worker = Worker(pool=pool, concurrency=concurrency, include=include, env=env or {})
        workers.append(worker)
        app.conf.task_always_eager = False
        app.conf.task_default_queue = worker.queue
        return worker

    yield start
    app.conf.task_always_eager = True
    app.conf.task_default_queue = default_queue
    for worker in workers:
        worker.stop()


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploads go to a temporary MEDIA_ROOT, never into the checkout."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def stripe_standin(settings):
    """The Stripe API stand-in (tests/standins/stripe.py) on a free port of 127.0.0.1, with the
    settings pointing the Stripe provider at it."""
    from tests.standins.stripe import StripeStandin

    standin = StripeStandin().start()
    settings.STRIPE_API_BASE = standin.url
    settings.STRIPE_SECRET_KEY = standin.secret_key
    settings.STRIPE_WEBHOOK_SECRETS = [standin.webhook_secret]
    settings.STRIPE_TIMEOUT = 5.0
    yield standin
    standin.stop()


@pytest.fixture
def tiktok_standin(settings):
    """The TikTok oEmbed stand-in (tests/standins/tiktok.py) on a free port of 127.0.0.1,
    with the preview job pointed at it (its thumbnails are on its own origin, so allowed)."""
    from tests.standins.tiktok import TikTokStandin

    standin = TikTokStandin().start()
    settings.TIKTOK_OEMBED_URL = standin.oembed_url
    settings.TIKTOK_TIMEOUT = 2.0
    settings.TIKTOK_MAX_ATTEMPTS = 3
    yield standin
    standin.stop()
