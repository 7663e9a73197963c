"""`/healthz`: 200 only when the database and the broker answer, a fast 503 otherwise."""

import os
import time
from unittest import mock

import pytest
from django.db import OperationalError, connection

from changemakers.celery import app

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def broker_url():
    """Point the Celery app at another broker for one test, and put it back."""
    original = app.conf.broker_url
    yield lambda url: setattr(app.conf, "broker_url", url)
    app.conf.broker_url = original


def test_healthz_is_ok_with_database_and_broker_up(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["vendor"] == connection.vendor
    assert body["broker"]["ok"] is True
    expected = "redis" if os.environ.get("REDIS_URL") else "filesystem"
    assert body["broker"]["transport"] == expected


def test_healthz_is_never_cached_and_needs_no_login(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "Vary" not in response or "Cookie" not in response["Vary"]


def test_healthz_accepts_only_get(client, db):
    assert client.post("/healthz").status_code == 405


def test_healthz_answers_plain_http_when_ssl_redirect_is_on(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/admin/").status_code == 301
    assert client.get("/healthz").status_code == 200


def test_healthz_fails_fast_when_the_broker_is_down(client, db, broker_url):
    broker_url(CLOSED_PORT_REDIS)

    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["database"]["ok"] is True
    assert body["broker"] == {"ok": False, "transport": "redis", "error": "broker unavailable"}
    assert elapsed < 3


@pytest.mark.postgres
def test_healthz_reports_the_database_down(client, transactional_db):
    # A real failure: the default connection is reopened against a port nothing listens on.
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["database"] == {
        "ok": False,
        "vendor": "postgresql",
        "error": "database unavailable",
    }
    assert body["broker"]["ok"] is True


def test_healthz_does_not_leak_database_error_details(client, db):
    # Narrow stand-in for the real failure above, so it also runs on SQLite.
    secret_detail = "password authentication failed for user cm_prod at 10.0.0.12"
    with mock.patch.object(connection, "cursor", side_effect=OperationalError(secret_detail)):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"]["ok"] is False
    assert b"10.0.0.12" not in response.content
    assert b"password" not in response.content


def test_liveness_answers_without_the_database_or_the_broker(client, broker_url):
    """No `db` fixture: any query would fail the test. The broker is pointed at a closed port."""
    broker_url(CLOSED_PORT_REDIS)
    response = client.get("/healthz/live")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert "no-store" in response["Cache-Control"]
    assert client.post("/healthz/live").status_code == 405


def test_liveness_answers_plain_http_when_ssl_redirect_is_on(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz/live").status_code == 200
