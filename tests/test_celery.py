"""Celery: the settings that keep work from being lost, on-commit enqueueing, and a real worker
taking a task from Redis and seeing the rows the test committed."""

import os
import time
from pathlib import Path

import pytest
from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import transaction

from changemakers.celery import app

BASE_DIR = Path(__file__).resolve().parent.parent
WORKER_MARK = "seen by worker"


@shared_task(name="tests.mark_user_seen")
def mark_user_seen(user_id: int) -> None:
    """Test-only task: the worker loads it with `--include tests.test_celery`."""
    get_user_model().objects.filter(pk=user_id).update(first_name=WORKER_MARK)


def test_work_is_acknowledged_late_one_message_at_a_time():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_only_json_goes_over_the_wire():
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert list(app.conf.accept_content) == ["json"]


def test_tasks_have_time_limits():
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="visibility timeout is Redis-only")
def test_redis_redelivers_unacknowledged_work_after_a_visibility_timeout():
    assert app.conf.broker_url.startswith("redis://")
    assert 0 < app.conf.broker_transport_options["visibility_timeout"] <= 3600


def test_delay_on_commit_enqueues_nothing_when_the_transaction_rolls_back(
    db, django_capture_on_commit_callbacks
):
    user = get_user_model().objects.create(username="rolled-back@example.org")

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        _enqueue_then_fail(user.pk)

    assert callbacks == []


def _enqueue_then_fail(user_id: int) -> None:
    with transaction.atomic():
        mark_user_seen.delay_on_commit(user_id)
        raise RuntimeError("the service failed after asking for the task")


def test_delay_on_commit_enqueues_once_the_transaction_commits(
    db, django_capture_on_commit_callbacks
):
    user = get_user_model().objects.create(username="committed@example.org")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        mark_user_seen.delay_on_commit(user.pk)

    assert len(callbacks) == 1
    user.refresh_from_db()
    assert user.first_name == WORKER_MARK  # the test settings run tasks eagerly


@pytest.mark.broker
@pytest.mark.postgres
def test_a_real_worker_runs_a_task_sent_through_redis(start_worker):
    worker = start_worker(include=("tests.test_celery",))
    assert app.conf.broker_url.startswith("redis://")
    user = get_user_model().objects.create(username="queued@example.org")  # committed

    mark_user_seen.delay(user.pk)

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        user.refresh_from_db()
        if user.first_name == WORKER_MARK:
            break
        assert worker.process.poll() is None, worker.output()
        time.sleep(0.2)
    assert user.first_name == WORKER_MARK, worker.output()

    # The same worker answers remote control through the broker (what its healthcheck uses).
    replies = app.control.ping(destination=[worker.hostname], timeout=2)
    assert replies, worker.output()
