"""The Stripe Connect payout provider: a grant is a Transfer from the platform's Stripe balance
to the nonprofit's connected account (its payout reference is the account id, `acct_...`).

One payment per key, kept three ways: the grant's idempotency key is sent as Stripe's
`Idempotency-Key` (Stripe answers a repeated request with the first answer, for 24 hours),
and is written on the transfer as its `transfer_group` and `metadata[idempotency_key]`, so
that `lookup` finds the transfer by listing the group, also after Stripe has forgotten the
key. `pay` looks first, so a key paid days ago is answered with its transfer, not paid again.

Stripe keeps a refusal under its key too: a transfer refused for a short balance would be
refused again for a day after the balance is topped up. So when Stripe replays a refusal that
holds the payment (`Idempotent-Replayed`), `pay` sends the transfer once more under a key
derived from the refused request's id: nothing was made under a refused key, and every
worker derives the same key, so the payment still happens at most once.

What arrived (`received`): the transfer's destination payment (`py_...`, a Charge on the
connected account, so read with the `Stripe-Account` header) and its balance transaction give
the amount, currency and exchange rate in the nonprofit's own currency.

Errors: no answer (network, timeout), 409, 429 and 5xx are `RetryableError`; a connected
account that cannot receive transfers is a `HoldError` on the payee, an insufficient
platform balance or a refused API key a `HoldError` on the platform (the batch); any other
refusal is a `FinalError`. The library's own retries are off: our worker retries, with
backoff, and counts the tries.
"""

from collections.abc import Iterator
from decimal import Decimal
from threading import Lock

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from donations.models.money import currency_places

from .base import (
    Balance,
    FinalError,
    HoldError,
    Payment,
    PayoutError,
    PayoutProvider,
    Received,
    RetryableError,
)

# How many decimals a currency has is CLDR's (`currency_places`); how Stripe counts an amount
# is Stripe's. It counts in whole units only its zero-decimal currencies
# (https://docs.stripe.com/currencies#zero-decimal), and every other currency in hundredths
# at least (thousandths for KWD, BHD...): also those CLDR writes without decimals, such as ISK
# and UGX (https://docs.stripe.com/currencies#special-cases), ALL or RSD. Amounts it is sent
# must still be whole units of the currency.
_STRIPE_WHOLE_UNITS = {
    *("BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA"),
    *("PYG", "RWF", "VND", "VUV", "XAF", "XOF", "XPF"),
}

# Refusals that wait for someone to act, by Stripe's error code, and what waits.
_HOLDS = {
    "balance_insufficient": HoldError.PLATFORM,
    "insufficient_capabilities_for_transfer": HoldError.PAYEE,
    "account_invalid": HoldError.PAYEE,
    "payouts_not_allowed": HoldError.PAYEE,
    "transfers_not_allowed": HoldError.PAYEE,
}
# How many refusals in a row `pay` steps past (one per hold released within Stripe's day).
_MAX_REPLAYED_HOLDS = 20


def minor_units(amount: Decimal, currency: str) -> int:
    """`amount` in the currency's smallest unit as Stripe counts it (cents for USD, yen for
    JPY, fils for KWD). An amount finer than the currency's unit is refused with ValueError,
    never rounded: 10.5 JPY is a mistake, not 10 or 11 yen."""
    code = currency.upper()
    whole = amount.scaleb(currency_places(code))
    if whole != whole.to_integral_value():
        raise ValueError(f"{amount} {code} is finer than the smallest unit of {code}.")
    return int(amount.scaleb(_stripe_places(code)))


def major_units(units: int, currency: str) -> Decimal:
    """The inverse of `minor_units`: Stripe's integer amount as a Decimal in the currency."""
    return Decimal(units).scaleb(-_stripe_places(currency.upper()))


def _stripe_places(code: str) -> int:
    return 0 if code in _STRIPE_WHOLE_UNITS else max(2, currency_places(code))


