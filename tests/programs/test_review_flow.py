"""Reviewing milestones one after the other: the page reads in the order a reviewer needs
(the creator's update, what the milestone asks for, the decision), a decision goes on to the
next milestone waiting (oldest first) naming what was decided, an empty queue says so, and a
decided milestone shows the decision instead of a stale refusal."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse

from changemakers.core.roles import StaffRole
from programs.models import Milestone
from programs.services import progress_update_submit
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

STALE = "Only a submitted milestone can be reviewed."


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def submit(milestone: Milestone, author, body: str, when: datetime.datetime) -> Milestone:
    with time_machine.travel(when, tick=False):
        progress_update_submit(milestone=milestone, author=author, body=body)
    return Milestone.objects.get(pk=milestone.pk)


@pytest.fixture
def queue(enrolment, other_enrolment, creator_user, other_creator_user):
    """Three milestones waiting, sent on three days: the second creator's first."""
    base = datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC)
    kickoff = enrolment.milestones.get(title="Kickoff")
    Milestone.objects.filter(pk=kickoff.pk).update(
        description="Introduce your mission in one video and share the link."
    )
    other_kickoff = other_enrolment.milestones.get(title="Kickoff")
    month2 = enrolment.milestones.exclude(pk=kickoff.pk).order_by("due_date").first()
    first = submit(other_kickoff, other_creator_user, "Kicked off in Lagos.", base)
    second = submit(kickoff, creator_user, "Filmed the kickoff video.", base.replace(day=3))
    third = submit(month2, creator_user, "Two months in.", base.replace(day=4))
    return [first, second, third]


def review(client, milestone, decision="approve", feedback="", **kwargs):
    return client.post(
        reverse("programs:milestone-review", kwargs={"pk": milestone.pk}),
        {"decision": decision, "feedback": feedback},
        **kwargs,
    )


def test_the_page_reads_update_then_what_is_asked_then_the_decision(staff_client, queue):
    milestone = queue[1]
    html = staff_client.get(milestone.get_review_url()).content.decode()

    update = html.index('id="creator-update"')
    asks = html.index('id="milestone-asks"')
    decision = html.index('id="review"')
    assert update < asks < decision
    assert html.index("Filmed the kickoff video.") < asks
    section = html[asks:decision]
    assert "Introduce your mission in one video" in section
    assert milestone.title in section
    assert "due " in section


def test_a_decision_goes_on_to_the_oldest_milestone_waiting(staff_client, queue):
    first, second, _third = queue

    response = review(staff_client, second, "approve", follow=True)

    assert response.redirect_chain[-1][0] == first.get_review_url()
    html = response.content.decode()
    assert f"You approved “{second.title}” of {second.enrolment.creator.display_name}." in html
    assert "Here is the next milestone waiting for review." in html
    assert 'name="decision" value="approve"' in html  # the next one's form, ready


def test_requesting_changes_names_the_decision_and_goes_on(staff_client, queue):
    first, second, _third = queue

    response = review(staff_client, first, "request_changes", "Add the link.", follow=True)

    assert response.redirect_chain[-1][0] == second.get_review_url()
    assert f"You requested changes on “{first.title}”" in response.content.decode()


def test_with_htmx_the_decision_redirects_the_browser_to_the_next(staff_client, queue):
    response = review(staff_client, queue[0], headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == queue[1].get_review_url()


def test_the_last_decision_goes_back_to_the_queue_all_caught_up(staff_client, queue):
    for milestone in queue[:2]:
        review(staff_client, milestone)

    response = review(staff_client, queue[2], follow=True)

    assert response.redirect_chain[-1][0] == reverse("programs:review-list")
    html = response.content.decode()
    assert "All caught up" in html
    assert f"You approved “{queue[2].title}”" in html
    assert list(response.context["milestones"]) == []


def test_a_reviewer_is_not_sent_to_their_own_milestone(client, queue):
    reviewer = queue[1].enrolment.creator.user
    reviewer.is_staff = True
    reviewer.save(update_fields=["is_staff"])
    reviewer.groups.add(*StaffFactory(roles=[StaffRole.PROGRAM_MANAGER]).groups.all())
    client.force_login(reviewer)

    response = review(client, queue[0])

    # Both others waiting are this reviewer's own: back to the queue.
    assert response["Location"] == reverse("programs:review-list")


def test_a_decided_milestone_shows_the_decision_not_a_stale_refusal(
    staff_client, queue, staff_user
):
    staff_user.first_name, staff_user.last_name = "Rosa", "Reviewer"
    staff_user.save(update_fields=["first_name", "last_name"])
    review(staff_client, queue[0], "request_changes", "Add the link.")

    html = staff_client.get(queue[0].get_review_url()).content.decode()

    assert STALE not in html
    decided = re.search(r'<p id="decision-made">(.*?)</p>', html, re.S)[1]
    assert "Changes requested by Rosa Reviewer on" in decided
    assert "Add the link." in html
    assert 'name="decision"' not in html


def test_a_milestone_not_yet_submitted_says_there_is_nothing_to_decide(staff_client, enrolment):
    pending = enrolment.milestones.get(title="Kickoff")
    html = staff_client.get(pending.get_review_url()).content.decode()
    assert STALE not in html
    assert "Nothing to decide yet" in html


def test_an_auditor_reads_the_page_but_cannot_decide(client, queue):
    client.force_login(StaffFactory(roles=[StaffRole.AUDITOR]))
    assert client.get(queue[0].get_review_url()).status_code == 200
    assert review(client, queue[0]).status_code == 403
    assert Milestone.objects.get(pk=queue[0].pk).status == Milestone.Status.SUBMITTED


def test_a_creator_cannot_review(client, queue, creator_user):
    client.force_login(creator_user)
    assert review(client, queue[1]).status_code == 403


def test_the_review_page_reads_in_a_fixed_number_of_queries(
    staff_client, queue, django_assert_max_num_queries
):
    review(staff_client, queue[0])
    with django_assert_max_num_queries(14):
        staff_client.get(queue[0].get_review_url())
    with django_assert_max_num_queries(14):
        staff_client.get(queue[1].get_review_url())
