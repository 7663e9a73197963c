"""A member of finance works from a pipeline page kept for them (core/whole_page.py,
`personal_page`), in a real browser with a real pages cache: the buttons of the kept page
work (each response carries their own fresh CSRF token, which htmx and the forms send), and
what they change is on the next read."""

import re

import pytest
from playwright.sync_api import Page, expect

from donations.models import Grant, Nonprofit
from tests.e2e.journey import shoot, sign_in, wait_for_htmx
from tests.factories import GrantFactory, NonprofitFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GRANTS = "/staff/grants/?status=proposed"


def kept_pages(pages) -> int:
    return sum(":personal:" in key for key in pages._cache)


def token_of(page: Page) -> str:
    headers = page.locator("body").get_attribute("data-hx-headers") or ""
    found = re.search(r'"X-CSRFToken": "(\w+)"', headers)
    assert found, "no CSRF token on the page"
    return found.group(1)


def test_finance_approves_from_a_kept_pipeline_page(page: Page, a11y, pages):
    finance = UserFactory(username="finance@example.org", is_staff=True, is_superuser=True)
    grants = [
        GrantFactory(
            status=Grant.Status.PROPOSED,
            nonprofit=NonprofitFactory(verification_status=Nonprofit.Verification.VERIFIED),
        )
        for _ in range(2)
    ]
    sign_in(page, finance.username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)

    # Read twice: the second time the page comes from the cache, with a token of its own.
    tokens = []
    for _ in range(2):
        page.goto(GRANTS)
        page.wait_for_load_state("load")
        tokens.append(token_of(page))
    assert kept_pages(pages) >= 1
    assert tokens[0] != tokens[1]
    a11y.check(page)
    shoot(page, "kept-pipeline")

    # Approve in place (htmx, the kept page's token in its header).
    wait_for_htmx(page)
    row = page.locator(f"#grant-{grants[0].pk}")
    row.get_by_role("button", name="Approve").click()
    expect(row.locator(".badge").first).to_have_text("Approved")
    grants[0].refresh_from_db()
    assert grants[0].status == Grant.Status.APPROVED

    # The change retired the kept page: the next read lists one grant to approve.
    page.goto(GRANTS)
    expect(page.locator(f"#grant-{grants[0].pk}")).to_have_count(0)
    expect(page.locator(f"#grant-{grants[1].pk}")).to_have_count(1)
    a11y.check(page)

    # Without htmx's header: the page's own form, read again from the cache, signs out.
    page.goto(GRANTS)
    page.locator(".site-nav").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator(".site-nav").get_by_role("link", name="Sign in")).to_be_visible()
    a11y.check(page)
