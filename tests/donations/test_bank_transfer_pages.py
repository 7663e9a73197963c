"""The pages of bank transfers by hand: the batch's instructions and their files for the bank
(CSV, ISO 20022 pain.001.001.09), recording a transfer as sent (htmx and plain), the staff
page of how a nonprofit is paid, the nonprofit's own pages and the printed documents."""

import csv
import io
import json
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.urls import reverse

from changemakers.core.models import AuditEvent
from changemakers.core.roles import StaffRole
from donations.models import (
    Disbursement,
    Grant,
    Nonprofit,
    PaymentInstruction,
    PayoutDetailsChange,
)
from donations.services import (
    grant_approve,
    grant_propose,
    grants_schedule,
    payment_instruction_record_sent,
)
from tests.donations.bank import ACCOUNT, BIC, IBAN, KE_BIC, bank_nonprofit
from tests.donations.test_receipts_pdf import pdf_text
from tests.factories import (
    CreatorFactory,
    FundFactory,
    NonprofitContactFactory,
    NonprofitFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
HTMX = {"HX-Request": "true", "HX-Target": "instruction-1"}


def schedule(nonprofits, fund, proposer, scheduler, amount="25000.00"):
    grants = [
        grant_approve(
            grant=grant_propose(
                fund=fund,
                nonprofit=nonprofit,
                amount=amount,
                creator=CreatorFactory(display_name="Wanjiru Kamau"),
                purpose="Reading kits",
                actor=proposer,
            ),
            actor=scheduler,
        )
        for nonprofit in nonprofits
    ]
    return grants_schedule(grants=grants, actor=scheduler)


@pytest.fixture
def batch(proposer_user, staff_user):
    fund = FundFactory(total=Decimal("1000000.00"))
    return schedule([bank_nonprofit()], fund, proposer_user, staff_user)


@pytest.fixture
def finance(client):
    person = StaffFactory(roles=[StaffRole.FINANCE_APPROVER])
    client.force_login(person)
    return person


def content(response) -> str:
    return response.content.decode()


# --- The batch page and its files ------------------------------------------------------------


def test_the_batch_page_lists_the_transfers_with_their_files(client, finance, batch):
    instruction = PaymentInstruction.objects.get()
    response = client.get(reverse("donations:batch-detail", args=[batch.pk]))
    assert response.status_code == 200
    page = content(response)
    assert instruction.reference in page
    assert "••••5432" in page
    assert IBAN not in page  # the full account only in the files for the bank
    assert reverse("donations:batch-instructions-xml", args=[batch.pk]) in page
    assert reverse("donations:batch-instructions-csv", args=[batch.pk]) in page
    assert "1 payment waits for a bank transfer made by hand." in page
    assert 'data-hx-trigger="batchChanged from:body"' in page  # no polling while it waits
    assert reverse("donations:instruction-record-sent", args=[instruction.pk]) in page


def test_the_scheduler_is_not_offered_to_record_it(client, staff_user, batch):
    client.force_login(staff_user)
    page = content(client.get(reverse("donations:batch-detail", args=[batch.pk])))
    assert "You scheduled it: someone else records the transfer." in page
    instruction = PaymentInstruction.objects.get()
    assert reverse("donations:instruction-record-sent", args=[instruction.pk]) not in page


def test_a_program_manager_sees_the_batch_but_not_the_bank_details(client, batch):
    client.force_login(StaffFactory(roles=[StaffRole.PROGRAM_MANAGER]))
    response = client.get(reverse("donations:batch-detail", args=[batch.pk]))
    assert response.status_code == 200
    assert PaymentInstruction.objects.get().reference not in content(response)
    for name in ("batch-instructions-csv", "batch-instructions-xml"):
        assert client.get(reverse(f"donations:{name}", args=[batch.pk])).status_code == 403


def test_the_csv_lists_each_transfer_to_make_and_defuses_formulas(
    client, finance, proposer_user, staff_user
):
    fund = FundFactory()
    batch = schedule(
        [
            bank_nonprofit(holder='=HYPERLINK("http://x")'),
            bank_nonprofit(account=ACCOUNT, bic=KE_BIC, country="KE"),
        ],
        fund,
        proposer_user,
        staff_user,
    )
    response = client.get(reverse("donations:batch-instructions-csv", args=[batch.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="changemakers-batch-{batch.pk}-transfers.csv"'
    )
    assert "no-store" in response["Cache-Control"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "reference",
        "amount",
        "currency",
        "account_holder",
        "iban_or_account",
        "bic",
        "bank_name",
        "bank_country",
        "remittance_information",
        "nonprofit",
        "grant",
    ]
    first, second = rows[1:]
    instructions = list(PaymentInstruction.objects.order_by("pk"))
    assert first[:8] == [
        instructions[0].reference,
        "25000.00",
        "USD",
        '\'=HYPERLINK("http://x")',
        IBAN,
        BIC,
        "NatWest",
        "GB",
    ]
    assert second[4:6] == [ACCOUNT, KE_BIC]


def _xml(client, batch) -> ET.Element:
    response = client.get(reverse("donations:batch-instructions-xml", args=[batch.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="changemakers-batch-{batch.pk}-pain.001.001.09.xml"'
    )
    assert response.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(response.content)


def test_the_pain001_file_holds_one_credit_transfer_per_instruction(
    client, finance, proposer_user, staff_user, settings
):
    settings.BANK_DEBTOR_NAME = "Change Makers Program"
    settings.BANK_DEBTOR_IBAN = "GB33 BUKB 2020 1555 5555 55"
    settings.BANK_DEBTOR_BIC = "BUKBGB22"
    usd, jpy = FundFactory(currency="USD"), FundFactory(currency="JPY")
    iban_payee = bank_nonprofit()
    account_payee = bank_nonprofit(account=ACCOUNT, bic=KE_BIC, country="KE", bank_name="KCB")
    first = schedule([iban_payee, account_payee], usd, proposer_user, staff_user)
    yen = schedule([iban_payee], jpy, proposer_user, staff_user, amount="1000000")
    # One batch with two currencies: the JPY payment moved into the first batch.
    Disbursement.objects.filter(batch=yen).update(batch=first)

    document = _xml(client, first)
    assert document.tag == "{{{}}}Document".format(NS["p"])
    header = document.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header.find("p:MsgId", NS).text.startswith(f"CM-BATCH-{first.pk}-")
    assert len(header.find("p:MsgId", NS).text) <= 35
    assert header.find("p:NbOfTxs", NS).text == "3"
    assert header.find("p:CtrlSum", NS) is None  # no sum across currencies
    assert header.find("p:InitgPty/p:Nm", NS).text == "Change Makers Program"

    blocks = document.findall("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert [b.find("p:PmtInfId", NS).text for b in blocks] == [
        f"CM-BATCH-{first.pk}-JPY",
        f"CM-BATCH-{first.pk}-USD",
    ]
    jpy_block, usd_block = blocks
    assert [child.tag.split("}")[1] for child in usd_block] == [
        "PmtInfId",
        "PmtMtd",
        "NbOfTxs",
        "CtrlSum",
        "ReqdExctnDt",
        "Dbtr",
        "DbtrAcct",
        "DbtrAgt",
        "CdtTrfTxInf",
        "CdtTrfTxInf",
    ]
    assert usd_block.find("p:PmtMtd", NS).text == "TRF"
    assert usd_block.find("p:NbOfTxs", NS).text == "2"
    assert usd_block.find("p:CtrlSum", NS).text == "50000.00"
    assert usd_block.find("p:ReqdExctnDt/p:Dt", NS).text  # an ISO date
    assert usd_block.find("p:DbtrAcct/p:Id/p:IBAN", NS).text == "GB33BUKB20201555555555"
    assert usd_block.find("p:DbtrAgt/p:FinInstnId/p:BICFI", NS).text == "BUKBGB22"
    assert jpy_block.find("p:CtrlSum", NS).text == "1000000"

    to_iban, to_account = usd_block.findall("p:CdtTrfTxInf", NS)
    assert [child.tag.split("}")[1] for child in to_iban] == [
        "PmtId",
        "Amt",
        "CdtrAgt",
        "Cdtr",
        "CdtrAcct",
        "RmtInf",
    ]
    instruction = PaymentInstruction.objects.get(
        disbursement__grant__nonprofit=iban_payee, currency="USD"
    )
    assert to_iban.find("p:PmtId/p:EndToEndId", NS).text == instruction.reference
    amount = to_iban.find("p:Amt/p:InstdAmt", NS)
    assert (amount.text, amount.get("Ccy")) == ("25000.00", "USD")
    agent = to_iban.find("p:CdtrAgt/p:FinInstnId", NS)
    assert agent.find("p:BICFI", NS).text == BIC
    assert agent.find("p:Nm", NS).text == "NatWest"
    assert agent.find("p:PstlAdr/p:Ctry", NS).text == "GB"
    assert to_iban.find("p:Cdtr/p:Nm", NS).text == "Readers of Nairobi Trust"
    assert to_iban.find("p:Cdtr/p:PstlAdr/p:Ctry", NS).text == "KE"
    assert to_iban.find("p:CdtrAcct/p:Id/p:IBAN", NS).text == IBAN
    assert to_iban.find("p:RmtInf/p:Ustrd", NS).text == instruction.remittance
    assert to_account.find("p:CdtrAcct/p:Id/p:Othr/p:Id", NS).text == ACCOUNT
    assert to_account.find("p:CdtrAcct/p:Id/p:IBAN", NS) is None
    jpy_amount = jpy_block.find("p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS)
    assert (jpy_amount.text, jpy_amount.get("Ccy")) == ("1000000", "JPY")


def test_transfers_sent_or_held_are_left_out_of_the_files(client, finance, batch):
    instruction = PaymentInstruction.objects.get()
    Grant.objects.filter(pk=instruction.disbursement.grant_id).update(
        held_at="2026-01-01T00:00:00Z", hold_reason="Checking"
    )
    url = reverse("donations:batch-instructions-xml", args=[batch.pk])
    assert client.get(url).status_code == 404
    text = b"".join(
        client.get(reverse("donations:batch-instructions-csv", args=[batch.pk])).streaming_content
    ).decode("utf-8-sig")
    assert instruction.reference not in text


def test_without_the_programs_account_the_file_is_refused_with_a_message(
    client, finance, batch, settings
):
    settings.BANK_DEBTOR_IBAN = ""
    settings.BANK_DEBTOR_ACCOUNT = ""
    response = client.get(reverse("donations:batch-instructions-xml", args=[batch.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("donations:batch-detail", args=[batch.pk])
    assert "DJANGO_BANK_DEBTOR_IBAN" in content(response)


# --- Recording a transfer as sent --------------------------------------------------------------


def test_recording_with_htmx_answers_the_row_and_refreshes_the_progress(client, finance, batch):
    instruction = PaymentInstruction.objects.get()
    url = reverse("donations:instruction-record-sent", args=[instruction.pk])
    response = client.post(url, {"bank_reference": "FT26110042"}, headers=HTMX)
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"batchChanged": {}}
    page = content(response)
    assert f'<tr id="instruction-{instruction.pk}"' in page
    assert "<html" not in page
    assert "Bank's reference FT26110042" in page
    assert "recorded as sent; the grant is paid" in page
    assert Grant.objects.get(pk=instruction.disbursement.grant_id).status == "disbursed"
    progress = client.get(
        reverse("donations:batch-detail", args=[batch.pk]),
        headers={"HX-Request": "true", "HX-Target": "batch-progress"},
    )
    assert progress.status_code == 286
    assert "100% done: all 1 payments finished." in content(progress)


def test_the_scheduler_is_refused_with_a_422_and_nothing_changes(client, staff_user, batch):
    client.force_login(staff_user)
    instruction = PaymentInstruction.objects.get()
    url = reverse("donations:instruction-record-sent", args=[instruction.pk])
    response = client.post(url, {"bank_reference": "FT1"}, headers=HTMX)
    assert response.status_code == 422
    assert "someone else records the transfer as sent" in content(response)
    assert "HX-Trigger" not in response
    assert PaymentInstruction.objects.get().sent_at is None


def test_recording_without_javascript_goes_back_with_a_message(client, finance, batch):
    instruction = PaymentInstruction.objects.get()
    url = reverse("donations:instruction-record-sent", args=[instruction.pk])
    response = client.post(url, {"bank_reference": ""}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("donations:batch-detail", args=[batch.pk])
    assert PaymentInstruction.objects.get().sent_at is None
    response = client.post(url, {"bank_reference": "FT2"}, follow=True)
    assert "recorded as sent" in content(response)
    assert PaymentInstruction.objects.get().bank_reference == "FT2"


# --- How a nonprofit is paid: the staff page ----------------------------------------------------


def test_a_vetter_chooses_the_payout_method_on_the_nonprofits_payouts_page(client):
    vetter = StaffFactory(roles=[StaffRole.NONPROFIT_VETTER])
    client.force_login(vetter)
    nonprofit = NonprofitFactory()
    url = reverse("donations:nonprofit-payouts", args=[nonprofit.pk])
    page = content(client.get(url))
    assert "Paid electronically, through Sandbox" in page
    assert 'name="payout_method"' in page
    response = client.post(
        reverse("donations:nonprofit-payout-method", args=[nonprofit.pk]),
        {"payout_method": "bank_transfer"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url
    assert "Paid by bank transfer, made by hand" in content(response)
    assert Nonprofit.objects.get(pk=nonprofit.pk).payout_method == "bank_transfer"
    refused = client.post(
        reverse("donations:nonprofit-payout-method", args=[nonprofit.pk]),
        {"payout_method": "carrier-pigeon"},
    )
    assert refused.status_code == 422


def test_finance_reads_the_payouts_page_but_cannot_change_the_method(client, finance):
    nonprofit = bank_nonprofit()
    page = content(client.get(reverse("donations:nonprofit-payouts", args=[nonprofit.pk])))
    assert "••••5432" in page
    assert IBAN not in page
    assert 'name="payout_method"' not in page
    response = client.post(
        reverse("donations:nonprofit-payout-method", args=[nonprofit.pk]),
        {"payout_method": "electronic"},
    )
    assert response.status_code == 403
    assert Nonprofit.objects.get(pk=nonprofit.pk).payout_method == "bank_transfer"


def test_staff_ask_for_bank_details_which_wait_for_review(client):
    vetter = StaffFactory(roles=[StaffRole.NONPROFIT_VETTER])
    client.force_login(vetter)
    nonprofit = NonprofitFactory()
    url = reverse("donations:nonprofit-bank-details", args=[nonprofit.pk])
    data = {
        "bank-bank_account_holder": "Readers Trust",
        "bank-bank_account_number": "GB82 WEST 1234 5698 7654 33",
        "bank-bank_bic": BIC,
        "bank-bank_country": "GB",
    }
    refused = client.post(url, data)
    assert refused.status_code == 422
    assert "check digits are wrong" in content(refused)
    data["bank-bank_account_number"] = IBAN
    response = client.post(url, data, follow=True)
    assert "wait for review by someone else" in content(response)
    change = PayoutDetailsChange.objects.get()
    assert (change.bank_account_number, change.requested_by) == (IBAN, vetter)
    assert Nonprofit.objects.get(pk=nonprofit.pk).bank_account_number == ""
    review = content(client.get(reverse("donations:payout-change-list")))
    assert IBAN in review  # the reviewer checks the whole account with the nonprofit


# --- The nonprofit's pages and the printed documents ---------------------------------------------


def test_a_contact_asks_for_bank_details_on_the_details_page(client):
    nonprofit = NonprofitFactory(payout_method="bank_transfer")
    contact = NonprofitContactFactory(nonprofit=nonprofit)
    client.force_login(contact.user)
    page = content(client.get(reverse("nonprofit:details")))
    assert "The program team pays your grants by bank transfer." in page
    response = client.post(
        reverse("nonprofit:details"),
        {
            "section": "bank",
            "bank-bank_account_holder": "Readers Trust",
            "bank-bank_account_number": ACCOUNT,
            "bank-bank_bic": KE_BIC,
            "bank-bank_country": "KE",
            "bank-bank_name": "KCB",
        },
    )
    assert response.status_code == 302
    change = PayoutDetailsChange.objects.get()
    assert (change.bank_account_number, change.requested_by) == (ACCOUNT, contact.user)
    event = AuditEvent.objects.for_object(nonprofit).get(action="change_requested")
    assert "••••9012" in event.note
    assert ACCOUNT not in event.note


def test_the_nonprofit_sees_the_transfer_sent_and_opens_its_receipt(client, batch):
    instruction = PaymentInstruction.objects.get()
    grant = instruction.disbursement.grant
    contact = NonprofitContactFactory(nonprofit=grant.nonprofit)
    client.force_login(contact.user)
    detail = reverse("nonprofit:grant-detail", args=[grant.pk])
    page = content(client.get(detail))
    assert instruction.reference in page
    assert "••••5432" in page
    payment_instruction_record_sent(
        instruction=instruction,
        bank_reference="FT26110042",
        actor=StaffFactory(roles=[StaffRole.FINANCE_APPROVER]),
    )
    page = content(client.get(detail))
    assert "Transfer sent on" in page
    assert "FT26110042" in page
    pdf = client.get(reverse("nonprofit:grant-receipt-pdf", args=[grant.pk]))
    assert pdf.status_code == 200
    assert "FT26110042" in pdf_text(pdf.content)


def test_the_payment_advice_shows_the_banks_reference(client, finance, batch):
    instruction = PaymentInstruction.objects.get()
    payment_instruction_record_sent(
        instruction=instruction, bank_reference="FT26110042", actor=finance
    )
    response = client.get(
        reverse("donations:grant-payment-advice", args=[instruction.disbursement.grant_id])
    )
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "Bank transfer by hand" in text
    assert "Bank's reference FT26110042" in text
    assert instruction.reference in text
    assert "••••5432" in text
