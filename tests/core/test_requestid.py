"""One request id per request: in the response, on every log line, and carried by the Celery
tasks the request enqueues into the worker that runs them."""

import logging
import time

import pytest
from celery import shared_task
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from changemakers.core import requestid


@shared_task(name="tests.remember_request_id")
def remember_request_id(user_id: int) -> None:
    """Test-only task (the worker loads it with `--include tests.core.test_requestid`)."""
    get_user_model().objects.filter(pk=user_id).update(last_name=requestid.current())


def test_each_response_carries_a_fresh_id(client):
    first = client.get(reverse("healthz-live"))["X-Request-ID"]
    second = client.get(reverse("healthz-live"))["X-Request-ID"]
    assert len(first) == 32
    assert first != second


def test_the_proxys_id_is_kept_when_it_looks_like_one(client):
    kept = client.get(reverse("healthz-live"), HTTP_X_REQUEST_ID="proxy-7f3a9c21")
    assert kept["X-Request-ID"] == "proxy-7f3a9c21"
    replaced = client.get(reverse("healthz-live"), HTTP_X_REQUEST_ID="<script>\nx")
    assert replaced["X-Request-ID"] != "<script>\nx"
    assert len(replaced["X-Request-ID"]) == 32


def test_log_lines_written_during_a_request_carry_its_id():
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep()
    handler.addFilter(requestid.RequestIdFilter())
    logger = logging.getLogger("tests.requestid")
    logger.addHandler(handler)

    def view(request):
        logger.warning("inside")
        return HttpResponse("ok")

    try:
        response = requestid.RequestIdMiddleware(view)(RequestFactory().get("/"))
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    assert records[0].request_id == response["X-Request-ID"]
    assert records[1].request_id == ""


def test_production_logs_are_json_with_the_request_id(settings):
    from django.conf import settings as django_settings

    formatter = django_settings.LOGGING["formatters"]["json"]
    assert formatter["()"] == "pythonjsonlogger.json.JsonFormatter"
    assert "%(request_id)s" in formatter["fmt"]


@pytest.mark.broker
@pytest.mark.postgres
def test_a_task_enqueued_during_a_request_runs_under_its_id(start_worker):
    worker = start_worker(include=("tests.core.test_requestid",))
    user = get_user_model().objects.create(username="traced@example.org")

    token = requestid._current.set("req-0123456789abcdef")
    try:
        remember_request_id.delay(user.pk)
    finally:
        requestid._current.reset(token)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        user.refresh_from_db()
        if user.last_name:
            break
        assert worker.process.poll() is None, worker.output()
        time.sleep(0.2)
    assert user.last_name == "req-0123456789abcdef", worker.output()
