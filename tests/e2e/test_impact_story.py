"""A creator's impact story in a real browser: the creator asks to show a progress update on
their public page, staff approve it as a public highlight with a summary in two languages,
and the public page shows the creator's cohort, mission, the nonprofit paid in their name and
the highlight (its TikTok preview and impact figures), in every language of the site, with
the summary in the reader's language where staff wrote one. Screenshots at 1280 and 390 px
wide go to /tmp/shots-stories/."""

import re
from decimal import Decimal

import pytest
from django.db import transaction
from playwright.sync_api import expect

from changemakers.backoffice.management.commands.seed_demo import demo_thumbnail
from programs.clock import program_today
from programs.services import (
    cohort_create,
    cohort_start,
    enrolment_activate,
    enrolment_invite,
    impact_indicator_create,
    progress_update_submit,
    tiktok_preview_store,
)
from programs.tiktok import Preview
from tests.e2e.journey import shoot, sign_in
from tests.factories import CreatorFactory, GrantFactory, NonprofitFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("media_root"),
]

SUMMARY_EN = "Three myths debunked for 1.45 million viewers."
SUMMARY_FR = "Trois idées reçues démontées pour 1,45 million de personnes."
# Where no translation was written, the English summary stands in.
EXPECTED = {"en": SUMMARY_EN, "fr": SUMMARY_FR, "es": SUMMARY_EN, "ar": SUMMARY_EN}


@pytest.fixture
def joel():
    staff = UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)
    cohort = cohort_start(
        cohort=cohort_create(
            name="Cohort 1 — autumn 2026", start_date=program_today(), actor=staff
        ),
        actor=staff,
    )
    views = impact_indicator_create(actor=staff, name="Views", unit="views")
    creator = CreatorFactory(display_name="Joel Bervell", handle="joelbervell", user=UserFactory())
    enrolment = enrolment_activate(
        enrolment=enrolment_invite(
            cohort=cohort,
            creator=creator,
            mission="Debunk one medical myth a week.",
            actor=staff,
        ),
        actor=creator.user,
    )
    GrantFactory(
        creator=creator,
        nonprofit=NonprofitFactory(
            legal_name="Open Medicine Foundation International", verification_status="verified"
        ),
        status="disbursed",
    )
    # The preview is stored in the update's transaction, so the fetch job finds it ready.
    with transaction.atomic():
        update = progress_update_submit(
            milestone=enrolment.milestones.order_by("due_date").first(),
            author=creator.user,
            body="Three videos out on medical myths.",
            tiktok_links=["https://www.tiktok.com/@joelbervell/video/7300000000000000001"],
            impact={views: Decimal("1450000")},
        )
        tiktok_preview_store(
            video_id=update.tiktok_videos.get().pk,
            preview=Preview(
                title="Three medical myths #health",
                author_name="Joel Bervell",
                author_url="https://www.tiktok.com/@joelbervell",
                thumbnail=None,
            ),
            thumbnail=demo_thumbnail((11, 93, 91)),
        )
    return creator


def test_a_highlight_from_the_portal_to_the_public_page_in_every_language(
    page, new_page, a11y, joel
):
    # Not on the public page yet: nothing asked, nothing approved.
    public = new_page()
    public.goto("/creators/joelbervell/")
    expect(public.locator("#mission-title")).to_be_visible()
    expect(public.locator("#highlights-title")).to_have_count(0)
    a11y.check(public)

    # The creator asks to show the update.
    sign_in(page, joel.user.username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/portal/$"))
    a11y.check(page)
    page.get_by_role("link", name="Kickoff").click()
    a11y.check(page)
    page.get_by_role("button", name="Show this update on my public page").click()
    expect(page.get_by_text("Asked to be public; awaiting the program team")).to_be_visible()
    a11y.check(page)
    shoot(page, "portal")

    # Staff approve it as a public highlight, with an English and a French summary.
    staff = new_page()
    sign_in(staff, "staff@example.org")
    expect(staff).to_have_url(re.compile(r"/staff/$"))
    a11y.check(staff)
    staff.goto("/staff/reviews/")
    a11y.check(staff)
    staff.get_by_role("link", name="Kickoff").click()
    a11y.check(staff)
    staff.get_by_label("Public summary (English)").fill(SUMMARY_EN)
    staff.get_by_label("Public summary (French)").fill(SUMMARY_FR)
    shoot(staff, "review")
    staff.get_by_role("button", name="Approve as a public highlight").click()
    expect(staff.get_by_text("The update is approved as a public highlight.")).to_be_visible()
    expect(staff.get_by_text("On the public page")).to_be_visible()
    a11y.check(staff)
    shoot(staff, "review-approved")

    # The public page, in every language.
    for language, summary in EXPECTED.items():
        public.goto("/creators/joelbervell/")
        if public.locator("html").get_attribute("lang") != language:
            public.locator("#language-select").select_option(language)
            public.locator(".language-form button").click()
        expect(public.locator("html")).to_have_attribute("lang", language)
        highlights = public.locator("section", has=public.locator("#highlights-title"))
        expect(highlights).to_contain_text(summary)
        expect(public.locator("main")).to_contain_text("Debunk one medical myth a week.")
        expect(public.locator("main")).to_contain_text("Cohort 1 — autumn 2026")
        expect(public.locator("main")).to_contain_text("Open Medicine Foundation International")
        thumbnail = highlights.locator("img.tiktok-card__thumbnail")
        expect(thumbnail).to_be_visible()
        public.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
        )
        expect(highlights.locator(".impact-figures")).to_be_visible()
        if language == "en":
            expect(highlights).to_contain_text("1,450,000 views")
            expect(public.locator("main")).to_contain_text("$25,000.00 donated to")
        a11y.check(public)
        shoot(public, f"profile-{language}")

    # The creator takes it back: gone from the public page at once.
    page.get_by_role("button", name="Take it off my public page").click()
    expect(page.get_by_text("Not on the public page")).to_be_visible()
    a11y.check(page)
    public.reload()
    expect(public.locator("#highlights-title")).to_have_count(0)
    a11y.check(public)
