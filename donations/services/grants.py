"""Grants through their life: proposed, approved (committing their amount against the fund,
pinning the payee), held and released, cancelled, failed, retried, and their receipt
confirmed by the nonprofit.

Each change locks the grant's row before anything else it touches (see payments.py for the
order while a grant is paid)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import actor_or_none, audit_record, state_transition
from changemakers.core.events import event_emit
from changemakers.core.jobs import enqueue_on_commit
from changemakers.core.locks import try_lock
from changemakers.core.roles import permission_require
from creators.models import Creator

from ..models import Disbursement, Fund, Grant, Nonprofit, mask_reference, nonprofit_contact_of
from .duties import (
    first_approval_record,
    needs_second_approval,
    require_named,
    same_person,
    second_approval_above,
)
from .funds import fund_commit, fund_release, fund_room_check, money_amount
from .instructions import by_hand, instruction_pin, provider_for


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
        amount=money_amount(amount, fund.currency),
        currency=fund.currency,
        purpose=purpose,
        proposed_by=actor_or_none(actor),
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
    event_emit("grant.proposed", obj=grant)
    return grant


def _require_verified(grant: Grant, *, doing: str) -> None:
    """Refuse unless the grant's nonprofit is verified and its verification has not expired,
    holding the nonprofit's row (a lock that leaves new grants to it free to be proposed) so
    it cannot be rejected meanwhile."""
    grant.nonprofit = Nonprofit.objects.select_for_update(no_key=True).get(pk=grant.nonprofit_id)
    require_verification_current(grant.nonprofit, doing=doing)


def require_verification_current(nonprofit: Nonprofit, *, doing: str) -> None:
    if nonprofit.verification_status != Nonprofit.Verification.VERIFIED:
        raise ValidationError(
            _("%(nonprofit)s is not verified yet; verify it before %(doing)s.")
            % {"nonprofit": nonprofit, "doing": doing},
            code="nonprofit_not_verified",
        )
    if not nonprofit.verification_current():
        raise ValidationError(
            _(
                "The verification of %(nonprofit)s expired on %(date)s; verify it again before "
                "%(doing)s."
            )
            % {
                "nonprofit": nonprofit,
                "date": timezone.localtime(nonprofit.verification_expires_at).date().isoformat(),
                "doing": doing,
            },
            code="verification_expired",
        )


def require_not_held(grant: Grant, *, doing: str) -> None:
    if grant.is_held:
        raise ValidationError(
            _(
                "%(grant)s is on hold (%(reason)s); a finance approver re-confirms its payee "
                "before %(doing)s."
            )
            % {"grant": grant, "reason": grant.hold_reason, "doing": doing},
            code="grant_held",
        )


def require_payout_reference(grant: Grant, *, doing: str) -> None:
    """Refuse a grant whose nonprofit has nowhere to be paid: approving, scheduling or
    retrying it would ask the provider to send money to an empty payee. Call with the
    nonprofit's row held (after `_require_verified`, or loaded under the grant's lock)."""
    if grant.nonprofit.paid_by_bank_transfer and not grant.nonprofit.payee_handle():
        raise ValidationError(
            _(
                "%(nonprofit)s is paid by bank transfer but has no complete bank details yet; "
                "ask for them (reviewed like any payout details) before %(doing)s."
            )
            % {"nonprofit": grant.nonprofit, "doing": doing},
            code="bank_details_missing",
        )
    if not grant.nonprofit.payee_handle():
        raise ValidationError(
            _(
                "%(nonprofit)s has no payout reference yet; add the one its payout provider "
                "gave before %(doing)s."
            )
            % {"nonprofit": grant.nonprofit, "doing": doing},
            code="payout_reference_missing",
        )


def grant_approve(*, grant: Grant, actor) -> Grant:
    """Approve a proposed grant and commit its amount against the fund, never past its total.

    The approver is not the proposer. A grant above SECOND_APPROVAL_ABOVE takes two approvers:
    the first approval is recorded and the grant stays proposed; a second approver, someone
    else, approves it and commits the money."""
    permission_require(actor, "donations.approve_grant", doing=_("approve grants"))
    with transaction.atomic():
        # Lock order everywhere: grant, nonprofit, fund. Only the grant's own row here.
        locked = Grant.objects.select_for_update(of=("self",)).get(pk=grant.pk)
        if locked.status == Grant.Status.PROPOSED:
            _require_independent_approver(locked, actor)
            _require_verified(locked, doing=_("approving a grant"))
            require_payout_reference(locked, doing=_("approving a grant"))
            if needs_second_approval(locked) and locked.first_approved_by_id is None:
                return _grant_first_approve(locked, actor)
            fund_commit(locked)  # the fund's lock serialises approvals
        # Idempotent when already approved; the helper phrases any illegal move.
        return state_transition(
            locked,
            to=Grant.Status.APPROVED,
            allowed_from=[Grant.Status.PROPOSED],
            actor=actor,
            action="approved",
            event="grant.approved",
            changes={
                "approved_at": timezone.now(),
                "approved_by": actor_or_none(actor),
                **_payee_pin(locked.nonprofit),
            },
        )


def _require_independent_approver(grant: Grant, actor) -> None:
    if same_person(grant.proposed_by_id, actor):
        raise ValidationError(
            _("You proposed this grant; someone else approves it."),
            code="approver_is_proposer",
        )
    if same_person(grant.first_approved_by_id, actor):
        raise ValidationError(
            _("You gave this grant its first approval; the second approval is someone else's."),
            code="approver_already_approved",
        )


def _grant_first_approve(grant: Grant, actor) -> Grant:
    """The first of a large grant's two approvals: recorded on the grant, which stays
    proposed and commits nothing yet. Call with the grant's row locked."""
    require_named(actor, what=_("A grant above %(currency)s %(limit)s") % _limit(grant))
    fund_room_check(grant)  # no point in asking a second person for money that is not there
    return first_approval_record(
        grant,
        actor,
        state=grant.status,
        note=_("Above %(currency)s %(limit)s: a second approver, someone else, completes it.")
        % _limit(grant),
    )


