"""Outbound webhooks: staff register endpoints and choose their events; each event a service
emits (changemakers/core/events.py) becomes one delivery per endpoint that chose it; each
delivery is sent, signed, until it succeeds or its retries (WEBHOOK_RETRY_SCHEDULE, about a
day) run out; an endpoint that has failed every attempt for WEBHOOK_DISABLE_AFTER is switched
off and the program managers are told.

Sending runs in three steps, like paying a grant: read the delivery, POST with no transaction
open, record the answer under the delivery's lock. A named lock keeps two workers from sending
the same delivery at once; a delivery is sent only when its next attempt is due, so a repeated
or late message sends nothing. Nothing waits only in the broker: the sweeper
(`webhooks_sweep`) hands on events and sends due deliveries that no message is on its way for.
"""

import json
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_record, fields_update
from changemakers.core.emails import absolute_url, email_send
from changemakers.core.events import event_type_choices
from changemakers.core.jobs import enqueue_on_commit, enqueue_on_commit_later
from changemakers.core.locks import try_lock
from changemakers.core.models import OutboxEvent
from changemakers.core.personal_data import Redaction, outbox_events_of
from changemakers.core.roles import StaffRole, permission_require

from .models import TEST_EVENT, Delivery, DeliveryAttempt, Endpoint
from .sending import UnsafeDestination, destination_check, post_signed

MANAGE = "webhooks.manage_endpoint"
#: The version of the body's envelope: {"type", "timestamp", "version", "data"}.
ENVELOPE_VERSION = 1
#: A message handed to the broker this long ago without an attempt since is taken as lost.
REQUEUE_AFTER = timedelta(minutes=10)


def envelope(*, event_type: str, timestamp, data: dict) -> str:
    """The body partners receive, as Standard Webhooks suggests it, written once: every
    attempt sends (and signs) exactly these bytes."""
    return json.dumps(
        {
            "type": event_type,
            "timestamp": timestamp.isoformat(),
            "version": ENVELOPE_VERSION,
            "data": data,
        },
        separators=(",", ":"),
        sort_keys=True,
    )


def deliveries_redact(redaction: Redaction) -> int:
    """An erased person's names out of the bodies of the deliveries of events about their
    rows (declared in `WebhooksConfig.ready`, run inside the erasure's transaction). A
    delivery still pending goes out with the pseudonym, and so does a resend; what was
    delivered already cannot be recalled. Returns how many bodies changed."""
    changed = 0
    deliveries = Delivery.objects.select_for_update().filter(
        event__in=outbox_events_of(redaction.rows)
    )
    for delivery in deliveries.only("pk", "payload"):
        body = json.loads(delivery.payload)
        redacted = redaction.data(body)
        if redacted != body:
            # Written as `envelope` writes it.
            payload = json.dumps(redacted, separators=(",", ":"), sort_keys=True)
            Delivery.objects.filter(pk=delivery.pk).update(payload=payload)
            changed += 1
    return changed


# --- Endpoints ------------------------------------------------------------------------------


def _events_check(events: list[str]) -> list[str]:
    known = {value for value, _label in event_type_choices()}
    unknown = [event for event in events if event not in known]
    if unknown:
        raise ValidationError(
            {"events": _("Unknown event types: %(types)s.") % {"types": ", ".join(unknown)}},
            code="unknown_event",
        )
    if not events:
        raise ValidationError({"events": _("Choose at least one event.")}, code="no_event")
    return sorted(set(events))


def _url_check(url: str) -> None:
    try:
        destination_check(url)
    except UnsafeDestination as refusal:
        raise ValidationError({"url": str(refusal)}, code="unsafe_url") from None


@transaction.atomic
def endpoint_create(
    *, name: str, url: str, events: list[str], actor, description: str = "", integration=None
) -> Endpoint:
    """Register a partner's endpoint with a new signing secret (shown to staff, who pass it
    on to the partner)."""
    permission_require(actor, MANAGE, doing=_("manage webhooks"))
    _url_check(url)
    endpoint = Endpoint(
        name=name,
        integration=integration,
        description=description,
        url=url,
        events=_events_check(events),
        created_by=actor,
    )
    endpoint.full_clean()
    endpoint.save()
    audit_record(actor=actor, obj=endpoint, action="created", note=url)
    return endpoint


