"""Enqueueing a job from a service once its transaction commits, by the task's name.

Tasks import services, so services never import tasks: a service names the task it wants
(its explicit dotted name, as in changemakers/beat.py) and this looks it up in the Celery
app's registry. The lookup happens when the service asks, so a misspelt or missing task fails
the service loudly instead of dropping the job after the commit; the message is sent only if
and when the transaction commits, as `task.delay_on_commit()` would. With
CELERY_TASK_ALWAYS_EAGER (the tests) the task runs in-process at that moment.
"""

import functools

from celery import current_app
from celery.app.task import Task
from celery.exceptions import NotRegistered
from django.db import transaction


def registered_task(task_name: str) -> Task:
    """The task registered under `task_name`; NotRegistered if there is none.

    A web process imports no tasks module of its own accord (only a worker does, at start):
    on a miss the installed apps' tasks modules are imported once and the name looked up again.
    """
    try:
        return current_app.tasks[task_name]
    except NotRegistered:
        current_app.autodiscover_tasks(force=True)
        return current_app.tasks[task_name]


def enqueue_on_commit(task_name: str, *args, **kwargs) -> None:
    """Queue `task_name(*args, **kwargs)` once the current transaction commits; nothing is
    sent if it rolls back. Outside a transaction it is sent at once. Arguments must be JSON:
    ids, never model instances."""
    task = registered_task(task_name)
    transaction.on_commit(functools.partial(task.delay, *args, **kwargs))


def enqueue_on_commit_later(task_name: str, *args, countdown: float) -> None:
    """Like `enqueue_on_commit`, run `countdown` seconds after the commit at the earliest.
    Keep countdowns well under the broker's visibility timeout (see the settings): a message
    waiting out a longer one is handed to a second worker."""
    task = registered_task(task_name)
    transaction.on_commit(functools.partial(task.apply_async, args=args, countdown=countdown))
