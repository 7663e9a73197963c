"""Money confirmed before it moves, and every irreversible step asked first, in a real
browser: select every approved grant, review the payment (count, total, masked payees), pay
it and find the grants on the batch page; withdraw a creator through the confirmation dialog
(and back out of it first); complete a cohort with JavaScript turned off.

With SHOTS_DIR set, each page is also saved as a screenshot at 1280 and 390 pixels wide."""

import datetime
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from donations import tasks
from donations.models import DisbursementBatch, Grant, Nonprofit
from donations.services import grant_approve
from programs.models import Cohort, Enrolment
from programs.services import cohort_create, cohort_start, enrolment_activate, enrolment_invite
from tests.e2e.journey import assert_not_reloaded, mark_page, shoot, sign_in, wait_for_htmx
from tests.factories import CreatorFactory, FundFactory, GrantFactory, NonprofitFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff():
    return UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)


def test_select_all_review_pay_and_find_the_grants_on_the_batch_page(
    page: Page, a11y, staff, monkeypatch
):
    queued: list[int] = []
    monkeypatch.setattr(tasks.start_disbursement_batch, "delay", queued.append)
    proposer = UserFactory(is_staff=True, is_superuser=True)
    fund = FundFactory(name="Fund 2026", total=Decimal("1000000.00"))
    names = ("Readers of Nairobi", "Frames of Hope", "Code Lagos Initiative")
    grants = []
    for number, name in enumerate(names):
        nonprofit = NonprofitFactory(
            legal_name=name,
            verification_status=Nonprofit.Verification.VERIFIED,
            payout_reference=f"acct_1Demo{number}Acct123{number}",
        )
        grant = GrantFactory(
            fund=fund, nonprofit=nonprofit, amount=Decimal("40000.00"), proposed_by=proposer
        )
        grants.append(grant_approve(grant=grant, actor=staff))
    GrantFactory(fund=fund, nonprofit=NonprofitFactory(legal_name="Not Yet Approved"))

    sign_in(page, staff.username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)
    page.goto("/staff/grants/")
    page.wait_for_load_state("load")
    wait_for_htmx(page)
    a11y.check(page)

    # One checkbox ticks every approved grant; the keyboard works it (space).
    select_all = page.get_by_role("checkbox", name="Select every approved grant on this page")
    expect(select_all).to_be_visible()
    select_all.focus()
    page.keyboard.press("Space")
    for grant in grants:
        expect(page.locator(f"#select-grant-{grant.pk}")).to_be_checked()
    shoot(page, "grants")
    page.get_by_role("button", name="Review payment").click()

    # The review: how many, how much from which fund, to whom (payees masked).
    expect(page).to_have_url(re.compile(r"/staff/grants/schedule/review/\?"))
    expect(page.locator("#review-by-fund")).to_have_text(
        re.compile(r"3 grants, \$120,000\.00 from Fund 2026")
    )
    review = page.locator("#review-grants")
    for name in names:
        expect(review).to_contain_text(name)
    expect(review).to_contain_text("Stripe account acct_…1230")
    expect(review).not_to_contain_text("acct_1Demo0Acct1230")
    expect(review).not_to_contain_text("Not Yet Approved")
    a11y.check(page)
    shoot(page, "review")
    page.get_by_role("button", name="Pay 3 grants").click()

    # The batch page lists the grants, their total and their CSV.
    expect(page).to_have_url(re.compile(r"/staff/batches/\d+/$"))
    batch = DisbursementBatch.objects.get()
    assert queued == [batch.pk]
    tasks.start_disbursement_batch(batch.pk)
    page.reload()
    lines = page.locator("#batch-lines")
    for grant in grants:
        expect(lines.locator(f"#batch-line-{grant.pk}")).to_contain_text("Succeeded")
    expect(lines.locator("tfoot")).to_contain_text("Total in USD (3 grants)")
    expect(lines.locator("tfoot")).to_contain_text("$120,000.00")
    expect(page.get_by_role("link", name="These grants as CSV")).to_be_visible()
    page.wait_for_load_state("load")
    a11y.check(page)
    shoot(page, "batch")
    assert Grant.objects.filter(status=Grant.Status.DISBURSED).count() == 3


@pytest.fixture
def cohort_with_joel(staff):
    cohort = cohort_create(name="Cohort 1", start_date=datetime.date(2026, 9, 1), actor=staff)
    joel = CreatorFactory(display_name="Joel Bervell", handle="joelbervell", user=UserFactory())
    enrolment = enrolment_activate(
        enrolment=enrolment_invite(cohort=cohort, creator=joel, actor=staff), actor=joel.user
    )
    return cohort, enrolment


def test_withdrawing_a_creator_asks_in_a_dialog_first(page: Page, a11y, staff, cohort_with_joel):
    cohort, enrolment = cohort_with_joel
    sign_in(page, staff.username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)
    page.goto(f"/staff/cohorts/{cohort.pk}/")
    page.wait_for_load_state("load")
    wait_for_htmx(page)
    a11y.check(page)
    mark_page(page)
    row = page.locator(f"#enrolment-{enrolment.pk}")
    dialog = page.locator("#confirm-dialog")

    # Backing out changes nothing.
    row.get_by_role("link", name="Withdraw…").click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Withdraw Joel Bervell from Cohort 1?")
    expect(dialog).to_contain_text("no longer reminded of their milestones")
    a11y.check(page)
    shoot(page, "withdraw-dialog")
    dialog.get_by_role("link", name="Cancel").click()
    expect(dialog).to_be_hidden()
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE

    # Confirming withdraws, in place.
    row.get_by_role("link", name="Withdraw…").click()
    dialog.get_by_label("Reason (optional)").fill("Moving abroad")
    dialog.get_by_role("button", name="Withdraw Joel Bervell").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#notice")).to_contain_text("Joel Bervell: Withdrawn.")
    expect(row.locator("td > .status").first).to_have_text("Withdrawn")
    assert_not_reloaded(page)
    a11y.check(page)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.WITHDRAWN


def test_completing_a_cohort_without_javascript_asks_on_a_page(
    page_without_js: Page, staff, cohort_with_joel
):
    page = page_without_js
    cohort, _enrolment = cohort_with_joel
    cohort_start(cohort=cohort, actor=staff)
    sign_in(page, staff.username)
    page.goto(f"/staff/cohorts/{cohort.pk}/")

    page.get_by_role("link", name="Complete the cohort…").click()
    expect(page).to_have_url(re.compile(rf"/staff/cohorts/{cohort.pk}/complete/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Complete Cohort 1?")
    expect(page.locator("main")).to_contain_text("Its 1 active creator's place is completed")
    shoot(page, "complete-page")
    page.get_by_role("button", name="Complete the cohort").click()

    expect(page).to_have_url(re.compile(rf"/staff/cohorts/{cohort.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("The cohort's status is updated.")
    cohort.refresh_from_db()
    assert cohort.status == Cohort.Status.COMPLETED
