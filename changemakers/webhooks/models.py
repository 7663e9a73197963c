"""Outbound webhooks: the endpoints partners gave staff, each delivery of an event to one of
them, and every attempt to send it.

A delivery carries the exact body it sends and the message id partners deduplicate on (the
`webhook-id` header, the same at every retry and resend); each attempt is signed afresh, as
the Standard Webhooks specification asks, since receivers refuse old timestamps.
"""

import base64
import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from changemakers.core.events import event_type_label
from changemakers.core.models import OutboxEvent, TimeStampedModel, person_field

SECRET_PREFIX = "whsec_"  # nosec B105 # the prefix Standard Webhooks gives secrets
#: The type of the event staff send to try an endpoint; no app emits it.
TEST_EVENT = "webhook.test"


def secret_new() -> str:
    """A signing secret as Standard Webhooks writes them: `whsec_` and 32 random bytes in
    base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class AuditVerb(models.TextChoices):
    """What this app records in the audit log (declared in `WebhooksConfig.ready`)."""

    SWITCHED_OFF = "endpoint_switched_off", _("Webhook endpoint switched off")
    SWITCHED_ON = "endpoint_switched_on", _("Webhook endpoint switched on")
    SECRET_SHOWN = "endpoint_secret_shown", _("Webhook signing secret shown")
    TEST_SENT = "endpoint_test_sent", _("Webhook test event sent")
    RESENT = "delivery_resent", _("Webhook delivery sent again")


class EndpointQuerySet(models.QuerySet):
    def switched_off(self) -> "EndpointQuerySet":
        """Endpoints the system switched off after a day of failures (not those staff did)."""
        return self.filter(active=False, failing_since__isnull=False).order_by("-disabled_at")


class Endpoint(TimeStampedModel):
    """Where a partner wants to hear about the events it chose. Its secret signs every
    delivery; the partner verifies with it."""

    name = models.CharField(_("name"), max_length=120)
    # The partner's integration (its API tokens live there); staff register its endpoints.
    integration = models.ForeignKey(
        "api.Integration",
        verbose_name=_("integration"),
        on_delete=models.PROTECT,
        related_name="webhook_endpoints",
        null=True,
        blank=True,
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    url = models.URLField(_("address"), max_length=500)
    events = models.JSONField(
        _("events"), default=list, help_text=_("The event types sent to this address.")
    )
    secret = models.CharField(_("signing secret"), max_length=100, default=secret_new)
    active = models.BooleanField(_("active"), default=True)
    disabled_at = models.DateTimeField(_("switched off at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why it was switched off"), max_length=300, blank=True)
    # Since when every attempt has failed (none since has succeeded); None while it answers.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    created_by = person_field(_("registered by"))

    objects = EndpointQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "pk"]
        permissions = [
            (
                "manage_endpoint",
                _("Can register webhook endpoints, see their secrets and resend deliveries"),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def event_labels(self) -> list[str]:
        return [event_type_label(value) for value in self.events]


class DeliveryQuerySet(models.QuerySet):
    def due(self, *, now, queued_before) -> "DeliveryQuerySet":
        """Pending deliveries whose next attempt is due and that no message is on its way
        for (none sent, or sent before `queued_before` and evidently lost)."""
        return self.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now).filter(
            Q(queued_at__isnull=True) | Q(queued_at__lt=queued_before)
        )


class Delivery(TimeStampedModel):
    """One event (or test) to one endpoint, tried until it succeeds or is given up."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(
        Endpoint, verbose_name=_("endpoint"), on_delete=models.PROTECT, related_name="deliveries"
    )
    event = models.ForeignKey(
        OutboxEvent,
        verbose_name=_("event"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty for a test event."),
    )
    message_id = models.CharField(_("message id"), max_length=64)
    event_type = models.CharField(_("event type"), max_length=64)
    payload = models.TextField(_("body"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    # Failed attempts in the current run of the retry schedule (a resend starts a new run).
    attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # When the message for the next attempt was handed to the broker (None: the sweeper sends it).
    queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last answer"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    error = models.CharField(_("why it failed"), max_length=300, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"],
                condition=Q(event__isnull=False),
                name="webhook_delivery_once_per_endpoint",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhooks_delivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint}"

    def event_label(self) -> str:
        if self.event_type == TEST_EVENT:
            return str(_("Test event"))
        return event_type_label(self.event_type)


class DeliveryAttempt(models.Model):
    """One HTTP request of a delivery: its answer (or why there was none), how long it took,
    and the start of what the endpoint said."""

    delivery = models.ForeignKey(
        Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="tries"
    )
    attempted_at = models.DateTimeField(_("when"))
    status_code = models.PositiveSmallIntegerField(_("answer"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    response_body = models.TextField(_("start of the answer"), blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["-attempted_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.delivery} @ {self.attempted_at:%Y-%m-%d %H:%M:%S}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
