"""`/healthz`: the probe a load balancer, docker-compose and `make run` checks use.

`/healthz/live` is the liveness probe: 200 whenever the web process answers at all, without
touching the database or the broker (a process manager restarts the process when it stops
answering; a database outage must not make it restart every web process). It is also the
trivial view `make bench-web` compares the pages with.

It answers 200 only when the database and the Celery broker both answer, 503 otherwise, within
about two seconds whatever is down. Failures are logged here in full; the response names the
failing part only, so a public probe leaks nothing about the servers behind it.
"""

import logging
import os
import time
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from changemakers.celery import app

logger = logging.getLogger(__name__)

# Seconds a probe may wait for the broker; a dead Redis must give a fast 503, not a hang.
BROKER_TIMEOUT = 2.0
_PROBE_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": BROKER_TIMEOUT,
    "socket_timeout": BROKER_TIMEOUT,
    "retry_on_timeout": False,
    "max_retries": 0,
}


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def database_status() -> dict[str, Any]:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.exception("Health check: the database did not answer")
        return {"ok": False, "vendor": connection.vendor, "error": "database unavailable"}
    return {"ok": True, "vendor": connection.vendor, "ms": _elapsed_ms(started)}


def broker_status() -> dict[str, Any]:
    started = time.monotonic()
    transport = "unknown"
    try:
        with app.connection_for_write(
            connect_timeout=BROKER_TIMEOUT, transport_options=_PROBE_TRANSPORT_OPTIONS
        ) as conn:
            transport = conn.transport_cls
            # One attempt, no retry loop: the caller polls again if it wants to.
            conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT)
            if transport == "filesystem":
                _check_filesystem_broker(conn.transport_options)
    except Exception:
        logger.exception("Health check: the Celery broker (%s) did not answer", transport)
        return {"ok": False, "transport": transport, "error": "broker unavailable"}
    return {"ok": True, "transport": transport, "ms": _elapsed_ms(started)}


def _check_filesystem_broker(options: dict[str, Any]) -> None:
    """The filesystem broker always "connects"; what matters is that its folders are there."""
    for key in ("data_folder_in", "data_folder_out"):
        folder = options.get(key)
        if folder and not os.access(folder, os.W_OK | os.X_OK):
            raise OSError(f"{key} is not a writable folder")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = database_status()
    broker = broker_status()
    ok = database["ok"] and broker["ok"]
    return JsonResponse(
        {"status": "ok" if ok else "fail", "database": database, "broker": broker},
        status=200 if ok else 503,
    )


@never_cache
@require_GET
def live(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
