"""Public highlights: progress updates a creator wants on their public page, once staff approve
them. Two decisions, each its owner's: the creator's wish to show an update (given and taken
back at any time, taking it off the public page at once), and staff's decision to approve or
decline it as a highlight (separate from the milestone's review, with who and when on the row
and every step in the audit log). The public page shows an update only while both say yes,
and only if the creator shows highlights at all (their consent, creators.PublicField)."""

from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_record
from changemakers.core.roles import Role, role_of

from ..models import AuditVerb, ProgressUpdate

REVIEW_PERMISSION = "programs.review_highlight"


def _locked(update: ProgressUpdate) -> ProgressUpdate:
    return (
        ProgressUpdate.objects.select_for_update(of=("self",))
        .select_related("milestone__enrolment__creator")
        .get(pk=update.pk)
    )


def _check_creator(update: ProgressUpdate, actor) -> None:
    """Only the creator the update belongs to speaks for it; anyone else is refused."""
    creator = update.milestone.enrolment.creator
    if not getattr(actor, "is_authenticated", False) or creator.user_id != actor.pk:
        raise PermissionDenied(_("Only the creator can choose what their public page shows."))


def _check_reviewer(actor) -> None:
    if role_of(actor) != Role.STAFF or not actor.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied(_("You may not decide on public highlights."))


def _wish_set(*, update: ProgressUpdate, actor, show: bool) -> ProgressUpdate:
    with transaction.atomic():
        locked = _locked(update)
        _check_creator(locked, actor)
        if locked.show_publicly == show:
            return locked
        locked.show_publicly = show
        locked.show_publicly_changed_at = timezone.now()
        locked.save(update_fields=["show_publicly", "show_publicly_changed_at", "updated_at"])
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditVerb.HIGHLIGHT_REQUESTED if show else AuditVerb.HIGHLIGHT_WITHDRAWN,
            from_state="hidden" if show else "shown",
            to_state="shown" if show else "hidden",
        )
        return locked


def highlight_request(*, update: ProgressUpdate, actor) -> ProgressUpdate:
    """The creator asks for their update on their public page. It shows once staff approve it
    (at once if they approved it before and the creator had only withdrawn it)."""
    return _wish_set(update=update, actor=actor, show=True)


def highlight_withdraw(*, update: ProgressUpdate, actor) -> ProgressUpdate:
    """The creator no longer wants the update on their public page: it leaves it at once,
    whatever staff decided."""
    return _wish_set(update=update, actor=actor, show=False)


def _decide(
    *, update: ProgressUpdate, actor, to: str, summaries: Mapping[str, str], note: str
) -> ProgressUpdate:
    _check_reviewer(actor)
    with transaction.atomic():
        locked = _locked(update)
        changed = []
        for language, text in summaries.items():
            if language not in dict(settings.LANGUAGES):
                raise ValidationError(_("Unknown language."), code="language_unknown")
            name = f"public_summary_{language}"
            if getattr(locked, name) != text.strip():
                setattr(locked, name, text.strip())
                changed.append(name)
        if locked.highlight == to and not changed:
            return locked
        if to == ProgressUpdate.Highlight.APPROVED and not locked.show_publicly:
            raise ValidationError(
                _("The creator has not asked to show this update on their public page."),
                code="highlight_not_asked",
            )
        previous = locked.highlight
        locked.highlight = to
        locked.highlight_decided_by = actor
        locked.highlight_decided_at = timezone.now()
        locked.full_clean()
        locked.save(
            update_fields=[
                "highlight",
                "highlight_decided_by",
                "highlight_decided_at",
                *changed,
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            obj=locked,
            action=(
                AuditVerb.HIGHLIGHT_APPROVED
                if to == ProgressUpdate.Highlight.APPROVED
                else AuditVerb.HIGHLIGHT_DECLINED
            ),
            from_state=previous,
            to_state=to,
            note=note,
        )
        return locked


def highlight_approve(
    *, update: ProgressUpdate, actor, summaries: Mapping[str, str] | None = None
) -> ProgressUpdate:
    """Staff approve an update the creator wants shown as a public highlight, optionally with
    a public summary per language ({"en": ..., "fr": ...}; empty: the creator's own text)."""
    return _decide(
        update=update,
        actor=actor,
        to=ProgressUpdate.Highlight.APPROVED,
        summaries=summaries or {},
        note="",
    )


def highlight_decline(*, update: ProgressUpdate, actor, note: str = "") -> ProgressUpdate:
    """Staff decline an update as a public highlight (or take an approved one down)."""
    return _decide(
        update=update,
        actor=actor,
        to=ProgressUpdate.Highlight.DECLINED,
        summaries={},
        note=note,
    )
