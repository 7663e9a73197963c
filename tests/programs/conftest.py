import datetime

import pytest

from programs.services import cohort_create, enrolment_activate, enrolment_invite

COHORT_START = datetime.date(2026, 9, 1)


@pytest.fixture
def cohort(staff_user):
    return cohort_create(name="Cohort T", start_date=COHORT_START, actor=staff_user)


@pytest.fixture
def enrolment(cohort, creator_user, staff_user):
    """The creator's active place in the cohort, with the default plan's four milestones."""
    invited = enrolment_invite(cohort=cohort, creator=creator_user.creator, actor=staff_user)
    return enrolment_activate(enrolment=invited, actor=creator_user)


@pytest.fixture
def other_enrolment(cohort, other_creator_user, staff_user):
    invited = enrolment_invite(cohort=cohort, creator=other_creator_user.creator, actor=staff_user)
    return enrolment_activate(enrolment=invited, actor=other_creator_user)
