import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from programs.models import Enrolment, Milestone, add_months
from tests.factories import CohortFactory, EnrolmentFactory, MilestoneFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime.date(2026, 9, 1), datetime.date(2027, 3, 1)),
        (datetime.date(2025, 8, 31), datetime.date(2026, 2, 28)),  # clamped to the month's end
        (datetime.date(2027, 8, 31), datetime.date(2028, 2, 29)),  # leap year
    ],
)
def test_a_cohort_ends_six_months_after_it_starts(start, end):
    assert add_months(start, 6) == end
    cohort = CohortFactory(start_date=start, end_date=end)
    cohort.full_clean()


def test_a_cohort_of_another_length_is_refused_with_a_clear_message():
    cohort = CohortFactory.build(
        start_date=datetime.date(2026, 9, 1), end_date=datetime.date(2027, 9, 1)
    )
    with pytest.raises(ValidationError) as error:
        cohort.full_clean()
    assert "A cohort ends exactly six months after it starts." in error.value.messages


def test_the_database_refuses_a_cohort_of_another_length():
    with pytest.raises(IntegrityError):
        CohortFactory(start_date=datetime.date(2026, 9, 1), end_date=datetime.date(2026, 12, 1))


@pytest.mark.parametrize("capacity", [0, 101])
def test_capacity_outside_one_to_a_hundred_is_refused(capacity):
    cohort = CohortFactory.build(capacity=capacity)
    with pytest.raises(ValidationError) as error:
        cohort.full_clean()
    assert "A cohort holds between 1 and 100 creators." in error.value.messages


def test_a_full_cohort_refuses_one_more_creator():
    cohort = CohortFactory(capacity=2)
    EnrolmentFactory.create_batch(2, cohort=cohort)
    extra = EnrolmentFactory.build(cohort=cohort)
    with pytest.raises(ValidationError) as error:
        extra.full_clean()
    assert f"{cohort.name} is full: all 2 places are taken." in error.value.messages


def test_a_withdrawn_creator_frees_their_place():
    cohort = CohortFactory(capacity=1)
    EnrolmentFactory(cohort=cohort, status=Enrolment.Status.WITHDRAWN)
    replacement = EnrolmentFactory(cohort=cohort)
    replacement.full_clean()
    assert cohort.enrolments.holding_a_seat().get() == replacement


def test_capacity_cannot_drop_below_the_places_taken():
    cohort = CohortFactory(capacity=3)
    EnrolmentFactory.create_batch(2, cohort=cohort)
    cohort.capacity = 1
    with pytest.raises(ValidationError) as error:
        cohort.full_clean()
    assert error.value.message_dict["capacity"] == [
        "2 creators already hold a place; the capacity cannot be lower."
    ]
    cohort.capacity = 2
    cohort.full_clean()


def test_a_creator_is_active_in_at_most_one_cohort():
    first = EnrolmentFactory(status=Enrolment.Status.ACTIVE)
    second = EnrolmentFactory.build(
        creator=first.creator,
        cohort=CohortFactory(start_date=datetime.date(2027, 3, 1)),
        status=Enrolment.Status.ACTIVE,
    )
    with pytest.raises(ValidationError) as error:
        second.validate_constraints()
    assert "This creator is already active in another cohort." in error.value.messages
    with pytest.raises(IntegrityError):
        second.save()


def test_a_creator_may_have_completed_cohorts_and_one_active():
    first = EnrolmentFactory(status=Enrolment.Status.COMPLETED)
    active = EnrolmentFactory(
        creator=first.creator,
        cohort=CohortFactory(start_date=datetime.date(2027, 3, 1)),
        status=Enrolment.Status.ACTIVE,
    )
    active.validate_constraints()
    assert first.creator.enrolments.count() == 2


def test_overdue_is_derived_from_the_date_and_status():
    today = datetime.date(2026, 11, 25)
    late = MilestoneFactory(due_date=datetime.date(2026, 11, 1))
    MilestoneFactory(due_date=datetime.date(2026, 11, 1), status=Milestone.Status.APPROVED)
    MilestoneFactory(due_date=datetime.date(2026, 12, 1))
    assert list(Milestone.objects.overdue(today)) == [late]
    assert late.is_overdue(today)
    assert not late.is_overdue(datetime.date(2026, 10, 1))
