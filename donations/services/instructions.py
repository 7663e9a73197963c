"""Payment instructions for bank transfers made by hand: which provider pays a nonprofit, and
the instruction a by-hand disbursement carries, pinned to the payee the grant's approval
confirmed. Used while scheduling, retrying and re-confirming payees (payments.py,
grants.py); recording transfers as sent is in bank_transfers.py."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from changemakers.core.audit import actor_or_none, audit_record

from ..models import (
    BANK_TRANSFER_PROVIDER,
    Disbursement,
    Grant,
    Nonprofit,
    PaymentInstruction,
    mask_reference,
    reference_for,
)
from ..payouts import PayoutProvider, get_provider


def provider_for(nonprofit: Nonprofit) -> PayoutProvider:
    """The provider that pays `nonprofit`: a bank transfer by hand, or the program's
    electronic provider (settings.PAYOUT_PROVIDER)."""
    if nonprofit.paid_by_bank_transfer:
        return get_provider(BANK_TRANSFER_PROVIDER)
    return get_provider()


def by_hand(disbursement: Disbursement) -> bool:
    """Whether people pay this disbursement by hand: the worker leaves it alone."""
    return get_provider(disbursement.provider).by_hand


def _remittance(grant: Grant, reference: str) -> str:
    if grant.creator_id:
        text = _("%(reference)s Change Makers grant in the name of %(creator)s") % {
            "reference": reference,
            "creator": grant.creator.display_name,
        }
    else:
        text = _("%(reference)s Change Makers program grant") % {"reference": reference}
    if grant.purpose:
        text = f"{text}: {grant.purpose}"
    return text[:140]


def instruction_pin(
    *, disbursement: Disbursement, grant: Grant, actor=None, scheduling: bool = True
) -> PaymentInstruction:
    """Make the payment instruction of a by-hand disbursement, or bring an unsent one up to
    the grant's pin (after its payee was re-confirmed), from the nonprofit's bank details:
    only while they are still those the grant pinned. Call with the grant's row locked (its
    nonprofit loaded under that lock). A transfer recorded as sent is never changed.

    `scheduling`: `actor` schedules (or retries) the payment, and so may not record it as
    sent; otherwise (re-confirming a payee) who scheduled it stays as it was."""
    nonprofit = grant.nonprofit
    if not grant.payee_fingerprint or nonprofit.payout_fingerprint() != grant.payee_fingerprint:
        raise ValidationError(
            _(
                "The bank details of %(nonprofit)s changed after %(grant)s was approved: a "
                "finance approver re-confirms its payee first."
            )
            % {"nonprofit": nonprofit, "grant": grant},
            code="payee_changed",
        )
    details = nonprofit.bank_details()
    pinned = {
        "account_holder": details["bank_account_holder"],
        "account_number": details["bank_account_number"],
        "bic": details["bank_bic"],
        "bank_name": details["bank_name"],
        "bank_country": details["bank_country"],
        "payee_fingerprint": grant.payee_fingerprint,
        "amount": disbursement.amount,
        "currency": disbursement.currency,
    }
    instruction = PaymentInstruction.objects.filter(disbursement=disbursement).first()
    if instruction is None:
        reference = reference_for(grant)
        instruction = PaymentInstruction(
            disbursement=disbursement,
            reference=reference,
            remittance=_remittance(grant, reference),
            created_by=actor_or_none(actor),
            **pinned,
        )
        instruction.full_clean()
        instruction.save()
        audit_record(
            actor=actor,
            obj=disbursement,
            action="instruction_created",
            note=f"{instruction.reference} · {mask_reference(instruction.account_number)}",
        )
        return instruction
    if instruction.sent_at is not None:
        return instruction
    changed = [name for name, value in pinned.items() if getattr(instruction, name) != value]
    for name in changed:
        setattr(instruction, name, pinned[name])
    if scheduling and instruction.created_by_id != getattr(actor_or_none(actor), "pk", None):
        instruction.created_by = actor_or_none(actor)
        changed.append("created_by")
    if changed:
        instruction.full_clean()
        instruction.save(update_fields=[*changed, "updated_at"])
    return instruction
