"""Shared fixtures, and the guard that keeps CI honest: under CI=true the suite refuses to
start unless DATABASE_URL is PostgreSQL and REDIS_URL is set, so nothing that needs them can
quietly run on SQLite or skip."""

import os

import pytest

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
    """`postgres` and `broker` tests skip on a laptop without those servers, never in CI."""
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    has_redis = bool(os.environ.get("REDIS_URL"))
    for item in items:
        if item.get_closest_marker("postgres") and not on_postgres and not _in_ci():
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL=postgres://..."))
        if item.get_closest_marker("broker") and not has_redis and not _in_ci():
            item.add_marker(pytest.mark.skip(reason="needs REDIS_URL=redis://..."))


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True, username="staff@example.org")


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
def _english_by_default():
    """A request served in French leaves French active in the thread; start each test in the
    default language so messages compare as written."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploads go to a temporary MEDIA_ROOT, never into the checkout."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
