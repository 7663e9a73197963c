"""Stripe Connect onboarding and webhooks: every call to Stripe that is not a payment, with
the payout provider's client (`stripe.stripe_client`). Stripe's errors come out as
`StripeUnavailable`, which the services turn into a refusal a contact can read."""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .stripe import major_units, stripe_client

# Where Account Links and Login Links send a browser: Stripe's Connect pages.
STRIPE_HOSTED_ORIGIN = "https://connect.stripe.com"


def hosted_origins() -> list[str]:
    """The origins a contact's browser is sent to for onboarding and the Express dashboard:
    Stripe's, and the API's own when it is not Stripe's (the stand-in serves its fake hosted
    pages there)."""
    api = urlsplit(settings.STRIPE_API_BASE)
    own = f"{api.scheme}://{api.netloc}"
    if api.hostname == "api.stripe.com":
        return [STRIPE_HOSTED_ORIGIN]
    return [STRIPE_HOSTED_ORIGIN, own]


class StripeUnavailable(Exception):
    """Stripe did not answer, or refused the request."""


@dataclass(frozen=True)
class AccountStatus:
    account_id: str
    payouts_enabled: bool
    requirements_due: list[str]


@dataclass(frozen=True)
class TransferReversed:
    """A transfer as a `transfer.reversed` event shows it: how much of it Stripe has taken
    back in all so far (`amount_reversed`, every reversal of it added up)."""

    transfer_id: str
    idempotency_key: str  # the grant's key the transfer was made under, if it says
    amount: Decimal
    currency: str
    amount_reversed: Decimal
    reversal_ids: list[str]


@dataclass(frozen=True)
class PayoutEvent:
    """A payout from a connected account to its bank, as a `payout.*` event shows it."""

    account_id: str
    payout_id: str
    amount: Decimal
    currency: str
    created: datetime.datetime
    failure_code: str
    failure_message: str


def transfer_reversed_from_event(data_object: dict) -> TransferReversed:
    """The transfer in a `transfer.reversed` event. Raises KeyError/ValueError for a body
    that is no transfer."""
    currency = str(data_object["currency"]).upper()
    metadata = data_object.get("metadata") or {}
    reversals = (data_object.get("reversals") or {}).get("data") or []
    return TransferReversed(
        transfer_id=str(data_object["id"]),
        idempotency_key=str(
            metadata.get("idempotency_key") or data_object.get("transfer_group") or ""
        ),
        amount=major_units(int(data_object["amount"]), currency),
        currency=currency,
        amount_reversed=major_units(int(data_object.get("amount_reversed") or 0), currency),
        reversal_ids=[str(reversal.get("id")) for reversal in reversals if reversal.get("id")],
    )


def payout_from_event(event: dict) -> PayoutEvent:
    """The payout of a `payout.failed` / `payout.paid` event of a connected account (the
    event's top-level `account`). Raises KeyError/ValueError for an event without them."""
    payout = event["data"]["object"]
    currency = str(payout["currency"]).upper()
    return PayoutEvent(
        account_id=str(event["account"]),
        payout_id=str(payout["id"]),
        amount=major_units(int(payout.get("amount") or 0), currency),
        currency=currency,
        created=datetime.datetime.fromtimestamp(
            int(payout.get("created") or event.get("created") or 0), tz=datetime.UTC
        ),
        failure_code=str(payout.get("failure_code") or ""),
        failure_message=str(payout.get("failure_message") or ""),
    )


def _status(account) -> AccountStatus:
    if not isinstance(account, dict):
        account = account.to_dict()
    requirements = account.get("requirements") or {}
    return AccountStatus(
        account_id=account["id"],
        payouts_enabled=bool(account.get("payouts_enabled")),
        requirements_due=list(requirements.get("currently_due") or []),
    )


def _call(method, *args, **kwargs):
    """`method(client)(*args, **kwargs)` with the configured client, Stripe's errors (and a
    site without Stripe keys) as `StripeUnavailable`."""
    try:
        return method(stripe_client())(*args, **kwargs)
    except ImproperlyConfigured as error:
        raise StripeUnavailable("Stripe is not set up on this site") from error
    except stripe.StripeError as error:
        raise StripeUnavailable(error.user_message or str(error) or type(error).__name__) from error


def account_create(*, idempotency_key: str, country: str, email: str, nonprofit_id: int) -> str:
    """An Express connected account that can receive transfers; its id. The same key answers
    the same account (a double click, a retry), as Stripe keeps keys for a day.

    A nonprofit in another country than the platform's (STRIPE_PLATFORM_COUNTRY) is paid
    across borders, which Stripe allows only to accounts under the recipient service
    agreement (https://docs.stripe.com/connect/service-agreement-types): it is asked for at
    creation, as it cannot be changed once accepted. Such an account only receives transfers,
    which is all a grant needs."""
    params: dict = {
        "type": "express",
        "country": country,
        "email": email,
        "capabilities": {"transfers": {"requested": True}},
        "metadata": {"nonprofit_id": str(nonprofit_id)},
    }
    if country.upper() != settings.STRIPE_PLATFORM_COUNTRY.upper():
        params["tos_acceptance"] = {"service_agreement": "recipient"}
    account = _call(
        lambda client: client.v1.accounts.create,
        params,
        options={"idempotency_key": idempotency_key},
    )
    return account.id


def account_status(account_id: str) -> AccountStatus:
    return _status(_call(lambda client: client.v1.accounts.retrieve, account_id))


def account_exists(account_id: str) -> bool:
    """Whether Stripe knows the account (False when it answers that there is no such
    account; any other trouble is `StripeUnavailable`)."""
    try:
        _call(lambda client: client.v1.accounts.retrieve, account_id)
    except StripeUnavailable as error:
        cause = error.__cause__
        if isinstance(cause, stripe.InvalidRequestError) and cause.code == "resource_missing":
            return False
        raise
    return True


def account_status_from_event(data_object: dict) -> AccountStatus:
    return _status(data_object)


def onboarding_link(*, account_id: str, return_url: str, refresh_url: str) -> str:
    """The URL of Stripe's hosted onboarding for the account (it works a few minutes, once)."""
    link = _call(
        lambda client: client.v1.account_links.create,
        {
            "account": account_id,
            "type": "account_onboarding",
            "return_url": return_url,
            "refresh_url": refresh_url,
        },
    )
    return link.url


def login_link(account_id: str) -> str:
    """A one-time URL into the account's Stripe Express dashboard (bank account and all)."""
    return _call(lambda client: client.v1.accounts.login_links.create, account_id).url


def event_verified(payload: bytes, signature: str) -> dict:
    """The event in a webhook's body once its signature is checked against one of
    STRIPE_WEBHOOK_SECRETS (Stripe's default tolerance of five minutes): Stripe signs each
    endpoint's events with that endpoint's own secret, and the platform's events
    (`transfer.reversed`) and its connected accounts' (`account.updated`, `payout.failed`)
    come from two endpoints (or one, and an old secret while it is rolled). Raises ValueError
    for a body that is not an event, `stripe.SignatureVerificationError` for a bad
    signature."""
    secrets = settings.STRIPE_WEBHOOK_SECRETS
    if not secrets:
        raise stripe.SignatureVerificationError("No webhook signing secret is set.", signature)
    for secret in secrets[:-1]:
        try:
            event = stripe.Webhook.construct_event(payload, signature, secret).to_dict()
            break
        except stripe.SignatureVerificationError:
            continue
    else:
        event = stripe.Webhook.construct_event(payload, signature, secrets[-1]).to_dict()
    if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise ValueError("Not a Stripe event.")
    return event
