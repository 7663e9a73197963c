"""Enqueueing by task name after commit (changemakers.core.jobs): what services use instead of
importing tasks."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import current_app, shared_task
from celery.exceptions import NotRegistered
from django.contrib.auth import get_user_model
from django.db import transaction

from changemakers.core.jobs import enqueue_on_commit, registered_task

BASE_DIR = Path(__file__).resolve().parents[2]
PRODUCT = ("changemakers", "creators", "programs", "donations")
# The kernel's events hand each new event to the tasks the settings name (EVENT_TASKS).
EVENTS_MODULE = BASE_DIR / "changemakers" / "core" / "events.py"
MARK = "enqueued after commit"


@shared_task(name="tests.core.mark_user")
def mark_user(user_id: int, *, mark: str = MARK) -> None:
    get_user_model().objects.filter(pk=user_id).update(first_name=mark)


def test_the_task_runs_once_the_transaction_commits(db, django_capture_on_commit_callbacks):
    user = get_user_model().objects.create(username="committed@example.org")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        enqueue_on_commit("tests.core.mark_user", user.pk, mark="keyword too")
        user.refresh_from_db()
        assert user.first_name == ""  # not before the commit

    assert len(callbacks) == 1
    user.refresh_from_db()
    assert user.first_name == "keyword too"  # the test settings run tasks eagerly


def test_nothing_is_enqueued_when_the_transaction_rolls_back(
    db, django_capture_on_commit_callbacks
):
    user = get_user_model().objects.create(username="rolled-back@example.org")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        _enqueue_then_fail(user.pk)

    assert callbacks == []
    user.refresh_from_db()
    assert user.first_name == ""


def _enqueue_then_fail(user_id: int) -> None:
    with transaction.atomic():
        enqueue_on_commit("tests.core.mark_user", user_id)
        raise RuntimeError("the service failed after asking for the task")


def test_an_unknown_task_name_fails_when_asked_not_after_the_commit(
    db, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(NotRegistered, match=r"tests\.core\.no_such_task"),
        transaction.atomic(),
    ):
        enqueue_on_commit("tests.core.no_such_task", 1)

    assert callbacks == []


def _enqueued_task_names() -> dict[str, str]:
    """Every task name the product passes to enqueue_on_commit, with where it is written."""
    found = {}
    for package in PRODUCT:
        for path in (BASE_DIR / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", None) == "enqueue_on_commit"
                    and node.args
                ):
                    name = node.args[0]
                    if path == EVENTS_MODULE:
                        continue  # the names in EVENT_TASKS (test below)
                    assert isinstance(name, ast.Constant), f"{path}:{node.lineno}: a literal name"
                    found[name.value] = f"{path.relative_to(BASE_DIR)}:{node.lineno}"
    return found


def test_every_task_events_are_handed_to_is_registered_under_its_name():
    from changemakers.settings import base

    assert base.EVENT_TASKS
    for name in base.EVENT_TASKS:
        task = registered_task(name)
        module, _, function = name.rpartition(".")
        assert (task.run.__module__, task.run.__name__) == (module, function)


def test_every_task_the_services_enqueue_is_registered_under_its_name():
    names = _enqueued_task_names()

    assert len(names) >= 7, names  # what the services of the three apps enqueue today
    for name, where in names.items():
        task = registered_task(name)
        module, _, function = name.rpartition(".")
        assert (task.run.__module__, task.run.__name__) == (module, function), where


def test_a_web_process_finds_tasks_that_no_module_has_imported_yet():
    # Only a worker imports the tasks modules when it starts; a web process has not.
    code = (
        "import django; django.setup()\n"
        "from celery import current_app\n"
        "from changemakers.core.jobs import registered_task\n"
        "assert 'donations.tasks.pay_disbursement' not in current_app.tasks\n"
        "print(registered_task('donations.tasks.pay_disbursement').name)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "changemakers.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "donations.tasks.pay_disbursement"


def test_the_helper_looks_tasks_up_in_the_current_celery_app():
    assert registered_task("tests.core.mark_user") is current_app.tasks["tests.core.mark_user"]
