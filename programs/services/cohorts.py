"""Cohorts and the places in them: creating and running a cohort, inviting creators (new ones
too, by email), taking places up, completing and withdrawing them."""

import datetime
from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from changemakers.core.audit import audit_record, state_transition
from changemakers.core.content_languages import (
    content_languages,
    default_language,
    in_default_language,
    localized,
    translated_values,
)
from creators.models import Creator
from creators.services import creator_create, creator_invitation_send

from ..models import (
    COHORT_EARLIEST,
    COHORT_LATEST,
    COHORT_MONTHS,
    Cohort,
    Enrolment,
    Milestone,
    MilestonePlanItem,
    add_months,
)

# The program's usual plan: (title, days after the cohort starts). A plan step may carry a third
# item, its title's translations ({"title_fr": ...}); these titles come from the catalogue.
type PlanStep = tuple[str, int] | tuple[str, int, Mapping[str, str]]

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
    plan: Sequence[PlanStep] = DEFAULT_MILESTONE_PLAN,
    actor=None,
) -> Cohort:
    if not COHORT_EARLIEST <= start_date <= COHORT_LATEST:
        raise ValidationError(
            {
                "start_date": _("Start the cohort between %(earliest)s and %(latest)s.")
                % {"earliest": COHORT_EARLIEST.year, "latest": COHORT_LATEST.year}
            },
            code="start_out_of_range",
        )
    cohort = Cohort(
        name=name,
        start_date=start_date,
        end_date=add_months(start_date, COHORT_MONTHS),
        capacity=capacity,
        description=description,
        # Whoever creates the cohort manages it, unless the system did (the seed, a script).
        manager=actor if getattr(actor, "is_staff", False) else None,
    )
    cohort.full_clean()
    cohort.save()
    with in_default_language():
        for step in plan:
            title, offset_days = step[0], step[1]
            translations = step[2] if len(step) > 2 else None  # type: ignore[misc]
            item = MilestonePlanItem(
                cohort=cohort, offset_days=offset_days, **plan_title_values(title, translations)
            )
            item.full_clean()
            item.save()
    audit_record(actor=actor, obj=cohort, action="created", to_state=cohort.status)
    return cohort


def plan_title_values(title: str, translations: Mapping[str, str] | None = None) -> dict:
    """A plan step's title columns. A title from the catalogue (the default plan's) is
    written in each language it is translated into; a typed one is English, with the
    `translations` staff typed."""
    if isinstance(title, Promise) and translations is None:
        with translation.override(default_language()):
            english = str(title)
        translations = {}
        for language in content_languages()[1:]:
            with translation.override(language):
                text = str(title)
            if text != english:
                translations[localized("title", language)] = text
        title = english
    return translated_values({"title": str(title)}, translations)


def cohort_start(*, cohort: Cohort, actor) -> Cohort:
    return state_transition(
        cohort,
        to=Cohort.Status.ACTIVE,
        allowed_from=[Cohort.Status.PLANNING],
        actor=actor,
        action="started",
    )


def cohort_complete(*, cohort: Cohort, actor) -> Cohort:
    """End a cohort: its active places are completed and places never taken up are withdrawn,
    in the same transaction, so no one stays active (and reminded) in a cohort that is over."""
    with transaction.atomic():
        completed = state_transition(
            cohort,
            to=Cohort.Status.COMPLETED,
            allowed_from=[Cohort.Status.ACTIVE],
            actor=actor,
            action="completed",
        )
        for enrolment in completed.enrolments.filter(status=Enrolment.Status.ACTIVE):
            enrolment_complete(enrolment=enrolment, actor=actor)
        for enrolment in completed.enrolments.filter(status=Enrolment.Status.INVITED):
            enrolment_withdraw(
                enrolment=enrolment,
                actor=actor,
                reason=_("The cohort ended before it was taken up."),
            )
        return completed


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
        # One active cohort at a time: a place that overlaps the one they hold could never
        # be taken up, so it is refused now rather than at activation.
        overlapping = (
            Enrolment.objects.filter(
                creator=creator,
                status=Enrolment.Status.ACTIVE,
                cohort__start_date__lt=locked.end_date,
                cohort__end_date__gt=locked.start_date,
            )
            .exclude(cohort=locked)
            .select_related("cohort")
            .first()
        )
        if overlapping is not None:
            raise ValidationError(
                _(
                    "%(creator)s is active in %(cohort)s until %(end)s, which overlaps this "
                    "cohort; complete or withdraw that place first."
                )
                % {
                    "creator": creator.display_name,
                    "cohort": overlapping.cohort,
                    "end": date_format(overlapping.cohort.end_date),
                },
                code="already_active",
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
        # Then the cohort (lock order: creator, cohort, enrolment), so it cannot end meanwhile.
        cohort = Cohort.objects.select_for_update().get(pk=enrolment.cohort_id)
        if cohort.status == Cohort.Status.COMPLETED:
            raise ValidationError(
                _("%(cohort)s has ended; its places can no longer be taken up.")
                % {"cohort": cohort},
                code="cohort_completed",
            )
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


STAMPED_TEXTS = [
    localized(field, language)
    for field in ("title", "description")
    for language in content_languages()
]


def milestones_stamp(*, enrolment: Enrolment) -> list[Milestone]:
    """Create the enrolment's milestones from its cohort's plan, title and description in
    every language; steps already there (by English title) are kept."""
    cohort = enrolment.cohort
    english_title = localized("title", default_language())
    with in_default_language():
        existing = set(enrolment.milestones.values_list(english_title, flat=True))
        created = [
            Milestone(
                enrolment=enrolment,
                due_date=item.due_date_for(cohort),
                title=getattr(item, english_title),
                description=item.description,
                **{name: getattr(item, name) for name in STAMPED_TEXTS},
            )
            for item in cohort.plan_items.all()
            if getattr(item, english_title) not in existing
        ]
        return Milestone.objects.bulk_create(created)


# --- Staff inviting a new creator straight into a cohort ------------------------------------


def creator_onboard(
    *,
    cohort: Cohort,
    email: str,
    actor,
    creator: Creator | None = None,
    mission: str = "",
    note: str = "",
    **creator_fields,
) -> Enrolment:
    """Invite a creator into a cohort by email: an existing creator, or a new one made from
    `creator_fields`. Their place is offered, and the portal invitation (account and link)
    is emailed once everything commits. All or nothing."""
    with transaction.atomic():
        if creator is None:
            creator = creator_create(actor=actor, **creator_fields)
        enrolment = enrolment_invite(cohort=cohort, creator=creator, mission=mission, actor=actor)
        if creator.user_id is None or not creator.user.has_usable_password():
            creator_invitation_send(creator=creator, email=email, actor=actor, note=note)
        return enrolment
