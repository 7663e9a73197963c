"""Grants through their life: proposed, approved (committing their amount against the fund),
cancelled, failed, retried, and their receipt confirmed by the nonprofit.

Each change locks the grant's row before anything else it touches (see payments.py for the
order while a grant is paid)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_record, state_transition
from changemakers.core.jobs import enqueue_on_commit
from changemakers.core.roles import permission_require
from creators.models import Creator

from ..models import Disbursement, Fund, Grant, Nonprofit, nonprofit_contact_of
from ..payouts import get_provider
from .funds import fund_commit, fund_release, money_amount


@transaction.atomic
def grant_propose(
    *,
    fund: Fund,
    nonprofit: Nonprofit,
    amount,
    creator: Creator | None = None,
    purpose: str = "",
    actor=None,
) -> Grant:
    """Staff who may propose grants propose one; a creator proposes the donation in their
    own name (their nomination)."""
    if creator is None or creator.user_id is None or creator.user_id != getattr(actor, "pk", None):
        permission_require(actor, "donations.add_grant", doing=_("propose grants"))
    grant = Grant(
        fund=fund,
        nonprofit=nonprofit,
        creator=creator,
        amount=money_amount(amount),
        currency=fund.currency,
        purpose=purpose,
    )
    grant.full_clean()
    grant.save()
    audit_record(
        actor=actor,
        obj=grant,
        action="proposed",
        to_state=grant.status,
        note=f"{grant.currency} {grant.amount}",
    )
    return grant


def _require_verified(grant: Grant, *, doing: str) -> None:
    """Refuse unless the grant's nonprofit is verified, holding the nonprofit's row (a lock
    that leaves new grants to it free to be proposed) so it cannot be rejected meanwhile."""
    grant.nonprofit = Nonprofit.objects.select_for_update(no_key=True).get(pk=grant.nonprofit_id)
    if grant.nonprofit.verification_status != Nonprofit.Verification.VERIFIED:
        raise ValidationError(
            _("%(nonprofit)s is not verified yet; verify it before %(doing)s.")
            % {"nonprofit": grant.nonprofit, "doing": doing},
            code="nonprofit_not_verified",
        )


def require_payout_reference(grant: Grant, *, doing: str) -> None:
    """Refuse a grant whose nonprofit has nowhere to be paid: approving, scheduling or
    retrying it would ask the provider to send money to an empty payee. Call with the
    nonprofit's row held (after `_require_verified`, or loaded under the grant's lock)."""
    if not grant.nonprofit.payout_reference.strip():
        raise ValidationError(
            _(
                "%(nonprofit)s has no payout reference yet; add the one its payout provider "
                "gave before %(doing)s."
            )
            % {"nonprofit": grant.nonprofit, "doing": doing},
            code="payout_reference_missing",
        )


def grant_approve(*, grant: Grant, actor) -> Grant:
    """Approve a proposed grant and commit its amount against the fund, never past its total."""
    permission_require(actor, "donations.approve_grant", doing=_("approve grants"))
    with transaction.atomic():
        # Lock order everywhere: grant, nonprofit, fund. Only the grant's own row here.
        locked = Grant.objects.select_for_update(of=("self",)).get(pk=grant.pk)
        if locked.status == Grant.Status.PROPOSED:
            _require_verified(locked, doing=_("approving a grant"))
            require_payout_reference(locked, doing=_("approving a grant"))
            fund_commit(locked)  # the fund's lock serialises approvals
        # Idempotent when already approved; the helper phrases any illegal move.
        return state_transition(
            locked,
            to=Grant.Status.APPROVED,
            allowed_from=[Grant.Status.PROPOSED],
            actor=actor,
            action="approved",
            changes={"approved_at": timezone.now()},
        )


def grant_cancel(*, grant: Grant, actor, reason: str) -> Grant:
    """Cancel a grant that is not being paid; a committed one gives its amount back to the fund.
    A scheduled grant's payment is called off before any worker reaches the provider."""
    permission_require(actor, "donations.cancel_grant", doing=_("cancel grants"))
    if not reason.strip():
        raise ValidationError(_("Say why the grant is cancelled."), code="reason_empty")
    with transaction.atomic():
        locked = Grant.objects.select_for_update().get(pk=grant.pk)
        if locked.status in (Grant.Status.PROCESSING, Grant.Status.DISBURSED):
            raise ValidationError(
                _("%(grant)s is being paid or paid already; it cannot be cancelled.")
                % {"grant": locked},
                code="grant_paying",
            )
        if locked.status == Grant.Status.FAILED:
            pending = (
                Disbursement.objects.filter(grant=locked, recheck_at__isnull=False)
                .values_list("recheck_at", flat=True)
                .first()
            )
            if pending is not None:
                raise ValidationError(
                    _(
                        "The provider is asked once more at %(time)s whether this payment went "
                        "through after all; cancel it after that, or retry it now."
                    )
                    % {"time": timezone.localtime(pending).strftime("%H:%M")},
                    code="recheck_pending",
                )
        releases = locked.status in (Grant.Status.APPROVED, Grant.Status.SCHEDULED)
        was_scheduled = locked.status == Grant.Status.SCHEDULED
        cancelled = state_transition(
            locked,
            to=Grant.Status.CANCELLED,
            allowed_from=[
                Grant.Status.PROPOSED,
                Grant.Status.APPROVED,
                Grant.Status.SCHEDULED,
                Grant.Status.FAILED,
            ],
            actor=actor,
            action="cancelled",
            note=reason,
            changes={"status_reason": reason},
        )
        if releases:
            fund_release(locked)
        if was_scheduled:
            _disbursement_set(
                Disbursement.objects.get(grant=locked),
                Disbursement.Status.CANCELLED,
                actor=actor,
                action="cancelled",
                note=reason,
                completed_at=timezone.now(),
            )
        return cancelled


