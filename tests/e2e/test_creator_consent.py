"""Consent in a real browser: staff see who on a draft list has not confirmed and email them
a reminder; the creator follows it, chooses what the public sees and confirms; the list,
published, shows them with those fields only."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from creators.models import Creator, PublicField
from tests.e2e.journey import sign_in
from tests.factories import (
    PASSWORD,
    ChangeMakersListFactory,
    CreatorFactory,
    ListEntryFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def edition():
    UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)
    edition = ChangeMakersListFactory(year=2027, title="Change Makers 2027")
    creator = CreatorFactory(
        display_name="Wanjiru Kamau",
        handle="wanjiru.reads",
        country="KE",
        causes=["education"],
        bio="Reading clubs for every child in Nairobi.",
        follower_count=321_000,
        consent=Creator.Consent.UNANSWERED,
        public_fields=[],
        user=UserFactory(username="wanjiru@example.org", email="wanjiru@example.org"),
    )
    ListEntryFactory(change_makers_list=edition, creator=creator, position=1, cause="education")
    ListEntryFactory(change_makers_list=edition, creator__display_name="Open Oduya", position=2)
    return edition


def test_a_reminded_creator_chooses_fields_confirms_and_appears(
    page, new_page, a11y, browser_log, edition, tmp_path
):
    sign_in(page, "staff@example.org", a11y=a11y)
    a11y.check(page)  # the dashboard, where staff land
    page.goto("/staff/lists/2027/")
    a11y.check(page)
    awaiting = page.locator(".consent-awaiting")
    expect(awaiting).to_contain_text("1 creator has not confirmed")
    expect(awaiting).to_contain_text("@wanjiru.reads")
    # Publishing now is refused, naming her.
    page.get_by_role("link", name="Publish…").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Publish").click()
    expect(page.locator(".messages")).to_contain_text("@wanjiru.reads")
    a11y.check(page)
    page.get_by_role("button", name="Email them a reminder").click()
    expect(page.locator(".messages")).to_contain_text("A reminder is on its way to 1 creator.")
    a11y.check(page)
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+(/portal/consent/)", mail.outbox[0].body).group(1)

    creator = new_page()
    creator.goto(link)  # not signed in: the sign-in page first, then back here
    a11y.check(creator)
    creator.get_by_label("Email").fill("wanjiru@example.org")
    creator.get_by_label("Password").fill(PASSWORD)
    creator.locator("main").get_by_role("button", name="Sign in").click()
    expect(creator.get_by_role("heading", level=1)).to_have_text("What the public sees")
    a11y.check(creator)
    boxes = creator.locator("input[name=public_fields]")
    expect(boxes).to_have_count(len(PublicField.values))
    for index in range(len(PublicField.values)):
        expect(boxes.nth(index)).not_to_be_checked()  # the least, until she ticks
    # Without the agreement nothing is saved.
    creator.get_by_label("Country").check()
    creator.get_by_role("button", name="Confirm my choice").click()
    expect(creator.locator(".field--invalid")).to_contain_text("Tick this box to confirm")
    browser_log.expected("/portal/consent/", 422)
    a11y.check(creator)
    creator.get_by_label("Bio").check()
    creator.get_by_label(re.compile("I agree to appear")).check()
    creator.screenshot(path=str(tmp_path / "consent-form.png"), full_page=True)
    creator.get_by_role("button", name="Confirm my choice").click()
    expect(creator.locator(".messages")).to_contain_text("Your choice is saved")
    expect(creator.locator(".badge--agreed")).to_have_text("Confirmed")
    a11y.check(creator)
    creator.screenshot(path=str(tmp_path / "consent-confirmed.png"), full_page=True)

    # Staff publish; the public sees her name, country and bio, not her causes or followers.
    page.goto("/staff/lists/2027/")
    expect(page.locator(".consent-awaiting")).to_have_count(0)
    page.get_by_role("link", name="Publish…").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Publish").click()
    expect(page.locator(".messages")).to_contain_text("is published")
    a11y.check(page)
    visitor = new_page()
    visitor.goto("/creators/wanjiru.reads/")
    a11y.check(visitor)
    profile = visitor.locator("main")
    expect(profile).to_contain_text("Wanjiru Kamau")
    expect(profile).to_contain_text("Kenya")
    expect(profile).to_contain_text("Reading clubs for every child")
    expect(profile).not_to_contain_text("321,000")
    expect(profile).not_to_contain_text("Education")
