"""Work that flows, in a real browser: a reviewer decides two milestones in a row and lands
on the next one each time, then on the queue, all caught up; approving a grant says so in its
row; saving the profile says "Saved" beside the button."""

import datetime
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from donations.models import Nonprofit
from programs.models import Milestone
from programs.services import (
    cohort_create,
    enrolment_activate,
    enrolment_invite,
    progress_update_submit,
)
from tests.e2e.journey import assert_not_reloaded, mark_page, sign_in, wait_for_htmx
from tests.factories import (
    CreatorFactory,
    FundFactory,
    GrantFactory,
    NonprofitFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff():
    return UserFactory(
        username="rosa@example.org",
        first_name="Rosa",
        last_name="Reviewer",
        is_staff=True,
        is_superuser=True,
    )


def submitted_milestones(staff) -> list[Milestone]:
    """Two creators' kickoffs sent for review, Joel's first."""
    cohort = cohort_create(name="Spring 2026", start_date=datetime.date(2026, 3, 1), actor=staff)
    milestones = []
    for name, handle, body in [
        ("Joel Bervell", "joelbervell", "Filmed the kickoff video on medical myths."),
        ("Kara Lewis", "karaxlewis", "Shared my first photo essay."),
    ]:
        creator = CreatorFactory(display_name=name, handle=handle, user=UserFactory())
        enrolment = enrolment_invite(cohort=cohort, creator=creator, actor=staff)
        enrolment_activate(enrolment=enrolment, actor=creator.user)
        kickoff = enrolment.milestones.get(title="Kickoff")
        progress_update_submit(milestone=kickoff, author=creator.user, body=body)
        milestones.append(Milestone.objects.get(pk=kickoff.pk))
    return milestones


def test_reviewing_two_milestones_in_a_row_lands_on_the_next_each_time(page: Page, a11y, staff):
    joel, kara = submitted_milestones(staff)
    sign_in(page, staff.username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)

    page.goto("/staff/reviews/")
    a11y.check(page)
    page.get_by_role("link", name="Kickoff").first.click()
    expect(page).to_have_url(re.compile(rf"/staff/milestones/{joel.pk}/$"))
    page.wait_for_load_state("load")
    # The creator's update first, then what the milestone asks, then the decision.
    headings = page.locator("main h2").all_inner_texts()
    assert headings[:3] == ["The creator's update", "What the milestone asks for", "Decision"]
    expect(page.locator("#creator-update")).to_contain_text("medical myths")
    a11y.check(page)

    page.get_by_role("button", name="Approve").click()
    expect(page).to_have_url(re.compile(rf"/staff/milestones/{kara.pk}/$"))
    expect(page.locator(".messages")).to_contain_text(
        "You approved “Kickoff” of Joel Bervell. Here is the next milestone waiting for review."
    )
    expect(page.locator("#creator-update")).to_contain_text("photo essay")
    a11y.check(page)

    page.get_by_label("Feedback for the creator").fill("Add the link to the essay.")
    page.get_by_role("button", name="Request changes").click()
    expect(page).to_have_url(re.compile(r"/staff/reviews/$"))
    expect(page.locator(".messages")).to_contain_text("You requested changes on “Kickoff”")
    expect(page.locator(".messages")).to_contain_text("All caught up")
    a11y.check(page)

    # The decided milestone shows who decided what, no stale refusal.
    page.goto(f"/staff/milestones/{kara.pk}/")
    expect(page.locator("#decision-made")).to_contain_text("Changes requested by Rosa Reviewer")
    expect(page.get_by_text("Only a submitted milestone can be reviewed.")).to_have_count(0)
    a11y.check(page)


def test_approving_a_grant_confirms_in_its_row(page: Page, a11y, staff):
    grant = GrantFactory(
        fund=FundFactory(total=Decimal("100000.00")),
        nonprofit=NonprofitFactory(
            legal_name="Code Lagos Initiative", verification_status=Nonprofit.Verification.VERIFIED
        ),
    )
    sign_in(page, staff.username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)
    page.goto("/staff/grants/")
    page.wait_for_load_state("load")
    wait_for_htmx(page)
    a11y.check(page)
    mark_page(page)

    row = page.locator(f"#grant-{grant.pk}")
    row.get_by_role("button", name="Approve").click()

    expect(row.locator(".badge")).to_have_text("Approved")
    expect(row.locator(".action-done")).to_have_text(
        "The grant to Code Lagos Initiative is approved."
    )
    expect(row.locator(".action-done")).to_be_visible()
    expect(page.locator("#action-status")).to_have_text(
        "The grant to Code Lagos Initiative is approved."
    )
    assert_not_reloaded(page)
    a11y.check(page)


def test_saving_the_profile_says_saved_beside_the_button(page: Page, a11y):
    creator = CreatorFactory(display_name="Kara Lewis", handle="karaxlewis", user=UserFactory())
    sign_in(page, creator.user.username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/portal/$"))
    a11y.check(page)
    page.goto("/portal/profile/")
    page.wait_for_load_state("load")
    wait_for_htmx(page)
    a11y.check(page)
    mark_page(page)

    page.get_by_label("Bio").fill("Photographer telling untold stories.")
    page.get_by_role("button", name="Save my profile").click()

    saved = page.locator("#profile-saved")
    expect(saved).to_have_text("Saved")
    expect(saved).to_be_focused()
    expect(saved).to_have_attribute("role", "status")
    # Beside the button: on the same line, right after it.
    button = page.get_by_role("button", name="Save my profile").bounding_box()
    box = saved.bounding_box()
    assert abs((box["y"] + box["height"] / 2) - (button["y"] + button["height"] / 2)) < 12
    assert 0 <= box["x"] - (button["x"] + button["width"]) < 40
    assert_not_reloaded(page)
    a11y.check(page)
