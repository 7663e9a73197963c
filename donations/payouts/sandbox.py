"""The sandbox payout provider: real bookkeeping, no network, outcomes you choose.

It keeps its payments in its own table (`SandboxPayment`), one row per idempotency key, and
keeps the provider contract exactly: a key already paid is answered with the same payment,
also when two requests for it race. What it does is chosen per payee, by the nonprofit's
payout reference, or for every other payee by the `PAYOUT_SANDBOX_MODE` setting:

=========================  =================================================================
payout reference / mode    outcome
=========================  =================================================================
``succeed``                pays (the default)
``sandbox-fail``           refuses with a final error: nothing paid
``sandbox-timeout``        times out every time: nothing paid
``sandbox-flaky``          times out on the first request for a key, pays on the next
``sandbox-lose-response``  pays, then loses the answer (a retryable error) on that first
                           request; asking again, or looking up the key, finds the payment
=========================  =================================================================

`PAYOUT_SANDBOX_LATENCY` (seconds) adds a pause to each request, like a network round trip; a
payment is recorded before the pause, as its answer travels back, so a worker killed during the
pause leaves a payment made but not yet recorded by the app.
"""

import secrets
import time
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .base import FinalError, Payment, PayoutProvider, RetryableError


class Mode(StrEnum):
    SUCCEED = "succeed"
    FAIL = "fail"
    TIMEOUT = "timeout"
    FLAKY = "flaky"
    LOSE_RESPONSE = "lose-response"


PAYEE_PREFIX = "sandbox-"


def mode_for(payee: str) -> Mode:
    if payee.startswith(PAYEE_PREFIX):
        try:
            return Mode(payee.removeprefix(PAYEE_PREFIX))
        except ValueError:
            pass
    return Mode(settings.PAYOUT_SANDBOX_MODE)


class SandboxProvider(PayoutProvider):
    identifier = "sandbox"
    verbose_name = "Sandbox (no money moves)"

    def pay(
        self,
        *,
        idempotency_key: str,
        amount: Decimal,
        currency: str,
        payee: str,
        description: str = "",
    ) -> Payment:
        from donations.models import SandboxPayment

        mode = mode_for(payee)
        if mode is Mode.FAIL:
            self._wait()
            raise FinalError("The sandbox refused the payment: the payee's account is closed.")
        if mode is Mode.TIMEOUT:
            self._wait()
            raise RetryableError("The sandbox did not answer in time.")
        with transaction.atomic():
            # One row per key, whoever gets there first; the row lock makes a racing request
            # wait and then see the payment the first one made.
            SandboxPayment.objects.bulk_create(
                [
                    SandboxPayment(
                        idempotency_key=idempotency_key,
                        amount=amount,
                        currency=currency,
                        payee=payee,
                        description=description[:200],
                    )
                ],
                ignore_conflicts=True,
            )
            row = SandboxPayment.objects.select_for_update().get(idempotency_key=idempotency_key)
            if row.amount != amount or row.currency != currency:
                raise FinalError(
                    f"The key {idempotency_key} was used for {row.currency} {row.amount}, "
                    f"not {currency} {amount}."
                )
            row.requests += 1
            first_payment = row.paid_at is None and not (mode is Mode.FLAKY and row.requests == 1)
            if first_payment:
                row.paid_at = timezone.now()
                row.reference = f"SBX-{secrets.token_hex(8).upper()}"
            row.save(update_fields=["requests", "paid_at", "reference"])
        self._wait()
        if row.paid_at is None:
            raise RetryableError("The sandbox did not answer in time (it will on the next try).")
        if mode is Mode.LOSE_RESPONSE and first_payment:
            raise RetryableError("The connection dropped before the sandbox's answer arrived.")
        return Payment(reference=row.reference, amount=row.amount, currency=row.currency)

    def lookup(self, *, idempotency_key: str) -> Payment | None:
        from donations.models import SandboxPayment

        self._wait()
        row = (
            SandboxPayment.objects.filter(idempotency_key=idempotency_key, paid_at__isnull=False)
            .only("reference", "amount", "currency")
            .first()
        )
        if row is None:
            return None
        return Payment(reference=row.reference, amount=row.amount, currency=row.currency)

    @staticmethod
    def _wait() -> None:
        latency = float(settings.PAYOUT_SANDBOX_LATENCY)
        if latency > 0:
            time.sleep(latency)
