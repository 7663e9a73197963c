"""Paying grants: scheduling them in batches, paying each through its provider, and finding out
what became of payments left unfinished.

Paying a grant (`disbursement_pay`) runs in three steps, so that no database transaction is
open while the provider is called: claim the disbursement (locked, committed), ask the
provider with the grant's idempotency key (no transaction), record the answer (locked,
committed). A crash between the last two leaves the disbursement "processing"; the sweeper
(`disbursements_sweep`) then finds the payment by its key. Lock order everywhere: the grant
row, then its disbursement, then the fund."""

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_changes, audit_record, audit_record_many, state_transition
from changemakers.core.jobs import enqueue_on_commit
from changemakers.core.locks import try_lock
from changemakers.core.roles import permission_require

from ..models import Disbursement, DisbursementBatch, Fund, Grant
from ..payouts import FinalError, PayoutError, RetryableError, get_provider
from .funds import fund_commit
from .grants import grant_fail, require_payout_reference

logger = logging.getLogger(__name__)


def grants_schedule(*, grants: Iterable[Grant | int], actor) -> DisbursementBatch:
    """Send approved grants to be paid, as one batch: each gets its disbursement (the
    database's record of the pending work) and, once this commits, a payment task.

    Grants no longer approved (scheduled by someone else a moment ago, cancelled...) are left
    out, so a double click schedules nothing twice. Refuses when none is left.
    """
    permission_require(actor, "donations.schedule_grant", doing=_("schedule payments"))
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
        for grant in locked:
            require_payout_reference(grant, doing=_("scheduling a payment"))
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
        enqueue_on_commit("donations.tasks.start_disbursement_batch", batch.pk)
    return batch


def grant_schedule(*, grant: Grant, actor) -> Grant:
    """Send one approved grant to be paid (a batch of one). Idempotent once scheduled."""
    permission_require(actor, "donations.schedule_grant", doing=_("schedule payments"))
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
    """Step 1 of paying: mark the attempt as started, the last step before the provider is
    called, and count it. None when there is nothing to pay."""
    with transaction.atomic(durable=True):
        disbursement = _locked_disbursement(disbursement_id)
        grant = disbursement.grant
        if disbursement.status not in Disbursement.UNFINISHED_STATUSES or grant.status not in (
            Grant.Status.SCHEDULED,
            Grant.Status.PROCESSING,
        ):
            return None  # paid, failed or cancelled meanwhile: a late or repeated task
        # Everything that can go wrong before the request is done before the try is counted:
        # a try counts a call to the provider, not a delivery of the task's message.
        get_provider(disbursement.provider)
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

    While one worker pays it, another (the same message delivered twice, a sweep's re-queue)
    neither calls the provider nor counts a try: it gets the disbursement back as it is with
    `in_flight` set, and leaves what follows to the first. The lock that tells is the
    database connection's, so a worker that dies lets go of it.
    """
    with try_lock(f"donations.disbursement_pay:{disbursement_id}") as mine:
        if not mine:
            current = Disbursement.objects.get(pk=disbursement_id)
            current.in_flight = True
            return current
        return _pay(disbursement_id)


def _pay(disbursement_id: int) -> Disbursement:
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
            fund_commit(grant)
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
            enqueue_on_commit("donations.tasks.pay_disbursement", locked.pk)
        return locked


def disbursements_sweep(*, now=None, limit: int = 500) -> int:
    """Reconcile payments the database says are unfinished but nobody has touched for
    PAYOUT_STALE_AFTER seconds (a lost task, a worker killed mid-payment), and ask once more
    about payments given up on after timeouts (see `disbursement_recheck`). Returns how many.

    One sweep at a time: a sweep that finds another still running (a slow provider, beat
    sending the next one early) returns 0 at once and leaves the work to it."""
    with try_lock("donations.disbursements_sweep") as mine:
        if not mine:
            return 0
        return _sweep(now=now, limit=limit)


def _sweep(*, now, limit: int) -> int:
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
