"""Events partners may hear about, declared by the apps that emit them.

An app declares its event types in its `AppConfig.ready()` (`event_types_declare(GrantEvent,
payload=grant_event_data)`, a `TextChoices` and the function that says what of an object may
leave the program: ids, statuses, amounts, public names; never payout details, contacts or
staff notes). A service emits one in the transaction of its change (`event_emit(
"grant.disbursed", obj=grant)`, or `state_transition(..., event="grant.approved")`, which emits
only when the state really moved): the event is a row (`OutboxEvent`, the outbox), so a change
rolled back emits nothing, and once the transaction commits each task named in EVENT_TASKS is
queued with the new events' ids (the webhooks' fan-out). A task lost with the broker is made
good by the webhooks' sweeper, which hands on every event still unhandled.

The kernel knows no app and no consumer: the types come from the apps, the consumers from the
settings.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from .jobs import enqueue_on_commit
from .models import OutboxEvent


@dataclass(frozen=True)
class EventType:
    value: str
    label: str
    payload: Callable[[models.Model], dict]


_TYPES: dict[str, EventType] = {}


def event_types_declare(
    types: type[models.TextChoices], *, payload: Callable[[models.Model], dict]
) -> None:
    """Declare an app's event types, each built by `payload(obj)` into the event's data. A
    type declared twice is refused: one app owns each."""
    for value, label in types.choices:
        known = _TYPES.get(value)
        if known is not None and known.payload is not payload:
            raise ValueError(f"Event type {value!r} is declared twice.")
        _TYPES[value] = EventType(value=value, label=label, payload=payload)


def event_type_choices() -> list[tuple[str, str]]:
    """(type, label) of every declared type, in the order of their names."""
    return [(value, str(_TYPES[value].label)) for value in sorted(_TYPES)]


def event_type_label(value: str) -> str:
    known = _TYPES.get(value)
    return str(known.label) if known is not None else value


def _declared(event_type: str) -> EventType:
    try:
        return _TYPES[event_type]
    except KeyError:
        raise ValueError(
            f"Unknown event type {event_type!r}: declare it in its app's ready()."
        ) from None


def event_emit(event_type: str, *, obj: models.Model, extra: Mapping | None = None) -> OutboxEvent:
    """Record that `event_type` happened to `obj`, in the caller's transaction; handed on
    once it commits. `extra` is added to the declared payload (and wins over it)."""
    return events_emit(event_type, objs=[obj], extra=extra)[0]


def events_emit(
    event_type: str, *, objs: Iterable[models.Model], extra: Mapping | None = None
) -> list[OutboxEvent]:
    """The same event for many objects (a batch), in one INSERT and one message per task."""
    declared = _declared(event_type)
    now = timezone.now()
    events = OutboxEvent.objects.bulk_create(
        OutboxEvent(
            type=event_type,
            occurred_at=now,
            content_type=ContentType.objects.get_for_model(obj),
            object_id=obj.pk,
            data={**declared.payload(obj), **(extra or {})},
        )
        for obj in objs
    )
    if events:
        ids = [event.pk for event in events]  # PostgreSQL and SQLite return them
        for task_name in settings.EVENT_TASKS:
            enqueue_on_commit(task_name, ids)
    return events
