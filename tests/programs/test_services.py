import datetime

import pytest
from django.core.exceptions import ValidationError

from changemakers.core.models import AuditEvent
from programs.models import Cohort, Enrolment, Milestone
from programs.services import (
    cohort_complete,
    cohort_create,
    cohort_start,
    enrolment_activate,
    enrolment_invite,
    enrolment_withdraw,
    milestone_add,
    milestone_approve,
    milestone_request_changes,
    progress_update_submit,
)
from tests.factories import CohortFactory, CreatorFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_cohort_create_sets_six_months_and_the_default_plan(staff_user):
    cohort = cohort_create(name="Cohort 1", start_date=datetime.date(2026, 9, 1), actor=staff_user)
    assert cohort.end_date == datetime.date(2027, 3, 1)
    assert cohort.capacity == 10
    assert [i.title for i in cohort.plan_items.all()] == [
        "Kickoff",
        "Month 2 check-in",
        "Month 4 check-in",
        "Final report",
    ]


def test_cohort_create_refuses_a_plan_step_past_six_months(staff_user):
    with pytest.raises(ValidationError, match="must fall within the six months"):
        cohort_create(
            name="Too long",
            start_date=datetime.date(2026, 9, 1),
            plan=[("Encore", 400)],
            actor=staff_user,
        )
    assert not Cohort.objects.exists()


def test_activating_an_enrolment_stamps_dated_milestones(staff_user):
    cohort = cohort_create(name="Cohort 1", start_date=datetime.date(2026, 9, 1), actor=staff_user)
    enrolment = enrolment_invite(cohort=cohort, creator=CreatorFactory(), actor=staff_user)
    enrolment = enrolment_activate(enrolment=enrolment, actor=staff_user)
    dues = list(enrolment.milestones.values_list("title", "due_date"))
    assert dues == [
        ("Kickoff", datetime.date(2026, 9, 15)),
        ("Month 2 check-in", datetime.date(2026, 10, 31)),
        ("Month 4 check-in", datetime.date(2026, 12, 30)),
        ("Final report", datetime.date(2027, 2, 23)),
    ]
    # Idempotent: activating again changes nothing and stamps nothing twice.
    enrolment_activate(enrolment=enrolment, actor=staff_user)
    assert enrolment.milestones.count() == 4


def test_inviting_past_capacity_is_refused_clearly(staff_user):
    cohort = CohortFactory(capacity=1)
    enrolment_invite(cohort=cohort, creator=CreatorFactory(), actor=staff_user)
    with pytest.raises(ValidationError) as error:
        enrolment_invite(cohort=cohort, creator=CreatorFactory(), actor=staff_user)
    assert "is full: all 1 places are taken." in error.value.messages[0]
    assert cohort.enrolments.count() == 1


def test_inviting_twice_into_the_same_cohort_is_refused(staff_user):
    cohort = CohortFactory()
    creator = CreatorFactory()
    enrolment_invite(cohort=cohort, creator=creator, actor=staff_user)
    with pytest.raises(ValidationError, match="already enrolled in this cohort"):
        enrolment_invite(cohort=cohort, creator=creator, actor=staff_user)


def test_a_creator_active_elsewhere_cannot_be_activated(staff_user):
    creator = CreatorFactory()
    first = enrolment_invite(cohort=CohortFactory(), creator=creator, actor=staff_user)
    enrolment_activate(enrolment=first, actor=staff_user)
    later = CohortFactory(start_date=datetime.date(2027, 3, 1))
    second = enrolment_invite(cohort=later, creator=creator, actor=staff_user)
    with pytest.raises(ValidationError, match="is already active in Cohort"):
        enrolment_activate(enrolment=second, actor=staff_user)
    second.refresh_from_db()
    assert second.status == Enrolment.Status.INVITED
    assert not second.milestones.exists()


def test_a_completed_cohort_takes_no_invitations(staff_user):
    cohort = CohortFactory()
    cohort_start(cohort=cohort, actor=staff_user)
    cohort_complete(cohort=cohort, actor=staff_user)
    with pytest.raises(ValidationError, match="has ended"):
        enrolment_invite(cohort=cohort, creator=CreatorFactory(), actor=staff_user)


