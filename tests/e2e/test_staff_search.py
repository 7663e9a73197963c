"""Staff find creators by searching rather than scrolling a list: on a cohort page they type
part of a name (without its accents), reach a match with the keyboard, pick it and invite;
on a list edition they add a creator the same way. Those already in an active cohort or on
the list are marked and cannot be picked."""

import datetime
import re

import pytest
from playwright.sync_api import Page, expect

from creators.models import ListEntry
from programs.models import Cohort, Enrolment
from tests.e2e.journey import assert_not_reloaded, mark_page, shoot, sign_in, wait_for_htmx
from tests.factories import (
    PASSWORD,
    ChangeMakersListFactory,
    CohortFactory,
    CreatorFactory,
    EnrolmentFactory,
    ListEntryFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    staff = UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)
    running = CohortFactory(name="Cohort 2", status=Cohort.Status.ACTIVE)
    cohort = CohortFactory(
        name="Cohort 3", start_date=running.start_date + datetime.timedelta(days=30)
    )
    zoe = CreatorFactory(display_name="Zoë Núñez", handle="zoe.nunez")
    busy = CreatorFactory(display_name="Nuno Busy", handle="nuno.busy")
    EnrolmentFactory(cohort=running, creator=busy, status=Enrolment.Status.ACTIVE)
    edition = ChangeMakersListFactory(year=2027)
    ListEntryFactory(change_makers_list=edition, creator=busy, position=1)
    return {"staff": staff, "cohort": cohort, "zoe": zoe, "busy": busy, "edition": edition}


def test_staff_find_a_creator_by_part_of_their_name_and_invite_them(page: Page, a11y, world):
    sign_in(page, world["staff"].username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)
    page.goto(f"/staff/cohorts/{world['cohort'].pk}/")
    wait_for_htmx(page)
    mark_page(page)
    a11y.check(page)

    search = page.get_by_role("searchbox", name="Creator")
    search.press_sequentially("nun")  # no accent typed: "Núñez" matches
    results = page.locator("#invite-creator-results")
    expect(results.locator("input[type=radio]")).to_have_count(2)
    busy = results.get_by_role("radio", name=re.compile("Nuno Busy"))
    expect(busy).to_be_disabled()  # active in an overlapping cohort
    expect(results).to_contain_text("In Cohort 2")
    expect(page.locator("#invite-creator-status")).to_have_text("2 matches")
    a11y.check(page)
    shoot(page, "cohort-picker")

    # The keyboard: down from the field to the first match, Enter picks it.
    search.press("ArrowDown")
    zoe = results.get_by_role("radio", name=re.compile("Zoë Núñez"))
    expect(zoe).to_be_focused()
    zoe.press("Enter")
    expect(zoe).to_be_checked()

    page.get_by_label("Email for the portal invitation").fill("zoe@example.org")
    page.get_by_role("button", name="Invite", exact=True).click()
    expect(page.locator("#invite-forms .alert--success")).to_contain_text(
        "Zoë Núñez is invited to Cohort 3."
    )
    assert_not_reloaded(page)
    assert Enrolment.objects.filter(cohort=world["cohort"], creator=world["zoe"]).exists()

    # The grid shows the invitation's dates in the reader's zone.
    page.reload()
    row = page.locator(f"#enrolment-{world['zoe'].enrolments.get().pk}")
    expect(row).to_contain_text(re.compile(r"Portal invitation:\s+Sent \w+ \d+, expires \w+ \d+"))
    a11y.check(page)
    shoot(page, "cohort-invited")


def test_staff_add_a_creator_to_a_list_edition_by_searching(page: Page, a11y, world):
    sign_in(page, world["staff"].username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)
    page.goto("/staff/lists/2027/")
    wait_for_htmx(page)
    a11y.check(page)

    search = page.get_by_role("searchbox", name="Creator")
    search.press_sequentially("@NU")
    results = page.locator("#add-creator-results")
    expect(results.locator("input[type=radio]")).to_have_count(2)
    expect(results.get_by_role("radio", name=re.compile("Nuno Busy"))).to_be_disabled()
    expect(results).to_contain_text("On the 2027 list")
    a11y.check(page)
    shoot(page, "edition-picker")

    search.press("ArrowDown")
    zoe = results.get_by_role("radio", name=re.compile("Zoë Núñez"))
    expect(zoe).to_be_focused()
    page.keyboard.press("Space")
    expect(zoe).to_be_checked()
    page.get_by_label("Citation").fill("Stories of the sea, told in Spanish and English.")
    page.get_by_role("button", name="Add to the list").click()

    added = "Zoë Núñez (@zoe.nunez) is added to the list."
    expect(page.locator(".messages")).to_contain_text(added)
    assert ListEntry.objects.filter(
        change_makers_list=world["edition"], creator=world["zoe"]
    ).exists()
    a11y.check(page)


def test_without_javascript_the_search_reloads_the_page_with_matches(browser, live_server, world):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(world["staff"].username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    page.goto(f"/staff/cohorts/{world['cohort'].pk}/")
    page.get_by_role("searchbox", name="Creator").fill("zoe")
    page.get_by_role("button", name="Search Creator").click()
    expect(page).to_have_url(re.compile(r"\?creator_q=zoe#invite-title$"))
    page.get_by_role("radio", name=re.compile("Zoë Núñez")).check()
    page.get_by_label("Email for the portal invitation").fill("zoe@example.org")
    page.get_by_role("button", name="Invite", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Zoë Núñez is invited to Cohort 3.")
    context.close()
