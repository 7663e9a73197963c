"""A nonprofit follows its grant in a real browser: its contact asks for a sign-in link on the
page, opens it from the email, sees the grant's timeline, confirms receipt in place, opens
the printable acknowledgement and downloads it as a PDF."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import Page, expect

from donations.models import Grant
from donations.services import (
    disbursement_pay,
    grant_approve,
    grant_propose,
    grant_schedule,
    nonprofit_verify,
)
from tests.e2e.journey import wait_for_htmx
from tests.factories import (
    CreatorFactory,
    FundFactory,
    NonprofitContactFactory,
    NonprofitFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def paid_grant() -> Grant:
    cache.clear()  # the sign-in form's rate limits start afresh
    staff = UserFactory(username="staff@example.org", is_staff=True, is_superuser=True)
    nonprofit = nonprofit_verify(
        nonprofit=NonprofitFactory(legal_name="Readers of Nairobi", country="KE"), actor=staff
    )
    NonprofitContactFactory(
        nonprofit=nonprofit,
        user=UserFactory(username="amani@readers.example"),
        name="Amani Wekesa",
    )
    creator = CreatorFactory(display_name="Wanjiru Kamau", handle="wanjiru.reads")
    grant = grant_propose(
        fund=FundFactory(name="Change Makers Fund 2026"),
        nonprofit=nonprofit,
        creator=creator,
        amount="25000.00",
        purpose="Donation in the name of Wanjiru Kamau",
        actor=UserFactory(username="proposer@example.org", is_staff=True, is_superuser=True),
    )
    grant = grant_schedule(grant=grant_approve(grant=grant, actor=staff), actor=staff)
    disbursement_pay(disbursement_id=grant.disbursement.pk)
    return Grant.objects.select_related("disbursement").get(pk=grant.pk)


def test_a_nonprofit_follows_its_grant_from_the_email_link_to_received(
    page: Page, paid_grant, browser_log, a11y
):
    page.goto("/nonprofit/sign-in/")
    a11y.check(page)
    page.get_by_label("Your email address").fill("amani@readers.example")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    a11y.check(page)

    assert [message.to for message in mail.outbox] == [["amani@readers.example"]]
    link = re.search(r"https?://\S+(/nonprofit/sign-in/\d+/\w+/)", mail.outbox[0].body).group(1)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in for Readers of Nairobi")
    a11y.check(page)
    page.locator("main").get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/nonprofit/$"))
    expect(page.locator(".site-nav")).to_contain_text("Readers of Nairobi")
    expect(page.locator(".site-nav").get_by_role("link", name="Our grants")).to_have_attribute(
        "aria-current", "page"
    )
    row = page.get_by_role("row", name=re.compile("Donation in the name of Wanjiru Kamau"))
    expect(row).to_contain_text("$25,000.00")
    expect(row).to_contain_text("Change Makers Fund 2026")
    expect(row.locator(".badge")).to_have_text("Disbursed")
    a11y.check(page)
    row.get_by_role("link", name="Donation in the name of Wanjiru Kamau").click()

    timeline = page.get_by_role("list", name="Steps of this grant")
    for step in ("Proposed", "Approved", "Scheduled for payment", "Payment sent", "Paid"):
        expect(timeline).to_contain_text(step)
    expect(page.locator("#grant-progress")).to_contain_text(
        paid_grant.disbursement.provider_reference
    )
    a11y.check(page)

    page.wait_for_load_state("load")
    wait_for_htmx(page)
    page.evaluate("window.e2eNoReload = true")
    page.get_by_role("button", name="Confirm we received it").click()
    expect(page.locator("#grant-progress")).to_contain_text("you confirmed that the money arrived")
    expect(page.locator("#grant-progress .badge")).to_have_text("Received")
    expect(timeline.locator("[aria-current=step]")).to_contain_text("Received")
    assert page.evaluate("window.e2eNoReload") is True
    a11y.check(page)  # as the confirmation swapped it in
    paid_grant.refresh_from_db()
    assert paid_grant.receipt_confirmed_at is not None

    page.get_by_role("link", name="Acknowledgement of the grant (printable)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grant acknowledgement")
    receipt = page.locator(".grant-receipt")
    expect(receipt).to_contain_text("Wanjiru Kamau")
    expect(receipt).to_contain_text(paid_grant.disbursement.provider_reference)
    expect(receipt).not_to_contain_text("Not confirmed yet")
    a11y.check(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == (
        f"changemakers-grant-acknowledgement-{paid_grant.pk}.pdf"
    )
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # The link worked once: opened again, it signs nobody in.
    page.locator(".site-nav").get_by_role("button", name="Sign out").click()
    expect(page.locator(".site-nav").get_by_role("link", name="Sign in")).to_be_visible()
    a11y.check(page)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    a11y.check(page)
    browser_log.expected(urlsplit(link).path, 410)
