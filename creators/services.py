"""Every write about creators and the yearly list, plus the two helpers all apps share:
`audit_record` and `state_transition`."""

from collections.abc import Iterable, Sequence

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import AuditEvent, ChangeMakersList, Creator, CreatorLink, ListEntry


def _actor_or_none(actor):
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
    if action not in AuditEvent.Action.values:
        raise ValueError(f"Unknown audit action {action!r}: add it to AuditEvent.Action.")
    return AuditEvent.objects.create(
        actor=_actor_or_none(actor),
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        object_repr=str(obj)[:200],
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
    )


def audit_changes(*, actor, changes: Sequence[tuple]) -> list[AuditEvent]:
    """Several events in one INSERT: `changes` holds (object, action, from, to, note) tuples.
    For hot paths (a payment records its grant and its disbursement together)."""
    now = timezone.now()
    events = []
    for obj, action, from_state, to_state, note in changes:
        if action not in AuditEvent.Action.values:
            raise ValueError(f"Unknown audit action {action!r}: add it to AuditEvent.Action.")
        events.append(
            AuditEvent(
                occurred_at=now,
                actor=_actor_or_none(actor),
                content_type=ContentType.objects.get_for_model(obj),
                object_id=obj.pk,
                object_repr=str(obj)[:200],
                action=action,
                from_state=from_state,
                to_state=to_state,
                note=note,
            )
        )
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
) -> M:
    """Move `obj` to state `to` under a row lock, audited. Returns the locked, updated row.

    Idempotent: if the row already is in `to`, nothing is written and it is returned as it is.
    An illegal move raises a ValidationError a person can read.
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
        return locked


@transaction.atomic
def creator_create(
    *,
    display_name: str,
    handle: str,
    country: str,
    causes: Sequence[str],
    bio: str = "",
    follower_count: int = 0,
    links: Sequence[tuple[str, str]] = (),
    user=None,
    actor=None,
) -> Creator:
    creator = Creator(
        display_name=display_name,
        handle=handle.lstrip("@"),
        country=country,
        causes=list(causes),
        bio=bio,
        follower_count=follower_count,
        user=user,
    )
    creator.full_clean()
    creator.save()
    for position, (label, url) in enumerate(links):
        link = CreatorLink(creator=creator, label=label, url=url, position=position)
        link.full_clean()
        link.save()
    audit_record(actor=actor, obj=creator, action="created")
    return creator


@transaction.atomic
def list_create(*, year: int, title: str, introduction: str = "", actor=None) -> ChangeMakersList:
    change_makers_list = ChangeMakersList(year=year, title=title, introduction=introduction)
    change_makers_list.full_clean()
    change_makers_list.save()
    audit_record(
        actor=actor, obj=change_makers_list, action="created", to_state=change_makers_list.status
    )
    return change_makers_list


def list_entry_add(
    *,
    change_makers_list: ChangeMakersList,
    creator: Creator,
    cause: str,
    citation: str,
    position: int | None = None,
    country: str | None = None,
) -> ListEntry:
    """Put a creator on a year's list, with the country and cause they have that year.
    Without a position the entry goes last."""
    with transaction.atomic():
        # Lock the list so two staff adding at once don't both take the same last position.
        locked = ChangeMakersList.objects.select_for_update().get(pk=change_makers_list.pk)
        if position is None:
            last = locked.entries.aggregate(last=models.Max("position"))["last"] or 0
            position = last + 1
        entry = ListEntry(
            change_makers_list=locked,
            creator=creator,
            country=country or creator.country,
            cause=cause,
            citation=citation,
            position=position,
        )
        entry.full_clean()
        entry.save()
        return entry


def list_publish(*, change_makers_list: ChangeMakersList, actor) -> ChangeMakersList:
    if not change_makers_list.entries.exists():
        raise ValidationError(_("An empty list cannot be published."), code="list_empty")
    return state_transition(
        change_makers_list,
        to=ChangeMakersList.Status.PUBLISHED,
        allowed_from=[ChangeMakersList.Status.DRAFT],
        actor=actor,
        action="published",
        changes={"published_at": timezone.now()},
    )


def list_unpublish(*, change_makers_list: ChangeMakersList, actor, reason: str = ""):
    return state_transition(
        change_makers_list,
        to=ChangeMakersList.Status.DRAFT,
        allowed_from=[ChangeMakersList.Status.PUBLISHED],
        actor=actor,
        action="unpublished",
        note=reason,
        changes={"published_at": None},
    )
