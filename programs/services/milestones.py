"""Milestones: one-off ones beside the cohort's plan, creators reporting progress on them and
staff reviewing it (the outcome is emailed to the creator)."""

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_record, state_transition
from changemakers.core.content_languages import in_default_language, translated_values
from changemakers.core.emails import absolute_url, email_send
from changemakers.core.jobs import enqueue_on_commit
from changemakers.core.timezones import time_zone_of
from creators.models import Creator

from ..models import Enrolment, ImpactIndicator, Milestone, ProgressUpdate
from .highlights import highlight_request
from .impact import impact_values_count, impact_values_report
from .tiktok import tiktok_videos_attach


@transaction.atomic
def milestone_add(
    *,
    enrolment: Enrolment,
    title: str,
    due_date: datetime.date,
    description: str = "",
    translations: Mapping[str, str] | None = None,
    actor,
) -> Milestone:
    """A one-off milestone beside the ones the cohort's plan stamped. `title` and
    `description` are English; `translations` holds the other languages' (`title_fr`, ...)."""
    texts = translated_values({"title": title, "description": description}, translations)
    with in_default_language():
        milestone = Milestone(enrolment=enrolment, due_date=due_date, **texts)
        milestone.full_clean()
        milestone.save()
    audit_record(actor=actor, obj=milestone, action="created", to_state=milestone.status)
    return milestone


def progress_update_submit(
    *,
    milestone: Milestone,
    author,
    body: str,
    link: str = "",
    attachment=None,
    tiktok_links: Sequence[str] = (),
    impact: Mapping[ImpactIndicator, Decimal | None] | None = None,
    show_publicly: bool = False,
) -> ProgressUpdate:
    """A creator reports progress on a milestone, which then awaits staff review.
    `attachment` must already be content-checked (`changemakers.core.uploads.attachment_check`).
    `tiktok_links` get previews fetched once this commits; `impact` holds the figures sent
    with the update (None: the indicator's value is removed). `show_publicly`: the creator
    asks for it on their public page (`highlight_request`), once staff approve it."""
    with transaction.atomic():
        enrolment = Enrolment.objects.select_for_update().get(pk=milestone.enrolment_id)
        if enrolment.status != Enrolment.Status.ACTIVE:
            raise ValidationError(
                _("Progress can be reported only while the place in the cohort is active."),
                code="enrolment_not_active",
            )
        update = ProgressUpdate(
            milestone=milestone, author=author, body=body, link=link, attachment=attachment or ""
        )
        update.full_clean()
        update.save()
        try:
            tiktok_videos_attach(update=update, links=list(tiktok_links))
            impact_values_report(
                milestone=milestone, update=update, values=impact or {}, actor=author
            )
            state_transition(
                milestone,
                to=Milestone.Status.SUBMITTED,
                allowed_from=[Milestone.Status.PENDING, Milestone.Status.CHANGES_REQUESTED],
                actor=author,
                action="submitted",
                event="milestone.submitted",
            )
            if show_publicly:
                update = highlight_request(update=update, actor=author)
        except ValidationError:
            # The row is rolled back; the file it stored must not outlive it.
            if update.attachment:
                update.attachment.storage.delete(update.attachment.name)
            raise
        return update


def _milestone_review(*, milestone: Milestone, to: str, action: str, actor, feedback: str):
    """Move a submitted milestone on; the creator is emailed the outcome once it commits
    (and only when it really moved, so a double click sends one email)."""
    with transaction.atomic():
        locked = Milestone.objects.select_for_update().get(pk=milestone.pk)
        if locked.status == to:
            return locked
        reviewed = state_transition(
            locked,
            to=to,
            allowed_from=[Milestone.Status.SUBMITTED],
            actor=actor,
            action=action,
            note=feedback,
            changes={"feedback": feedback},
            event="milestone.approved" if to == Milestone.Status.APPROVED else "",
        )
        if to == Milestone.Status.APPROVED:
            impact_values_count(milestone=reviewed)
        enqueue_on_commit("programs.tasks.send_milestone_review", reviewed.pk)
        return reviewed


def milestone_approve(*, milestone: Milestone, actor, feedback: str = "") -> Milestone:
    return _milestone_review(
        milestone=milestone,
        to=Milestone.Status.APPROVED,
        action="approved",
        actor=actor,
        feedback=feedback,
    )


def milestone_request_changes(*, milestone: Milestone, actor, feedback: str) -> Milestone:
    if not feedback.strip():
        raise ValidationError(
            _("Say what should change, so the creator knows what to do."), code="feedback_empty"
        )
    return _milestone_review(
        milestone=milestone,
        to=Milestone.Status.CHANGES_REQUESTED,
        action="changes_requested",
        actor=actor,
        feedback=feedback,
    )


def creator_email_address(creator: Creator) -> str:
    """Where the creator is emailed: their account's address, if it is active."""
    user = creator.user
    return (user.email or "") if user is not None and user.is_active else ""


def milestone_review_email(*, milestone: Milestone) -> bool:
    """Tell the creator the outcome of a review, in their language (from the task)."""
    creator = milestone.enrolment.creator
    to = creator_email_address(creator)
    if not to or milestone.status not in (
        Milestone.Status.APPROVED,
        Milestone.Status.CHANGES_REQUESTED,
    ):
        return False
    email_send(
        to=[to],
        template="programs/email/milestone_review",
        language=creator.language,
        time_zone=time_zone_of(creator.user),
        context={
            "creator": creator,
            "milestone": milestone,
            "approved": milestone.status == Milestone.Status.APPROVED,
            "link": absolute_url(milestone.get_portal_url()),
        },
    )
    return True
