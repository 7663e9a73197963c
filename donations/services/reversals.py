"""Money the provider took back after paying it (a transfer reversal, all or part).

The provider reports the total it has taken back of a payment so far; that total only grows,
so recording it is idempotent whatever the number and the order of the reports: a report
that adds nothing changes nothing. What came back is taken off the fund's disbursed total
at once; it stays committed to the grant, which is "reversed", until a finance approver
closes the reversal (`grant_reversal_close`): the reversed money then goes back to the fund,
and a grant reversed in full is cancelled (a new grant can be proposed in its place, to the
same nonprofit once it is fixed, or to another). A reversed grant is never paid again by
itself: nothing that pays looks at it.
"""

import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_changes, audit_record
from changemakers.core.jobs import enqueue_on_commit
from changemakers.core.roles import permission_require

from ..events import grant_reversed_emit
from ..models import Disbursement, Grant
from ..payouts import Payment
from .funds import fund_release, fund_unpay
from .payments import _locked_disbursement, disbursement_record_payment

logger = logging.getLogger(__name__)


def _found(*, provider: str, reference: str, idempotency_key: str) -> Disbursement | None:
    """The disbursement a provider's payment belongs to: by the provider's reference, or by
    the key it was made under (a payment made but not recorded yet has no reference)."""
    found = Disbursement.objects.filter(provider=provider, provider_reference=reference).first()
    if found is None and idempotency_key:
        found = Disbursement.objects.filter(
            provider=provider, idempotency_key=idempotency_key, provider_reference=""
        ).first()
    return found


def disbursement_reversal_record(
    *,
    provider: str,
    reference: str,
    idempotency_key: str,
    amount: Decimal,
    currency: str,
    amount_reversed: Decimal,
    note: str = "",
) -> Disbursement | None:
    """Record that the provider has taken back `amount_reversed` in all of the payment
    `reference` (of `amount` `currency`, made under `idempotency_key`).

    A payment not booked yet is booked first: the provider's report proves it was made. Then
    only what the total adds to the reversals already recorded counts: the fund's disbursed
    total goes down by it, the grant and its payment become "reversed", it is audited, and the
    finance approvers are told once this commits. None when no payment of ours matches."""
    disbursement = _found(provider=provider, reference=reference, idempotency_key=idempotency_key)
    if disbursement is None:
        logger.warning("A reversal of %s %s matches no payment of ours.", provider, reference)
        return None
    if disbursement.status not in Disbursement.PAID_STATUSES:
        try:
            disbursement = disbursement_record_payment(
                disbursement=disbursement,
                payment=Payment(reference=reference, amount=amount, currency=currency.upper()),
                action="reconciled",
            )
        except ValidationError as error:
            logger.error("Reversed payment %s cannot be booked: %s", reference, error)
            return disbursement
        if disbursement.status not in Disbursement.PAID_STATUSES:
            return disbursement  # another amount: held for staff to settle with the provider
    with transaction.atomic():
        locked = _locked_disbursement(disbursement.pk)
        grant = locked.grant
        if currency.upper() != locked.currency:
            logger.error("Reversal of %s in %s, paid in %s.", reference, currency, locked.currency)
            return locked
        total = min(amount_reversed, locked.amount)
        added = total - locked.reversed_amount
        if added <= 0:
            return locked  # reported already (a repeated or an older event)
        fund_unpay(grant, added)
        reason = _("%(reversed)s of %(amount)s taken back by the provider (%(added)s now).") % {
            "reversed": f"{locked.currency} {total:,}",
            "amount": f"{locked.currency} {locked.amount:,}",
            "added": f"{locked.currency} {added:,}",
        }
        if note:
            reason = f"{reason} {note}"
        changes = [
            (locked, "reversed", locked.status, Disbursement.Status.REVERSED, reason),
            (grant, "reversed", grant.status, Grant.Status.REVERSED, reason),
        ]
        locked.status = Disbursement.Status.REVERSED
        locked.reversed_amount = total
        locked.reversed_at = timezone.now()
        locked.save(update_fields=["status", "reversed_amount", "reversed_at", "updated_at"])
        grant.status = Grant.Status.REVERSED
        grant.status_reason = reason
        grant.save(update_fields=["status", "status_reason", "updated_at"])
        audit_changes(actor=None, changes=changes)
        grant_reversed_emit(
            grant=grant, amount=total, currency=locked.currency, reversed_at=locked.reversed_at
        )
        enqueue_on_commit("donations.tasks.send_finance_alert", "reversed", locked.pk)
        return locked


def grant_reversal_close(*, grant: Grant, actor, reason: str) -> Grant:
    """A finance approver closes a reversal: the money the provider took back goes back to
    the fund, free for other grants. A grant reversed in part is paid what the payee kept
    (disbursed again, for that net amount); one reversed in full is cancelled. To pay a
    nonprofit again, propose a new grant once its account is fixed. Idempotent."""
    permission_require(actor, "donations.cancel_grant", doing=_("close a reversed payment"))
    if not reason.strip():
        raise ValidationError(_("Say why the reversal is closed."), code="reason_empty")
    with transaction.atomic(durable=True):
        disbursement = Disbursement.objects.filter(grant_id=grant.pk).only("pk").first()
        if disbursement is None:
            raise _not_reversed(grant)
        locked = _locked_disbursement(disbursement.pk)
        locked_grant = locked.grant
        if locked_grant.status != Grant.Status.REVERSED:
            if locked.reversed_amount > 0 and locked.reversal_open == 0:
                return locked_grant  # closed already
            raise _not_reversed(locked_grant)
        released = locked.reversal_open
        fund_release(locked_grant, released)
        locked.reversal_released = locked.reversed_amount
        locked.save(update_fields=["reversal_released", "updated_at"])
        whole = locked.reversed_amount >= locked.amount
        to = Grant.Status.CANCELLED if whole else Grant.Status.DISBURSED
        note = _("%(released)s back to the fund: %(reason)s") % {
            "released": f"{locked.currency} {released:,}",
            "reason": reason.strip(),
        }
        locked_grant.status = to
        locked_grant.status_reason = reason.strip() if whole else ""
        locked_grant.save(update_fields=["status", "status_reason", "updated_at"])
        audit_record(
            actor=actor,
            obj=locked_grant,
            action="reversal_closed",
            from_state=Grant.Status.REVERSED,
            to_state=to,
            note=note,
        )
        return locked_grant


def _not_reversed(grant: Grant) -> ValidationError:
    return ValidationError(
        _("%(grant)s is %(status)s; only a reversed payment can be closed.")
        % {"grant": grant, "status": grant.get_status_display().lower()},
        code="illegal_transition",
    )
