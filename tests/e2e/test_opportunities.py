"""Opportunities in a real browser: a program manager writes one (in English and French) and
publishes it; a creator signs up in their portal and finds it under "My opportunities"; staff
mark them as attended from the sign-ups table (htmx). The portal page in every language."""

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from changemakers.core.roles import StaffRole
from programs.models import Opportunity, OpportunitySignup
from tests.e2e.journey import shoot, sign_in
from tests.factories import CreatorFactory, StaffFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Screenshots to look at (desktop and phone widths), when a folder is given.


@pytest.fixture
def people(db):
    StaffFactory(username="manager@example.org", roles=[StaffRole.PROGRAM_MANAGER])
    creator = CreatorFactory(
        user=UserFactory(username="ayana@example.org"), display_name="Ayana Mwangi"
    )
    return creator


def test_staff_publish_and_a_creator_signs_up(page, new_page, a11y, live_server, people):
    sign_in(page, "manager@example.org", a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)  # the dashboard, where staff land
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Opportunities").click()
    a11y.check(page)
    page.get_by_role("link", name="New opportunity").click()
    a11y.check(page)
    starts = timezone.localtime(timezone.now() + datetime.timedelta(days=12))
    page.get_by_label("Title (English)").fill("Filming on a phone")
    page.get_by_label("Description (English)").fill("Light, sound and editing, in two hours.")
    page.get_by_label("Title (French)").fill("Filmer avec un téléphone")
    page.get_by_label("Kind").select_option("training")
    page.get_by_label(re.compile("^For")).select_option("creators")
    page.get_by_label("Date and time").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Link").fill("https://meet.example/phone")
    page.get_by_label("Places").fill("2")
    closes = (starts - datetime.timedelta(days=2)).date().isoformat()
    page.get_by_label("Sign-ups close on").fill(closes)
    shoot(page, "staff-opportunity-form")
    page.get_by_role("button", name="Save as a draft").click()
    expect(page.get_by_test_id("opportunity-status")).to_have_text("Draft")
    a11y.check(page)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_test_id("opportunity-status")).to_have_text("Published")
    a11y.check(page)
    opportunity = Opportunity.objects.get()
    assert opportunity.title_fr == "Filmer avec un téléphone"

    # The creator, in their own browser, signs up from their portal.
    creator_page = new_page()
    sign_in(creator_page, "ayana@example.org")
    expect(creator_page).to_have_url(re.compile(r"/portal/$"))
    a11y.check(creator_page)
    creator_page.get_by_role("link", name="Opportunities").click()
    expect(creator_page.get_by_role("heading", level=1)).to_have_text("Opportunities")
    card = creator_page.locator(f"#opportunity-{opportunity.pk}")
    expect(card).to_contain_text("Filming on a phone")
    expect(card.get_by_test_id("places-left")).to_have_text("2 places left of 2")
    a11y.check(creator_page)
    card.get_by_role("button", name=re.compile("^Sign up")).click()
    expect(creator_page.locator(".messages")).to_contain_text("You are signed up to")
    mine = creator_page.locator("section", has=creator_page.locator("#mine-title"))
    expect(mine).to_contain_text("Filming on a phone")
    expect(mine).to_contain_text("You are signed up")
    a11y.check(creator_page)
    shoot(creator_page, "portal-opportunities")
    assert OpportunitySignup.objects.filter(user=people.user).count() == 1

    # Staff see who signed up and mark attendance in place (htmx), then export.
    page.reload()
    row = page.locator("tbody tr", has_text="Ayana Mwangi")
    expect(row).to_contain_text("Signed up")
    row.get_by_role("button", name=re.compile("^Attended")).click()
    expect(
        page.locator("tbody tr", has_text="Ayana Mwangi").get_by_test_id("attendance")
    ).to_have_text("Attended")
    expect(page.get_by_test_id("places-taken")).to_have_text("1 / 2")
    a11y.check(page)
    shoot(page, "staff-opportunity-detail")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export the sign-ups (CSV)").click()
    assert "Ayana Mwangi" in Path(download.value.path()).read_text(encoding="utf-8-sig")

    # The portal page in every language the site speaks.
    for code, _name in settings.LANGUAGES:
        creator_page.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": code, "url": live_server.url}]
        )
        creator_page.goto("/portal/opportunities/")
        assert creator_page.locator("html").get_attribute("lang") == code
        expected = "Filmer avec un téléphone" if code == "fr" else "Filming on a phone"
        expect(creator_page.locator("#mine-title + ul")).to_contain_text(expected)
        a11y.check(creator_page)
        if code == "ar":
            assert creator_page.locator("html").get_attribute("dir") == "rtl"
            shoot(creator_page, "portal-opportunities-ar")


def test_a_full_opportunity_says_so_in_the_portal(page, a11y, people):
    from programs.services import opportunity_signup
    from tests.programs.opportunities import make_opportunity, program_manager

    opportunity = make_opportunity(program_manager(), capacity=1, title_en="Mentoring, one place")
    other = CreatorFactory(user=UserFactory()).user
    opportunity_signup(opportunity=opportunity, person=other, actor=other)
    sign_in(page, "ayana@example.org", a11y=a11y)
    expect(page).to_have_url(re.compile(r"/portal/$"))
    a11y.check(page)
    page.goto("/portal/opportunities/")
    card = page.locator(f"#opportunity-{opportunity.pk}")
    expect(card).to_contain_text("This opportunity is full.")
    expect(card.get_by_role("button")).to_have_count(0)
    a11y.check(page)