def endpoint_update(*, endpoint: Endpoint, actor, **values) -> Endpoint:
    """Change an endpoint's name, description, address or events."""
    permission_require(actor, MANAGE, doing=_("manage webhooks"))
    if "url" in values:
        _url_check(values["url"])
    if "events" in values:
        values["events"] = _events_check(values["events"])
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        fields_update(locked=locked, values=values, actor=actor)
        return locked


def endpoint_switch_off(*, endpoint: Endpoint, actor, reason: str = "") -> Endpoint:
    """Stop sending to an endpoint; its pending deliveries fail (staff can send them again
    once it is back). Idempotent."""
    permission_require(actor, MANAGE, doing=_("manage webhooks"))
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        if not locked.active:
            return locked
        return _switch_off(locked, actor=actor, reason=reason or _("Switched off by staff."))


def _switch_off(locked: Endpoint, *, actor, reason: str) -> Endpoint:
    now = timezone.now()
    locked.active = False
    locked.disabled_at = now
    locked.disabled_reason = reason[:300]
    locked.save(update_fields=["active", "disabled_at", "disabled_reason", "updated_at"])
    locked.deliveries.filter(status=Delivery.Status.PENDING).update(
        status=Delivery.Status.FAILED,
        next_attempt_at=None,
        queued_at=None,
        error=_("The endpoint was switched off."),
        updated_at=now,
    )
    audit_record(
        actor=actor,
        obj=locked,
        action="endpoint_switched_off",
        from_state="active",
        to_state="off",
        note=locked.disabled_reason,
    )
    return locked


def endpoint_switch_on(*, endpoint: Endpoint, actor) -> Endpoint:
    """Send to an endpoint again (from the next event on; failed deliveries are resent one by
    one). Its address is checked again first. Idempotent."""
    permission_require(actor, MANAGE, doing=_("manage webhooks"))
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        if locked.active:
            return locked
        _url_check(locked.url)
        locked.active = True
        locked.disabled_at = None
        locked.disabled_reason = ""
        locked.failing_since = None
        locked.save(
            update_fields=[
                "active",
                "disabled_at",
                "disabled_reason",
                "failing_since",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            obj=locked,
            action="endpoint_switched_on",
            from_state="off",
            to_state="active",
        )
        return locked


def endpoint_secret_show(*, endpoint: Endpoint, actor) -> str:
    """The endpoint's signing secret, for staff who manage webhooks to pass on; each showing
    is audited."""
    permission_require(actor, MANAGE, doing=_("manage webhooks"))
    with transaction.atomic():
        audit_record(actor=actor, obj=endpoint, action="endpoint_secret_shown")
    return Endpoint.objects.values_list("secret", flat=True).get(pk=endpoint.pk)


def endpoint_test_send(*, endpoint: Endpoint, actor) -> Delivery:
    """Send the endpoint a `webhook.test` event, logged and retried like any delivery."""
    permission_require(actor, MANAGE, doing=_("manage webhooks"))
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        if not locked.active:
            raise ValidationError(
                _("The endpoint is switched off; switch it on first."), code="endpoint_off"
            )
        now = timezone.now()
        message_id = f"msg_{uuid.uuid4().hex}"
        delivery = Delivery.objects.create(
            endpoint=locked,
            message_id=message_id,
            event_type=TEST_EVENT,
            payload=envelope(
                event_type=TEST_EVENT,
                timestamp=now,
                data={"endpoint": locked.pk, "message": "A test from Change Makers."},
            ),
            next_attempt_at=now,
            queued_at=now,
        )
        audit_record(actor=actor, obj=locked, action="endpoint_test_sent", note=message_id)
        enqueue_on_commit("changemakers.webhooks.tasks.send_webhook_delivery", delivery.pk)
        return delivery


# --- From events to deliveries -----------------------------------------------------------


def events_fan_out(*, event_ids: list[int]) -> int:
    """One delivery per active endpoint that chose each event, made once whoever runs this
    (a repeated message, the sweeper); the events are marked handled. Returns how many
    deliveries were made."""
    made = 0
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(pk__in=event_ids, handled_at__isnull=True)
            .order_by("pk")
        )
        if not events:
            return 0
        endpoints = list(Endpoint.objects.filter(active=True))
        now = timezone.now()
        for event in events:
            for endpoint in endpoints:
                if event.type not in endpoint.events:
                    continue
                try:
                    with transaction.atomic():
                        delivery = Delivery.objects.create(
                            endpoint=endpoint,
                            event=event,
                            message_id=f"msg_{event.uuid.hex}",
                            event_type=event.type,
                            payload=envelope(
                                event_type=event.type, timestamp=event.occurred_at, data=event.data
                            ),
                            next_attempt_at=now,
                            queued_at=now,
                        )
                except IntegrityError:
                    continue  # made already
                enqueue_on_commit("changemakers.webhooks.tasks.send_webhook_delivery", delivery.pk)
                made += 1
        OutboxEvent.objects.filter(pk__in=[event.pk for event in events]).update(handled_at=now)
    return made


