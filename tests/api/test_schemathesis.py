"""The OpenAPI schema against the API itself: schemathesis generates requests for every
operation of /api/v1/schema/ (valid and invalid parameters and bodies) and sends them, with a
read token, to the app on the demo database (`seed_demo`). No answer may be a 5xx, and every
answer must be one the schema lists, with the content type and the body it says.

Writes are sent too: a read token gets their 403 problem, which the schema lists. About a
minute on two cores: EXAMPLES requests an operation."""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.management import call_command
from django.db import close_old_connections
from django.test import TestCase, override_settings
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from changemakers.api import services
from changemakers.api.models import Integration
from changemakers.core.roles import StaffRole
from changemakers.wsgi import application
from tests.factories import StaffFactory

EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


class _Seeded(TestCase):
    token = ""

    @classmethod
    def setUpTestData(cls) -> None:
        call_command("seed_demo", password="a demo passphrase 42", verbosity=0)
        root = StaffFactory(is_superuser=True, username="api-root@example.org")
        integration = services.integration_create(
            name="Schema check", kind=Integration.Kind.STAFF, roles=list(StaffRole), actor=root
        )
        cls.token = services.token_issue(
            integration=integration, scope="read", actor=root
        ).plaintext


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[str]:
    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"), API_RATE_LIMIT=10**6)
    media.enable()
    with django_db_blocker.unblock():
        _Seeded.setUpClass()
    try:
        yield _Seeded.token
    finally:
        with django_db_blocker.unblock():
            _Seeded.tearDownClass()
        media.disable()


@pytest.fixture
def connection_kept():
    """As Django's test client does: the app is called in the test's thread, inside its
    transaction, which closing "old" connections at each request's end would cut."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_every_answer_matches_the_schema(seeded, db, connection_kept):
    cache.clear()
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    headers = {"Authorization": f"Bearer {seeded}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            check()
