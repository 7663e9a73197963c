"""The public browses the published list in a real browser: with htmx, in French, and with
JavaScript turned off."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from creators.models import Cause
from creators.services import list_publish
from tests.e2e.journey import wait_for_htmx
from tests.factories import ChangeMakersListFactory, CreatorFactory, ListEntryFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KENYANS = ["Achieng Otieno", "Baraka Mwangi"]
OTHERS = [("Chloe Bennett", "GB"), ("Dapo Adeyemi", "NG")]


@pytest.fixture
def published_list():
    change_makers_list = ChangeMakersListFactory(year=2026, title="Change Makers 2026")
    people = [(name, "KE") for name in KENYANS] + OTHERS
    for position, (name, country) in enumerate(people, start=1):
        ListEntryFactory(
            change_makers_list=change_makers_list,
            creator=CreatorFactory(display_name=name, country=country),
            cause=Cause.EDUCATION,
            position=position,
        )
    return list_publish(change_makers_list=change_makers_list, actor=UserFactory(is_staff=True))


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def entry_names(page: Page) -> list[str]:
    return page.locator("#results .entry__name a").all_inner_texts()


def test_public_filters_the_list_by_country_in_place_and_opens_a_profile(
    page, a11y, published_list
):
    page.goto("/")
    a11y.check(page)
    # The stylesheet and htmx really load (WhiteNoise from the finders, allowed by the CSP).
    assert page.evaluate("document.styleSheets[0].cssRules.length") > 0
    wait_for_htmx(page)

    page.get_by_role("link", name="See the full 2026 list").click()
    expect(page).to_have_url(re.compile(r"/list/2026/$"))
    expect(page.locator("#results-title")).to_have_text("4 creators")
    # htmx (a deferred script) has wired the form once the page's load event has fired.
    page.wait_for_load_state("load")
    a11y.check(page)

    page.evaluate("window.e2eNoReload = true")
    page.get_by_label("Country").select_option("KE")

    expect(page).to_have_url(re.compile(r"[?&]country=KE"))
    expect(page.locator("#results-title")).to_have_text("2 creators")
    assert sorted(entry_names(page)) == KENYANS
    assert query_of(page.url)["country"] == ["KE"]
    # htmx swapped the results in: the page (and the marker set on it) is still the same.
    assert page.evaluate("window.e2eNoReload") is True
    a11y.check(page)

    page.get_by_role("link", name="Baraka Mwangi").click()
    expect(page).to_have_url(re.compile(r"/creators/[^/]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Baraka Mwangi")
    assert page.evaluate("window.e2eNoReload") is None
    a11y.check(page)


def test_public_switches_to_french_with_the_footer_form(page, a11y, published_list):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    a11y.check(page)

    page.get_by_label("Language").select_option("fr")
    page.locator(".language-form").get_by_role("button").click()

    expect(page.locator("html")).to_have_attribute("lang", "fr")
    nav = page.locator(".site-nav")
    expect(nav.get_by_role("link", name="Se connecter")).to_be_visible()
    expect(nav.get_by_role("link", name="La liste")).to_be_visible()
    expect(page.get_by_label("Langue")).to_have_value("fr")

    page.get_by_role("link", name="Voir la liste 2026 complète").click()
    expect(page).to_have_url(re.compile(r"/list/2026/$"))
    page.wait_for_load_state("load")
    page.get_by_label("Pays").select_option("KE")
    expect(page).to_have_url(re.compile(r"[?&]country=KE"))
    expect(page.locator("#results-title")).to_have_text("2 créateurs")
    a11y.check(page)

    page.get_by_role("link", name="Achieng Otieno").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Achieng Otieno")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    a11y.check(page)


def test_list_filter_works_without_javascript(page_without_js, published_list):
    page = page_without_js
    page.goto("/list/2026/")
    expect(page.locator("#results-title")).to_have_text("4 creators")

    page.get_by_label("Country").select_option("KE")
    # Without htmx nothing happens on change: the person presses Filter, the page reloads.
    expect(page.locator("#results-title")).to_have_text("4 creators")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()

    assert query_of(page.url)["country"] == ["KE"]
    expect(page.locator("#results-title")).to_have_text("2 creators")
    assert sorted(entry_names(page)) == KENYANS
    expect(page.get_by_label("Country")).to_have_value("KE")


def test_the_list_works_from_the_keyboard_alone(page, a11y, published_list):
    page.goto("/list/2026/")
    page.wait_for_load_state("load")
    wait_for_htmx(page)
    a11y.check(page)

    # The first Tab reaches the skip link, shown when focused; Enter moves focus to the content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    # Tab on to the country filter and choose Kenya with the arrow keys: the results follow.
    country = page.get_by_label("Country")
    for _ in range(10):
        page.keyboard.press("Tab")
        if country.evaluate("element => element === document.activeElement"):
            break
    expect(country).to_be_focused()
    for _ in range(300):
        if country.input_value() == "KE":
            break
        page.keyboard.press("ArrowDown")
    expect(page.locator("#results-title")).to_have_text("2 creators")

    # Tab reaches the first creator's link; Enter opens the profile.
    first = page.get_by_role("link", name=KENYANS[0])
    for _ in range(15):
        page.keyboard.press("Tab")
        if first.evaluate("element => element === document.activeElement"):
            break
    expect(first).to_be_focused()
    outline = first.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline != "none"  # the focus is visible
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(KENYANS[0])
    a11y.check(page)
