"""Bank transfers made by hand: recording that finance sent one, which pays the grant.

A payment instruction is made when its grant is scheduled (instructions.py). Finance makes the
transfer at the bank from the batch's files (donations/bank_files.py), then a finance approver
who did not schedule it records it as sent with the bank's reference: the disbursement
succeeds under that reference and the grant is disbursed, exactly as a provider's payment is
booked (`disbursement_succeed`)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.roles import permission_require

from ..models import Disbursement, Grant, PaymentInstruction
from .duties import require_named, same_person
from .payments import disbursement_succeed


def payment_instruction_record_sent(
    *, instruction: PaymentInstruction, bank_reference: str, actor
) -> PaymentInstruction:
    """Record that the bank transfer of `instruction` was sent, with the bank's reference:
    the grant is disbursed and its fund's disbursed total grows.

    Exactly once: the grant's row is locked first (the lock order of payments.py), so two
    people recording it at the same moment, or one recording it twice, change nothing more
    than the first did. Four eyes: whoever scheduled the payment does not record it, and the
    one who does is named. A payment called off (its grant cancelled) is not recorded."""
    permission_require(actor, "donations.record_transfer", doing=_("record bank transfers as sent"))
    bank_reference = " ".join(bank_reference.split())
    if not bank_reference:
        raise ValidationError(
            _("Give the bank's reference for the transfer."), code="reference_empty"
        )
    require_named(actor, what=_("A bank transfer"))
    with transaction.atomic(durable=True):
        grant = (
            Grant.objects.select_related("disbursement")
            .select_for_update(of=("self", "disbursement"))
            .get(disbursement__instruction__pk=instruction.pk)
        )
        disbursement = grant.disbursement
        locked = PaymentInstruction.objects.select_for_update().get(pk=instruction.pk)
        if locked.sent_at is not None:
            return locked  # recorded already (a double click, a colleague a moment ago)
        if same_person(locked.created_by_id, actor):
            raise ValidationError(
                _("You scheduled this payment; someone else records the transfer as sent."),
                code="recorder_is_scheduler",
            )
        if disbursement.status not in (
            Disbursement.Status.PENDING,
            Disbursement.Status.PROCESSING,
        ):
            raise ValidationError(
                _("The payment of %(grant)s is %(status)s; there is no transfer to record.")
                % {"grant": grant, "status": disbursement.get_status_display().lower()},
                code="illegal_transition",
            )
        locked.sent_at = timezone.now()
        locked.sent_by = actor
        locked.bank_reference = bank_reference
        locked.full_clean()
        locked.save(update_fields=["sent_at", "sent_by", "bank_reference", "updated_at"])
        # Audited on the grant and its payment, with the bank's reference.
        disbursement_succeed(
            disbursement=disbursement,
            reference=bank_reference,
            action="transfer_sent",
            actor=actor,
        )
        return locked
