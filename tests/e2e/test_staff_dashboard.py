"""Staff see the whole program on one page in a real browser: they land on the dashboard,
read the budgets, failures and overdue milestones, narrow it in place, and download the grants
it shows as CSV."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from donations.models import Disbursement, Grant
from programs.clock import program_today
from programs.models import Enrolment
from tests.e2e.journey import assert_not_reloaded, mark_page, sign_in, wait_for_htmx
from tests.factories import (
    CohortFactory,
    CreatorFactory,
    DisbursementFactory,
    EnrolmentFactory,
    FundFactory,
    GrantFactory,
    MilestoneFactory,
    NonprofitFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def program():
    """A fund part spent, a failed payment in Kenya, a proposal in the UK, money paid last
    month, and a creator late with a milestone."""
    today = program_today()
    fund = FundFactory(
        name="Change Makers Fund 2026",
        total=Decimal("1000000.00"),
        committed=Decimal("70000.00"),
        disbursed=Decimal("25000.00"),
    )
    kenya = NonprofitFactory(legal_name="Readers of Nairobi", country="KE")
    britain = NonprofitFactory(legal_name="Accessible Futures", country="GB")
    failed = GrantFactory(
        fund=fund,
        nonprofit=kenya,
        amount=Decimal("20000.00"),
        status=Grant.Status.FAILED,
        creator=CreatorFactory(display_name="Wanjiru Kamau", country="KE"),
    )
    DisbursementFactory(
        grant=failed,
        status=Disbursement.Status.FAILED,
        attempts=3,
        last_error="The payee's account is closed.",
        completed_at=timezone.now(),
    )
    proposed = GrantFactory(fund=fund, nonprofit=britain, amount=Decimal("25000.00"))
    paid = GrantFactory(
        fund=fund,
        nonprofit=kenya,
        amount=Decimal("25000.00"),
        status=Grant.Status.DISBURSED,
        disbursed_at=timezone.now(),
        creator=CreatorFactory(display_name="Achieng Atieno", country="KE"),
    )
    cohort = CohortFactory(name="Cohort 1", start_date=today - datetime.timedelta(days=60))
    late = EnrolmentFactory(
        cohort=cohort,
        status=Enrolment.Status.ACTIVE,
        creator=CreatorFactory(display_name="Sophie Tremblay"),
    )
    MilestoneFactory(enrolment=late, title="Kickoff", due_date=today - datetime.timedelta(days=30))
    return {"failed": failed, "proposed": proposed, "paid": paid}


def test_staff_see_the_program_narrow_it_in_place_and_export_it(page: Page, a11y, program):
    UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)

    sign_in(page, "staff@example.org", a11y=a11y)

    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Program dashboard")
    expect(page.locator(".site-nav").get_by_role("link", name="Dashboard")).to_have_attribute(
        "aria-current", "page"
    )
    budgets = page.locator("#dashboard-budgets")
    expect(budgets).to_contain_text("Change Makers Fund 2026")
    expect(budgets).to_contain_text("$1,000,000.00")
    expect(budgets).to_contain_text("$930,000.00")  # remaining
    failures = page.locator("#dashboard-failures")
    expect(failures).to_contain_text("Readers of Nairobi")
    expect(failures).to_contain_text("The payee's account is closed.")
    overdue = page.locator("#dashboard-overdue")
    expect(overdue).to_contain_text("1 milestone overdue")
    expect(overdue).to_contain_text("Sophie Tremblay")
    expect(page.locator("#needs-proposed .dashboard__count")).to_have_text("1")
    expect(page.locator("#needs-failed .dashboard__count")).to_have_text("1")
    charts = page.locator("#dashboard-charts")
    expect(charts).to_contain_text("USD 25,000.00 paid out since")
    expect(charts.get_by_role("img", name="Disbursed per month (USD)")).to_be_visible()
    a11y.check(page)

    # Narrow to nonprofits in Kenya: the sections change in place, the URL follows.
    page.wait_for_load_state("load")
    wait_for_htmx(page)
    mark_page(page)
    # The filters are folded away under Today until opened.
    expect(page.get_by_label("Nonprofit country")).to_be_hidden()
    page.locator("#dashboard-filters-fold > summary").click()
    page.get_by_label("Nonprofit country").select_option("KE")
    expect(page).to_have_url(re.compile(r"/staff/\?.*country=KE"))
    expect(page.locator("#needs-proposed .dashboard__count")).to_have_text("0")
    expect(page.locator("#needs-failed .dashboard__count")).to_have_text("1")
    expect(page.locator("#dashboard-failures")).to_contain_text("Readers of Nairobi")
    expect(page.locator("#needs-proposed")).to_have_attribute(
        "href", "/staff/grants/?status=proposed&country=KE"
    )
    assert_not_reloaded(page)
    a11y.check(page)  # as the filter swapped it

    # Download the grants the dashboard now shows: the CSV has exactly those.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export these grants (CSV)").click()
    download = download_info.value
    assert re.fullmatch(r"changemakers-grants-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8-sig") as body:
        rows = list(csv.DictReader(io.StringIO(body.read())))
    assert {int(row["Grant"]) for row in rows} == {program["failed"].pk, program["paid"].pk}
    failed_row = next(row for row in rows if int(row["Grant"]) == program["failed"].pk)
    assert failed_row["Nonprofit"] == "Readers of Nairobi"
    assert failed_row["Amount"] == "20000.00"
    assert failed_row["Status"] == "failed"
    assert failed_row["Last error"] == "The payee's account is closed."
    assert_not_reloaded(page)


def test_the_dashboard_filters_without_javascript(page_without_js: Page, program):
    page = page_without_js
    UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)
    sign_in(page, "staff@example.org")
    expect(page).to_have_url(re.compile(r"/staff/$"))

    page.locator("#dashboard-filters-fold > summary").click()  # no script needed to open it
    page.get_by_label("Nonprofit country").select_option("GB")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    # A filter is on: the filters stay open, showing what narrows the page.
    expect(page.get_by_label("Nonprofit country")).to_be_visible()

    expect(page).to_have_url(re.compile(r"/staff/\?.*country=GB"))
    expect(page.locator("#needs-proposed .dashboard__count")).to_have_text("1")
    expect(page.locator("#needs-failed .dashboard__count")).to_have_text("0")
    expect(page.locator("#dashboard-failures")).to_contain_text("No failed payment.")
