"""Sharing in a real browser: a creator copies the link to their public page from the portal
and is told it is copied; their public page carries its preview tags, whose image loads."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.journey import sign_in
from tests.factories import CreatorFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def joel():
    return CreatorFactory(
        display_name="Joel Bervell",
        handle="joelbervell",
        country="US",
        causes=["health", "education"],
        user=UserFactory(username="joel@example.org"),
    )


def test_a_creator_copies_the_link_to_their_page(page: Page, a11y, joel, live_server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, "joel@example.org", a11y=a11y)
    page.goto("/portal/")
    box = page.get_by_role("region", name="Share your page")
    address = box.get_by_label("Address of your public page")
    profile_url = f"{live_server.url}/creators/joelbervell/"
    expect(address).to_have_value(profile_url)
    expect(box.get_by_role("status")).to_have_text("")
    a11y.check(page)

    box.get_by_role("button", name="Copy link").click()
    expect(box.get_by_role("status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == profile_url
    a11y.check(page)

    # The page the link opens has its preview tags, and its image is there.
    page.goto(profile_url)
    a11y.check(page)
    image = page.locator('meta[property="og:image"]').get_attribute("content")
    assert image == f"{live_server.url}/share/creators/joelbervell.png"
    assert page.locator('meta[name="twitter:card"]').get_attribute("content") == (
        "summary_large_image"
    )
    assert page.locator('meta[property="og:url"]').get_attribute("content") == profile_url
    answer = page.request.get(image)
    assert answer.status == 200
    assert answer.headers["content-type"] == "image/png"


def test_without_javascript_the_address_is_there_to_select(page_without_js: Page, joel):
    sign_in(page_without_js, "joel@example.org")
    page_without_js.goto("/portal/")
    box = page_without_js.get_by_role("region", name="Share your page")
    expect(box.get_by_label("Address of your public page")).to_have_attribute("readonly", "")
    expect(box.get_by_role("button", name="Copy link")).to_be_hidden()
