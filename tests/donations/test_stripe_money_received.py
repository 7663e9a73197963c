"""What arrived on the nonprofit's side of a Stripe transfer: its destination payment (a
charge on the connected account, read with the Stripe-Account header) and that payment's
balance transaction give the amount, currency and exchange rate, recorded once the payment
is booked, never as part of it; shown on the staff grant page and the printed documents."""

from decimal import Decimal

import pytest

from changemakers.core.models import AuditEvent
from donations.models import Disbursement, Grant
from donations.payouts import Received, get_provider
from donations.services import disbursement_received_record, disbursements_sweep
from tests.factories import FundFactory, NonprofitContactFactory

from .stripe_payments import approved, schedule, stripe_nonprofit
from .test_receipts_pdf import pdf_text

CHARGES = "/v1/charges/"


@pytest.fixture
def stripe_paying(db, settings, stripe_standin):
    settings.PAYOUT_PROVIDER = "stripe"
    return FundFactory(total=Decimal("100000.00"))


def pay(fund, stripe_standin, staff_user, proposer_user, capture, **account):
    nonprofit = stripe_nonprofit(stripe_standin, **account)
    grant = approved(fund, nonprofit, proposer_user, staff_user)
    schedule([grant], staff_user, capture)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.DISBURSED
    return grant


def test_a_transfer_to_an_account_in_euros_records_what_arrived_and_the_rate(
    stripe_paying, stripe_standin, staff_user, proposer_user, django_capture_on_commit_callbacks
):
    grant = pay(
        stripe_paying,
        stripe_standin,
        staff_user,
        proposer_user,
        django_capture_on_commit_callbacks,
        default_currency="eur",
    )

    payment = grant.disbursement
    assert payment.received_currency == "EUR"
    assert payment.received_amount == Decimal("23125.50")  # 25,000 x 0.92502
    assert payment.exchange_rate == Decimal("0.92502")
    audit = AuditEvent.objects.get(action="money_received")
    assert "EUR 23,125.50" in audit.note
    assert "1 USD = 0.92502 EUR" in audit.note


def test_the_provider_reads_the_destination_payment_only_on_the_connected_account(
    stripe_paying, stripe_standin, staff_user, proposer_user, django_capture_on_commit_callbacks
):
    grant = pay(
        stripe_paying,
        stripe_standin,
        staff_user,
        proposer_user,
        django_capture_on_commit_callbacks,
        default_currency="jpy",
    )
    [transfer] = stripe_standin.transfers()
    charge_path = CHARGES + transfer["destination_payment"]
    assert ("GET", charge_path) in stripe_standin.requests

    received = get_provider("stripe").received(reference=grant.disbursement.provider_reference)

    assert received == Received(
        amount=Decimal("3784250"), currency="JPY", exchange_rate=Decimal("151.37")
    )


def test_the_same_currency_records_the_amount_without_a_rate(
    stripe_paying, stripe_standin, staff_user, proposer_user, django_capture_on_commit_callbacks
):
    grant = pay(
        stripe_paying, stripe_standin, staff_user, proposer_user, django_capture_on_commit_callbacks
    )
    payment = grant.disbursement
    assert (payment.received_amount, payment.received_currency) == (Decimal("25000.00"), "USD")
    assert payment.exchange_rate is None


def test_a_failed_lookup_never_fails_the_payment_and_the_sweeper_records_it_later(
    stripe_paying,
    stripe_standin,
    staff_user,
    proposer_user,
    settings,
    django_capture_on_commit_callbacks,
):
    stripe_standin.fail_next(20, status=503, method="GET", path=CHARGES)
    grant = pay(
        stripe_paying,
        stripe_standin,
        staff_user,
        proposer_user,
        django_capture_on_commit_callbacks,
        default_currency="eur",
    )
    payment = grant.disbursement
    assert payment.status == Disbursement.Status.SUCCEEDED
    assert payment.received_currency == ""
    stripe_standin.faults.clear()
    settings.PAYOUT_STALE_AFTER = 0

    disbursements_sweep()

    payment.refresh_from_db()
    assert (payment.received_amount, payment.received_currency) == (Decimal("23125.50"), "EUR")
    # Recorded once: asking again changes nothing.
    disbursement_received_record(disbursement_id=payment.pk)
    assert AuditEvent.objects.filter(action="money_received").count() == 1


def test_the_grant_page_and_the_documents_show_the_amount_received(
    client,
    stripe_paying,
    stripe_standin,
    staff_user,
    proposer_user,
    django_capture_on_commit_callbacks,
):
    grant = pay(
        stripe_paying,
        stripe_standin,
        staff_user,
        proposer_user,
        django_capture_on_commit_callbacks,
        default_currency="eur",
    )
    client.force_login(staff_user)

    page = client.get(f"/staff/grants/{grant.pk}/").content.decode()
    advice = pdf_text(client.get(f"/staff/grants/{grant.pk}/payment-advice/pdf/").content)

    assert 'id="payment-received"' in page
    assert "€23,125.50" in page
    assert "1 USD = 0.92502 EUR" in page
    assert "€23,125.50" in advice
    assert "1 USD = 0.92502 EUR" in advice

    contact = NonprofitContactFactory(nonprofit=grant.nonprofit)
    client.force_login(contact.user)
    receipt = client.get(f"/nonprofit/grants/{grant.pk}/receipt/").content.decode()
    receipt_pdf = pdf_text(client.get(f"/nonprofit/grants/{grant.pk}/receipt/pdf/").content)
    assert 'id="receipt-received"' in receipt
    assert "€23,125.50" in receipt
    assert "1 USD = 0.92502 EUR" in receipt
    assert "€23,125.50" in receipt_pdf
    assert "1 USD = 0.92502 EUR" in receipt_pdf