# --- Sending ------------------------------------------------------------------------------


def delivery_attempt(*, delivery_id: int) -> Delivery:
    """Send a delivery if its next attempt is due, and record the answer. Safe to run twice
    or at once: a second runner finds it locked, or not due any more."""
    with try_lock(f"webhooks.delivery:{delivery_id}") as mine:
        delivery = Delivery.objects.select_related("endpoint").get(pk=delivery_id)
        if not mine:
            return delivery
        now = timezone.now()
        if (
            delivery.status != Delivery.Status.PENDING
            or delivery.next_attempt_at is None
            or delivery.next_attempt_at > now
        ):
            return delivery
        if not delivery.endpoint.active:
            return _give_up(delivery, error=_("The endpoint was switched off."))
        outcome = post_signed(
            url=delivery.endpoint.url,
            secret=delivery.endpoint.secret,
            message_id=delivery.message_id,
            payload=delivery.payload,
            timestamp=now,
        )
        return _record(delivery.pk, outcome=outcome, at=now)


def _give_up(delivery: Delivery, *, error: str) -> Delivery:
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.FAILED,
        next_attempt_at=None,
        queued_at=None,
        error=error[:300],
        updated_at=timezone.now(),
    )
    return Delivery.objects.get(pk=delivery.pk)


def _record(delivery_id: int, *, outcome, at) -> Delivery:
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        endpoint = Endpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        DeliveryAttempt.objects.create(
            delivery=delivery,
            attempted_at=at,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            response_body=outcome.response_body,
            error=outcome.error,
        )
        delivery.last_attempt_at = at
        delivery.last_status_code = outcome.status_code
        delivery.queued_at = None
        changed = ["last_attempt_at", "last_status_code", "queued_at", "status"]
        if outcome.succeeded:
            delivery.status = Delivery.Status.SUCCEEDED
            delivery.delivered_at = at
            delivery.next_attempt_at = None
            delivery.error = ""
            changed += ["delivered_at", "next_attempt_at", "error"]
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
                endpoint.save(update_fields=["failing_since", "updated_at"])
        else:
            delivery.attempts += 1
            delivery.error = (
                outcome.error
                or _("The endpoint answered %(code)s.") % {"code": outcome.status_code}
            )[:300]
            changed += ["attempts", "error", "next_attempt_at"]
            if delivery.attempts <= len(schedule):
                wait = schedule[delivery.attempts - 1]
                delivery.next_attempt_at = at + timedelta(seconds=wait)
                if wait <= settings.WEBHOOK_COUNTDOWN_MAX:
                    delivery.queued_at = timezone.now()
                    enqueue_on_commit_later(
                        "changemakers.webhooks.tasks.send_webhook_delivery",
                        delivery.pk,
                        countdown=wait,
                    )
            else:
                delivery.status = Delivery.Status.FAILED
                delivery.next_attempt_at = None
            if endpoint.failing_since is None:
                endpoint.failing_since = at
                endpoint.save(update_fields=["failing_since", "updated_at"])
        delivery.save(update_fields=[*changed, "updated_at"])
        if (
            not outcome.succeeded
            and endpoint.active
            and at - endpoint.failing_since >= timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER)
        ):
            _switch_off(
                endpoint,
                actor=None,
                reason=_("Every attempt failed for a day; the last: %(error)s")
                % {"error": delivery.error},
            )
            enqueue_on_commit("changemakers.webhooks.tasks.send_endpoint_switched_off", endpoint.pk)
            delivery.refresh_from_db()
        return delivery


