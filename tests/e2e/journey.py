"""Steps the browser journeys share."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.a11y import Accessibility
from tests.factories import PASSWORD


def sign_in(
    page: Page, username: str, password: str = PASSWORD, *, a11y: Accessibility | None = None
) -> None:
    """Through the sign-in form, as a person would; `a11y` checks the form first."""
    page.goto("/accounts/login/")
    if a11y is not None:
        a11y.check(page)
    page.get_by_label("Email").fill(username)
    page.get_by_label("Password").fill(password)
    page.locator("main").get_by_role("button", name="Sign in").click()


def mark_page(page: Page) -> None:
    """A marker that survives htmx swaps and disappears on a full page load."""
    page.evaluate("window.e2eNoReload = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.e2eNoReload") is True


def pick(page: Page, label: str, query: str, match: str) -> None:
    """A search picker (components/picker.html): type into its search box, then pick the
    match whose name starts the radio's label."""
    page.get_by_role("searchbox", name=label).fill(query)
    choice = page.get_by_role("radio", name=re.compile(re.escape(match)))
    expect(choice).to_have_count(1)
    choice.check()


def wait_for_htmx(page: Page) -> None:
    """Until htmx has loaded on this page.

    Written as a function, not as the bare expression `window.htmx !== undefined`:
    Playwright compiles a function once, inside its own call, but evaluates a bare
    expression again on every animation frame with the page's `eval`, which our
    Content-Security-Policy (`script-src 'self'`) refuses whenever the first try is too
    early."""
    page.wait_for_function("() => window.htmx !== undefined")
