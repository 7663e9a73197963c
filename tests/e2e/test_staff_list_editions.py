"""Staff build next year's list in a real browser: create the edition, import a CSV (a bad
file first, refused with its report), reorder in place, preview, publish, see it public."""

import re

import pytest
from playwright.sync_api import Page, expect

from creators.models import ChangeMakersList
from tests.e2e.journey import assert_not_reloaded, mark_page, sign_in, wait_for_htmx
from tests.factories import CreatorFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GOOD = (
    "position,handle,country,cause,citation\n"
    "1,joelbervell,US,health,Medicine without the myths.\n"
    "2,@karaxlewis,,arts,Stories the camera passes by.\n"
    ",elivirkina,,,Climate stories worth watching.\n"
)
BAD = "position,handle,country,cause,citation\n1,joelbervell,XX,health,Hi.\n2,nobody_here,,,Hi.\n"


@pytest.fixture
def people():
    CreatorFactory(display_name="Joel Bervell", handle="joelbervell", country="US")
    CreatorFactory(display_name="Kara Lewis", handle="karaxlewis", country="US")
    CreatorFactory(display_name="Eli Virkina", handle="elivirkina", country="US")
    return UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)


def upload(page: Page, text: str) -> None:
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "list.csv", "mimeType": "text/csv", "buffer": text.encode()}]
    )
    page.get_by_role("button", name="Check and import").click()


def entry_names(page: Page) -> list[str]:
    return page.locator("#entries tbody th a").all_inner_texts()


def test_staff_build_import_preview_and_publish_an_edition(page: Page, a11y, people, browser_log):
    sign_in(page, people.username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)
    page.locator(".site-nav").get_by_role("link", name="Lists").click()
    expect(page).to_have_url(re.compile(r"/staff/lists/$"))
    a11y.check(page)

    page.get_by_role("link", name="New edition").click()
    expect(page.get_by_label("Year")).to_be_visible()
    a11y.check(page)
    page.get_by_label("Year").fill("2027")
    page.get_by_label("Title").fill("Change Makers 2027")
    page.get_by_role("button", name="Create the edition").click()
    expect(page).to_have_url(re.compile(r"/staff/lists/2027/$"))
    expect(page.locator(".badge")).to_have_text("Draft")
    a11y.check(page)

    # A bad file: every problem listed, nothing imported.
    page.get_by_role("link", name="Import from CSV").click()
    expect(page.get_by_label("CSV file")).to_be_visible()
    a11y.check(page)
    upload(page, BAD)
    report = page.locator(".import-report")
    expect(report).to_contain_text("2 problems; nothing was imported.")
    expect(report.locator("tbody tr")).to_have_count(2)
    expect(report).to_contain_text("No creator has the handle @nobody_here.")
    browser_log.expected("/staff/lists/2027/import/", 422)  # refused, nothing imported
    a11y.check(page)  # the report
    assert not ChangeMakersList.objects.get(year=2027).entries.exists()

    upload(page, GOOD)
    expect(page).to_have_url(re.compile(r"/staff/lists/2027/#entries$"))
    expect(page.locator(".messages")).to_contain_text("3 entries imported")
    assert entry_names(page) == ["Joel Bervell", "Kara Lewis", "Eli Virkina"]

    # Reorder in place with htmx.
    page.wait_for_load_state("load")
    wait_for_htmx(page)
    mark_page(page)
    page.get_by_role("button", name="Up (move Eli Virkina up)").click()
    expect(page.locator("#entries tbody tr").nth(1)).to_contain_text("Eli Virkina")
    assert entry_names(page) == ["Joel Bervell", "Eli Virkina", "Kara Lewis"]
    expect(page.locator("#action-status")).to_have_text("Eli Virkina moved up.")
    assert_not_reloaded(page)
    a11y.check(page)

    # The creator picker finds creators as staff type; those on the list are marked.
    CreatorFactory(display_name="Amara Diallo", handle="amara.sahel")
    search = page.get_by_role("searchbox", name="Creator")
    search.press_sequentially("ama")
    match = page.locator("#add-creator-results input[type=radio]")
    expect(match).to_have_count(1)
    expect(match).to_have_attribute("value", "amara.sahel")
    search.fill("jo")
    expect(page.locator("#add-creator-results")).to_contain_text("On the 2027 list")
    expect(match).to_be_disabled()  # Joel is on the list already

    page.get_by_role("link", name="Preview").click()
    expect(page.locator(".preview-banner")).to_contain_text("Preview — not public")
    expect(page.locator("#results-title")).to_have_text("3 creators")
    a11y.check(page)
    page.get_by_role("link", name="Back to the edition").click()

    page.get_by_role("link", name="Publish…").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Publish").click()
    expect(page.locator(".badge--published")).to_have_text("Published")
    a11y.check(page)
    page.get_by_role("link", name="See it public").click()
    expect(page).to_have_url(re.compile(r"/list/2027/$"))
    expect(page.locator(".preview-banner")).to_have_count(0)
    names = page.locator("#results .entry__name a").all_inner_texts()
    assert names == ["Joel Bervell", "Eli Virkina", "Kara Lewis"]
    a11y.check(page)
