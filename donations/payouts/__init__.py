"""Payout providers: the outside services that move the money.

Like Django's email backends, providers are classes listed by dotted path in the
`PAYOUT_PROVIDERS` setting; `PAYOUT_PROVIDER` names the identifier the program pays with.
Each implements the small interface of `base.PayoutProvider` and raises one of its two error
kinds: `RetryableError` (try again later with the same key) or `FinalError` (nothing was paid;
trying again as it is will not help).
"""

from .base import FinalError, Payment, PayoutError, PayoutProvider, RetryableError
from .registry import get_provider, providers

__all__ = [
    "FinalError",
    "Payment",
    "PayoutError",
    "PayoutProvider",
    "RetryableError",
    "get_provider",
    "providers",
]
