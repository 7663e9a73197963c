"""The world of tests/security/world.py, built once per test module.

Django's `TestCase.setUpClass` opens the transaction the world lives in (marked as the test
case's own, so the services' durable transactions still work inside it) and `tearDownClass`
rolls it back; each test's `db` fixture nests a savepoint inside, so whatever a test changes
is undone before the next one. Nothing here may use `transactional_db`: it would empty the
tables under the open transaction.
"""

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import TestCase, override_settings

from tests.security.world import World, build_world


class _WorldCase(TestCase):
    world: World

    @classmethod
    def setUpTestData(cls) -> None:
        cls.world = build_world()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"))
    media.enable()
    with django_db_blocker.unblock():
        _WorldCase.setUpClass()
    try:
        yield _WorldCase.world
    finally:
        with django_db_blocker.unblock():
            _WorldCase.tearDownClass()
        media.disable()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """The public forms count requests in the cache; no test inherits another's counts."""
    cache.clear()
    yield
    cache.clear()
