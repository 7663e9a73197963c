"""Real-browser tests: Playwright (sync API) drives Debian's Chromium at /usr/bin/chromium
against pytest-django's live server. Playwright never downloads a browser here.

Every page a test opens with the `page` fixture must be checked with axe-core (`a11y.check(page)`,
see a11y.py): a page opened and not checked, or a serious or critical violation, fails the test.

Without /usr/bin/chromium the `browser` tests skip on a laptop and fail under CI=true
(`.ci/run` installs the Debian package).
"""

import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    sync_playwright,
)

from tests.e2e.a11y import Accessibility, axe_source

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
# No network and root on CI: no sandbox, nothing that phones home.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000

REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`browser` tests skip without Chromium, except in CI where the `browser` fixture fails."""
    if CHROMIUM.exists() or _in_ci():
        return
    skip = pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    """Keep each phase's report on the item, so the page fixture knows whether to screenshot."""
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for all browser tests, closed when the e2e package is done.

    Playwright's sync API keeps an asyncio loop running in this thread while it is started,
    so Django would refuse ORM calls in the tests (SynchronousOnlyOperation). Django's
    documented escape hatch is DJANGO_ALLOW_ASYNC_UNSAFE; it is set only while Playwright
    runs and restored afterwards, so no other test runs with it (or with the loop).
    """
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: apt-get install chromium")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class BrowserLog:
    """What a page said that a person would not see: console errors, script errors, CSP
    violations (Chromium reports those as console errors) and failed responses."""

    problems: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def attach(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("response", self._on_response)

    def expected(self, path: str, status: int) -> None:
        """A page meant to answer with an error status (a used link's 410): check it did, and
        drop what the browser logged about it, and only that."""
        assert self.statuses.get(path) == status, self.statuses
        self.problems[:] = [problem for problem in self.problems if path not in problem]

    def _on_console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or message.type == "error":
            self.problems.append(f"console {message.type}: {message.text} ({message.location})")

    def _on_response(self, response: Response) -> None:
        path = urlsplit(response.url).path
        self.statuses[path] = response.status
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.request.method} {path}")


def _new_page(
    request: pytest.FixtureRequest,
    context: BrowserContext,
    log: BrowserLog,
    a11y: Accessibility | None = None,
) -> Iterator[Page]:
    page = context.new_page()
    log.attach(page)
    if a11y is not None:
        a11y.attach(context, page)
    yield page
    reports = request.node.stash.get(REPORTS, {})
    call = reports.get("call")
    if call is not None and call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    context.close()
    if call is not None and call.passed and log.problems:
        pytest.fail("The browser reported problems:\n" + "\n".join(log.problems))
    if call is not None and call.passed and a11y is not None:
        for note in a11y.notes:
            warnings.warn(f"axe-core (not failing): {note}", stacklevel=1)
        if a11y.problems():
            pytest.fail("Accessibility (axe-core):\n" + "\n".join(a11y.problems()))


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture(scope="session")
def axe_file() -> Path:
    return axe_source()


@pytest.fixture
def a11y(axe_file: Path) -> Accessibility:
    """What axe-core found on the pages of the test's `page` (and every page it opened)."""
    return Accessibility(source=axe_file)


@pytest.fixture
def page(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_server,
    browser_log: BrowserLog,
    a11y: Accessibility,
) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page on the live server. After a passing test
    it fails on any console error, CSP violation or failed response the page logged, on any
    page it opened that `a11y.check(page)` did not check, and on serious or critical
    accessibility violations."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    yield from _new_page(request, context, browser_log, a11y)


@pytest.fixture
def new_page(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_server,
    browser_log: BrowserLog,
    a11y: Accessibility,
    page: Page,
) -> Iterator[Callable[[], Page]]:
    """Opens another person's browser (its own context: its own cookies) on the live server,
    watched like `page`: its problems and unchecked pages fail the test too."""
    opened: list[Page] = []

    def open_page() -> Page:
        context = browser.new_context(base_url=live_server.url, locale="en-GB")
        context.set_default_timeout(TIMEOUT_MS)
        other = context.new_page()
        browser_log.attach(other)
        a11y.attach(context, other)
        opened.append(other)
        return other

    yield open_page
    call = request.node.stash.get(REPORTS, {}).get("call")
    for number, other in enumerate(opened, start=2):
        if call is not None and call.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            other.screenshot(path=ARTIFACTS / f"{request.node.name}-{number}.png", full_page=True)
        other.context.close()


@pytest.fixture
def page_without_js(
    request: pytest.FixtureRequest, browser: Browser, live_server, browser_log: BrowserLog
) -> Iterator[Page]:
    """Like `page`, with JavaScript turned off: what a person without scripts gets."""
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", java_script_enabled=False
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield from _new_page(request, context, browser_log)


# A phone the size of most in people's hands today (390 by 844 CSS pixels), touch and all.
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def phone_page(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_server,
    browser_log: BrowserLog,
    a11y: Accessibility,
) -> Iterator[Page]:
    """Like `page`, on a phone: 390 pixels wide, with touch, the page's meta viewport obeyed."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB", **PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    yield from _new_page(request, context, browser_log, a11y)


@pytest.fixture
def phone_page_without_js(
    request: pytest.FixtureRequest, browser: Browser, live_server, browser_log: BrowserLog
) -> Iterator[Page]:
    """Like `phone_page`, with JavaScript turned off."""
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", java_script_enabled=False, **PHONE
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield from _new_page(request, context, browser_log)
