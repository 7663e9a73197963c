"""Each person's own time, in a real browser: a creator in Kenya reads times in Nairobi's zone
(guessed from their country), moves it to Auckland on their profile, and the page shows the
same moment in Auckland's time; a member of staff does the same on "Your settings"."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from changemakers.core.models import Preferences
from tests.e2e.journey import sign_in
from tests.factories import CreatorFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _offset(page) -> str:
    """The UTC offset of the "It is now" time the page shows (its datetime attribute)."""
    stamp = page.get_by_test_id("local-now").get_attribute("datetime")
    return datetime.datetime.fromisoformat(stamp).strftime("%z")


def test_a_creator_changes_their_time_zone_and_sees_times_in_it(page, a11y):
    user = UserFactory(username="amani@example.org")
    CreatorFactory(user=user, country="KE", handle="amani.reads")
    sign_in(page, "amani@example.org", a11y=a11y)
    a11y.check(page)  # the portal, where creators land

    page.goto("/portal/profile/")
    expect(page.locator("#local-time")).to_contain_text("Africa/Nairobi")
    assert _offset(page) == "+0300"
    select = page.get_by_label("Time zone")
    expect(select).to_have_value("Africa/Nairobi")
    a11y.check(page)

    select.select_option("Pacific/Auckland")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.locator("#profile-saved")).to_have_text("Saved")
    expect(page.locator("#local-time")).to_contain_text("Pacific/Auckland")
    assert _offset(page) in {"+1200", "+1300"}  # NZST or NZDT, whichever it is today
    a11y.check(page)
    assert Preferences.objects.get(user=user).time_zone == "Pacific/Auckland"

    # Another page, later: the zone holds for the whole session.
    page.goto("/accounts/settings/")
    expect(page.locator("#local-time")).to_contain_text("Pacific/Auckland")
    a11y.check(page)


def test_staff_choose_their_zone_on_your_settings_and_a_bad_one_is_refused(page, a11y):
    UserFactory(username="manager@example.org", is_staff=True, is_superuser=True)
    sign_in(page, "manager@example.org", a11y=a11y)
    a11y.check(page)
    page.get_by_role("link", name="Your settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your settings")
    a11y.check(page)

    page.get_by_label("Time zone").select_option("America/Vancouver")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Your settings are saved.")).to_be_visible()
    expect(page.locator("#local-time")).to_contain_text("America/Vancouver")
    assert _offset(page) in {"-0700", "-0800"}
    a11y.check(page)