def _limit(grant: Grant) -> dict:
    return {"currency": grant.currency, "limit": f"{second_approval_above():,}"}


def require_not_proposer(grant: Grant, actor, *, message: str, code: str) -> None:
    """Refuse `actor` a step on a grant they proposed (scheduling or retrying its payment).
    `message` names the nonprofit as %(nonprofit)s."""
    if same_person(grant.proposed_by_id, actor):
        raise ValidationError(message % {"nonprofit": grant.nonprofit}, code=code)


def _payee_pin(nonprofit: Nonprofit) -> dict[str, str]:
    """The payee a grant is paid to, from its nonprofit's current details (row held)."""
    return {
        "payee_reference": nonprofit.payee_handle(),
        "payee_fingerprint": nonprofit.payout_fingerprint(),
    }


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
        refuse_while_outcome_unknown(locked)
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
            changes={"status_reason": reason, "held_at": None, "hold_reason": ""},
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


def refuse_while_outcome_unknown(grant: Grant, *, retrying: bool = False) -> None:
    """Refuse to cancel or retry a grant whose payment may have been made: the provider has
    not said yet. Its amount stays committed until it does (see `disbursement_recheck`)."""
    if grant.status != Grant.Status.UNKNOWN:
        return
    if retrying:
        message = _(
            "Whether the provider paid %(grant)s is not known yet, so it cannot be retried: "
            "the provider is asked again automatically, and staff can record its answer once "
            "it confirms whether the payment was made."
        )
    else:
        message = _(
            "Whether the provider paid %(grant)s is not known yet, so it cannot be cancelled: "
            "the provider is asked again automatically, and staff can record its answer once "
            "it confirms whether the payment was made."
        )
    raise ValidationError(message % {"grant": grant}, code="outcome_unknown")


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
        refuse_while_outcome_unknown(locked, retrying=True)
        if locked.status == Grant.Status.FAILED:
            require_not_proposer(
                locked,
                actor,
                message=_("You proposed the grant to %(nonprofit)s; someone else retries it."),
                code="retrier_is_proposer",
            )
            require_not_held(locked, doing=_("paying a grant"))
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
            event="grant.scheduled",
        )
        now = timezone.now()
        # The nonprofit's provider now (its payout method may have changed since: a failed
        # payment made none, so the same key goes to the provider that reaches it).
        provider = provider_for(Nonprofit.objects.get(pk=locked.nonprofit_id))
        queued_at = None if provider.by_hand else now
        disbursement = Disbursement.objects.filter(grant=locked).first()
        if disbursement is None:  # failed before it was ever scheduled
            disbursement = Disbursement.objects.create(
                grant=locked,
                idempotency_key=str(locked.idempotency_key),
                provider=provider.identifier,
                amount=locked.amount,
                currency=locked.currency,
                queued_at=queued_at,
                payee_reference=locked.payee_reference,
                payee_fingerprint=locked.payee_fingerprint,
            )
            audit_record(actor=actor, obj=disbursement, action="created", to_state="pending")
        else:
            _payee_copy(locked, disbursement)
            if disbursement.provider != provider.identifier:
                disbursement.provider = provider.identifier
                disbursement.save(update_fields=["provider", "updated_at"])
        if disbursement.status != Disbursement.Status.PENDING:
            # Fresh tries: the ones used up are in the audit log.
            _disbursement_set(
                disbursement,
                Disbursement.Status.PENDING,
                actor=actor,
                action="retried",
                queued_at=queued_at,
                completed_at=None,
                attempts=0,
                recheck_at=None,  # the retry sends the same key: it finds a late payment too
            )
        if provider.by_hand:
            locked.nonprofit = Nonprofit.objects.get(pk=locked.nonprofit_id)
            instruction_pin(disbursement=disbursement, grant=locked, actor=actor)
        else:
            enqueue_on_commit("donations.tasks.pay_disbursement", disbursement.pk)
        return retried


