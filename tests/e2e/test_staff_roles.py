"""Three staff roles share a grant's path in a real browser: the nonprofit vetter verifies the
nonprofit, the program manager proposes the grant (and finds no button to approve it), the
finance approver approves it. Each lands on a dashboard that names their role and a
navigation with only their pages."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from changemakers.core.roles import StaffRole
from donations.models import Grant, Nonprofit
from tests.e2e.a11y import Accessibility
from tests.e2e.journey import sign_in, wait_for_htmx
from tests.factories import FundFactory, NonprofitFactory, StaffFactory

# The Grants tab, with how many grants wait when some do ("Grants, 1 waiting").
GRANTS_TAB = re.compile(r"^Grants(, \d+ waiting)?$")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in_as(page: Page, username: str, role: str, a11y: Accessibility) -> None:
    sign_in(page, username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.locator("#my-roles")).to_contain_text(f"Your roles: {role}")
    a11y.check(page)


def _sign_out(page: Page, a11y: Accessibility) -> None:
    page.locator(".site-nav").get_by_role("button", name="Sign out").click()
    expect(page.locator(".site-nav").get_by_role("link", name="Sign in")).to_be_visible()
    a11y.check(page)


def test_vetter_manager_and_finance_each_take_their_step(page: Page, a11y):
    StaffFactory(username="vetter@example.org", roles=[StaffRole.NONPROFIT_VETTER])
    StaffFactory(username="manager@example.org", roles=[StaffRole.PROGRAM_MANAGER])
    StaffFactory(username="finance@example.org", roles=[StaffRole.FINANCE_APPROVER])
    FundFactory(name="Change Makers Fund 2026", total=Decimal("1000000.00"))
    nonprofit = NonprofitFactory(legal_name="Code Lagos Initiative", country="NG")
    staff_nav = page.locator(".site-nav--staff")

    # The vetter: nonprofits, no grants.
    _sign_in_as(page, "vetter@example.org", "Nonprofit vetter", a11y)
    expect(staff_nav.get_by_role("link", name=GRANTS_TAB)).to_have_count(0)
    staff_nav.get_by_role("link", name="Nonprofits").click()
    page.wait_for_load_state("load")
    wait_for_htmx(page)
    row = page.locator(f"#nonprofit-{nonprofit.pk}")
    expect(row.get_by_role("link", name="Propose a grant")).to_have_count(0)
    row.get_by_role("button", name="Verify").click()
    expect(row.locator(".badge")).to_have_text("Verified")
    a11y.check(page)
    _sign_out(page, a11y)

    # The program manager proposes, and cannot approve.
    _sign_in_as(page, "manager@example.org", "Program manager", a11y)
    staff_nav.get_by_role("link", name="Nonprofits").click()
    row = page.locator(f"#nonprofit-{nonprofit.pk}")
    expect(row.get_by_role("button", name="Verify")).to_have_count(0)
    a11y.check(page)
    row.get_by_role("link", name="Propose a grant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Propose a grant")
    a11y.check(page)
    page.get_by_label("Fund").select_option(label="Change Makers Fund 2026")
    page.get_by_label("Amount").fill("25000")
    page.get_by_label("Purpose").fill("Coding clubs in Lagos")
    page.get_by_role("button", name="Propose the grant").click()
    expect(page).to_have_url(re.compile(r"/staff/grants/$"))
    grant = Grant.objects.get()
    row = page.locator(f"#grant-{grant.pk}")
    expect(row.locator(".badge")).to_have_text("Proposed")
    expect(row.get_by_role("button")).to_have_count(0)
    a11y.check(page)
    _sign_out(page, a11y)

    # Finance approves it in place.
    _sign_in_as(page, "finance@example.org", "Finance approver", a11y)
    staff_nav.get_by_role("link", name=GRANTS_TAB).click()
    page.wait_for_load_state("load")
    wait_for_htmx(page)
    expect(page.get_by_role("link", name="Propose a grant")).to_have_count(0)
    row = page.locator(f"#grant-{grant.pk}")
    row.get_by_role("button", name="Approve").click()
    expect(row.locator(".badge")).to_have_text("Approved")
    a11y.check(page)
    grant.refresh_from_db()
    nonprofit.refresh_from_db()
    assert grant.status == Grant.Status.APPROVED
    assert nonprofit.verification_status == Nonprofit.Verification.VERIFIED