def _disbursement_set(
    disbursement: Disbursement, status: str, *, actor, action: str, note: str = "", **changes
) -> Disbursement:
    """Move a disbursement to `status`, audited. Call with its grant's row locked."""
    from_state = disbursement.status
    disbursement.status = status
    for name, value in changes.items():
        setattr(disbursement, name, value)
    disbursement.save(update_fields=["status", *changes, "updated_at"])
    audit_record(
        actor=actor,
        obj=disbursement,
        action=action,
        from_state=from_state,
        to_state=status,
        note=note,
    )
    return disbursement


def grant_retry(*, grant: Grant, actor) -> Grant:
    """Pay a failed grant again: commit its amount anew and queue its payment, which sends the
    same idempotency key, so a payment that did go through after all is found, not repeated."""
    permission_require(actor, "donations.schedule_grant", doing=_("retry payments"))
    with transaction.atomic(durable=True):
        locked = Grant.objects.select_for_update(of=("self",)).get(pk=grant.pk)
        if locked.status == Grant.Status.FAILED:
            _require_verified(locked, doing=_("paying a grant"))
            require_payout_reference(locked, doing=_("paying a grant"))
            fund_commit(locked)
        retried = state_transition(
            locked,
            to=Grant.Status.SCHEDULED,
            allowed_from=[Grant.Status.FAILED],
            actor=actor,
            action="retried",
            changes={"status_reason": ""},
        )
        now = timezone.now()
        disbursement = Disbursement.objects.filter(grant=locked).first()
        if disbursement is None:  # failed before it was ever scheduled
            disbursement = Disbursement.objects.create(
                grant=locked,
                idempotency_key=str(locked.idempotency_key),
                provider=get_provider().identifier,
                amount=locked.amount,
                currency=locked.currency,
                queued_at=now,
            )
            audit_record(actor=actor, obj=disbursement, action="created", to_state="pending")
        elif disbursement.status != Disbursement.Status.PENDING:
            # Fresh tries: the ones used up are in the audit log.
            _disbursement_set(
                disbursement,
                Disbursement.Status.PENDING,
                actor=actor,
                action="retried",
                queued_at=now,
                completed_at=None,
                attempts=0,
                recheck_at=None,  # the retry sends the same key: it finds a late payment too
            )
        enqueue_on_commit("donations.tasks.pay_disbursement", disbursement.pk)
        return retried


def grant_fail(*, grant: Grant, reason: str, actor=None) -> Grant:
    """Mark a scheduled or processing grant failed and give its amount back to the fund.

    Only for a payment known not to have been made: the provider refused it, or it found no
    payment under the grant's key. Its disbursement, if any, fails with it.
    """
    if not reason.strip():
        raise ValidationError(_("Say why the grant failed."), code="reason_empty")
    with transaction.atomic():
        locked = Grant.objects.select_for_update().get(pk=grant.pk)
        if locked.status == Grant.Status.FAILED:
            return locked
        failed = state_transition(
            locked,
            to=Grant.Status.FAILED,
            allowed_from=[Grant.Status.SCHEDULED, Grant.Status.PROCESSING],
            actor=actor,
            action="failed",
            note=reason,
            changes={"status_reason": reason},
        )
        fund_release(locked)
        disbursement = Disbursement.objects.filter(grant=locked).first()
        if disbursement and disbursement.status in Disbursement.UNFINISHED_STATUSES:
            _disbursement_set(
                disbursement,
                Disbursement.Status.FAILED,
                actor=actor,
                action="failed",
                note=reason,
                last_error=reason,
                completed_at=timezone.now(),
            )
        return failed


def grant_receipt_confirm(*, grant: Grant, actor) -> Grant:
    """A contact of the grant's nonprofit confirms the paid money arrived. Idempotent: a second
    confirmation changes nothing and keeps the first date."""
    with transaction.atomic():
        locked = Grant.objects.select_for_update(of=("self",)).get(pk=grant.pk)
        contact = nonprofit_contact_of(actor)
        if contact is None or contact.nonprofit_id != locked.nonprofit_id:
            raise ValidationError(
                _("Only a contact of the receiving nonprofit can confirm receipt."),
                code="not_own_nonprofit",
            )
        if locked.receipt_confirmed_at is not None:
            return locked
        if locked.status != Grant.Status.DISBURSED:
            raise ValidationError(
                _("This grant has not been paid yet; confirm receipt once it is."),
                code="not_disbursed",
            )
        locked.receipt_confirmed_at = timezone.now()
        locked.receipt_confirmed_by = actor
        locked.save(update_fields=["receipt_confirmed_at", "receipt_confirmed_by", "updated_at"])
        # To "" rather than to "disbursed": a step of its own, not a non-change, in every
        # history that leaves out events whose state did not move.
        audit_record(actor=actor, obj=locked, action="receipt_confirmed", from_state=locked.status)
        return locked