def _payee_copy(grant: Grant, disbursement: Disbursement) -> None:
    """Give the disbursement its grant's pinned payee. Call with the grant's row locked."""
    if (disbursement.payee_reference, disbursement.payee_fingerprint) != (
        grant.payee_reference,
        grant.payee_fingerprint,
    ):
        disbursement.payee_reference = grant.payee_reference
        disbursement.payee_fingerprint = grant.payee_fingerprint
        disbursement.save(update_fields=["payee_reference", "payee_fingerprint", "updated_at"])


# --- Holds: a grant that waits for a finance approver to re-confirm its payee ----------------


def grant_hold(*, grant: Grant, reason: str, actor=None) -> Grant:
    """Stop a grant from being paid, scheduled or retried until its payee is re-confirmed
    (`grant_hold_release`); its amount stays committed. For approved, scheduled, failed and
    unknown-outcome grants, and processing ones whose payment is not in flight (a worker
    calling the provider right now finishes that call; its next try is held by the worker
    itself, which checks the payee and the verification first). Idempotent: a held grant
    keeps its first reason."""
    if not reason.strip():
        raise ValidationError(_("Say why the grant is held."), code="reason_empty")
    with transaction.atomic():
        locked = Grant.objects.select_for_update(of=("self",)).get(pk=grant.pk)
        if locked.is_held:
            return locked
        if locked.status not in Grant.HOLDABLE_STATUSES:
            raise ValidationError(
                _("%(grant)s is %(status)s; only a grant not yet paid can be held.")
                % {"grant": locked, "status": locked.get_status_display().lower()},
                code="illegal_transition",
            )
        if locked.status == Grant.Status.PROCESSING:
            disbursement = Disbursement.objects.get(grant=locked)
            # The lock a paying worker holds while it calls the provider (payments.py).
            with try_lock(f"donations.disbursement_pay:{disbursement.pk}") as free:
                if not free:
                    raise ValidationError(
                        _(
                            "%(grant)s is being paid right now; try again in a moment, or "
                            "wait for the payment's outcome."
                        )
                        % {"grant": locked},
                        code="payment_in_flight",
                    )
                return hold_locked(locked, reason=reason, actor=actor)
        return hold_locked(locked, reason=reason, actor=actor)


