"""The Stripe Connect payout provider against the Stripe stand-in, over real HTTP with the
real `stripe` library: one transfer per key (also when answers are lost, after Stripe forgot
the key, and when two requests race), Stripe's errors as ours, amounts in minor units, and
webhook signatures the library accepts."""

import json
import threading
import time
from decimal import Decimal

import pytest
import stripe
from django.core.exceptions import ImproperlyConfigured

from donations.models.money import active_currencies, currency_places
from donations.payouts import (
    FinalError,
    HoldError,
    Payment,
    PayoutError,
    RetryableError,
    get_provider,
)
from donations.payouts.stripe import StripeProvider, major_units, minor_units

TRANSFERS = "/v1/transfers"


@pytest.fixture
def provider(stripe_standin) -> StripeProvider:
    return get_provider("stripe")


@pytest.fixture
def payee(stripe_standin) -> str:
    return stripe_standin.add_account(ready=True)["id"]


def pay(provider, payee, *, key="grant-1-key", amount="250.00", currency="USD"):
    return provider.pay(idempotency_key=key, amount=Decimal(amount), currency=currency, payee=payee)


def wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the stand-in did not get there in time"
        time.sleep(0.02)


def test_the_stripe_provider_is_available_but_the_sandbox_stays_the_default():
    assert isinstance(get_provider("stripe"), StripeProvider)
    assert get_provider().identifier == "sandbox"


def test_without_a_secret_key_the_provider_is_not_configured(settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="DJANGO_STRIPE_SECRET_KEY"):
        pay(get_provider("stripe"), "acct_1")


def test_a_grant_is_paid_as_one_transfer_to_the_connected_account(provider, payee, stripe_standin):
    payment = pay(provider, payee, key="grant-7-key", amount="250.00")

    [transfer] = stripe_standin.transfers()
    assert payment == Payment(reference=transfer["id"], amount=Decimal("250.00"), currency="USD")
    assert transfer["id"].startswith("tr_")
    assert (transfer["amount"], transfer["currency"], transfer["destination"]) == (
        25000,
        "usd",
        payee,
    )
    assert transfer["transfer_group"] == "grant-7-key"
    assert transfer["metadata"] == {"idempotency_key": "grant-7-key"}
    assert provider.lookup(idempotency_key="grant-7-key") == payment
    assert provider.lookup(idempotency_key="another-key") is None


def test_paying_twice_with_the_same_key_makes_one_transfer(provider, payee, stripe_standin):
    first = pay(provider, payee)
    again = pay(provider, payee)

    assert again == first
    assert len(stripe_standin.transfers()) == 1


def test_the_key_goes_to_stripe_as_the_idempotency_key(provider, payee, stripe_standin):
    pay(provider, payee, key="grant-9-key")

    assert "grant-9-key" in stripe_standin.world.keys


def test_a_transfer_whose_answer_was_lost_is_found_and_not_made_again(
    provider, payee, stripe_standin
):
    stripe_standin.lose_next(method="POST", path=TRANSFERS)
    with pytest.raises(RetryableError, match="did not answer"):
        pay(provider, payee)
    [made] = stripe_standin.transfers()

    found = provider.lookup(idempotency_key="grant-1-key")
    assert found is not None
    assert found.reference == made["id"]
    assert pay(provider, payee) == found
    assert len(stripe_standin.transfers()) == 1


def test_a_lost_answer_is_found_after_stripe_forgot_the_key(provider, payee, stripe_standin):
    stripe_standin.lose_next(method="POST", path=TRANSFERS)
    with pytest.raises(RetryableError):
        pay(provider, payee)
    stripe_standin.forget_keys()  # a day later

    found = provider.lookup(idempotency_key="grant-1-key")
    assert found is not None
    assert pay(provider, payee) == found
    assert len(stripe_standin.transfers()) == 1


def test_lookup_pages_through_a_large_transfer_group(provider, payee, stripe_standin):
    """Only the transfer carrying the key in its metadata counts, wherever it is listed."""
    pay(provider, payee, key="grant-1-key")
    for n in range(105):  # another app of the same platform reusing the group name
        stripe_standin.world.transfers.append(
            {**stripe_standin.transfers()[0], "id": f"tr_other{n}", "metadata": {}}
        )

    found = provider.lookup(idempotency_key="grant-1-key")

    assert found is not None
    assert found.reference == stripe_standin.transfers()[0]["id"]
    assert stripe_standin.requests.count(("GET", TRANSFERS)) >= 3  # 1 from pay, 2 pages


