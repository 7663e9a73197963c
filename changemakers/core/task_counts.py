"""How many times each Celery task succeeded, failed and was retried, counted where every web
process can read it: the default cache, which is the shared Redis in production. /metrics
reports them (changemakers/backoffice/metrics.py). Without Redis (the embedded defaults) each
process counts only its own tasks.

A count is an operator's figure, never a record of work: a cache that does not answer costs
the count, never the task.
"""

import logging

from django.core.cache import cache

STATES = ("succeeded", "failed", "retried")
PREFIX = "task-count"
logger = logging.getLogger(__name__)


def key(task_name: str, state: str) -> str:
    return f"{PREFIX}:{state}:{task_name}"


def count(task_name: str, state: str) -> None:
    try:
        k = key(task_name, state)
        cache.add(k, 0, timeout=None)
        cache.incr(k)
    except Exception:
        logger.debug("could not count %s %s", task_name, state, exc_info=True)


def read(task_names: list[str]) -> dict[tuple[str, str], int]:
    """{(task, state): count} for the given tasks (missing counts are 0)."""
    keys = {key(name, state): (name, state) for name in task_names for state in STATES}
    found = cache.get_many(list(keys))
    return {pair: int(found.get(k) or 0) for k, pair in keys.items()}


def _succeeded(sender=None, **_kwargs) -> None:
    count(sender.name, "succeeded")


def _failed(sender=None, **_kwargs) -> None:
    count(sender.name, "failed")


def _retried(sender=None, **_kwargs) -> None:
    count(sender.name, "retried")


def connect_celery() -> None:
    from celery.signals import task_failure, task_retry, task_success

    task_success.connect(_succeeded, weak=False, dispatch_uid="task-count-success")
    task_failure.connect(_failed, weak=False, dispatch_uid="task-count-failure")
    task_retry.connect(_retried, weak=False, dispatch_uid="task-count-retry")
