"""`/metrics`: what operators watch, in Prometheus's text format.

Request rates and latencies per view come from django-prometheus's middleware (in every web
process; with several gunicorn workers they are summed through `PROMETHEUS_MULTIPROC_DIR`,
see changemakers/gunicorn_conf.py). The program's own figures are read from the database and
the broker when Prometheus scrapes, so every process reports the same truth:

- payments (disbursements) by status and provider, and the age of the oldest unfinished one;
- money committed, disbursed and the total per fund (in the fund's currency, never summed
  across currencies);
- grants by status, failed webhook deliveries and endpoints failing right now;
- Celery: tasks succeeded, failed and retried (core/task_counts.py) and each queue's depth.

Who may read it: a request from an allowed network (`DJANGO_METRICS_ALLOWED_NETWORKS`,
loopback by default) or one that sends `Authorization: Bearer <DJANGO_METRICS_TOKEN>`. Anyone
else gets a 404, as if there were nothing here.
"""

import hmac
import ipaddress
import logging
import os

from celery import current_app as app
from django.conf import settings
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from changemakers.core import task_counts
from changemakers.webhooks.models import Delivery, Endpoint
from donations.models import Disbursement, Fund, Grant

logger = logging.getLogger(__name__)


class ProgramCollector:
    """The program's figures, read at scrape time."""

    def collect(self):
        yield from self._payments()
        yield from self._funds()
        yield from self._grants()
        yield from self._webhooks()
        yield from self._tasks()
        yield from self._queues()

    def _payments(self):
        by_status = GaugeMetricFamily(
            "changemakers_payments",
            "Payments (disbursements) by status and provider.",
            labels=["status", "provider"],
        )
        rows = Disbursement.objects.values("status", "provider").annotate(n=Count("id"))
        for row in rows.order_by("status", "provider"):
            by_status.add_metric([row["status"], row["provider"]], row["n"])
        yield by_status

        oldest = Disbursement.objects.filter(status__in=Disbursement.UNFINISHED_STATUSES).aggregate(
            oldest=Min("created_at")
        )["oldest"]
        age = GaugeMetricFamily(
            "changemakers_oldest_unfinished_payment_age_seconds",
            "Seconds since the oldest payment still pending or processing was scheduled "
            "(0 when none is).",
        )
        age.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
        yield age

        unknown = GaugeMetricFamily(
            "changemakers_payments_outcome_unknown",
            "Payments whose outcome the provider has not told (money stays committed).",
        )
        unknown.add_metric([], Disbursement.objects.filter(status="unknown").count())
        yield unknown

    def _funds(self):
        families = {
            name: GaugeMetricFamily(
                f"changemakers_fund_{name}",
                help_text,
                labels=["fund", "currency"],
            )
            for name, help_text in (
                ("total", "A fund's total, in its currency."),
                ("committed", "Money committed by approved grants, paid ones included."),
                ("disbursed", "Money paid out of the fund."),
            )
        }
        for fund in Fund.objects.only("name", "currency", "total", "committed", "disbursed"):
            for name, family in families.items():
                family.add_metric([fund.name, fund.currency], float(getattr(fund, name)))
        yield from families.values()

    def _grants(self):
        family = GaugeMetricFamily("changemakers_grants", "Grants by status.", labels=["status"])
        counts = dict(Grant.objects.values_list("status").annotate(n=Count("id")))
        for status in Grant.Status.values:
            family.add_metric([status], counts.get(status, 0))
        yield family

    def _webhooks(self):
        failed = GaugeMetricFamily(
            "changemakers_webhook_deliveries_failed",
            "Outbound webhook deliveries given up on after every attempt.",
        )
        failed.add_metric([], Delivery.objects.filter(status=Delivery.Status.FAILED).count())
        yield failed
        failing = GaugeMetricFamily(
            "changemakers_webhook_endpoints_failing",
            "Partner endpoints whose every attempt has failed since their last success.",
        )
        failing.add_metric([], Endpoint.objects.filter(failing_since__isnull=False).count())
        yield failing

    def _tasks(self):
        names = sorted(name for name in app.tasks if not name.startswith("celery."))
        family = CounterMetricFamily(
            "changemakers_celery_tasks",
            "Celery tasks finished, by task and outcome (succeeded, failed, retried).",
            labels=["task", "state"],
        )
        for (name, state), value in sorted(task_counts.read(names).items()):
            family.add_metric([name, state], value)
        yield family

    def _queues(self):
        family = GaugeMetricFamily(
            "changemakers_celery_queue_depth",
            "Messages waiting in a Celery queue (-1 when the broker did not answer).",
            labels=["queue"],
        )
        for queue in queue_names():
            family.add_metric([queue], queue_depth(queue))
        yield family


def queue_names() -> list[str]:
    return [settings.CELERY_TASK_DEFAULT_QUEUE]


def queue_depth(queue: str) -> int:
    try:
        with app.connection_for_read() as conn:
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
    except Exception:
        logger.warning("metrics: the broker did not say how deep %s is", queue, exc_info=True)
        return -1


def allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer "):
        return hmac.compare_digest(given.removeprefix("Bearer ").encode(), token.encode())
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for network in settings.METRICS_ALLOWED_NETWORKS
    )


def registry() -> CollectorRegistry:
    """This process's metrics, or every web process's when gunicorn runs several."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        collected = CollectorRegistry()
        MultiProcessCollector(collected)
    else:
        collected = REGISTRY
    return collected


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        raise Http404
    exposition = generate_latest(registry())
    program = CollectorRegistry(auto_describe=False)
    program.register(ProgramCollector())
    exposition += generate_latest(program)
    return HttpResponse(exposition, content_type=CONTENT_TYPE_LATEST)