def test_rate_limiting_is_retryable_and_the_retry_pays_once(provider, payee, stripe_standin):
    stripe_standin.fail_next(status=429, method="POST", path=TRANSFERS)
    with pytest.raises(RetryableError, match="429"):
        pay(provider, payee)
    assert stripe_standin.transfers() == []

    payment = pay(provider, payee)
    assert [t["id"] for t in stripe_standin.transfers()] == [payment.reference]


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retryable(provider, payee, stripe_standin, status):
    stripe_standin.fail_next(status=status)
    with pytest.raises(RetryableError, match=str(status)):
        pay(provider, payee)


def test_a_failing_lookup_is_retryable(provider, stripe_standin):
    stripe_standin.fail_next(status=429, method="GET", path=TRANSFERS)
    with pytest.raises(RetryableError):
        provider.lookup(idempotency_key="grant-1-key")


def test_a_timeout_is_retryable_and_the_late_transfer_is_found(
    provider, payee, stripe_standin, settings
):
    settings.STRIPE_TIMEOUT = 1.0
    stripe_standin.delay_next(seconds=2.0, method="POST", path=TRANSFERS)
    with pytest.raises(RetryableError, match="did not answer"):
        pay(provider, payee)

    # Stripe carries the request out after the client gave up on it.
    wait_for(lambda: len(stripe_standin.transfers()) == 1)
    payment = pay(provider, payee)
    assert [t["id"] for t in stripe_standin.transfers()] == [payment.reference]


def test_a_retry_while_the_first_request_still_runs_is_retryable(
    provider, payee, stripe_standin, settings
):
    settings.STRIPE_TIMEOUT = 1.0
    stripe_standin.delay_next(seconds=3.0, method="POST", path=TRANSFERS)
    with pytest.raises(RetryableError):
        pay(provider, payee)

    with pytest.raises(RetryableError, match="409"):
        pay(provider, payee)
    wait_for(lambda: len(stripe_standin.transfers()) == 1)
    assert pay(provider, payee).reference == stripe_standin.transfers()[0]["id"]


def test_two_workers_paying_the_same_key_at_once_make_one_transfer(provider, payee, stripe_standin):
    stripe_standin.delay_next(seconds=0.3, method="POST", path=TRANSFERS)
    outcomes: list[Payment | PayoutError] = []

    def worker():
        try:
            outcomes.append(pay(provider, payee))
        except PayoutError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    [transfer] = stripe_standin.transfers()
    payments = [o for o in outcomes if isinstance(o, Payment)]
    assert payments
    assert {p.reference for p in payments} == {transfer["id"]}
    assert all(isinstance(o, Payment | RetryableError) for o in outcomes)


def test_an_account_that_cannot_receive_transfers_holds_the_payee(provider, stripe_standin):
    payee = stripe_standin.add_account(ready=False)["id"]

    with pytest.raises(HoldError) as held:
        pay(provider, payee)

    assert held.value.scope == HoldError.PAYEE
    assert "capabilities enabled: transfers" in held.value.reason
    assert stripe_standin.transfers() == []


def test_an_insufficient_platform_balance_holds_the_batch(provider, payee, stripe_standin):
    stripe_standin.set_balance("usd", 24999)

    with pytest.raises(HoldError) as held:
        pay(provider, payee, amount="250.00")

    assert held.value.scope == HoldError.PLATFORM
    assert "insufficient available funds" in held.value.reason
    assert stripe_standin.transfers() == []


def test_a_held_payment_is_paid_once_the_cause_is_fixed_within_stripes_day(
    provider, payee, stripe_standin
):
    """Stripe answers a refused key with the same refusal for a day; the retry still pays."""
    stripe_standin.set_balance("usd", 0)
    with pytest.raises(HoldError):
        pay(provider, payee)
    with pytest.raises(HoldError):
        pay(provider, payee)  # still short: the derived key is refused as well

    stripe_standin.set_balance("usd", 10**6)
    payment = pay(provider, payee)
    again = pay(provider, payee)

    assert again == payment
    [transfer] = stripe_standin.transfers()
    assert transfer["id"] == payment.reference
    assert transfer["metadata"] == {"idempotency_key": "grant-1-key"}
    assert provider.lookup(idempotency_key="grant-1-key") == payment


