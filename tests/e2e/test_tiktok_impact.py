"""A creator sends a progress update with a TikTok link and impact figures in a real browser;
the preview job (run as tasks run in the tests: at commit, in-process) fetches the preview
from the oEmbed stand-in; the card shows, with our copy of the thumbnail and nothing loaded
from TikTok; staff approve; the program page shows the totals."""

import re

import pytest
from playwright.sync_api import expect

from programs.clock import program_today
from programs.services import (
    cohort_create,
    cohort_start,
    enrolment_activate,
    enrolment_invite,
    impact_indicator_create,
)
from tests.e2e.journey import sign_in
from tests.factories import CreatorFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("media_root"),
]


def test_a_tiktok_preview_and_impact_figures_from_update_to_program_page(
    page, new_page, a11y, tiktok_standin, tmp_path
):
    staff = UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)
    cohort = cohort_start(
        cohort=cohort_create(name="Cohort Browser", start_date=program_today(), actor=staff),
        actor=staff,
    )
    impact_indicator_create(actor=staff, name="Views", unit="views")
    impact_indicator_create(actor=staff, name="Donations raised", unit="USD", whole_numbers=False)
    creator = CreatorFactory(display_name="Joel Bervell", handle="joelbervell", user=UserFactory())
    enrolment_activate(
        enrolment=enrolment_invite(cohort=cohort, creator=creator, actor=staff),
        actor=creator.user,
    )
    link = tiktok_standin.add_video(title="Three medical myths #health", author_name="Joel Bervell")

    # The creator sends an update with a TikTok link (and its tracking parameters) and figures.
    sign_in(page, creator.user.username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/portal/$"))
    a11y.check(page)
    page.get_by_role("link", name="Kickoff").click()
    a11y.check(page)
    page.get_by_label("What happened").fill("First video out.")
    page.get_by_label("TikTok videos").fill(link + "?is_from_webapp=1")
    page.get_by_label("Views (views)").fill("125000")
    page.get_by_label("Donations raised (USD)").fill("310.50")
    page.get_by_role("button", name="Send my update").click()
    expect(page.get_by_role("status")).to_contain_text("Your update is sent.")
    a11y.check(page)

    # The job ran at commit; the page shows our own preview card once reloaded.
    page.reload()
    card = page.locator(".tiktok-card")
    expect(card).to_contain_text("Three medical myths #health")
    expect(card).to_contain_text("by Joel Bervell")
    thumbnail = card.get_by_role(
        "img", name="Thumbnail of the TikTok video “Three medical myths #health”"
    )
    expect(thumbnail).to_be_visible()
    # Loaded from our own copy (it may still be arriving when the card shows).
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )
    assert re.fullmatch(r"/tiktok/\d+/thumbnail/", thumbnail.get_attribute("src"))
    watch = card.get_by_role("link", name=re.compile("^Watch on TikTok"))
    expect(watch).to_have_attribute("href", link)
    expect(page.locator("script[src*='tiktok'], iframe")).to_have_count(0)
    expect(page.locator(".impact-figures")).to_contain_text("125,000 views")
    a11y.check(page)
    page.screenshot(path=tmp_path / "tiktok-preview.png", full_page=True)
    assert tiktok_standin.requests == ["/oembed", "/thumbnails/7300000000000000001.jpg"]

    # Staff review the figures, then approve the milestone.
    staff_page = new_page()
    sign_in(staff_page, "staff@example.org")
    expect(staff_page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(staff_page)  # the dashboard, with the impact section (nothing approved yet)
    staff_page.goto("/staff/reviews/")
    a11y.check(staff_page)
    staff_page.get_by_role("link", name="Kickoff").click()
    expect(staff_page.locator("#impact-title")).to_be_visible()
    expect(staff_page.locator(".tiktok-card")).to_contain_text("Three medical myths")
    a11y.check(staff_page)
    staff_page.get_by_role("button", name="Approve").click()
    expect(staff_page.locator(".messages")).to_contain_text("You approved “Kickoff”")

    # The public program page shows the totals.
    staff_page.goto("/program/")
    impact = staff_page.locator("section", has=staff_page.locator("#impact-title"))
    expect(impact).to_contain_text("125,000")
    expect(impact).to_contain_text("310.5")
    a11y.check(staff_page)
