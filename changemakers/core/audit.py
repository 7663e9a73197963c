"""The audit log's writers.

Every state change of the program is recorded with who, when, from, to and why, inside the
transaction of the change. The verb must have been declared by its app (`verbs.py`); recording
a verb nobody declared is a programming error, caught at once.
"""

from collections.abc import Iterable, Mapping, Sequence

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import page_cache
from .events import event_emit
from .models import AuditEvent
from .verbs import KernelVerb, verb_declared


def actor_or_none(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def audit_record(
    *,
    actor,
    obj: models.Model,
    action: str,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
) -> AuditEvent:
    """Append one event to the audit log. Call it inside the transaction of the change."""
    page_cache.data_changed()
    return AuditEvent.objects.create(
        actor=actor_or_none(actor),
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        object_repr=str(obj)[:200],
        action=verb_declared(action),
        from_state=from_state,
        to_state=to_state,
        note=note,
    )


def audit_changes(*, actor, changes: Sequence[tuple]) -> list[AuditEvent]:
    """Several events in one INSERT: `changes` holds (object, action, from, to, note) tuples.
    For hot paths (a payment records its grant and its disbursement together)."""
    now = timezone.now()
    events = [
        AuditEvent(
            occurred_at=now,
            actor=actor_or_none(actor),
            content_type=ContentType.objects.get_for_model(obj),
            object_id=obj.pk,
            object_repr=str(obj)[:200],
            action=verb_declared(action),
            from_state=from_state,
            to_state=to_state,
            note=note,
        )
        for obj, action, from_state, to_state, note in changes
    ]
    page_cache.data_changed()
    return AuditEvent.objects.bulk_create(events)


def audit_record_many(
    *,
    actor,
    objs: Sequence[models.Model],
    action: str,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
) -> list[AuditEvent]:
    """The same event for many objects, in one INSERT (batch operations)."""
    return audit_changes(
        actor=actor, changes=[(obj, action, from_state, to_state, note) for obj in objs]
    )


def fields_update[M: models.Model](
    *, locked: M, values: Mapping[str, object], actor, clean_exclude: Sequence[str] = ()
) -> list[str]:
    """Set the values that differ on a row the caller has locked, validate it, save only those
    columns and audit them by name. Returns the names changed (empty: nothing was done)."""
    changed = [name for name, value in values.items() if getattr(locked, name) != value]
    if changed:
        for name in changed:
            setattr(locked, name, values[name])
        locked.full_clean(exclude=list(clean_exclude) or None)
        locked.save(update_fields=[*changed, "updated_at"])
        audit_record(actor=actor, obj=locked, action=KernelVerb.UPDATED, note=", ".join(changed))
    return changed


def state_transition[M: models.Model](
    obj: M,
    *,
    to: str,
    allowed_from: Iterable[str],
    actor,
    action: str,
    note: str = "",
    field: str = "status",
    changes: dict | None = None,
    event: str = "",
) -> M:
    """Move `obj` to state `to` under a row lock, audited. Returns the locked, updated row.

    Idempotent: if the row already is in `to`, nothing is written and it is returned as it is.
    An illegal move raises a ValidationError a person can read. With `event`, that event is
    emitted for partners (`changemakers.core.events`) when, and only when, the state moved.
    """
    with transaction.atomic():
        locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
        current = getattr(locked, field)
        if current == to:
            return locked
        if current not in set(allowed_from):
            choices = dict(locked._meta.get_field(field).choices or ())
            raise ValidationError(
                _("%(object)s cannot go from “%(current)s” to “%(target)s”.")
                % {
                    "object": locked,
                    "current": choices.get(current, current),
                    "target": choices.get(to, to),
                },
                code="illegal_transition",
            )
        setattr(locked, field, to)
        update_fields = [field]
        for name, value in (changes or {}).items():
            setattr(locked, name, value)
            update_fields.append(name)
        if any(f.name == "updated_at" for f in locked._meta.concrete_fields):
            update_fields.append("updated_at")
        locked.save(update_fields=update_fields)
        audit_record(
            actor=actor, obj=locked, action=action, from_state=current, to_state=to, note=note
        )
        if event:
            event_emit(event, obj=locked)
        return locked
