"""Staff take a nonprofit from pending review to a paid grant in a real browser: verify it,
propose a grant to it, someone else approves it in place (two people for a large grant),
schedules it and watches the batch pay out."""

import json
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from donations import tasks
from donations.models import Disbursement, DisbursementBatch, Grant, Nonprofit
from donations.services import grant_approve
from tests.e2e.a11y import Accessibility
from tests.e2e.journey import assert_not_reloaded, mark_page, pick, sign_in, wait_for_htmx
from tests.factories import (
    CreatorFactory,
    FundFactory,
    GrantFactory,
    NonprofitFactory,
    UserFactory,
)

# The Grants tab, with how many grants wait when some do ("Grants, 1 waiting").
GRANTS_TAB = re.compile(r"^Grants(, \d+ waiting)?$")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff():
    return UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)


@pytest.fixture
def approver():
    return UserFactory(username="finance@example.org", is_staff=True, is_superuser=True)


@pytest.fixture
def queued_batches(monkeypatch) -> list[int]:
    """Batches the web request handed to Celery, held here instead of run at once: the test
    plays the worker, so the batch page is seen pending first and then paying out."""
    queued: list[int] = []
    monkeypatch.setattr(tasks.start_disbursement_batch, "delay", queued.append)
    return queued


def open_the_pipeline(page: Page, username: str, a11y: Accessibility) -> None:
    sign_in(page, username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))  # the dashboard
    a11y.check(page)
    page.locator(".site-nav").get_by_role("link", name=GRANTS_TAB).click()
    expect(page).to_have_url(re.compile(r"/staff/grants/$"))
    # htmx (a deferred script) has wired the page once its load event has fired.
    page.wait_for_load_state("load")
    wait_for_htmx(page)
    a11y.check(page)


