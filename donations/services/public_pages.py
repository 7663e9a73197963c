"""What a nonprofit's public page says of it besides its record: "what we do", written by the
nonprofit's contact and public only once a vetter approves it, and its causes, chosen by staff.

The approved text stays public while a newer one waits: a submission fills
`description_pending`, an approval moves it to `description`, a decline leaves the public text
as it was and tells the contact why. Every step is audited, which retires the cached public
pages (core/page_cache.py) once it commits.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import actor_or_none, audit_record, fields_update
from changemakers.core.roles import permission_require

from ..models import AuditVerb, Nonprofit
from .duties import same_person
from .nonprofits import _require_own

DESCRIPTION_MAX = 2000
REVIEW_PERMISSION = "donations.verify_nonprofit"  # the nonprofit vetter's


def _locked(nonprofit: Nonprofit) -> Nonprofit:
    return Nonprofit.objects.select_for_update(no_key=True).get(pk=nonprofit.pk)


def nonprofit_description_submit(*, nonprofit: Nonprofit, description: str, actor) -> Nonprofit:
    """A contact of the nonprofit (or a vetter for it) sends "what we do" for review. It
    replaces a text still waiting; the approved one stays public until this one is approved."""
    text = description.strip()
    if not text:
        raise ValidationError(
            {
                "description": ValidationError(
                    _("Say in a few sentences what your organisation does."),
                    code="description_empty",
                )
            }
        )
    if len(text) > DESCRIPTION_MAX:
        message = _("Keep it to %(max)s characters at most.") % {"max": DESCRIPTION_MAX}
        raise ValidationError({"description": ValidationError(message, code="description_long")})
    with transaction.atomic():
        locked = _locked(nonprofit)
        _require_own(actor, locked.pk)
        previous = locked.description_status
        if previous == Nonprofit.DescriptionStatus.PENDING and locked.description_pending == text:
            return locked  # the same text sent twice (a double click)
        if previous == Nonprofit.DescriptionStatus.APPROVED and locked.description == text:
            return locked  # already public as it is
        locked.description_pending = text
        locked.description_status = Nonprofit.DescriptionStatus.PENDING
        locked.description_decline_reason = ""
        locked.description_submitted_by = actor_or_none(actor)
        locked.description_submitted_at = timezone.now()
        locked.full_clean(exclude=["slug"])
        locked.save(
            update_fields=[
                "description_pending",
                "description_status",
                "description_decline_reason",
                "description_submitted_by",
                "description_submitted_at",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditVerb.DESCRIPTION_SUBMITTED,
            from_state=previous,
            to_state=locked.description_status,
        )
        return locked


def _reviewable(locked: Nonprofit, actor) -> None:
    if locked.description_status != Nonprofit.DescriptionStatus.PENDING:
        raise ValidationError(
            _("No description of %(nonprofit)s is waiting for review.") % {"nonprofit": locked},
            code="description_not_pending",
        )
    if same_person(locked.description_submitted_by_id, actor):
        raise ValidationError(
            _("You wrote this description; someone else on the team reviews it."),
            code="reviewer_is_author",
        )


def nonprofit_description_approve(*, nonprofit: Nonprofit, actor) -> Nonprofit:
    """A vetter approves the text waiting for review: it becomes the public one."""
    permission_require(actor, REVIEW_PERMISSION, doing=_("review nonprofits' descriptions"))
    with transaction.atomic():
        locked = _locked(nonprofit)
        if locked.description_status == Nonprofit.DescriptionStatus.APPROVED:
            return locked  # approved already (a second click)
        _reviewable(locked, actor)
        locked.description = locked.description_pending
        locked.description_pending = ""
        locked.description_status = Nonprofit.DescriptionStatus.APPROVED
        locked.description_reviewed_by = actor_or_none(actor)
        locked.description_reviewed_at = timezone.now()
        locked.save(
            update_fields=[
                "description",
                "description_pending",
                "description_status",
                "description_reviewed_by",
                "description_reviewed_at",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditVerb.DESCRIPTION_APPROVED,
            from_state=Nonprofit.DescriptionStatus.PENDING,
            to_state=locked.description_status,
        )
        return locked


def nonprofit_description_decline(*, nonprofit: Nonprofit, reason: str, actor) -> Nonprofit:
    """A vetter declines the text waiting for review, saying why (the contact reads it in their
    portal). The approved text, if any, stays public."""
    permission_require(actor, REVIEW_PERMISSION, doing=_("review nonprofits' descriptions"))
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            {
                "reason": ValidationError(
                    _("Say why the description is declined."), code="reason_empty"
                )
            }
        )
    with transaction.atomic():
        locked = _locked(nonprofit)
        _reviewable(locked, actor)
        locked.description_status = Nonprofit.DescriptionStatus.DECLINED
        locked.description_decline_reason = reason
        locked.description_reviewed_by = actor_or_none(actor)
        locked.description_reviewed_at = timezone.now()
        # The declined text stays in description_pending for the contact to edit and resend.
        locked.save(
            update_fields=[
                "description_status",
                "description_decline_reason",
                "description_reviewed_by",
                "description_reviewed_at",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            obj=locked,
            action=AuditVerb.DESCRIPTION_DECLINED,
            from_state=Nonprofit.DescriptionStatus.PENDING,
            to_state=locked.description_status,
            note=reason,
        )
        return locked


def nonprofit_causes_set(*, nonprofit: Nonprofit, causes: list[str], actor) -> Nonprofit:
    """Staff who change nonprofits (the vetter) choose the causes its public page shows, from
    the creators' vocabulary. Audited by name; the same causes again change nothing."""
    permission_require(actor, "donations.change_nonprofit", doing=_("change nonprofits"))
    with transaction.atomic():
        locked = _locked(nonprofit)
        fields_update(
            locked=locked, values={"causes": list(causes)}, actor=actor, clean_exclude=["slug"]
        )
        return locked