def hold_locked(grant: Grant, *, reason: str, actor=None) -> Grant:
    """Put a grant whose row the caller has locked on hold, audited (see `grant_hold`)."""
    if grant.is_held:
        return grant
    grant.held_at = timezone.now()
    grant.hold_reason = reason.strip()
    grant.save(update_fields=["held_at", "hold_reason", "updated_at"])
    audit_record(
        actor=actor,
        obj=grant,
        action="held",
        from_state=grant.status,
        to_state=grant.status,
        note=grant.hold_reason,
    )
    return grant


def grant_hold_release(*, grant: Grant, actor) -> Grant:
    """A finance approver re-confirms a held grant's payee: the grant is pinned to its
    nonprofit's current payout details, which must be payable (verified, not expired, with a
    payout reference), and a scheduled payment is queued again. Idempotent."""
    permission_require(actor, "donations.approve_grant", doing=_("re-confirm a grant's payee"))
    with transaction.atomic():
        locked = Grant.objects.select_for_update(of=("self",)).get(pk=grant.pk)
        if not locked.is_held:
            return locked
        doing = _("re-confirming its payee")
        _require_verified(locked, doing=doing)
        require_payout_reference(locked, doing=doing)
        pin = _payee_pin(locked.nonprofit)
        note = _("Payee re-confirmed: %(reference)s") % {
            "reference": mask_reference(pin["payee_reference"])
        }
        for name, value in pin.items():
            setattr(locked, name, value)
        locked.held_at = None
        locked.hold_reason = ""
        locked.save(update_fields=[*pin, "held_at", "hold_reason", "updated_at"])
        audit_record(
            actor=actor,
            obj=locked,
            action="hold_released",
            from_state=locked.status,
            to_state=locked.status,
            note=note,
        )
        disbursement = Disbursement.objects.filter(grant=locked).first()
        if disbursement is not None and disbursement.status in Disbursement.UNFINISHED_STATUSES:
            _payee_copy(locked, disbursement)
            if by_hand(disbursement):
                # The instruction finance pays from now names the re-confirmed payee.
                instruction_pin(
                    disbursement=disbursement, grant=locked, actor=actor, scheduling=False
                )
            elif locked.status in (Grant.Status.SCHEDULED, Grant.Status.PROCESSING):
                disbursement.queued_at = timezone.now()
                disbursement.save(update_fields=["queued_at", "updated_at"])
                enqueue_on_commit("donations.tasks.pay_disbursement", disbursement.pk)
        return locked


def grant_fail(*, grant: Grant, reason: str, actor=None, final: bool = False) -> Grant:
    """Mark a scheduled, processing or outcome-unknown grant failed and give its amount back to
    the fund.

    Only for a payment known not to have been made: the provider refused it, or confirmed it
    made none under the grant's key (see `disbursement_recheck` for when a lookup that finds
    nothing counts as that). Its disbursement, if any, fails with it; `final` says the
    provider refused it for good (a retry to the same payout details fails the same way).
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
            allowed_from=[Grant.Status.SCHEDULED, Grant.Status.PROCESSING, Grant.Status.UNKNOWN],
            actor=actor,
            action="failed",
            note=reason,
            changes={"status_reason": reason},
            event="grant.failed",
        )
        fund_release(locked)
        disbursement = Disbursement.objects.filter(grant=locked).first()
        if disbursement and disbursement.status in (
            *Disbursement.UNFINISHED_STATUSES,
            Disbursement.Status.UNKNOWN,
        ):
            _disbursement_set(
                disbursement,
                Disbursement.Status.FAILED,
                actor=actor,
                action="failed",
                note=reason,
                last_error=reason,
                refused_payee=disbursement.payee_fingerprint if final else "",
                completed_at=timezone.now(),
                recheck_at=None,
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
