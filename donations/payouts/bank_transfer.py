"""Bank transfer by hand: the provider of nonprofits no electronic rail reaches.

Nothing here moves money. Scheduling a grant of a nonprofit paid this way makes a payment
instruction (`PaymentInstruction`: the pinned bank details, amount, currency and the reference
to quote); finance downloads a batch's instructions (CSV, ISO 20022 pain.001) for its bank,
makes the transfers there, and a finance approver who did not schedule the batch records each
one as sent with the bank's reference (`payment_instruction_record_sent`). That record is the
payment: the grant is disbursed.

The worker never calls `pay` for this provider (`by_hand`). The contract still holds: one
key, one payment. `lookup` answers the transfer recorded under the key, or None; `pay`
answers that same transfer when it was recorded and otherwise holds the payment (nothing is
paid until a person has made the transfer), so a task that reached it by mistake neither
pays nor fails the grant.
"""

from decimal import Decimal

from donations.models import BANK_TRANSFER_PROVIDER, PaymentInstruction

from .base import HoldError, Payment, PayoutProvider


class BankTransferProvider(PayoutProvider):
    identifier = BANK_TRANSFER_PROVIDER
    verbose_name = "Bank transfer by hand"
    by_hand = True

    def pay(
        self,
        *,
        idempotency_key: str,
        amount: Decimal,
        currency: str,
        payee: str,
        description: str = "",
    ) -> Payment:
        payment = self.lookup(idempotency_key=idempotency_key)
        if payment is None:
            raise HoldError(
                "A bank transfer is made by hand: it waits for finance to record it as sent.",
                scope=HoldError.PAYEE,
            )
        return payment

    def lookup(self, *, idempotency_key: str) -> Payment | None:
        instruction = (
            PaymentInstruction.objects.filter(
                disbursement__idempotency_key=idempotency_key, sent_at__isnull=False
            )
            .only("bank_reference", "amount", "currency")
            .first()
        )
        if instruction is None:
            return None
        return Payment(
            reference=instruction.bank_reference,
            amount=instruction.amount,
            currency=instruction.currency,
        )
