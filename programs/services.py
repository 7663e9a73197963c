"""Every write about cohorts, enrolments and milestones."""

import datetime
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from creators.models import Creator
from creators.services import audit_record, state_transition

from .models import (
    COHORT_MONTHS,
    Cohort,
    Enrolment,
    Milestone,
    MilestonePlanItem,
    ProgressUpdate,
    add_months,
)

# The program's usual plan: (title, days after the cohort starts).
DEFAULT_MILESTONE_PLAN: tuple[tuple[str, int], ...] = (
    (gettext_lazy("Kickoff"), 14),
    (gettext_lazy("Month 2 check-in"), 60),
    (gettext_lazy("Month 4 check-in"), 120),
    (gettext_lazy("Final report"), 175),
)


@transaction.atomic
def cohort_create(
    *,
    name: str,
    start_date: datetime.date,
    capacity: int = 10,
    description: str = "",
    plan: Sequence[tuple[str, int]] = DEFAULT_MILESTONE_PLAN,
    actor=None,
) -> Cohort:
    cohort = Cohort(
        name=name,
        start_date=start_date,
        end_date=add_months(start_date, COHORT_MONTHS),
        capacity=capacity,
        description=description,
    )
    cohort.full_clean()
    cohort.save()
    for title, offset_days in plan:
        item = MilestonePlanItem(cohort=cohort, title=str(title), offset_days=offset_days)
        item.full_clean()
        item.save()
    audit_record(actor=actor, obj=cohort, action="created", to_state=cohort.status)
    return cohort


def cohort_start(*, cohort: Cohort, actor) -> Cohort:
    return state_transition(
        cohort,
        to=Cohort.Status.ACTIVE,
        allowed_from=[Cohort.Status.PLANNING],
        actor=actor,
        action="started",
    )


def cohort_complete(*, cohort: Cohort, actor) -> Cohort:
    return state_transition(
        cohort,
        to=Cohort.Status.COMPLETED,
        allowed_from=[Cohort.Status.ACTIVE],
        actor=actor,
        action="completed",
    )


def enrolment_invite(*, cohort: Cohort, creator: Creator, mission: str = "", actor) -> Enrolment:
    """Offer a creator a place in a cohort. Capacity is checked under a lock on the cohort, so
    two staff inviting at once cannot overfill it."""
    with transaction.atomic():
        locked = Cohort.objects.select_for_update().get(pk=cohort.pk)
        if locked.status == Cohort.Status.COMPLETED:
            raise ValidationError(
                _("%(cohort)s has ended; invite the creator to a later cohort.")
                % {"cohort": locked},
                code="cohort_completed",
            )
        enrolment = Enrolment(cohort=locked, creator=creator, mission=mission)
        enrolment.full_clean()
        enrolment.save()
        audit_record(actor=actor, obj=enrolment, action="invited", to_state=enrolment.status)
        return enrolment


def enrolment_activate(*, enrolment: Enrolment, actor) -> Enrolment:
    """The creator takes up their place: the cohort's milestone plan is stamped onto the
    enrolment as dated milestones. Refused if the creator is active in another cohort."""
    with transaction.atomic():
        # Lock the creator so two activations of the same creator are decided one at a time;
        # the partial unique constraint stays the database's last word.
        creator = Creator.objects.select_for_update().get(pk=enrolment.creator_id)
        elsewhere = (
            Enrolment.objects.filter(creator=creator, status=Enrolment.Status.ACTIVE)
            .exclude(pk=enrolment.pk)
            .select_related("cohort")
            .first()
        )
        if elsewhere is not None:
            raise ValidationError(
                _("%(creator)s is already active in %(cohort)s.")
                % {"creator": creator.display_name, "cohort": elsewhere.cohort},
                code="already_active",
            )
        enrolment = state_transition(
            enrolment,
            to=Enrolment.Status.ACTIVE,
            allowed_from=[Enrolment.Status.INVITED],
            actor=actor,
            action="activated",
        )
        milestones_stamp(enrolment=enrolment)
        return enrolment


def enrolment_complete(*, enrolment: Enrolment, actor) -> Enrolment:
    return state_transition(
        enrolment,
        to=Enrolment.Status.COMPLETED,
        allowed_from=[Enrolment.Status.ACTIVE],
        actor=actor,
        action="completed",
    )


def enrolment_withdraw(*, enrolment: Enrolment, actor, reason: str = "") -> Enrolment:
    return state_transition(
        enrolment,
        to=Enrolment.Status.WITHDRAWN,
        allowed_from=[Enrolment.Status.INVITED, Enrolment.Status.ACTIVE],
        actor=actor,
        action="withdrawn",
        note=reason,
    )


def milestones_stamp(*, enrolment: Enrolment) -> list[Milestone]:
    """Create the enrolment's milestones from its cohort's plan; steps already there are kept."""
    cohort = enrolment.cohort
    existing = set(enrolment.milestones.values_list("title", flat=True))
    created = [
        Milestone(
            enrolment=enrolment,
            title=item.title,
            description=item.description,
            due_date=item.due_date_for(cohort),
        )
        for item in cohort.plan_items.all()
        if item.title not in existing
    ]
    return Milestone.objects.bulk_create(created)


@transaction.atomic
def milestone_add(
    *,
    enrolment: Enrolment,
    title: str,
    due_date: datetime.date,
    description: str = "",
    actor,
) -> Milestone:
    """A one-off milestone beside the ones the cohort's plan stamped."""
    milestone = Milestone(
        enrolment=enrolment, title=title, due_date=due_date, description=description
    )
    milestone.full_clean()
    milestone.save()
    audit_record(actor=actor, obj=milestone, action="created", to_state=milestone.status)
    return milestone


def progress_update_submit(
    *, milestone: Milestone, author, body: str, link: str = ""
) -> ProgressUpdate:
    """A creator reports progress on a milestone, which then awaits staff review."""
    with transaction.atomic():
        update = ProgressUpdate(milestone=milestone, author=author, body=body, link=link)
        update.full_clean()
        update.save()
        state_transition(
            milestone,
            to=Milestone.Status.SUBMITTED,
            allowed_from=[Milestone.Status.PENDING, Milestone.Status.CHANGES_REQUESTED],
            actor=author,
            action="submitted",
        )
        return update


def milestone_approve(*, milestone: Milestone, actor, feedback: str = "") -> Milestone:
    return state_transition(
        milestone,
        to=Milestone.Status.APPROVED,
        allowed_from=[Milestone.Status.SUBMITTED],
        actor=actor,
        action="approved",
        note=feedback,
        changes={"feedback": feedback},
    )


def milestone_request_changes(*, milestone: Milestone, actor, feedback: str) -> Milestone:
    if not feedback.strip():
        raise ValidationError(
            _("Say what should change, so the creator knows what to do."), code="feedback_empty"
        )
    return state_transition(
        milestone,
        to=Milestone.Status.CHANGES_REQUESTED,
        allowed_from=[Milestone.Status.SUBMITTED],
        actor=actor,
        action="changes_requested",
        note=feedback,
        changes={"feedback": feedback},
    )
