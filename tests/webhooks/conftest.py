"""The webhook tests' fixtures: a partner's endpoint (tests/webhooks/receiver.py) and
endpoints registered straight in the database."""

import pytest

from changemakers.webhooks.models import Endpoint
from tests.webhooks.receiver import receiver_running


@pytest.fixture
def receiver(settings):
    with receiver_running(settings) as state:
        yield state


@pytest.fixture
def endpoint_for(db):
    def make(url: str, events=("grant.disbursed",), **fields) -> Endpoint:
        return Endpoint.objects.create(name="Partner", url=url, events=list(events), **fields)

    return make