def test_staff_take_a_pending_nonprofit_to_a_paid_grant(
    page: Page, new_page, a11y, staff, approver, queued_batches
):
    FundFactory(name="Change Makers Fund 2026", total=Decimal("1000000.00"))
    nonprofit = NonprofitFactory(legal_name="Code Lagos Initiative", country="NG")
    creator = CreatorFactory(display_name="Chiamaka Okafor", handle="chiamaka.codes")

    open_the_pipeline(page, staff.username, a11y)

    # Vet the nonprofit: its row turns verified in place.
    page.locator(".site-nav").get_by_role("link", name="Nonprofits").click()
    expect(page).to_have_url(re.compile(r"/staff/nonprofits/$"))
    page.wait_for_load_state("load")
    a11y.check(page)
    mark_page(page)
    row = page.locator(f"#nonprofit-{nonprofit.pk}")
    expect(row.locator(".badge")).to_have_text("Pending review")
    row.get_by_role("button", name="Verify").click()
    expect(row.locator(".badge")).to_have_text("Verified")
    expect(row.get_by_role("button", name="Verify")).to_have_count(0)
    expect(page.locator("#action-status")).to_have_text("Code Lagos Initiative is verified.")
    assert_not_reloaded(page)
    a11y.check(page)
    nonprofit.refresh_from_db()
    assert nonprofit.verification_status == Nonprofit.Verification.VERIFIED

    # Propose a $25,000 donation in the creator's name.
    row.get_by_role("link", name="Propose a grant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Propose a grant")
    expect(page.get_by_role("radio", name=re.compile("Code Lagos Initiative"))).to_be_checked()
    a11y.check(page)
    page.get_by_label("Fund").select_option(label="Change Makers Fund 2026")
    pick(page, "In the name of", "chiamaka", creator.display_name)
    page.get_by_label("Amount").fill("25000")
    page.get_by_label("Purpose").fill("Donation in the name of Chiamaka Okafor")
    page.get_by_role("button", name="Propose the grant").click()
    expect(page).to_have_url(re.compile(r"/staff/grants/$"))
    expect(page.locator(".messages")).to_contain_text("Grant proposed to Code Lagos Initiative")
    grant = Grant.objects.get()
    # Its proposer is offered no Approve button: someone else approves it.
    row = page.locator(f"#grant-{grant.pk}")
    expect(row).to_contain_text("You proposed it: someone else approves it.")
    expect(row.get_by_role("button", name="Approve")).to_have_count(0)
    a11y.check(page)

    # Finance approves it: the row, the status counts and the budget update without a reload.
    page = new_page()
    open_the_pipeline(page, approver.username, a11y)
    mark_page(page)
    row = page.locator(f"#grant-{grant.pk}")
    expect(row.locator(".badge")).to_have_text("Proposed")
    expect(page.locator("#status-tab-approved .status-tabs__count")).to_have_text("0")
    row.get_by_role("button", name="Approve").click()
    expect(row.locator(".badge")).to_have_text("Approved")
    expect(page.locator("#status-tab-approved .status-tabs__count")).to_have_text("1")
    expect(page.locator("#budget")).to_contain_text("$975,000.00")
    assert_not_reloaded(page)
    a11y.check(page)

    # Schedule it with the others ticked: the browser goes to the batch page.
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Review payment").click()
    expect(page).to_have_url(re.compile(r"/staff/grants/schedule/review/"))
    expect(page.locator("#review-by-fund")).to_contain_text("1 grant, $25,000.00 from")
    a11y.check(page)
    page.get_by_role("button", name="Pay 1 grant").click()
    expect(page).to_have_url(re.compile(r"/staff/batches/\d+/$"))
    batch = DisbursementBatch.objects.get()
    assert queued_batches == [batch.pk]
    progress = page.locator("#batch-progress")
    expect(progress).to_contain_text("0% done: 0 of 1 payments finished")
    expect(progress.locator("#count-pending")).to_have_text("1")
    page.wait_for_load_state("load")
    a11y.check(page)
    mark_page(page)

    # The worker pays it; the page, polling, follows it to 100% and stops.
    tasks.start_disbursement_batch(batch.pk)
    expect(progress).to_contain_text("100% done: all 1 payments finished")
    expect(progress.locator("#count-succeeded")).to_have_text("1")
    expect(page.get_by_role("progressbar")).to_have_attribute("value", "1")
    expect(progress).not_to_have_attribute("data-hx-trigger", re.compile("every"))
    assert_not_reloaded(page)
    a11y.check(page)

    # The grant is disbursed, with the provider's reference, in its detail and history.
    disbursement = Disbursement.objects.get(grant=grant)
    assert disbursement.status == Disbursement.Status.SUCCEEDED
    page.goto(f"/staff/grants/{grant.pk}/")
    detail = page.locator("#grant-detail")
    expect(detail.locator(".staff-heading .badge")).to_have_text("Disbursed")
    expect(detail).to_contain_text(disbursement.provider_reference)
    expect(detail.locator("table.history")).to_contain_text("Payment: Paid")
    expect(detail.locator("table.history")).to_contain_text("Proposed → Approved")
    a11y.check(page)


def test_approving_over_budget_shows_the_refusal_in_the_row(page: Page, a11y, staff, browser_log):
    fund = FundFactory(name="Small Fund", total=Decimal("30000.00"))
    taken = GrantFactory(
        fund=fund,
        amount=Decimal("20000.00"),
        nonprofit=NonprofitFactory(verification_status="verified"),
    )
    grant_approve(grant=taken, actor=staff)
    grant = GrantFactory(
        fund=fund,
        amount=Decimal("25000.00"),
        nonprofit=NonprofitFactory(legal_name="Too Late Org", verification_status="verified"),
    )

    open_the_pipeline(page, staff.username, a11y)
    mark_page(page)
    row = page.locator(f"#grant-{grant.pk}")
    row.get_by_role("button", name="Approve").click()

    expect(row.get_by_role("alert")).to_contain_text(
        "Not enough left in Small Fund: USD 10,000.00 remaining, USD 25,000.00 asked."
    )
    expect(row.locator(".badge")).to_have_text("Proposed")
    expect(row.get_by_role("button", name="Approve")).to_be_visible()
    assert_not_reloaded(page)
    browser_log.expected(f"/staff/grants/{grant.pk}/approve/", 422)  # swapped in all the same
    a11y.check(page)  # the refusal in the row
    grant.refresh_from_db()
    assert grant.status == Grant.Status.PROPOSED


