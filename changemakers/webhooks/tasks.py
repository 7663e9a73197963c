"""Webhook jobs: thin tasks that call one service. Named explicitly: services and the kernel's
events enqueue them by these names (EVENT_TASKS, changemakers/beat.py)."""

from celery import shared_task

from .models import Endpoint
from .services import (
    delivery_attempt,
    endpoint_switched_off_email,
    events_fan_out,
    webhooks_sweep,
)


@shared_task(name="changemakers.webhooks.tasks.fan_out_events", acks_late=True)
def fan_out_events(event_ids: list[int]) -> int:
    return events_fan_out(event_ids=event_ids)


@shared_task(name="changemakers.webhooks.tasks.send_webhook_delivery", acks_late=True)
def send_webhook_delivery(delivery_id: int) -> str:
    """One attempt, when due; a failure schedules the next itself (see `delivery_attempt`)."""
    return delivery_attempt(delivery_id=delivery_id).status


@shared_task(name="changemakers.webhooks.tasks.sweep_webhooks", acks_late=True)
def sweep_webhooks() -> int:
    return webhooks_sweep()


@shared_task(
    name="changemakers.webhooks.tasks.send_endpoint_switched_off",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_endpoint_switched_off(endpoint_id: int) -> int:
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    return 0 if endpoint is None else endpoint_switched_off_email(endpoint=endpoint)
