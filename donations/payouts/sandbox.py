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
``sandbox-dark``           cannot be reached: every request times out and so does every
                           lookup of its keys (nothing paid; the outcome stays unknown)
``sandbox-stall``          pays, then hangs for `PAYOUT_SANDBOX_STALL` seconds before
                           answering, like a connection that never returns: the worker's time
                           limit ends the task with the payment made but not recorded
=========================  =================================================================

A lookup answers with the payment under the key as the sandbox's ledger holds it (amount and
currency included), or None: "no payment under this key", which in the sandbox is final (a
request it timed out is never carried out later; see `disbursement_recheck` for how the app
treats "not found" from a provider that might).

`PAYOUT_SANDBOX_LATENCY` (seconds) adds a pause to each request, like a network round trip; a
payment is recorded before the pause, as its answer travels back, so a worker killed during the
pause leaves a payment made but not yet recorded by the app.
"""

import secrets
import time
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from donations.models import MONEY_DIGITS, MONEY_PLACES, SandboxPayment
from donations.models.money import quantize

from .base import FinalError, Payment, PayoutProvider, RetryableError


class Mode(StrEnum):
    SUCCEED = "succeed"
    FAIL = "fail"
    TIMEOUT = "timeout"
    FLAKY = "flaky"
    LOSE_RESPONSE = "lose-response"
    DARK = "dark"
    STALL = "stall"


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
        mode = mode_for(payee)
        if mode is Mode.FAIL:
            self._wait()
            raise FinalError("The sandbox refused the payment: the payee's account is closed.")
        if mode is Mode.TIMEOUT:
            self._wait()
            raise RetryableError("The sandbox did not answer in time.")
        if mode is Mode.DARK:  # the request is noted, so that lookups of the key know the payee
            noted, _ = SandboxPayment.objects.get_or_create(
                idempotency_key=idempotency_key,
                defaults={"amount": amount, "currency": currency, "payee": payee},
            )
            SandboxPayment.objects.filter(pk=noted.pk).update(requests=F("requests") + 1)
            self._wait()
            raise RetryableError("The sandbox could not be reached.")
        now = timezone.now()
        reference = f"SBX-{secrets.token_hex(8).upper()}"
        pays_now = mode is not Mode.FLAKY  # flaky: the first request for a key only times out
        row = self._record(
            key=idempotency_key,
            amount=amount,
            currency=currency,
            payee=payee,
            description=description[:200],
            now=now,
            reference=reference,
            pays_now=pays_now,
        )
        if row is None:
            raise FinalError(f"The key {idempotency_key} was already used for another amount.")
        paid_reference, paid_at, paid_amount, paid_currency = row
        self._wait()
        if mode is Mode.STALL:
            time.sleep(float(settings.PAYOUT_SANDBOX_STALL))
        if paid_at is None:
            raise RetryableError("The sandbox did not answer in time (it will on the next try).")
        made_now = paid_reference == reference
        if mode is Mode.LOSE_RESPONSE and made_now:
            raise RetryableError("The connection dropped before the sandbox's answer arrived.")
        return Payment(
            reference=paid_reference,
            amount=quantize(Decimal(str(paid_amount)), paid_currency),  # SQLite hands back a number
            currency=paid_currency,
        )

    @staticmethod
    def _record(*, key, amount, currency, payee, description, now, reference, pays_now):
        """One statement, one row per key, whoever gets there first: a racing request for the
        same key waits on the row and then sees the payment the first one made. Returns
        (reference, paid_at, amount, currency), or None when the key was used for another
        amount."""
        table = connection.ops.quote_name(SandboxPayment._meta.db_table)
        amount_db = connection.ops.adapt_decimalfield_value(amount, MONEY_DIGITS, MONEY_PLACES)
        now_db = connection.ops.adapt_datetimefield_value(now)
        sql = f"""
            INSERT INTO {table} AS t (idempotency_key, amount, currency, payee, description,
                                      requests, created_at, paid_at, reference)
            VALUES (%s, %s, %s, %s, %s, 1, %s, %s, %s)
            ON CONFLICT (idempotency_key) DO UPDATE SET
                requests = t.requests + 1,
                paid_at = COALESCE(t.paid_at, %s),
                reference = CASE WHEN t.paid_at IS NULL THEN %s ELSE t.reference END
            WHERE t.amount = EXCLUDED.amount AND t.currency = EXCLUDED.currency
            RETURNING reference, paid_at, amount, currency
        """  # nosec B608 # only the model's quoted table name is formatted in; values are params
        params = [
            *(key, amount_db, currency, payee, description, now_db),
            *((now_db, reference) if pays_now else (None, "")),
            *(now_db, reference),
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    def lookup(self, *, idempotency_key: str) -> Payment | None:
        self._wait()
        row = (
            SandboxPayment.objects.filter(idempotency_key=idempotency_key)
            .only("reference", "amount", "currency", "payee", "paid_at")
            .first()
        )
        if mode_for(row.payee if row else "") is Mode.DARK:
            raise RetryableError("The sandbox could not be reached.")
        if row is None or row.paid_at is None:
            return None
        return Payment(reference=row.reference, amount=row.amount, currency=row.currency)

    @staticmethod
    def _wait() -> None:
        latency = float(settings.PAYOUT_SANDBOX_LATENCY)
        if latency > 0:
            time.sleep(latency)