def test_cancelling_without_javascript_asks_a_reason_and_redirects_back(
    page_without_js: Page, staff
):
    page = page_without_js
    fund = FundFactory(name="Fund", total=Decimal("100000.00"))
    grant = GrantFactory(
        fund=fund, nonprofit=NonprofitFactory(legal_name="Dropped Org"), purpose="Test"
    )
    sign_in(page, staff.username)
    page.goto("/staff/grants/?status=proposed")

    row = page.locator(f"#grant-{grant.pk}")
    row.get_by_role("link", name="Cancel…").click()
    expect(page).to_have_url(re.compile(rf"/staff/grants/{grant.pk}/cancel/\?next="))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cancel the grant of")
    page.get_by_label("Reason").fill("The creator nominated again")
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel the grant").click()

    expect(page).to_have_url(re.compile(r"/staff/grants/\?status=proposed$"))
    expect(page.locator(".messages")).to_contain_text("The grant to Dropped Org is cancelled.")
    grant.refresh_from_db()
    assert grant.status == Grant.Status.CANCELLED
    assert grant.status_reason == "The creator nominated again"


@pytest.mark.broker
@pytest.mark.postgres
def test_staff_approve_and_schedule_and_a_real_worker_pays(page: Page, a11y, staff, start_worker):
    """The same steps with nothing played by the test: the web request queues the batch on
    Redis and a real Celery worker pays it while the batch page polls."""
    start_worker(pool="prefork", concurrency=2)
    fund = FundFactory(name="Change Makers Fund 2026", total=Decimal("100000.00"))
    nonprofits = [
        NonprofitFactory(legal_name=name, verification_status=Nonprofit.Verification.VERIFIED)
        for name in ("Readers of Nairobi", "Frames of Hope")
    ]
    grants = [
        GrantFactory(fund=fund, nonprofit=nonprofit, amount=Decimal("25000.00"))
        for nonprofit in nonprofits
    ]

    open_the_pipeline(page, staff.username, a11y)
    for grant in grants:
        row = page.locator(f"#grant-{grant.pk}")
        row.get_by_role("button", name="Approve").click()
        expect(row.locator(".badge")).to_have_text("Approved")
        row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Review payment").click()
    expect(page).to_have_url(re.compile(r"/staff/grants/schedule/review/"))
    a11y.check(page)
    page.get_by_role("button", name="Pay 2 grants").click()
    expect(page).to_have_url(re.compile(r"/staff/batches/\d+/$"))

    progress = page.locator("#batch-progress")
    expect(progress).to_contain_text("100% done: all 2 payments finished", timeout=30_000)
    expect(progress.locator("#count-succeeded")).to_have_text("2")
    a11y.check(page)
    assert set(Grant.objects.values_list("status", flat=True)) == {"disbursed"}
    assert Disbursement.objects.filter(status=Disbursement.Status.SUCCEEDED).count() == 2


