"""/metrics: who may read it, and that its figures are the program's (read from the database
and the broker when scraped), next to django-prometheus's request metrics."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import time_machine
from celery import shared_task
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from changemakers.core import task_counts
from tests.factories import DisbursementFactory, FundFactory, GrantFactory

pytestmark = pytest.mark.django_db


def samples(response) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def scrape(client, **extra):
    return client.get(reverse("metrics"), **extra)


def test_loopback_may_read_the_metrics(client):
    response = scrape(client)  # the test client comes from 127.0.0.1
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


def test_another_network_gets_nothing_without_the_token(client, settings):
    settings.METRICS_TOKEN = "a-long-scrape-token-for-tests"
    assert scrape(client, REMOTE_ADDR="203.0.113.9").status_code == 404
    wrong = scrape(client, REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 404
    right = scrape(
        client,
        REMOTE_ADDR="203.0.113.9",
        HTTP_AUTHORIZATION="Bearer a-long-scrape-token-for-tests",
    )
    assert right.status_code == 200


def test_no_token_configured_means_a_bearer_header_opens_nothing(client, settings):
    settings.METRICS_TOKEN = ""
    response = scrape(client, REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 404


def test_an_allowed_network_may_read_them(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.1.0.0/16"]
    assert scrape(client, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert scrape(client, REMOTE_ADDR="127.0.0.1").status_code == 404


def test_payments_funds_and_the_oldest_unfinished_payment(client):
    fund = FundFactory(name="Fund 2026", currency="USD", total=Decimal("1000000.00"))
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        DisbursementFactory(grant=GrantFactory(fund=fund, status="processing"), status="processing")
    DisbursementFactory(
        grant=GrantFactory(fund=fund, status="disbursed"),
        status="succeeded",
        provider_reference="sbx_1",
    )
    DisbursementFactory(grant=GrantFactory(fund=fund, status="failed"), status="failed")
    fund.committed, fund.disbursed = Decimal("75000.00"), Decimal("25000.00")
    fund.save(update_fields=["committed", "disbursed"])

    with time_machine.travel(dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC), tick=False):
        found = samples(scrape(client))

    def payments(status):
        return found[("changemakers_payments", (("provider", "sandbox"), ("status", status)))]

    assert (payments("processing"), payments("succeeded"), payments("failed")) == (1, 1, 1)
    assert found[("changemakers_oldest_unfinished_payment_age_seconds", ())] == 3600
    labels = (("currency", "USD"), ("fund", "Fund 2026"))
    assert found[("changemakers_fund_total", labels)] == 1_000_000
    assert found[("changemakers_fund_committed", labels)] == 75_000
    assert found[("changemakers_fund_disbursed", labels)] == 25_000
    assert found[("changemakers_grants", (("status", "failed"),))] == 1
    assert found[("changemakers_grants", (("status", "proposed"),))] == 0


def test_no_unfinished_payment_reads_zero(client):
    found = samples(scrape(client))
    assert found[("changemakers_oldest_unfinished_payment_age_seconds", ())] == 0


def test_failed_webhook_deliveries_are_counted(client):
    found = samples(scrape(client))
    assert found[("changemakers_webhook_deliveries_failed", ())] == 0
    assert found[("changemakers_webhook_endpoints_failing", ())] == 0


@shared_task(name="tests.metrics_probe")
def metrics_probe(fail: bool) -> None:
    if fail:
        raise ValueError("the probe failed on purpose")


def test_task_outcomes_are_counted(client):
    metrics_probe.delay(False)
    metrics_probe.delay(False)
    # As a worker does: the failure is recorded, not raised into the caller.
    assert metrics_probe.apply(args=(True,), throw=False).failed()

    found = samples(scrape(client))

    def tasks(state):
        labels = (("state", state), ("task", "tests.metrics_probe"))
        return found[("changemakers_celery_tasks_total", labels)]

    assert (tasks("succeeded"), tasks("failed"), tasks("retried")) == (2, 1, 0)
    assert task_counts.read(["tests.metrics_probe"])[("tests.metrics_probe", "failed")] == 1


@pytest.mark.broker
def test_queue_depth_is_read_from_the_broker(client, settings):
    from changemakers.celery import app

    queue = f"metrics-depth-test-{uuid.uuid4().hex[:8]}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    try:
        with app.connection_for_write() as conn:
            channel = conn.default_channel
            channel.queue_declare(queue=queue, durable=True, auto_delete=False)
            producer = conn.Producer(channel)
            for _ in range(3):
                producer.publish({"probe": True}, routing_key=queue, serializer="json")
        found = samples(scrape(client))
        assert found[("changemakers_celery_queue_depth", (("queue", queue),))] == 3
    finally:
        # Purged, not deleted: a new connection knows no bindings, so Redis's transport
        # would delete nothing and leave the messages behind.
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(queue)


def test_requests_are_measured_per_view(client):
    client.get(reverse("healthz-live"))
    text = scrape(client).content.decode()
    assert "django_http_requests_latency_seconds_by_view_method" in text
    assert 'view="healthz-live"' in text
