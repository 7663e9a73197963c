"""Fixtures the payment tests share."""

import uuid

import pytest


@pytest.fixture
def held_tasks():
    """Tasks enqueued on commit go to a queue nobody reads (purged afterwards): the test runs
    the work itself, from several threads at once."""
    from changemakers.celery import app

    queue = f"held-{uuid.uuid4().hex}"
    default_queue = app.conf.task_default_queue
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    yield
    app.conf.task_always_eager = True
    app.conf.task_default_queue = default_queue
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)
