"""A finance approver signs in and finds the work waiting for them first: Today's rows, each
with its count and the age of its oldest item, the staff tabs with how many wait behind
them, and a link that opens the list of exactly those items; on a desktop and on a phone."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from changemakers.core.roles import StaffRole
from donations.models import Grant
from programs.models import Milestone
from tests.e2e.journey import DESKTOP, PHONE, shoot, sign_in
from tests.factories import (
    FundFactory,
    GrantFactory,
    MilestoneFactory,
    NonprofitFactory,
    StaffFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture
def work():
    """Two grants to approve, the older proposed three days ago; one failed payment; a
    nonprofit to vet and a milestone to review, which are not a finance approver's work."""
    fund = FundFactory(name="Change Makers Fund 2026", total=Decimal("1000000.00"))
    payee = NonprofitFactory(legal_name="Readers of Nairobi", verification_status="verified")
    older = GrantFactory(fund=fund, nonprofit=payee, status=Grant.Status.PROPOSED)
    Grant.objects.filter(pk=older.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=3, hours=2)
    )
    newer = GrantFactory(fund=fund, nonprofit=payee, status=Grant.Status.PROPOSED)
    GrantFactory(fund=fund, nonprofit=payee, status=Grant.Status.FAILED)
    paid = GrantFactory(fund=fund, nonprofit=payee, status=Grant.Status.DISBURSED)
    NonprofitFactory(legal_name="Accessible Futures")  # pending review
    MilestoneFactory(status=Milestone.Status.SUBMITTED)
    return {"older": older, "newer": newer, "paid": paid}


@pytest.mark.parametrize("size", list(SIZES))
def test_finance_finds_todays_work_first_and_opens_its_list(page: Page, a11y, work, size):
    page.set_viewport_size(SIZES[size])
    StaffFactory(username="finance@example.org", roles=[StaffRole.FINANCE_APPROVER])
    sign_in(page, "finance@example.org", a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))

    today = page.locator("#today")
    expect(today.get_by_role("heading", name="Today")).to_be_visible()
    approve = page.locator("#today-approve")
    expect(approve).to_contain_text("To approve")
    expect(approve.locator(".today__count")).to_have_text("2")
    expect(approve).to_contain_text("oldest 3\u00a0days")
    expect(page.locator("#today-failed .today__count")).to_have_text("1")
    # An empty queue reads as done; the queues of other roles are not shown.
    expect(page.locator("#today-schedule")).to_contain_text("Nothing to schedule")
    expect(page.locator("#today-held")).to_contain_text("No payment on hold")
    expect(page.locator("#today-nonprofits")).to_have_count(0)
    expect(page.locator("#today-milestones")).to_have_count(0)
    # Today comes before the folded filters and the budgets.
    today_box = today.bounding_box()
    assert today_box is not None
    assert today_box["y"] < page.locator("#dashboard-budgets").bounding_box()["y"]
    expect(page.get_by_label("Nonprofit country")).to_be_hidden()
    # The Grants tab says how many wait, in words for screen readers.
    staff_nav = page.locator(".site-nav--staff")
    expect(staff_nav.get_by_role("link", name="Grants, 3 waiting")).to_be_visible()
    expect(staff_nav.get_by_role("link", name="Payout changes", exact=True)).to_be_visible()
    a11y.check(page)
    shoot(page, "dashboard", sizes=(SIZES[size],))
    shoot(page, "dashboard-top", sizes=(SIZES[size],), full_page=False)

    approve.get_by_role("link", name="2 grants to approve").click()
    expect(page).to_have_url(re.compile(r"/staff/grants/\?status=proposed$"))
    expect(page.locator(f"#grant-{work['older'].pk}")).to_be_visible()
    expect(page.locator(f"#grant-{work['newer'].pk}")).to_be_visible()
    expect(page.locator(f"#grant-{work['paid'].pk}")).to_have_count(0)
    a11y.check(page)
    shoot(page, "grants-proposed", sizes=(SIZES[size],), full_page=False)


def test_a_vetter_sees_only_the_nonprofit_queues(page: Page, a11y, work):
    StaffFactory(username="vetter@example.org", roles=[StaffRole.NONPROFIT_VETTER])
    sign_in(page, "vetter@example.org", a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    rows = page.locator("#today .today__row")
    expect(rows).to_have_count(2)
    expect(page.locator("#today-nonprofits .today__count")).to_have_text("1")
    expect(page.locator("#today-payout-changes")).to_contain_text("No payout-detail change waiting")
    expect(page.locator("#today-approve")).to_have_count(0)
    staff_nav = page.locator(".site-nav--staff")
    expect(staff_nav.get_by_role("link", name="Nonprofits, 1 waiting")).to_be_visible()
    a11y.check(page)

    page.locator("#today-nonprofits").get_by_role("link", name="1 nonprofit to vet").click()
    expect(page).to_have_url(re.compile(r"/staff/nonprofits/\?status=pending$"))
    expect(page.locator("main")).to_contain_text("Accessible Futures")
    expect(page.locator("main")).not_to_contain_text("Readers of Nairobi")
    a11y.check(page)


@pytest.mark.parametrize("size", list(SIZES))
def test_an_administrator_sees_every_queue_and_an_open_filter(page: Page, a11y, work, size):
    page.set_viewport_size(SIZES[size])
    StaffFactory(username="admin@example.org", is_superuser=True)
    sign_in(page, "admin@example.org", a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.locator("#today .today__row")).to_have_count(8)
    expect(page.locator("#today-milestones .today__count")).to_have_text("1")
    expect(page.locator("#today-nonprofits .today__count")).to_have_text("1")
    expect(page.locator("#today-applications")).to_contain_text("No application waiting")
    a11y.check(page)

    # A filter in the address: the filters are open, saying they narrow the sections.
    page.goto("/staff/?country=GB")
    expect(page.locator("#dashboard-filters-fold")).to_have_attribute("open", "")
    expect(page.get_by_label("Nonprofit country")).to_have_value("GB")
    a11y.check(page)
    shoot(page, "dashboard-admin-filtered", sizes=(SIZES[size],), full_page=False)
