"""The webhook tests' fixtures: a partner's endpoint (tests/webhooks/receiver.py) and
endpoints registered straight in the database."""

import pytest

from changemakers.settings import base
from changemakers.webhooks.models import Endpoint
from tests.webhooks.receiver import receiver_running


@pytest.fixture(autouse=True)
def _events_handed_on(settings):
    """As in production: each event goes to the webhooks' fan-out once its change commits."""
    settings.EVENT_TASKS = base.EVENT_TASKS


@pytest.fixture
def receiver(settings):
    with receiver_running(settings) as state:
        yield state


@pytest.fixture
def endpoint_for(db):
    def make(url: str, events=("grant.disbursed",), **fields) -> Endpoint:
        return Endpoint.objects.create(name="Partner", url=url, events=list(events), **fields)

    return make
