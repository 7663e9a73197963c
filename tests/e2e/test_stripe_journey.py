"""A grant paid through Stripe Connect in a real browser, from approval to the nonprofit's PDF
receipt: the nonprofit's contact sets up payouts through the (fake) hosted onboarding of the
Stripe API stand-in, which tells the app by webhook (`account.updated`); two finance approvers
approve the $25,000 donation, the second schedules it; the worker pays it as a Stripe transfer
to the nonprofit's connected account; the contact downloads the acknowledgement as a PDF."""

import io
import re
import time
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from donations import tasks
from donations.models import DisbursementBatch, Grant, Nonprofit, ProviderEvent
from donations.services import grant_propose
from tests.e2e.a11y import Accessibility
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.journey import mark_page, sign_in, wait_for_htmx
from tests.factories import (
    CreatorFactory,
    FundFactory,
    NonprofitContactFactory,
    NonprofitFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stripe_site(settings, stripe_standin, live_server):
    """The site pays with Stripe, at the stand-in, which posts its events to the site."""
    settings.PAYOUT_PROVIDER = "stripe"
    settings.SECOND_APPROVAL_ABOVE = Decimal("10000")
    stripe_standin.webhook_url = f"{live_server.url}/webhooks/stripe/"
    return stripe_standin


@pytest.fixture
def queued_batches(monkeypatch) -> list[int]:
    """Batches the web request handed to Celery, held so the test plays the worker."""
    queued: list[int] = []
    monkeypatch.setattr(tasks.start_disbursement_batch, "delay", queued.append)
    return queued


def open_the_pipeline(page: Page, username: str, a11y: Accessibility) -> None:
    sign_in(page, username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)
    page.goto("/staff/grants/")
    page.wait_for_load_state("load")
    wait_for_htmx(page)
    a11y.check(page)


def wait_until(check, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.1)


def test_a_grant_goes_from_approval_to_the_pdf_receipt_through_stripe(
    page: Page, new_page, a11y, stripe_site, queued_batches
):
    standin = stripe_site
    fund = FundFactory(name="Change Makers Fund 2026", total=Decimal("1000000.00"))
    nonprofit = NonprofitFactory(
        legal_name="Readers of Nairobi",
        country="KE",
        contact_email="grants@readers.example",
        payout_reference="",
        verification_status=Nonprofit.Verification.VERIFIED,
    )
    contact = NonprofitContactFactory(
        nonprofit=nonprofit, user=UserFactory(username="amani@readers.example")
    )
    grant = grant_propose(
        fund=fund,
        nonprofit=nonprofit,
        creator=CreatorFactory(display_name="Wanjiru Kamau", handle="wanjiru.reads"),
        amount="25000.00",
        purpose="Donation in the name of Wanjiru Kamau",
        actor=UserFactory(username="staff@example.org", is_staff=True, is_superuser=True),
    )
    approver_a = UserFactory(username="finance@example.org", is_staff=True, is_superuser=True)
    approver_b = UserFactory(username="finance2@example.org", is_staff=True, is_superuser=True)

    # The contact sets up payouts: Stripe's hosted onboarding (the stand-in's), and back.
    sign_in(page, contact.user.username, a11y=a11y)
    page.goto("/nonprofit/payouts/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Payouts")
    a11y.check(page)
    page.get_by_role("button", name="Set up payouts").click()
    expect(page).to_have_url(re.compile(re.escape(f"{standin.url}/setup/")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up payouts")
    a11y.check(page)
    page.get_by_role("button", name="Complete onboarding").click()
    expect(page).to_have_url(re.compile(r"/nonprofit/payouts/$"))
    expect(page.locator("#stripe-ready")).to_have_text("Stripe can pay out to your bank account.")
    expect(page.locator("main")).to_contain_text("Your grants are paid to this Stripe account.")
    a11y.check(page)
    nonprofit.refresh_from_db()
    account_id = nonprofit.stripe_account_id
    assert account_id in standin.world.accounts
    assert nonprofit.payout_reference == account_id
    assert nonprofit.stripe_payouts_enabled

    # Stripe told the site too: its signed account.updated event was stored and handled.
    def account_event_handled() -> bool:
        return ProviderEvent.objects.filter(
            type="account.updated", payload__account=account_id, handled_at__isnull=False
        ).exists()

    wait_until(account_event_handled, "the account.updated webhook")

    # Two finance approvers: the first approval is recorded, the second commits the money.
    page_a = new_page()
    open_the_pipeline(page_a, approver_a.username, a11y)
    mark_page(page_a)
    row = page_a.locator(f"#grant-{grant.pk}")
    row.get_by_role("button", name="Approve").click()
    expect(row).to_contain_text("Awaiting a second approval by someone else")
    a11y.check(page_a)

    page_b = new_page()
    open_the_pipeline(page_b, approver_b.username, a11y)
    row = page_b.locator(f"#grant-{grant.pk}")
    row.get_by_role("button", name="Approve").click()
    expect(row.locator(".badge")).to_have_text("Approved")
    a11y.check(page_b)
    grant.refresh_from_db()
    assert grant.payee_reference == account_id  # the payee pinned: the Stripe account

    # The second approver schedules it; the worker pays it through Stripe.
    row.get_by_role("checkbox").check()
    page_b.get_by_role("button", name="Review payment").click()
    expect(page_b.locator("#review-grants")).to_contain_text("Stripe account acct_…")
    a11y.check(page_b)
    page_b.get_by_role("button", name="Pay 1 grant").click()
    expect(page_b).to_have_url(re.compile(r"/staff/batches/\d+/$"))
    batch = DisbursementBatch.objects.get()
    assert queued_batches == [batch.pk]
    page_b.wait_for_load_state("load")
    a11y.check(page_b)
    tasks.start_disbursement_batch(batch.pk)
    progress = page_b.locator("#batch-progress")
    expect(progress).to_contain_text("100% done: all 1 payments finished")
    a11y.check(page_b)

    grant.refresh_from_db()
    disbursement = grant.disbursement
    assert (grant.status, disbursement.provider) == (Grant.Status.DISBURSED, "stripe")
    [transfer] = standin.transfers()
    assert transfer["id"] == disbursement.provider_reference
    assert (transfer["amount"], transfer["currency"], transfer["destination"]) == (
        2_500_000,
        "usd",
        account_id,
    )
    assert transfer["transfer_group"] == disbursement.idempotency_key

    # The contact sees it paid, with Stripe's transfer as the reference, and gets the PDF.
    page.goto("/nonprofit/")
    row = page.get_by_role("row", name=re.compile("Donation in the name of Wanjiru Kamau"))
    expect(row.locator(".badge")).to_have_text("Disbursed")
    a11y.check(page)
    page.goto(f"/nonprofit/grants/{grant.pk}/receipt/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Grant acknowledgement")
    receipt = page.locator(".grant-receipt")
    expect(receipt).to_contain_text(transfer["id"])
    expect(receipt).to_contain_text("$25,000.00")
    a11y.check(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "stripe-journey-receipt.png", full_page=True)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    with open(download_info.value.path(), "rb") as pdf:
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read())).pages)
    for expected in ("Readers of Nairobi", "Wanjiru Kamau", "25,000.00", transfer["id"]):
        assert expected in text, (expected, text)
