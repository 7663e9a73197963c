"""The public, in French, browses a fifty-entry list in a real browser: filters by country,
searches a handle, opens a creator's profile, then the program page.

Strings added in issue 5 get their French once the catalogue is updated; the steps here
check French on strings the catalogue already has, and the page language."""

import re

import pytest
from playwright.sync_api import Page, expect

from changemakers.backoffice.services import program_hub_update
from creators.models import Cause
from creators.services import list_publish
from tests.e2e.journey import wait_for_htmx
from tests.factories import (
    ChangeMakersListFactory,
    CreatorFactory,
    GrantFactory,
    ListEntryFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COUNTRIES = ["KE", "SG", "SA", "EG", "GB", "PH", "ES", "NG", "CA", "US"]
CAUSES = [Cause.EDUCATION, Cause.HEALTH, Cause.ENVIRONMENT, Cause.ACTIVISM, Cause.ARTS]


@pytest.fixture
def fifty_entry_list():
    staff = UserFactory(is_staff=True)
    change_makers_list = ChangeMakersListFactory(year=2026, title="Change Makers 2026")
    for n in range(50):
        country = COUNTRIES[n % len(COUNTRIES)]
        ListEntryFactory(
            change_makers_list=change_makers_list,
            creator=CreatorFactory(
                display_name=f"Créatrice {n + 1:02d}", handle=f"maker_{n + 1:02d}", country=country
            ),
            country=country,
            cause=CAUSES[n % len(CAUSES)],
            position=n + 1,
        )
    ListEntryFactory(
        change_makers_list=change_makers_list,
        creator=CreatorFactory(display_name="Wanjiru Kamau", handle="wanjiru.reads", country="KE"),
        country="KE",
        position=51,
    )
    program_hub_update(
        actor=staff,
        title="Change Makers pour le bien commun",
        hashtag="#ChangeMakersForGood",
        introduction="Des créateurs qui font bouger les choses.",
        body="Premier paragraphe.\n\nDeuxième paragraphe.",
    )
    GrantFactory(status="disbursed")
    return list_publish(change_makers_list=change_makers_list, actor=staff)


def test_the_public_browses_the_list_in_french(page: Page, a11y, fifty_entry_list):
    page.goto("/")
    a11y.check(page)
    page.get_by_label("Language").select_option("fr")
    page.locator(".language-form").get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    a11y.check(page)

    page.get_by_role("link", name="Voir la liste 2026 complète").click()
    expect(page).to_have_url(re.compile(r"/list/2026/$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#results-title")).to_have_text("51 créateurs")
    expect(page.locator("#results .entry")).to_have_count(50)  # fifty a page
    expect(page.get_by_role("navigation", name="Pagination")).to_be_visible()
    a11y.check(page)
    page.wait_for_load_state("load")
    wait_for_htmx(page)
    page.evaluate("window.e2eNoReload = true")

    # Filter by country: the results change in place.
    page.get_by_label("Pays").select_option("KE")
    expect(page).to_have_url(re.compile(r"[?&]country=KE"))
    expect(page.locator("#results-title")).to_have_text("6 créateurs")

    # Search a handle (with its @) within Kenya.
    page.get_by_label("Rechercher").fill("@wanjiru")
    page.get_by_label("Rechercher").press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=%40wanjiru"))
    expect(page.locator("#results-title")).to_have_text("1 créateur")
    assert page.evaluate("window.e2eNoReload") is True
    a11y.check(page)  # the results as htmx swapped them in

    page.get_by_role("link", name="Wanjiru Kamau").click()
    expect(page).to_have_url(re.compile(r"/creators/wanjiru\.reads/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Wanjiru Kamau")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator(".profile__facts")).to_contain_text("Pays")
    expect(page.locator(".profile__facts")).to_contain_text("Abonnés")
    a11y.check(page)

    page.locator('.site-nav a[href="/program/"]').click()
    expect(page).to_have_url(re.compile(r"/program/$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Change Makers pour le bien commun")
    expect(page).to_have_title(re.compile(r"^Change Makers pour le bien commun"))
    expect(page.locator(".hub-body p")).to_have_count(2)
    expect(page.locator('.stats[aria-labelledby="totals-title"]')).to_contain_text("25\u00a0000")
    expect(page.locator(".site-nav").get_by_role("link", name="La liste")).to_be_visible()
    assert (
        page.locator('meta[name="twitter:card"]').get_attribute("content") == "summary_large_image"
    )
    a11y.check(page)