def test_a_refused_api_key_holds_the_batch(provider, payee, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_wrong"

    with pytest.raises(HoldError) as held:
        pay(provider, payee)

    assert held.value.scope == HoldError.PLATFORM
    assert "API key" in held.value.reason


def test_a_hold_names_what_waits():
    assert HoldError("short", scope=HoldError.PLATFORM).scope == "platform"
    with pytest.raises(ValueError, match="Unknown hold scope"):
        HoldError("short", scope="everything")


def test_a_replayed_refusal_without_its_original_request_stays_held(
    provider, payee, stripe_standin, monkeypatch
):
    """Without Stripe's `Original-Request` no other key can be derived: held until the key
    expires, never paid under a guessed key."""
    stripe_standin.set_balance("usd", 0)
    with pytest.raises(HoldError):
        pay(provider, payee)
    stripe_standin.set_balance("usd", 10**6)
    claim = stripe_standin._claim_key

    def without_original(*args):
        answer = claim(*args)
        if answer is not None:
            answer[2].pop("Original-Request", None)
        return answer

    monkeypatch.setattr(stripe_standin, "_claim_key", without_original)
    with pytest.raises(HoldError):
        pay(provider, payee)
    assert stripe_standin.transfers() == []


def test_an_unknown_connected_account_is_a_final_refusal(provider, stripe_standin):
    with pytest.raises(FinalError, match="No such destination"):
        pay(provider, "acct_doesnotexist")
    assert stripe_standin.transfers() == []


def test_a_key_reused_for_another_amount_is_refused(provider, payee, stripe_standin):
    pay(provider, payee, amount="250.00")

    with pytest.raises(FinalError, match="already used for another amount"):
        pay(provider, payee, amount="300.00")
    assert len(stripe_standin.transfers()) == 1


def test_stripes_idempotency_error_is_a_final_refusal(provider, stripe_standin):
    """The key's first request was refused and kept by Stripe; other parameters under the
    same key are an idempotency error, not a payment."""
    payee = stripe_standin.add_account(ready=False)["id"]
    with pytest.raises(HoldError):
        pay(provider, payee, amount="250.00")

    with pytest.raises(FinalError, match="same parameters"):
        pay(provider, payee, amount="300.00")
    assert stripe_standin.transfers() == []


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        ("250.00", "USD", 25000),
        ("0.01", "USD", 1),
        ("1000", "JPY", 1000),
        ("1000.00", "JPY", 1000),
        ("12.345", "KWD", 12345),
        ("12.3", "KWD", 12300),
        ("100", "ISK", 10000),  # zero-decimal, yet counted in hundredths by Stripe
    ],
)
def test_amounts_go_to_stripe_in_the_currencys_smallest_unit(
    provider, payee, stripe_standin, amount, currency, units
):
    stripe_standin.set_balance(currency, 10**9)

    payment = pay(provider, payee, amount=amount, currency=currency)

    [transfer] = stripe_standin.transfers()
    assert (transfer["amount"], transfer["currency"]) == (units, currency.lower())
    assert payment.amount == Decimal(amount)
    assert payment.currency == currency
    assert minor_units(Decimal(amount), currency) == units
    assert major_units(units, currency) == Decimal(amount)


@pytest.mark.parametrize(
    ("amount", "currency"), [("10.5", "JPY"), ("1.005", "USD"), ("1.2345", "KWD"), ("1.5", "ISK")]
)
def test_an_amount_finer_than_the_currency_is_refused_not_rounded(
    provider, payee, stripe_standin, amount, currency
):
    with pytest.raises(FinalError, match="finer than the smallest unit"):
        pay(provider, payee, amount=amount, currency=currency)
    assert stripe_standin.requests == []


def test_a_webhook_event_signed_by_the_standin_verifies_with_the_stripe_library(
    provider, payee, stripe_standin
):
    pay(provider, payee)
    [created] = [e for e in stripe_standin.events if e["type"] == "transfer.created"]
    payload = json.dumps(created)
    header = stripe_standin.sign(payload)

    event = stripe.Webhook.construct_event(payload, header, stripe_standin.webhook_secret)

    assert event.id == created["id"]
    assert event.type == "transfer.created"
    assert event.data.object.id == stripe_standin.transfers()[0]["id"]


def test_a_bad_or_stale_webhook_signature_fails(stripe_standin):
    event = stripe_standin.event("account.updated", stripe_standin.add_account())
    payload = json.dumps(event)
    secret = stripe_standin.webhook_secret

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, stripe_standin.sign(payload, "whsec_x"), secret)
    tampered = payload.replace("account.updated", "account.deleted")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, stripe_standin.sign(payload), secret)
    stale = stripe_standin.sign(payload, timestamp=int(time.time()) - 3600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, stale, secret)


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        ("25000.00", "USD", 2500000),
        ("1000", "JPY", 1000),
        ("12.345", "KWD", 12345),
        ("100", "ALL", 10000),  # CLDR writes lek without decimals; Stripe counts hundredths
        ("100", "UGX", 10000),
        ("5000", "MGA", 5000),  # on Stripe's zero-decimal list
    ],
)
def test_minor_units_follow_cldr_places_and_stripe_counting(amount, currency, units):
    assert minor_units(Decimal(amount), currency) == units
    assert major_units(units, currency) == Decimal(amount)


def test_every_active_currency_converts_a_whole_unit_and_refuses_finer_than_cldr():
    for code in active_currencies():
        places = currency_places(code)
        assert major_units(minor_units(Decimal(1), code), code) == 1, code
        with pytest.raises(ValueError, match="finer than the smallest unit"):
            minor_units(Decimal(1).scaleb(-places - 1), code)
