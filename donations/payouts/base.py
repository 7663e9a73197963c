"""The interface every payout provider implements."""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar


@dataclass(frozen=True)
class Payment:
    """A payment the provider has made."""

    reference: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Received:
    """What arrived on the payee's side of a payment, as the provider reports it: the amount
    in the payee's currency and, when the provider converted, its rate (1 unit of the
    currency paid = `exchange_rate` units of `currency`; None when nothing was converted)."""

    amount: Decimal
    currency: str
    exchange_rate: Decimal | None = None


@dataclass(frozen=True)
class Balance:
    """Money available on the platform's own account with the provider, in one currency."""

    amount: Decimal
    currency: str


class PayoutError(Exception):
    """The provider did not confirm a payment."""


class RetryableError(PayoutError):
    """A transient failure (timeout, connection lost, provider busy).

    The payment may or may not have been made: ask again with the same idempotency key, or look
    it up by that key.
    """


class FinalError(PayoutError):
    """The provider refused the payment and made none (closed account, invalid payee...).

    Sending the same request again will not help until something is fixed.
    """


class HoldError(PayoutError):
    """The provider made no payment, for a cause outside the grant that someone must fix
    before paying is worth trying again: the payee's account cannot receive money yet, or the
    platform's own account is short of funds or refuses our credentials.

    Neither retryable (trying again soon will not help) nor final (nothing is wrong with the
    grant): the payment waits, held, and is tried again with the same key once the cause is
    fixed. `scope` says what waits: `PAYEE`, this payee's payments (its other grants would get
    the same answer); `PLATFORM`, every payment from the platform's account (the whole batch).
    `reason` is the provider's own explanation, to show to staff.
    """

    PAYEE = "payee"
    PLATFORM = "platform"

    def __init__(self, reason: str, *, scope: str):
        if scope not in (self.PAYEE, self.PLATFORM):
            raise ValueError(f"Unknown hold scope {scope!r}.")
        super().__init__(reason)
        self.reason = reason
        self.scope = scope


class PayoutProvider(ABC):
    """One way to pay a nonprofit.

    The contract both methods keep: an idempotency key names one payment. `pay` with a key the
    provider has already paid returns that payment instead of paying again, even when the two
    requests arrive at the same time; a refused request (`FinalError`, `HoldError`) records
    nothing, so the same key may be tried again once the cause is fixed.
    """

    #: Stored on each disbursement; must never change once payments were made with it.
    identifier: ClassVar[str]
    verbose_name: ClassVar[str]
    #: A provider through which people pay by hand (a bank transfer from instructions): the
    #: worker never calls its `pay`; a person records each payment as made, and `lookup`
    #: answers what they recorded.
    by_hand: ClassVar[bool] = False

    #: Whether `received` can say what arrived on the payee's side (another currency...).
    reports_received: ClassVar[bool] = False

    @abstractmethod
    def pay(
        self,
        *,
        idempotency_key: str,
        amount: Decimal,
        currency: str,
        payee: str,
        description: str = "",
    ) -> Payment:
        """Pay `amount` to `payee` (the nonprofit's payout reference), once per key."""

    @abstractmethod
    def lookup(self, *, idempotency_key: str) -> Payment | None:
        """The payment made with this key, or None if the provider made none."""

    def received(self, *, reference: str) -> Received | None:
        """What arrived on the payee's side of the payment `reference` made, or None when the
        provider does not say. Raises `RetryableError` when it could not be asked just now.
        Providers that can tell set `reports_received`."""
        return None

    def balance(self) -> list[Balance] | None:
        """The money available on the platform's account, per currency; None when the
        provider has no such account or does not say. Raises `PayoutError` when it could not
        be asked."""
        return None