def test_withdrawing_is_audited_with_the_reason(staff_user):
    enrolment = enrolment_invite(cohort=CohortFactory(), creator=CreatorFactory(), actor=staff_user)
    enrolment_withdraw(enrolment=enrolment, actor=staff_user, reason="Family reasons")
    event = AuditEvent.objects.for_object(enrolment).last()
    assert (event.actor, event.from_state, event.to_state, event.note) == (
        staff_user,
        "invited",
        "withdrawn",
        "Family reasons",
    )


def test_milestone_review_cycle(staff_user):
    cohort = cohort_create(name="C", start_date=datetime.date(2026, 9, 1), actor=staff_user)
    creator_user = UserFactory()
    enrolment = enrolment_invite(
        cohort=cohort, creator=CreatorFactory(user=creator_user), actor=staff_user
    )
    enrolment_activate(enrolment=enrolment, actor=creator_user)
    kickoff = enrolment.milestones.get(title="Kickoff")

    progress_update_submit(milestone=kickoff, author=creator_user, body="Kicked off.")
    with pytest.raises(ValidationError, match="Say what should change"):
        milestone_request_changes(milestone=kickoff, actor=staff_user, feedback="  ")
    milestone_request_changes(milestone=kickoff, actor=staff_user, feedback="Add figures.")
    progress_update_submit(milestone=kickoff, author=creator_user, body="Figures added.")
    approved = milestone_approve(milestone=kickoff, actor=staff_user, feedback="Thanks!")

    assert approved.status == Milestone.Status.APPROVED
    assert kickoff.updates.count() == 2
    trail = [(e.from_state, e.to_state) for e in AuditEvent.objects.for_object(kickoff)]
    assert trail == [
        ("pending", "submitted"),
        ("submitted", "changes_requested"),
        ("changes_requested", "submitted"),
        ("submitted", "approved"),
    ]


def test_an_approved_milestone_takes_no_more_updates(staff_user):
    cohort = cohort_create(name="C", start_date=datetime.date(2026, 9, 1), actor=staff_user)
    enrolment = enrolment_invite(cohort=cohort, creator=CreatorFactory(), actor=staff_user)
    enrolment_activate(enrolment=enrolment, actor=staff_user)
    kickoff = enrolment.milestones.get(title="Kickoff")
    progress_update_submit(milestone=kickoff, author=staff_user, body="Done.")
    milestone_approve(milestone=kickoff, actor=staff_user)
    with pytest.raises(ValidationError, match="cannot go from “Approved” to “Submitted”"):
        progress_update_submit(milestone=kickoff, author=staff_user, body="More.")
    assert kickoff.updates.count() == 1


def test_milestone_add_is_validated_and_audited(staff_user):
    enrolment = enrolment_invite(cohort=CohortFactory(), creator=CreatorFactory(), actor=staff_user)
    extra = milestone_add(
        enrolment=enrolment,
        title="Festival talk",
        due_date=datetime.date(2026, 11, 2),
        actor=staff_user,
    )
    event = AuditEvent.objects.for_object(extra).get()
    assert (event.action, event.to_state, event.actor) == ("created", "pending", staff_user)
    with pytest.raises(ValidationError, match="already has a milestone with this title"):
        milestone_add(
            enrolment=enrolment,
            title="Festival talk",
            due_date=datetime.date(2026, 12, 2),
            actor=staff_user,
        )
    assert enrolment.milestones.count() == 1


# --- Found in review: the end of a cohort, typos in dates ------------------------------------


def test_completing_a_cohort_completes_its_places_and_withdraws_those_never_taken_up(
    cohort, enrolment, other_creator_user, staff_user
):
    from programs.services import cohort_complete, cohort_start

    invited = enrolment_invite(cohort=cohort, creator=other_creator_user.creator, actor=staff_user)
    cohort_start(cohort=cohort, actor=staff_user)

    cohort_complete(cohort=cohort, actor=staff_user)

    enrolment.refresh_from_db()
    invited.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED
    assert invited.status == Enrolment.Status.WITHDRAWN
    with pytest.raises(ValidationError):
        enrolment_activate(enrolment=invited, actor=other_creator_user)
    assert not Milestone.objects.of_active_enrolments().exists()  # no more reminders


def test_a_cohort_start_date_out_of_any_sensible_range_is_refused(staff_user):
    with pytest.raises(ValidationError, match="between 2000 and 2100"):
        cohort_create(name="Typo", start_date=datetime.date(9999, 9, 1), actor=staff_user)
    assert not Cohort.objects.exists()