def delivery_resend(*, delivery: Delivery, actor) -> Delivery:
    """Send a delivery again (delivered, failed or still pending), with the same message id
    and body, starting a new run of the retry schedule. Audited."""
    permission_require(actor, MANAGE, doing=_("manage webhooks"))
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        endpoint = Endpoint.objects.get(pk=locked.endpoint_id)
        if not endpoint.active:
            raise ValidationError(
                _("The endpoint is switched off; switch it on first."), code="endpoint_off"
            )
        now = timezone.now()
        previous = locked.status
        locked.status = Delivery.Status.PENDING
        locked.attempts = 0
        locked.next_attempt_at = now
        locked.queued_at = now
        locked.error = ""
        locked.save(
            update_fields=[
                "status",
                "attempts",
                "next_attempt_at",
                "queued_at",
                "error",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            obj=locked,
            action="delivery_resent",
            from_state=previous,
            to_state=locked.status,
            note=locked.message_id,
        )
        enqueue_on_commit("changemakers.webhooks.tasks.send_webhook_delivery", locked.pk)
        return locked


# --- Telling staff, and the sweeper ----------------------------------------------------------


def endpoint_switched_off_email(*, endpoint: Endpoint) -> int:
    """Tell the program managers (and administrators) an endpoint was switched off. Returns
    how many were written to."""
    addresses = sorted(
        set(
            get_user_model()
            .objects.filter(is_active=True, is_staff=True)
            .filter(Q(groups__name=StaffRole.PROGRAM_MANAGER.value) | Q(is_superuser=True))
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )
    if not addresses:
        return 0
    email_send(
        to=addresses,
        template="webhooks/email/endpoint_switched_off",
        language=settings.LANGUAGE_CODE,
        context={
            "endpoint": endpoint,
            "link": absolute_url(reverse("outbound:endpoint-detail", args=[endpoint.pk])),
        },
    )
    return len(addresses)


def webhooks_sweep(*, now=None, limit: int = 500) -> int:
    """Hand on events left unhandled (their message lost), and queue the deliveries whose next
    attempt is due and that no message is on its way for. One sweep at a time. Returns how
    many it handled."""
    with try_lock("webhooks.sweep") as mine:
        if not mine:
            return 0
        now = now or timezone.now()
        # Give the message sent at the commit a moment first.
        stale = now - timedelta(seconds=60)
        event_ids = list(
            OutboxEvent.objects.unhandled()
            .filter(occurred_at__lte=stale)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        if event_ids:
            events_fan_out(event_ids=event_ids)
        with transaction.atomic():
            due = list(
                Delivery.objects.due(now=now, queued_before=now - REQUEUE_AFTER)
                .select_for_update(skip_locked=True)
                .order_by("next_attempt_at", "pk")
                .values_list("pk", flat=True)[:limit]
            )
            Delivery.objects.filter(pk__in=due).update(queued_at=now)
            for delivery_id in due:
                enqueue_on_commit("changemakers.webhooks.tasks.send_webhook_delivery", delivery_id)
        return len(event_ids) + len(due)
