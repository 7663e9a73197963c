"""Accessibility checks in the browser journeys: axe-core, from the npm registry, served to the
page by the test and run on every page a journey opens.

axe-core is pinned in tests/e2e/package.json and package-lock.json (with its integrity hash)
and installed with `npm ci` into tests/e2e/node_modules the first time a browser test needs it.
The page gets it the way it gets its own scripts: a `<script src>` on the page's origin, which
Playwright answers from that file, so the page's Content Security Policy (script-src 'self')
is never loosened for the check.
"""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, Route

E2E_DIR = Path(__file__).parent
AXE_FILE = E2E_DIR / "node_modules" / "axe-core" / "axe.min.js"
# Served by Playwright's route, never by the app: the path is not one of the project's URLs.
AXE_PATH = "/__e2e__/axe.min.js"
# What fails a journey. Moderate and minor findings are reported, not failed.
FAILING_IMPACTS = ("serious", "critical")


@dataclass(frozen=True)
class Exclusion:
    """A violation not to fail on: axe-core's rule, the end of the CSS selector it reports for
    the element, and why the project cannot fix it."""

    rule: str
    target_ends_with: str
    why: str

    def covers(self, rule: str, target: str) -> bool:
        return rule == self.rule and target.endswith(self.target_ends_with)


# Violations on admin pages that Django's own admin causes and this project's admin
# configuration cannot change. The sweep of the admin (test_every_page_accessible.py) passes
# these over, and only these; keep the list short and each entry narrow.
ADMIN_EXCLUSIONS = [
    Exclusion(
        "aria-prohibited-attr",
        ".help-tooltip.search-label-icon",  # a class only SelectFilter2.js uses
        # Django 6.1's admin/js/SelectFilter2.js (filter_horizontal, used by Django's own
        # UserAdmin and GroupAdmin for groups and permissions) draws the filter box's search
        # icon as a <span aria-label="Type into this box to filter…"> with no role; ARIA
        # forbids aria-label on a generic span. The icon is drawn by Django's script, not by
        # anything the project configures.
        why="Django's SelectFilter2.js: aria-label on a role-less <span> (auth's admin)",
    ),
]

AXE_RUN = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((node) => node.target.join(" ")),
  }));
}"""


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def axe_source() -> Path:
    """tests/e2e/node_modules/axe-core/axe.min.js, installed by `npm ci` if it is missing."""
    if AXE_FILE.exists():
        return AXE_FILE
    npm = shutil.which("npm")
    if npm is None:
        message = "axe-core needs npm (Node.js) to install it: apt-get install npm"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=E2E_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0 or not AXE_FILE.exists():
        pytest.fail(f"`npm ci` in {E2E_DIR} failed:\n{result.stdout}\n{result.stderr}")
    return AXE_FILE


@dataclass
class Accessibility:
    """The pages a journey opened and what axe-core found on each.

    Every document the page navigates to is recorded; `check(page)` runs axe-core on the page
    as it is now. After a passing test, a page opened but never checked fails the test, and so
    does any serious or critical violation.
    """

    source: Path
    opened: list[str] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Violations not to report (see ADMIN_EXCLUSIONS).
    exclusions: list[Exclusion] = field(default_factory=list)

    def attach(self, context: BrowserContext, page: Page) -> None:
        context.route(f"**{AXE_PATH}", self._serve)
        page.on("framenavigated", lambda frame: self._on_navigated(page, frame))

    def _serve(self, route: Route) -> None:
        route.fulfill(path=self.source, content_type="text/javascript; charset=utf-8")

    def _on_navigated(self, page: Page, frame) -> None:
        if frame == page.main_frame:
            path = urlsplit(frame.url).path
            if path and path not in self.opened:
                self.opened.append(path)

    def check(self, page: Page) -> None:
        """Run axe-core on the page as it is now (call it once the page shows what it should)."""
        page.wait_for_load_state("load")
        if not page.evaluate("() => typeof window.axe === 'object'"):
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
            page.add_script_tag(url=origin + AXE_PATH)
        path = urlsplit(page.url).path
        self.checked.add(path)
        for violation in page.evaluate(AXE_RUN):
            targets = [
                target
                for target in violation["targets"]
                if not any(rule.covers(violation["id"], target) for rule in self.exclusions)
            ]
            if not targets:
                continue
            line = (
                f"{path}: [{violation['impact']}] {violation['id']}: {violation['help']} "
                f"at {json.dumps(targets[:5])}{' …' if len(targets) > 5 else ''}"
            )
            if violation["impact"] in FAILING_IMPACTS:
                self.failures.append(line)
            else:
                self.notes.append(line)

    def problems(self) -> list[str]:
        unchecked = [path for path in self.opened if path not in self.checked]
        return [*self.failures, *(f"{path}: opened but never checked" for path in unchecked)]
