"""A grant paid by bank transfer made by hand, in real browsers: a finance approver approves
and schedules it and downloads the batch's payment files for the bank; a second finance
approver records the transfer as sent with the bank's reference, in place; the nonprofit sees
the transfer sent and downloads its receipt."""

import csv
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from changemakers.core.roles import StaffRole
from donations.models import DisbursementBatch, Grant, PaymentInstruction
from donations.services import grant_propose
from tests.donations.bank import IBAN, bank_nonprofit
from tests.e2e.journey import assert_not_reloaded, mark_page, sign_in, wait_for_htmx
from tests.factories import (
    CreatorFactory,
    FundFactory,
    NonprofitContactFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).parent / "artifacts"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}


@pytest.fixture
def proposed() -> Grant:
    nonprofit = bank_nonprofit()
    NonprofitContactFactory(
        nonprofit=nonprofit, user=UserFactory(username="amani@readers.example"), name="Amani"
    )
    return grant_propose(
        fund=FundFactory(name="Change Makers Fund 2026"),
        nonprofit=nonprofit,
        creator=CreatorFactory(display_name="Wanjiru Kamau", handle="wanjiru.reads"),
        amount="25000.00",
        purpose="Donation in the name of Wanjiru Kamau",
        actor=UserFactory(username="proposer@example.org", is_staff=True, is_superuser=True),
    )


def test_a_bank_transfer_from_approval_to_the_nonprofits_receipt(
    page: Page, new_page, a11y, proposed
):
    scheduler = StaffFactory(username="finance@example.org", roles=[StaffRole.FINANCE_APPROVER])
    recorder = StaffFactory(username="finance2@example.org", roles=[StaffRole.FINANCE_APPROVER])

    # The first finance approver approves the grant and schedules it: a transfer to make.
    sign_in(page, scheduler.username, a11y=a11y)
    expect(page).to_have_url(re.compile(r"/staff/$"))
    a11y.check(page)
    page.goto("/staff/grants/")
    page.wait_for_load_state("load")
    wait_for_htmx(page)
    a11y.check(page)
    row = page.locator(f"#grant-{proposed.pk}")
    row.get_by_role("button", name="Approve").click()
    expect(row.locator(".badge")).to_have_text("Approved")
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Review payment").click()
    expect(page).to_have_url(re.compile(r"/staff/grants/schedule/review/"))
    a11y.check(page)
    page.get_by_role("button", name="Pay 1 grant").click()
    expect(page).to_have_url(re.compile(r"/staff/batches/\d+/$"))
    batch = DisbursementBatch.objects.get()
    instruction = PaymentInstruction.objects.get()
    transfers = page.get_by_role("region", name="Bank transfers by hand")
    expect(page.locator("#batch-progress")).to_contain_text(
        "1 payment waits for a bank transfer made by hand."
    )
    row = transfers.locator(f"#instruction-{instruction.pk}")
    expect(row).to_contain_text(instruction.reference)
    expect(row).to_contain_text("••••5432")
    expect(row).to_contain_text("You scheduled it: someone else records the transfer.")
    expect(row.get_by_text("Record as sent…")).to_have_count(0)
    a11y.check(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Payment file for the bank (ISO 20022 pain.001)").click()
    download = download_info.value
    assert download.suggested_filename == f"changemakers-batch-{batch.pk}-pain.001.001.09.xml"
    document = ET.parse(download.path()).getroot()
    transfer = document.find("p:CstmrCdtTrfInitn/p:PmtInf/p:CdtTrfTxInf", NS)
    assert transfer.find("p:PmtId/p:EndToEndId", NS).text == instruction.reference
    assert transfer.find("p:CdtrAcct/p:Id/p:IBAN", NS).text == IBAN
    assert transfer.find("p:Amt/p:InstdAmt", NS).attrib == {"Ccy": "USD"}
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Transfers as CSV").click()
    with open(download_info.value.path(), encoding="utf-8-sig") as csv_file:
        rows = list(csv.reader(io.StringIO(csv_file.read())))
    assert rows[1][:5] == [
        instruction.reference,
        "25000.00",
        "USD",
        "Readers of Nairobi Trust",
        IBAN,
    ]

    # The second finance approver, once the bank has made it, records it in place.
    other = new_page()
    sign_in(other, recorder.username, a11y=a11y)
    expect(other).to_have_url(re.compile(r"/staff/$"))
    a11y.check(other)
    other.goto(f"/staff/batches/{batch.pk}/")
    other.wait_for_load_state("load")
    wait_for_htmx(other)
    a11y.check(other)
    mark_page(other)
    row = other.locator(f"#instruction-{instruction.pk}")
    expect(row.locator(".badge")).to_have_text("Awaiting transfer")
    row.get_by_text("Record as sent…").click()
    row.get_by_label("The bank's reference for this transfer").fill("FT26110042")
    a11y.check(other)  # the form open
    row.get_by_role("button", name="Record the transfer as sent").click()
    row = other.locator(f"#instruction-{instruction.pk}")
    expect(row.locator(".badge")).to_have_text("Sent")
    expect(row).to_contain_text("Bank's reference FT26110042")
    expect(other.locator("#batch-progress")).to_contain_text("100% done: all 1 payments finished.")
    expect(other.locator("#count-succeeded")).to_have_text("1")
    assert_not_reloaded(other)
    a11y.check(other)
    ARTIFACTS.mkdir(exist_ok=True)
    other.screenshot(path=ARTIFACTS / "bank_transfer_recorded.png", full_page=True)
    grant = Grant.objects.get(pk=proposed.pk)
    assert grant.status == Grant.Status.DISBURSED
    assert grant.disbursement.provider_reference == "FT26110042"

    # The nonprofit sees the transfer sent and downloads its receipt.
    nonprofit = new_page()
    sign_in(nonprofit, "amani@readers.example", a11y=a11y)
    expect(nonprofit).to_have_url(re.compile(r"/nonprofit/$"))
    a11y.check(nonprofit)
    nonprofit.get_by_role("link", name="Donation in the name of Wanjiru Kamau").click()
    expect(nonprofit.locator("#transfer-sent")).to_contain_text("Transfer sent on")
    expect(nonprofit.locator("#transfer-sent")).to_contain_text("FT26110042")
    expect(nonprofit.locator("#grant-progress .badge")).to_have_text("Disbursed")
    sent_step = (
        nonprofit.get_by_role("list", name="Steps of this grant")
        .get_by_role("listitem")
        .filter(has_text="Payment sent")
    )
    expect(sent_step).not_to_contain_text("Not yet")
    a11y.check(nonprofit)
    nonprofit.screenshot(path=ARTIFACTS / "bank_transfer_nonprofit.png", full_page=True)
    with nonprofit.expect_download() as download_info:
        nonprofit.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"changemakers-grant-acknowledgement-{grant.pk}.pdf"
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
