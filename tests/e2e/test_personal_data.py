"""Personal data in a real browser: one program manager asks for a creator's export, a
second approves it in place, and the requester downloads the ZIP; the requester finds no
approve button on their own request."""

import io
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from changemakers.backoffice.models import PersonalDataRequest
from changemakers.core.roles import StaffRole
from tests.e2e.a11y import Accessibility
from tests.e2e.journey import sign_in, wait_for_htmx
from tests.factories import CreatorFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def _open_page(page: Page, a11y: Accessibility) -> None:
    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)
    page.locator(".site-nav--staff").get_by_role("link", name="Personal data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Personal data")
    wait_for_htmx(page)
    a11y.check(page)


def _sign_out(page: Page, a11y: Accessibility) -> None:
    page.locator(".site-nav").get_by_role("button", name="Sign out").click()
    expect(page.locator(".site-nav").get_by_role("link", name="Sign in")).to_be_visible()
    a11y.check(page)


def test_export_asked_approved_by_a_colleague_and_downloaded(page: Page, a11y, media_root):
    StaffFactory(username="asker@example.org", roles=[StaffRole.PROGRAM_MANAGER])
    StaffFactory(username="approver@example.org", roles=[StaffRole.PROGRAM_MANAGER])
    CreatorFactory(display_name="Joel Bervell", handle="joelbervell")

    sign_in(page, "asker@example.org", a11y=a11y)
    _open_page(page, a11y)
    page.get_by_label("Creator's handle").fill("@joelbervell")
    page.get_by_label("Export").check()
    page.get_by_label("Reason").fill("Asked by email on 12 March, answered from our address")
    page.get_by_role("button", name="Ask for approval").click()
    expect(page.locator(".messages, [role=status]").first).to_be_attached()
    request = PersonalDataRequest.objects.get()
    row = page.locator(f"#data-request-{request.pk}")
    expect(row).to_contain_text("Joel Bervell")
    expect(row.get_by_role("button", name="Approve")).to_have_count(0)
    expect(row).to_contain_text("someone else approves it")
    a11y.check(page)
    _sign_out(page, a11y)

    sign_in(page, "approver@example.org", a11y=a11y)
    _open_page(page, a11y)
    row = page.locator(f"#data-request-{request.pk}")
    row.get_by_role("button", name="Approve").click()
    # The approval builds the ZIP (the job runs in-process in tests) before it answers.
    expect(row.locator(".badge")).to_have_text("Done", timeout=30_000)
    expect(page.locator("#action-status")).to_have_text("The request is approved.")
    a11y.check(page)
    _sign_out(page, a11y)

    sign_in(page, "asker@example.org", a11y=a11y)
    _open_page(page, a11y)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "personal-data.png", full_page=True)
    row = page.locator(f"#data-request-{request.pk}")
    with page.expect_download() as download_info:
        row.get_by_role("link", name="Download the ZIP").click()
    download = download_info.value
    assert re.fullmatch(r"personal-data-\d+\.zip", download.suggested_filename)
    archive = zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes()))
    assert "creators.json" in archive.namelist()
    assert b"joelbervell" in archive.read("creators.json")
