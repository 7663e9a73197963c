"""Every write about nonprofits, funds, grants and their payment.

Approval commits a grant's amount against its fund under a row lock on the fund; the fund's
CHECK constraint refuses any overspend the code might still let through.

Paying a grant (`disbursement_pay`) runs in three steps, so that no database transaction is
open while the provider is called: claim the disbursement (locked, committed), ask the
provider with the grant's idempotency key (no transaction), record the answer (locked,
committed). A crash between the last two leaves the disbursement "processing"; the sweeper
(`disbursements_sweep`) then finds the payment by its key. Lock order everywhere: the grant
row, then its disbursement, then the fund.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_changes, audit_record, audit_record_many, state_transition
from creators.models import Creator

from .models import (
    MONEY_PLACES,
    Disbursement,
    DisbursementBatch,
    Fund,
    Grant,
    Nonprofit,
    NonprofitContact,
)
from .payouts import FinalError, PayoutError, RetryableError, get_provider

logger = logging.getLogger(__name__)

CENT = Decimal(1).scaleb(-MONEY_PLACES)


def _money(amount) -> Decimal:
    """A Decimal amount in cents; floats are refused, they cannot hold money exactly, and so
    is a fraction of a cent, rather than silently rounded."""
    if isinstance(amount, float):
        raise TypeError("Money is never a float: pass a Decimal or a string.")
    value = Decimal(amount)
    if not value.is_finite() or value != value.quantize(CENT):
        raise ValidationError(
            {"amount": _("Give the amount in whole cents, such as 25000.00.")},
            code="amount_precision",
        )
    return value.quantize(CENT)


@transaction.atomic
def nonprofit_create(
    *,
    legal_name: str,
    registration_number: str,
    country: str,
    contact_email: str,
    website: str = "",
    reach: str = Nonprofit.Reach.LOCAL,
    payout_reference: str = "",
    actor=None,
) -> Nonprofit:
    nonprofit = Nonprofit(
        legal_name=legal_name,
        registration_number=registration_number.strip(),
        country=country,
        contact_email=contact_email,
        website=website,
        reach=reach,
        payout_reference=payout_reference,
    )
    nonprofit.full_clean()
    nonprofit.save()
    audit_record(
        actor=actor, obj=nonprofit, action="created", to_state=nonprofit.verification_status
    )
    return nonprofit


def nonprofit_verify(*, nonprofit: Nonprofit, actor) -> Nonprofit:
    return state_transition(
        nonprofit,
        field="verification_status",
        to=Nonprofit.Verification.VERIFIED,
        allowed_from=[Nonprofit.Verification.PENDING, Nonprofit.Verification.REJECTED],
        actor=actor,
        action="verified",
        changes={"rejection_reason": ""},
    )


def nonprofit_reject(*, nonprofit: Nonprofit, reason: str, actor) -> Nonprofit:
    if not reason.strip():
        raise ValidationError(_("Say why the nonprofit is rejected."), code="reason_empty")
    with transaction.atomic():
        # Locked first, so an approval (which locks the nonprofit too) cannot slip in between
        # the check and the rejection.
        locked = Nonprofit.objects.select_for_update(no_key=True).get(pk=nonprofit.pk)
        if locked.grants.committing().exists():
            raise ValidationError(
                _("%(nonprofit)s has approved grants; cancel them before rejecting it.")
                % {"nonprofit": locked},
                code="has_committed_grants",
            )
        return state_transition(
            locked,
            field="verification_status",
            to=Nonprofit.Verification.REJECTED,
            allowed_from=[Nonprofit.Verification.PENDING, Nonprofit.Verification.VERIFIED],
            actor=actor,
            action="rejected",
            note=reason,
            changes={"rejection_reason": reason},
        )


@transaction.atomic
def nonprofit_contact_add(*, nonprofit: Nonprofit, user, job_title: str = "") -> NonprofitContact:
    contact = NonprofitContact(nonprofit=nonprofit, user=user, job_title=job_title)
    contact.full_clean()
    contact.save()
    return contact


@transaction.atomic
def fund_create(*, name: str, total, currency: str = "USD", actor=None) -> Fund:
    fund = Fund(name=name, total=_money(total), currency=currency)
    fund.full_clean()
    fund.save()
    audit_record(actor=actor, obj=fund, action="created", note=f"{fund.currency} {fund.total}")
    return fund


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
    grant = Grant(
        fund=fund,
        nonprofit=nonprofit,
        creator=creator,
        amount=_money(amount),
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


def _fund_commit(grant: Grant) -> None:
    """Hold `grant.amount` against its fund. Call with the grant row locked."""
    # FOR NO KEY UPDATE: it serialises approvals without blocking grants being proposed on
    # the fund (their foreign key check takes a key-share lock on it).
    fund = Fund.objects.select_for_update(no_key=True).get(pk=grant.fund_id)
    exhausted = ValidationError(
        _(
            "Not enough left in %(fund)s: %(currency)s %(remaining)s remaining, "
            "%(currency)s %(amount)s asked."
        )
        % {
            "fund": fund,
            "currency": fund.currency,
            "remaining": f"{fund.remaining:,}",
            "amount": f"{grant.amount:,}",
        },
        code="fund_exhausted",
    )
    if fund.committed + grant.amount > fund.total:
        raise exhausted
    try:
        with transaction.atomic():
            Fund.objects.filter(pk=fund.pk).update(
                committed=F("committed") + grant.amount, updated_at=timezone.now()
            )
    except IntegrityError as error:  # the CHECK constraint: the last line of defence
        raise exhausted from error


def _fund_release(grant: Grant) -> None:
    """Give `grant.amount` back to its fund. Call with the grant row locked."""
    Fund.objects.filter(pk=grant.fund_id).update(
        committed=F("committed") - grant.amount, updated_at=timezone.now()
    )


def grant_approve(*, grant: Grant, actor) -> Grant:
    """Approve a proposed grant and commit its amount against the fund, never past its total."""
    with transaction.atomic():
        # Lock order everywhere: grant, nonprofit, fund. Only the grant's own row here.
        locked = Grant.objects.select_for_update(of=("self",)).get(pk=grant.pk)
        if locked.status == Grant.Status.PROPOSED:
            _require_verified(locked, doing=_("approving a grant"))
            _fund_commit(locked)  # the fund's lock serialises approvals
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
            _fund_release(locked)
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


# --- Paying grants ---------------------------------------------------------------------------


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


def grants_schedule(*, grants: Iterable[Grant | int], actor) -> DisbursementBatch:
    """Send approved grants to be paid, as one batch: each gets its disbursement (the
    database's record of the pending work) and, once this commits, a payment task.

    Grants no longer approved (scheduled by someone else a moment ago, cancelled...) are left
    out, so a double click schedules nothing twice. Refuses when none is left.
    """
    ids = sorted({getattr(grant, "pk", grant) for grant in grants})
    with transaction.atomic(durable=True):
        # Locking in id order: two overlapping batches never deadlock.
        locked = list(
            Grant.objects.select_for_update(of=("self",))
            .select_related("nonprofit", "creator")
            .filter(pk__in=ids, status=Grant.Status.APPROVED)
            .order_by("pk")
        )
        if not locked:
            raise ValidationError(
                _("None of these grants is approved and waiting to be paid."),
                code="nothing_to_schedule",
            )
        unverified = [g for g in locked if g.nonprofit.verification_status != "verified"]
        if unverified:
            raise ValidationError(
                _("%(nonprofit)s is not verified yet; verify it before scheduling a payment.")
                % {"nonprofit": unverified[0].nonprofit},
                code="nonprofit_not_verified",
            )
        now = timezone.now()
        batch = DisbursementBatch.objects.create(created_by=_user_or_none(actor), size=len(locked))
        Grant.objects.filter(pk__in=[g.pk for g in locked]).update(
            status=Grant.Status.SCHEDULED, updated_at=now
        )
        provider = get_provider()
        disbursements = Disbursement.objects.bulk_create(
            Disbursement(
                grant=grant,
                batch=batch,
                idempotency_key=str(grant.idempotency_key),
                provider=provider.identifier,
                amount=grant.amount,
                currency=grant.currency,
                queued_at=now,
            )
            for grant in locked
        )
        note = str(batch)
        audit_record_many(
            actor=actor,
            objs=locked,
            action="scheduled",
            from_state=Grant.Status.APPROVED,
            to_state=Grant.Status.SCHEDULED,
            note=note,
        )
        audit_record_many(
            actor=actor,
            objs=disbursements,
            action="created",
            to_state=Disbursement.Status.PENDING,
            note=note,
        )
        from .tasks import start_disbursement_batch

        start_disbursement_batch.delay_on_commit(batch.pk)
    return batch


def grant_schedule(*, grant: Grant, actor) -> Grant:
    """Send one approved grant to be paid (a batch of one). Idempotent once scheduled."""
    current = Grant.objects.only("status").get(pk=grant.pk).status
    if current in (Grant.Status.SCHEDULED, Grant.Status.PROCESSING, Grant.Status.DISBURSED):
        return Grant.objects.get(pk=grant.pk)
    if current != Grant.Status.APPROVED:
        return state_transition(  # phrases the refusal
            grant,
            to=Grant.Status.SCHEDULED,
            allowed_from=[Grant.Status.APPROVED],
            actor=actor,
            action="scheduled",
        )
    try:
        grants_schedule(grants=[grant], actor=actor)
    except ValidationError as error:
        # A second click, a moment after the first: scheduled already is what was asked.
        done = (Grant.Status.SCHEDULED, Grant.Status.PROCESSING, Grant.Status.DISBURSED)
        if error.code != "nothing_to_schedule" or (
            Grant.objects.only("status").get(pk=grant.pk).status not in done
        ):
            raise
    return Grant.objects.get(pk=grant.pk)


def grant_retry(*, grant: Grant, actor) -> Grant:
    """Pay a failed grant again: commit its amount anew and queue its payment, which sends the
    same idempotency key, so a payment that did go through after all is found, not repeated."""
    with transaction.atomic(durable=True):
        locked = Grant.objects.select_for_update(of=("self",)).get(pk=grant.pk)
        if locked.status == Grant.Status.FAILED:
            _require_verified(locked, doing=_("paying a grant"))
            _fund_commit(locked)
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
        from .tasks import pay_disbursement

        pay_disbursement.delay_on_commit(disbursement.pk)
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
        _fund_release(locked)
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


def _locked_disbursement(disbursement_id: int) -> Disbursement:
    """The disbursement with its grant, both rows locked, grant first (see the lock order).

    Both rows are locked in one statement: PostgreSQL then hands back the latest version of
    each once it holds the locks. Locking only the grant would refresh only the grant after a
    wait, and could return the disbursement as it was before another worker recorded it.
    """
    grant = (
        Grant.objects.select_related("disbursement", "nonprofit", "creator")
        .select_for_update(of=("self", "disbursement"))
        .get(disbursement__pk=disbursement_id)
    )
    disbursement = grant.disbursement
    disbursement.grant = grant
    return disbursement


def _claim(disbursement_id: int) -> Disbursement | None:
    """Step 1 of paying: mark the attempt as started. None when there is nothing to pay."""
    with transaction.atomic(durable=True):
        disbursement = _locked_disbursement(disbursement_id)
        grant = disbursement.grant
        if disbursement.status not in Disbursement.UNFINISHED_STATUSES or grant.status not in (
            Grant.Status.SCHEDULED,
            Grant.Status.PROCESSING,
        ):
            return None  # paid, failed or cancelled meanwhile: a late or repeated task
        now = timezone.now()
        changes = []
        if disbursement.status == Disbursement.Status.PENDING:
            changes.append((disbursement, "payment_started", "pending", "processing", ""))
        if grant.status == Grant.Status.SCHEDULED:
            changes.append((grant, "payment_started", "scheduled", "processing", ""))
            grant.status = Grant.Status.PROCESSING
            grant.save(update_fields=["status", "updated_at"])
        disbursement.status = Disbursement.Status.PROCESSING
        disbursement.attempts += 1  # no race: every writer holds the grant's lock
        disbursement.started_at = now
        disbursement.save(update_fields=["status", "attempts", "started_at", "updated_at"])
        if changes:
            audit_changes(actor=None, changes=changes)
        return disbursement


def disbursement_pay(*, disbursement_id: int) -> Disbursement:
    """Pay one scheduled grant through its provider; safe to run twice or concurrently.

    Returns the disbursement: succeeded, failed (the provider refused; the grant failed and
    its money went back to the fund), or still processing after a transient error, which the
    caller retries later (`last_error` says what happened). Anything else is returned as it is.
    """
    disbursement = _claim(disbursement_id)
    if disbursement is None:
        return Disbursement.objects.get(pk=disbursement_id)
    grant = disbursement.grant
    provider = get_provider(disbursement.provider)
    try:
        payment = provider.pay(
            idempotency_key=disbursement.idempotency_key,
            amount=disbursement.amount,
            currency=disbursement.currency,
            payee=grant.nonprofit.payout_reference,
            description=str(grant),
        )
    except FinalError as error:
        grant_fail(grant=grant, reason=str(error))
        return Disbursement.objects.get(pk=disbursement_id)
    except RetryableError as error:
        return disbursement_record_error(disbursement=disbursement, error=str(error))
    return disbursement_succeed(disbursement=disbursement, reference=payment.reference)


def disbursement_succeed(
    *, disbursement: Disbursement, reference: str, action: str = "disbursed"
) -> Disbursement:
    """Record that the provider paid: the grant is disbursed and the fund's disbursed total
    grows. Idempotent: a second report of the same payment changes nothing."""
    with transaction.atomic():
        locked = _locked_disbursement(disbursement.pk)
        grant = locked.grant
        if locked.status == Disbursement.Status.SUCCEEDED:
            return locked
        if grant.status == Grant.Status.FAILED:
            # Found paid after it was given up on: the money went out, so it is committed again.
            _fund_commit(grant)
        elif grant.status not in (Grant.Status.SCHEDULED, Grant.Status.PROCESSING):
            raise ValidationError(
                _("%(grant)s is %(status)s; a payment cannot be recorded against it.")
                % {"grant": grant, "status": grant.get_status_display()},
                code="illegal_transition",
            )
        now = timezone.now()
        changes = [
            (locked, action, locked.status, "succeeded", reference),
            (grant, action, grant.status, "disbursed", reference),
        ]
        locked.status = Disbursement.Status.SUCCEEDED
        locked.provider_reference = reference
        locked.completed_at = now
        locked.save(update_fields=["status", "provider_reference", "completed_at", "updated_at"])
        grant.status = Grant.Status.DISBURSED
        grant.status_reason = ""
        grant.disbursed_at = now
        grant.save(update_fields=["status", "status_reason", "disbursed_at", "updated_at"])
        audit_changes(actor=None, changes=changes)
        # Last, so the fund's row, which every payment of the fund updates, is locked briefly.
        Fund.objects.filter(pk=grant.fund_id).update(
            disbursed=F("disbursed") + grant.amount, updated_at=now
        )
        return locked


def disbursement_record_error(*, disbursement: Disbursement, error: str) -> Disbursement:
    """Note a transient failure on a processing payment; it stays processing for a retry."""
    with transaction.atomic():
        locked = _locked_disbursement(disbursement.pk)
        if locked.status != Disbursement.Status.PROCESSING:
            return locked
        locked.last_error = error
        locked.save(update_fields=["last_error", "updated_at"])
        audit_record(
            actor=None,
            obj=locked.grant,
            action="payment_error",
            from_state=locked.grant.status,
            to_state=locked.grant.status,
            note=_("Attempt %(number)s: %(error)s") % {"number": locked.attempts, "error": error},
        )
        return locked


def disbursement_reconcile(*, disbursement: Disbursement, give_up: bool = False) -> Disbursement:
    """Ask the provider what became of an unfinished payment, by its key, and act on it.

    Paid: record it. Not paid: queue the payment again, or with `give_up` (its tries are used
    up) fail the grant. If the provider cannot be reached, leave it for the next sweep.
    """
    provider = get_provider(disbursement.provider)
    try:
        payment = provider.lookup(idempotency_key=disbursement.idempotency_key)
    except PayoutError as error:
        logger.warning("Could not look up disbursement %s: %s", disbursement.pk, error)
        return disbursement
    if payment is not None:
        return disbursement_succeed(
            disbursement=disbursement, reference=payment.reference, action="reconciled"
        )
    if give_up:
        with transaction.atomic():
            current = _locked_disbursement(disbursement.pk)
            if (
                current.status != Disbursement.Status.PROCESSING
                or current.attempts != disbursement.attempts
            ):
                # Another attempt started since this one (a duplicate task, a sweep): its
                # request may still be on its way to the provider, so it decides, not us.
                return current
            reason = _("Gave up after %(attempts)s attempts: %(error)s") % {
                "attempts": current.attempts,
                "error": current.last_error or _("no answer from the provider"),
            }
            grant_fail(grant=current.grant, reason=reason)
            Disbursement.objects.filter(pk=current.pk).update(
                recheck_at=timezone.now() + timedelta(seconds=settings.PAYOUT_STALE_AFTER)
            )
        return Disbursement.objects.get(pk=disbursement.pk)
    with transaction.atomic():
        locked = _locked_disbursement(disbursement.pk)
        if locked.status in Disbursement.UNFINISHED_STATUSES:
            locked.queued_at = timezone.now()
            locked.save(update_fields=["queued_at", "updated_at"])
            from .tasks import pay_disbursement

            pay_disbursement.delay_on_commit(locked.pk)
        return locked


def disbursements_sweep(*, now=None, limit: int = 500) -> int:
    """Reconcile payments the database says are unfinished but nobody has touched for
    PAYOUT_STALE_AFTER seconds (a lost task, a worker killed mid-payment), and ask once more
    about payments given up on after timeouts (see `disbursement_recheck`). Returns how many."""
    now = now or timezone.now()
    older_than = now - timedelta(seconds=settings.PAYOUT_STALE_AFTER)
    stale = list(Disbursement.objects.stale(older_than=older_than).order_by("pk")[:limit])
    for disbursement in stale:
        disbursement_reconcile(disbursement=disbursement)
    due = list(
        Disbursement.objects.filter(
            status=Disbursement.Status.FAILED, recheck_at__lte=now
        ).order_by("recheck_at")[:limit]
    )
    for disbursement in due:
        disbursement_recheck(disbursement=disbursement)
    return len(stale) + len(due)


def disbursement_recheck(*, disbursement: Disbursement) -> Disbursement:
    """Ask the provider once more about a payment given up on after timeouts: a timed-out
    request can still be carried out a little later. Paid after all: the grant is recorded as
    disbursed and its amount committed again. If the fund has no room left for it any more,
    the payment cannot be booked: that is logged as an error for staff, with the reference."""
    provider = get_provider(disbursement.provider)
    try:
        payment = provider.lookup(idempotency_key=disbursement.idempotency_key)
    except PayoutError as error:
        logger.warning("Could not recheck disbursement %s: %s", disbursement.pk, error)
        return disbursement  # asked again at the next sweep
    if payment is not None:
        try:
            return disbursement_succeed(
                disbursement=disbursement, reference=payment.reference, action="reconciled"
            )
        except ValidationError as error:
            logger.error(
                "Disbursement %s was paid after it was given up on (provider reference %s) "
                "but cannot be booked: %s",
                disbursement.pk,
                payment.reference,
                " ".join(error.messages),
            )
    Disbursement.objects.filter(pk=disbursement.pk, status=Disbursement.Status.FAILED).update(
        recheck_at=None, updated_at=timezone.now()
    )
    return Disbursement.objects.get(pk=disbursement.pk)


def _user_or_none(actor):
    return actor if getattr(actor, "is_authenticated", False) else None
