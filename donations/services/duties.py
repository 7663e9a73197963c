"""Separation of duties: who may take the next step of a money decision, given who took the
steps before. The services call these inside their transaction, with the row locked, so the
admin, the staff pages and any script are held to the same rules.

People are compared by their account. A step whose actor was not recorded (rows from before
the actors were kept, or the system acting alone) has nobody to compare with, so it never
refuses anyone; a decision that needs two people needs both of them named."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_record

from ..models import Grant


def same_person(user_id: int | None, actor) -> bool:
    """Whether `actor` is the account `user_id` (False when either is unknown)."""
    return user_id is not None and getattr(actor, "is_authenticated", False) and user_id == actor.pk


def second_approval_above() -> Decimal:
    return Decimal(settings.SECOND_APPROVAL_ABOVE)


def needs_second_approval(grant: Grant) -> bool:
    """Whether `grant` is large enough to need two approvers (SECOND_APPROVAL_ABOVE)."""
    return grant.amount > second_approval_above()


def require_named(actor, *, what: str) -> None:
    """A decision that takes two people records both: an unnamed actor cannot be told apart
    from the other one."""
    if not getattr(actor, "is_authenticated", False):
        raise ValidationError(
            _("%(what)s needs two approvers who are signed in; approve it as yourself.")
            % {"what": what},
            code="approver_unknown",
        )


def first_approval_record(obj, actor, *, state: str, note: str):
    """Record the first of a decision's two approvals on `obj` (its `first_approved_by` and
    `first_approved_at`) and in the audit log; nothing else changes until a second approver,
    someone else, completes it. Call with `obj`'s row locked and `actor` named."""
    obj.first_approved_by = actor
    obj.first_approved_at = timezone.now()
    obj.save(update_fields=["first_approved_by", "first_approved_at", "updated_at"])
    audit_record(
        actor=actor, obj=obj, action="first_approved", from_state=state, to_state=state, note=note
    )
    return obj