def test_a_large_grant_goes_through_only_with_two_approvers(page: Page, new_page, a11y, settings):
    """Above DJANGO_SECOND_APPROVAL_ABOVE a grant takes two approvers, neither its proposer:
    the proposer proposes, A approves (it still awaits a second approval), A cannot approve it
    again, B approves, and only then is the money committed."""
    settings.SECOND_APPROVAL_ABOVE = Decimal("10000")
    proposer = UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)
    approver_a = UserFactory(username="finance@example.org", is_staff=True, is_superuser=True)
    approver_b = UserFactory(username="finance2@example.org", is_staff=True, is_superuser=True)
    fund = FundFactory(name="Change Makers Fund 2026", total=Decimal("1000000.00"))
    NonprofitFactory(legal_name="Readers of Nairobi", country="KE", verification_status="verified")
    creator = CreatorFactory(display_name="Wanjiru Kamau", handle="wanjiru.reads")

    # The proposer proposes a $25,000 donation, and is offered no Approve button.
    open_the_pipeline(page, proposer.username, a11y)
    page.get_by_role("link", name="Propose a grant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Propose a grant")
    a11y.check(page)
    page.get_by_label("Fund").select_option(label="Change Makers Fund 2026")
    pick(page, "Nonprofit", "nairobi", "Readers of Nairobi")
    pick(page, "In the name of", "wanjiru", creator.display_name)
    page.get_by_label("Amount").fill("25000")
    page.get_by_label("Purpose").fill("Donation in the name of Wanjiru Kamau")
    page.get_by_role("button", name="Propose the grant").click()
    expect(page).to_have_url(re.compile(r"/staff/grants/$"))
    grant = Grant.objects.get()
    row = page.locator(f"#grant-{grant.pk}")
    expect(row).to_contain_text("Proposed by staff@example.org")
    expect(row.get_by_role("button", name="Approve")).to_have_count(0)
    a11y.check(page)

    # Approver A approves: recorded, still proposed, awaiting someone else.
    page_a = new_page()
    open_the_pipeline(page_a, approver_a.username, a11y)
    mark_page(page_a)
    row_a = page_a.locator(f"#grant-{grant.pk}")
    row_a.get_by_role("button", name="Approve").click()
    expect(row_a).to_contain_text(
        "Awaiting a second approval by someone else (first approved by finance@example.org)"
    )
    expect(row_a.locator(".badge")).to_have_text("Proposed")
    expect(page_a.locator("#action-status")).to_contain_text(
        "it awaits a second approval by someone else"
    )
    assert_not_reloaded(page_a)
    a11y.check(page_a)
    fund.refresh_from_db()
    assert fund.committed == 0

    # A cannot approve it again: no button, and the service refuses a request all the same.
    expect(row_a.get_by_role("button", name="Approve")).to_have_count(0)
    expect(row_a).to_contain_text("You gave the first approval: someone else gives the second.")
    token = json.loads(page_a.locator("body").get_attribute("data-hx-headers"))["X-CSRFToken"]
    again = page_a.request.post(
        f"/staff/grants/{grant.pk}/approve/",
        headers={"X-CSRFToken": token, "HX-Request": "true", "HX-Target": f"grant-{grant.pk}"},
    )
    assert again.status == 422
    assert "the second approval is someone else" in again.text()
    grant.refresh_from_db()
    assert (grant.status, grant.first_approved_by, grant.approved_by) == (
        Grant.Status.PROPOSED,
        approver_a,
        None,
    )

    # Approver B, someone else, is offered the button and approves it: now it is approved.
    page_b = new_page()
    open_the_pipeline(page_b, approver_b.username, a11y)
    mark_page(page_b)
    row_b = page_b.locator(f"#grant-{grant.pk}")
    expect(row_b).to_contain_text("Awaiting a second approval by someone else")
    row_b.get_by_role("button", name="Approve").click()
    expect(row_b.locator(".badge")).to_have_text("Approved")
    expect(row_b).to_contain_text("Approved by finance@example.org and finance2@example.org")
    expect(page_b.locator("#budget")).to_contain_text("$975,000.00")
    assert_not_reloaded(page_b)
    a11y.check(page_b)
    grant.refresh_from_db()
    fund.refresh_from_db()
    assert grant.status == Grant.Status.APPROVED
    assert (grant.proposed_by, grant.first_approved_by, grant.approved_by) == (
        proposer,
        approver_a,
        approver_b,
    )
    assert fund.committed == Decimal("25000.00")
