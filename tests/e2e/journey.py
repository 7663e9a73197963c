"""Steps the browser journeys share."""

from playwright.sync_api import Page

from tests.e2e.a11y import Accessibility
from tests.factories import PASSWORD


def sign_in(
    page: Page, username: str, password: str = PASSWORD, *, a11y: Accessibility | None = None
) -> None:
    """Through the sign-in form, as a person would; `a11y` checks the form first."""
    page.goto("/accounts/login/")
    if a11y is not None:
        a11y.check(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.locator("main").get_by_role("button", name="Sign in").click()


def mark_page(page: Page) -> None:
    """A marker that survives htmx swaps and disappears on a full page load."""
    page.evaluate("window.e2eNoReload = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.e2eNoReload") is True
