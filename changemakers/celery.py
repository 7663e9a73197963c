"""The Celery app, configured from Django settings (namespace CELERY_)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "changemakers.settings.base")

app = Celery("changemakers")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _connect_signals() -> None:
    # The request id follows a request into its tasks; task outcomes are counted for /metrics.
    from changemakers.core import requestid, task_counts

    requestid.connect_celery()
    task_counts.connect_celery()


_connect_signals()
