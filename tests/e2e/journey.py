"""Steps the browser journeys share, and the data some of them start from."""

import os
import re
from pathlib import Path

from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from donations.services import disbursement_pay, grant_approve, grant_propose, grant_schedule
from tests.e2e.a11y import Accessibility
from tests.factories import PASSWORD, FundFactory

# Screenshots for a person to look at, taken only when SHOTS_DIR names a folder for them.
SHOTS_DIR = os.environ.get("SHOTS_DIR", "")
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


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


def shoot(page: Page, name: str, *, sizes=(DESKTOP, PHONE), full_page: bool = True) -> None:
    """The page at each of `sizes` (desktop and phone), saved as `<name>-<width>.png` in
    SHOTS_DIR when it is set; the page is left at the size it had. Nothing otherwise."""
    if not SHOTS_DIR:
        return
    folder = Path(SHOTS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for each in sizes:
        page.set_viewport_size(each)
        page.screenshot(path=folder / f"{name}-{each['width']}.png", full_page=full_page)
    if size:
        page.set_viewport_size(size)


def signed_in(page: Page, user, live_server_url: str) -> None:
    """The user's session in the page's browser, without the sign-in form (which has its own
    journeys)."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server_url,
            }
        ]
    )


def paid_grant(nonprofit, staff, proposer, *, creator=None, currency: str = "USD"):
    """A grant to `nonprofit` proposed by `proposer`, approved and paid by `staff`, through
    the services, named after its creator ("Donation in the name of …") or "Program grant"."""
    grant = grant_propose(
        fund=FundFactory(currency=currency),
        nonprofit=nonprofit,
        creator=creator,
        amount="25000.00",
        purpose=f"Donation in the name of {creator.display_name}" if creator else "Program grant",
        actor=proposer,
    )
    grant = grant_schedule(grant=grant_approve(grant=grant, actor=staff), actor=staff)
    disbursement_pay(disbursement_id=grant.disbursement.pk)
    return grant