class StripeProvider(PayoutProvider):
    identifier = "stripe"
    verbose_name = "Stripe Connect"
    reports_received = True

    def pay(
        self,
        *,
        idempotency_key: str,
        amount: Decimal,
        currency: str,
        payee: str,
        description: str = "",
    ) -> Payment:
        try:
            units = minor_units(amount, currency)
        except ValueError as error:
            raise FinalError(str(error)) from None
        if units <= 0:
            raise FinalError(f"Stripe cannot transfer {amount} {currency}.")
        already = self.lookup(idempotency_key=idempotency_key)
        if already is not None:
            if (already.amount, already.currency) != (amount, currency.upper()):
                raise FinalError(f"The key {idempotency_key} was already used for another amount.")
            return already
        params: stripe.params.TransferCreateParams = {
            "amount": units,
            "currency": currency.lower(),
            "destination": payee,
            "transfer_group": idempotency_key,
            "metadata": {"idempotency_key": idempotency_key},
        }
        if description:
            params["description"] = description[:350]
        stripe_key = idempotency_key
        for _ in range(_MAX_REPLAYED_HOLDS):
            try:
                transfer = self._client().v1.transfers.create(
                    params, options={"idempotency_key": stripe_key}
                )
            except stripe.StripeError as error:
                translated = _translate(error)
                original = error.headers.get("original-request")
                replayed = error.headers.get("idempotent-replayed") == "true"
                if isinstance(translated, HoldError) and replayed and original:
                    stripe_key = f"{idempotency_key}:after-{original}"
                    continue
                raise translated from error
            return _payment(transfer)
        raise HoldError(
            f"Stripe refused this transfer {_MAX_REPLAYED_HOLDS} times in a day.",
            scope=HoldError.PAYEE,
        )

    def lookup(self, *, idempotency_key: str) -> Payment | None:
        try:
            found = [
                transfer
                for transfer in self._transfers_in_group(idempotency_key)
                if transfer.metadata.to_dict().get("idempotency_key") == idempotency_key
            ]
        except stripe.StripeError as error:
            raise _translate(error) from error
        if not found:
            return None
        return _payment(min(found, key=lambda transfer: (transfer.created, transfer.id)))

    def received(self, *, reference: str) -> Received | None:
        client = self._client()
        try:
            transfer = client.v1.transfers.retrieve(reference)
            payment_id, account = _id(transfer.destination_payment), _id(transfer.destination)
            if not payment_id or not account:
                return None
            # The destination payment lives on the connected account: only its header finds it.
            on_account: stripe.RequestOptions = {"stripe_account": account}
            charge = client.v1.charges.retrieve(
                payment_id, {"expand": ["balance_transaction"]}, options=on_account
            )
            entry = charge.balance_transaction
            if isinstance(entry, str):
                entry = client.v1.balance_transactions.retrieve(entry, options=on_account)
        except stripe.StripeError as error:
            raise _translate(error) from error
        if entry is None:
            return None
        currency = entry.currency.upper()
        rate = entry.exchange_rate
        return Received(
            amount=major_units(entry.amount, currency),
            currency=currency,
            exchange_rate=None if rate is None else Decimal(str(rate)),
        )

    def balance(self) -> list[Balance]:
        try:
            balance = self._client().v1.balance.retrieve()
        except stripe.StripeError as error:
            raise _translate(error) from error
        return [
            Balance(
                amount=major_units(funds.amount, funds.currency), currency=funds.currency.upper()
            )
            for funds in balance.available
        ]

    def _transfers_in_group(self, group: str) -> Iterator[stripe.Transfer]:
        page = self._client().v1.transfers.list({"transfer_group": group, "limit": 100})
        return page.auto_paging_iter()

    def _client(self) -> stripe.StripeClient:
        return stripe_client()


_clients: dict[tuple, stripe.StripeClient] = {}
_clients_lock = Lock()


def stripe_client() -> stripe.StripeClient:
    """The one client for the current settings (tests point them at a stand-in): the payout
    provider and hosted onboarding (`stripe_connect`) both use it."""
    config = (settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE, settings.STRIPE_TIMEOUT)
    if not config[0]:
        raise ImproperlyConfigured("Set DJANGO_STRIPE_SECRET_KEY to use Stripe.")
    with _clients_lock:
        client = _clients.get(config)
        if client is None:
            client = stripe.StripeClient(
                config[0],
                base_addresses={"api": config[1]},
                max_network_retries=0,
                http_client=stripe.RequestsClient(timeout=config[2]),
            )
            _clients.clear()  # settings changed (a test's stand-in): drop the old one
            _clients[config] = client
        return client


def _id(value) -> str:
    """The id of a field Stripe may give as an id or, expanded, as the object."""
    if value is None or isinstance(value, str):
        return value or ""
    return value.id


def _payment(transfer: stripe.Transfer) -> Payment:
    currency = transfer.currency.upper()
    return Payment(
        reference=transfer.id, amount=major_units(transfer.amount, currency), currency=currency
    )


def _translate(error: stripe.StripeError) -> PayoutError:
    """Stripe's error as one of ours."""
    status = error.http_status
    message = error.user_message or str(error) or type(error).__name__
    if isinstance(error, stripe.APIConnectionError) or status is None:
        return RetryableError(f"Stripe did not answer: {message}")
    if status in (409, 429) or status >= 500:
        return RetryableError(f"Stripe answered {status}: {message}")
    if status == 401:
        return HoldError(f"Stripe refused the platform's API key: {message}", scope="platform")
    scope = _HOLDS.get(error.code or "")
    if scope is not None:
        return HoldError(message, scope=scope)
    return FinalError(f"Stripe refused the transfer: {message}")
