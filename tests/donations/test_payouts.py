"""Payout providers: the registry that loads them by setting, and the sandbox provider's
contract (a key names one payment) in each of its modes."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings

from donations.models import SandboxPayment
from donations.payouts import FinalError, PayoutProvider, RetryableError, get_provider, providers
from donations.payouts.sandbox import SandboxProvider

pytestmark = pytest.mark.django_db

AMOUNT = Decimal("25000.00")


def pay(provider, key="key-1", payee="", amount=AMOUNT):
    return provider.pay(idempotency_key=key, amount=amount, currency="USD", payee=payee)


class BrokenProvider:
    identifier = "broken"


def test_the_configured_provider_is_the_sandbox_by_default():
    provider = get_provider()
    assert isinstance(provider, SandboxProvider)
    assert provider.identifier == "sandbox"
    assert set(providers()) == {"sandbox", "stripe", "bank_transfer"}


def test_an_unknown_provider_identifier_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="No payout provider 'carrier-pigeon'"):
        get_provider("carrier-pigeon")
    with override_settings(PAYOUT_PROVIDER="carrier-pigeon"), pytest.raises(ImproperlyConfigured):
        get_provider()


def test_a_class_that_is_not_a_provider_is_refused():
    path = f"{__name__}.BrokenProvider"
    with override_settings(PAYOUT_PROVIDERS=[path]), pytest.raises(ImproperlyConfigured):
        get_provider("broken")
    assert isinstance(get_provider(), PayoutProvider)  # reloaded once the setting is back


def test_the_sandbox_pays_once_per_key():
    provider = get_provider("sandbox")
    first = pay(provider)
    again = pay(provider)

    assert first == again
    assert first.reference.startswith("SBX-")
    row = SandboxPayment.objects.get()
    assert (row.requests, row.amount, row.reference) == (2, AMOUNT, first.reference)
    assert provider.lookup(idempotency_key="key-1") == first


def test_the_sandbox_refuses_a_key_reused_for_another_amount():
    provider = get_provider("sandbox")
    pay(provider)
    with pytest.raises(FinalError, match="already used for another amount"):
        pay(provider, amount=Decimal("1.00"))
    assert SandboxPayment.objects.get().amount == AMOUNT


def test_a_key_never_paid_is_not_found():
    assert get_provider("sandbox").lookup(idempotency_key="never") is None


def test_a_refusal_records_no_payment_so_the_key_can_be_tried_again():
    provider = get_provider("sandbox")
    with pytest.raises(FinalError, match="account is closed"):
        pay(provider, payee="sandbox-fail")
    assert provider.lookup(idempotency_key="key-1") is None
    assert pay(provider, payee="").reference  # the payee's details were fixed


def test_a_timeout_pays_nothing():
    provider = get_provider("sandbox")
    for _ in range(3):
        with pytest.raises(RetryableError, match="did not answer in time"):
            pay(provider, payee="sandbox-timeout")
    assert provider.lookup(idempotency_key="key-1") is None


def test_a_flaky_payee_times_out_once_then_is_paid():
    provider = get_provider("sandbox")
    with pytest.raises(RetryableError):
        pay(provider, payee="sandbox-flaky")
    assert provider.lookup(idempotency_key="key-1") is None

    payment = pay(provider, payee="sandbox-flaky")
    assert provider.lookup(idempotency_key="key-1") == payment


def test_a_lost_response_still_paid_and_the_payment_is_found_by_its_key():
    provider = get_provider("sandbox")
    with pytest.raises(RetryableError, match="connection dropped"):
        pay(provider, payee="sandbox-lose-response")

    found = provider.lookup(idempotency_key="key-1")
    assert found is not None
    assert pay(provider, payee="sandbox-lose-response") == found  # the retry gets the same one
    assert SandboxPayment.objects.count() == 1


@override_settings(PAYOUT_SANDBOX_MODE="fail")
def test_the_setting_chooses_the_outcome_for_every_other_payee():
    with pytest.raises(FinalError):
        pay(get_provider("sandbox"), payee="")


def test_an_unknown_sandbox_reference_falls_back_to_the_setting():
    assert pay(get_provider("sandbox"), payee="sandbox-nonsense").reference


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_requests_for_one_key_make_one_payment():
    provider = get_provider("sandbox")
    barrier = threading.Barrier(8)
    references: list[str] = []

    def request():
        try:
            barrier.wait()
            references.append(pay(provider).reference)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(references) == 8
    assert len(set(references)) == 1
    row = SandboxPayment.objects.get()
    assert row.requests == 8
