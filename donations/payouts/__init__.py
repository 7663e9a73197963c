"""Payout providers: the outside services that move the money.

Like Django's email backends, providers are classes listed by dotted path in the
`PAYOUT_PROVIDERS` setting; `PAYOUT_PROVIDER` names the identifier the program pays with.
Each implements the small interface of `base.PayoutProvider` and raises one of its error
kinds: `RetryableError` (try again later with the same key), `FinalError` (nothing was paid;
trying again as it is will not help) or `HoldError` (nothing was paid; hold the payment, or
the payee's or the whole batch's by its `scope`, until the cause named in its `reason` is
fixed, then try again with the same key).
"""

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
from .registry import get_provider, providers

__all__ = [
    "Balance",
    "FinalError",
    "HoldError",
    "Payment",
    "PayoutError",
    "PayoutProvider",
    "Received",
    "RetryableError",
    "get_provider",
    "providers",
]
