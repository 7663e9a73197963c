"""Paying grants: scheduling them in batches, paying each through its provider, and finding out
what became of payments left unfinished.

Paying a grant (`disbursement_pay`) runs in three steps, so that no database transaction is
open while the provider is called: claim the disbursement (locked, committed), ask the
provider with the grant's idempotency key (no transaction), record the answer (locked,
committed). A crash between the last two leaves the disbursement "processing"; the sweeper
(`disbursements_sweep`) then finds the payment by its key. A large batch's chunk takes the same
steps for all its grants at once (`disbursements_pay`): one transaction claims them, each is
sent alone under its own key, one transaction records them. Lock order everywhere: the grant
rows (by id), then their disbursements, then the fund.

No money is lost in the dark: a payment whose tries ran out on timeouts may still be carried
out by the provider, so it is not failed but its outcome is "unknown", its amount still
committed, until the provider confirms one way or the other (`disbursement_recheck`). A payment
found made is always booked, even past the fund's total (then recorded as an overspend for
staff), and only when the provider reports the amount and currency that were asked; any other
answer holds the grant for staff.

A refusal on the platform's side (its balance short, its credentials refused) holds the whole
batch (`disbursement_hold`): the batch's other payments wait without being sent, and the
finance approvers are told; one of them releases the hold (`batch_hold_release`) once it is
fixed, which queues the payments again under their same keys. Once a payment is made, what
arrived on the payee's side (in its own currency, at the provider's rate) is recorded by a
job of its own (`disbursement_received_record`): paying never waits for it or fails by it."""

import logging
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_changes, audit_record, audit_record_many, state_transition
from changemakers.core.events import events_emit
from changemakers.core.jobs import enqueue_on_commit
from changemakers.core.locks import try_lock, try_locks
from changemakers.core.roles import permission_require

from ..models import Disbursement, DisbursementBatch, Fund, Grant, grants_digest
from ..models.money import currency_places
from ..payouts import (
    FinalError,
    HoldError,
    Payment,
    PayoutError,
    RetryableError,
    get_provider,
    providers,
)
from .funds import fund_book_late
from .grants import (
    grant_fail,
    grant_hold,
    hold_locked,
    require_not_held,
    require_not_proposer,
    require_payout_reference,
    require_verification_current,
)
from .instructions import by_hand, instruction_pin, provider_for

logger = logging.getLogger(__name__)


def grants_schedule(
    *, grants: Iterable[Grant | int], actor, expected: str | None = None
) -> DisbursementBatch:
    """Send approved grants to be paid, as one batch: each gets its disbursement (the
    database's record of the pending work) and, once this commits, a payment task.

    Grants no longer approved (scheduled by someone else a moment ago, cancelled...) are left
    out, so a double click schedules nothing twice. Refuses when none is left.

    `expected` is the digest (`grants_digest`) of the grants as the person reviewed them
    before paying: given, the batch is exactly those grants with those amounts and payees,
    or nothing is paid (a grant cancelled, paid by someone else, its amount or its payee
    changed since the review).
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
        if expected is not None and (
            [grant.pk for grant in locked] != ids or grants_digest(locked) != expected
        ):
            raise ValidationError(
                _(
                    "These grants changed since you reviewed them (one was cancelled or paid "
                    "by someone else, or an amount or a payee changed). Nothing was paid: "
                    "review them again."
                ),
                code="review_changed",
            )
        for grant in locked:
            require_not_proposer(
                grant,
                actor,
                message=_(
                    "You proposed the grant to %(nonprofit)s; someone else schedules its payment."
                ),
                code="scheduler_is_proposer",
            )
        doing = _("scheduling a payment")
        for grant in locked:
            require_not_held(grant, doing=doing)
            require_verification_current(grant.nonprofit, doing=doing)
            require_payout_reference(grant, doing=doing)
        now = timezone.now()
        batch = DisbursementBatch.objects.create(created_by=_user_or_none(actor), size=len(locked))
        Grant.objects.filter(pk__in=[g.pk for g in locked]).update(
            status=Grant.Status.SCHEDULED, updated_at=now
        )
        # Each grant's provider is its nonprofit's (payout method); a bank transfer by hand
        # is not queued for the worker (`queued_at` empty): finance pays it from its
        # payment instruction (instructions.py, bank_transfers.py).
        providers = {grant.pk: provider_for(grant.nonprofit) for grant in locked}
        disbursements = Disbursement.objects.bulk_create(
            Disbursement(
                grant=grant,
                batch=batch,
                idempotency_key=str(grant.idempotency_key),
                provider=providers[grant.pk].identifier,
                amount=grant.amount,
                currency=grant.currency,
                queued_at=None if providers[grant.pk].by_hand else now,
                payee_reference=grant.payee_reference,
                payee_fingerprint=grant.payee_fingerprint,
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
        for grant, disbursement in zip(locked, disbursements, strict=True):
            if providers[grant.pk].by_hand:
                instruction_pin(disbursement=disbursement, grant=grant, actor=actor)
        events_emit("grant.scheduled", objs=locked, extra={"status": Grant.Status.SCHEDULED})
        if not all(provider.by_hand for provider in providers.values()):
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
    return _locked_disbursements([disbursement_id])[disbursement_id]


def _locked_disbursements(disbursement_ids: Iterable[int]) -> dict[int, Disbursement]:
    """Several disbursements as `_locked_disbursement` gives one, in one statement, their
    grants locked in the order of their ids (so two chunks never wait on each other in a
    circle). Raises Disbursement.DoesNotExist when any is missing."""
    wanted = set(disbursement_ids)
    grants = (
        Grant.objects.select_related("disbursement", "disbursement__batch", "nonprofit", "creator")
        .select_for_update(of=("self", "disbursement"))
        .filter(disbursement__pk__in=wanted)
        .order_by("pk")
    )
    locked = {}
    for grant in grants:
        disbursement = grant.disbursement
        disbursement.grant = grant
        locked[disbursement.pk] = disbursement
    if len(locked) != len(wanted):
        missing = sorted(wanted - locked.keys())
        raise Disbursement.DoesNotExist(f"No disbursement {missing}.")
    return locked


def _claim(disbursement_id: int) -> Disbursement | None:
    """Step 1 of paying one grant (see `_claim_many`)."""
    return _claim_many([disbursement_id]).get(disbursement_id)


def _claim_many(disbursement_ids: Iterable[int]) -> dict[int, Disbursement]:
    """Step 1 of paying: mark each attempt as started, the last step before the provider is
    called, and count it, all in one transaction. Returns the disbursements claimed; one with
    nothing to pay is left out.

    The nonprofit is screened again here, at the moment of paying: a grant whose nonprofit is
    no longer verified (rejected, or its verification expired) or whose payout details no
    longer match the payee pinned at approval is put on hold instead, before any try counts.
    """
    with transaction.atomic(durable=True):
        claimed = [
            disbursement
            for disbursement in _locked_disbursements(disbursement_ids).values()
            if _claimable(disbursement)
        ]
        if not claimed:
            return {}
        # Everything that can go wrong before the request is done before the try is counted:
        # a try counts a call to the provider, not a delivery of the task's message.
        for provider in {disbursement.provider for disbursement in claimed}:
            get_provider(provider)
        now = timezone.now()
        changes = []
        starting = []
        for disbursement in claimed:
            grant = disbursement.grant
            if disbursement.status == Disbursement.Status.PENDING:
                changes.append((disbursement, "payment_started", "pending", "processing", ""))
            if grant.status == Grant.Status.SCHEDULED:
                changes.append((grant, "payment_started", "scheduled", "processing", ""))
                grant.status = Grant.Status.PROCESSING
                grant.updated_at = now
                starting.append(grant.pk)
            disbursement.status = Disbursement.Status.PROCESSING
            disbursement.attempts += 1  # no race: every writer holds the grant's lock
            disbursement.started_at = now
            disbursement.updated_at = now
        if starting:
            Grant.objects.filter(pk__in=starting).update(
                status=Grant.Status.PROCESSING, updated_at=now
            )
        Disbursement.objects.filter(pk__in=[d.pk for d in claimed]).update(
            status=Disbursement.Status.PROCESSING,
            attempts=F("attempts") + 1,
            started_at=now,
            updated_at=now,
        )
        if changes:
            audit_changes(actor=None, changes=changes)
        return {disbursement.pk: disbursement for disbursement in claimed}


def _claimable(disbursement: Disbursement) -> bool:
    """Whether a locked disbursement is to be paid now (its grant is held here if its payee
    is no longer safe)."""
    grant = disbursement.grant
    if disbursement.status not in Disbursement.UNFINISHED_STATUSES or grant.status not in (
        Grant.Status.SCHEDULED,
        Grant.Status.PROCESSING,
    ):
        return False  # paid, failed or cancelled meanwhile: a late or repeated task
    if by_hand(disbursement):
        return False  # paid by a person (a bank transfer): recorded as sent, never here
    if grant.held_at is None:
        reason = _payee_unsafe(disbursement)
        if reason:
            hold_locked(grant, reason=reason)
    if grant.held_at is not None:
        return False  # waits for its payee to be re-confirmed, which queues it again
    # Its batch waits for the platform's account: the release queues it.
    return disbursement.batch is None or not disbursement.batch.is_held


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
    return disbursements_pay(disbursement_ids=[disbursement_id])[disbursement_id]


def disbursements_pay(*, disbursement_ids: Iterable[int]) -> dict[int, Disbursement]:
    """Pay several scheduled grants (a chunk of a batch), each exactly as `disbursement_pay`
    pays one, by its own idempotency key, but claimed together in one transaction and the
    payments recorded together in another: a few statements a chunk rather than a dozen a
    grant. Returns each disbursement by its id, as `disbursement_pay` would.

    The three steps stay apart, so no transaction is open while the provider is called. A
    crash between the calls and the record leaves the chunk's paid grants "processing", as it
    leaves one, and the sweeper finds each payment by its key. Whatever stops the calls (a
    time limit, an error) still has the payments made so far recorded first. Raises
    Disbursement.DoesNotExist, before anything is done, when an id names no disbursement."""
    ids = list(dict.fromkeys(disbursement_ids))
    names = {pk: f"donations.disbursement_pay:{pk}" for pk in ids}
    with try_locks(names.values()) as taken:
        mine = [pk for pk in ids if names[pk] in taken]
        result = _in_flight([pk for pk in ids if names[pk] not in taken])
        if mine:
            result |= _pay_many(mine)
    return result


def _in_flight(disbursement_ids: list[int]) -> dict[int, Disbursement]:
    """Those another worker is paying right now, as they are, marked `in_flight`."""
    if not disbursement_ids:
        return {}
    current = Disbursement.objects.in_bulk(disbursement_ids)
    if len(current) != len(disbursement_ids):
        raise Disbursement.DoesNotExist(
            f"No disbursement {sorted(set(disbursement_ids) - current.keys())}."
        )
    for disbursement in current.values():
        disbursement.in_flight = True
    return current


def _payee_unsafe(disbursement: Disbursement) -> str:
    """Why the disbursement must not be paid now, or "": its nonprofit (row loaded under the
    grant's lock) is not verified or its verification expired, or its payout details differ
    from the payee pinned on the disbursement."""
    nonprofit = disbursement.grant.nonprofit
    if nonprofit.verification_status != nonprofit.Verification.VERIFIED:
        return _("The nonprofit is %(status)s, not verified, at the time of payment.") % {
            "status": nonprofit.get_verification_status_display().lower()
        }
    if not nonprofit.verification_current():
        return _("The nonprofit's verification expired before the payment.")
    if not disbursement.payee_reference or (
        disbursement.payee_fingerprint != nonprofit.payout_fingerprint()
    ):
        return _("The nonprofit's payout details changed after the payee was confirmed.")
    return ""


def _pay_many(disbursement_ids: list[int]) -> dict[int, Disbursement]:
    claimed = _claim_many(disbursement_ids)
    result = _unclaimed([pk for pk in disbursement_ids if pk not in claimed])
    paid: list[tuple[Disbursement, Payment]] = []
    held_batches: set[int] = set()
    unsent: list[int] = []
    try:
        for disbursement in claimed.values():
            if disbursement.batch_id in held_batches:
                unsent.append(disbursement.pk)
                continue
            outcome = _ask_provider(disbursement)
            if isinstance(outcome, Payment):
                paid.append((disbursement, outcome))
                continue
            result[disbursement.pk] = outcome
            if getattr(outcome, "held", False) and _batch_held(outcome.batch_id):
                held_batches.add(outcome.batch_id)
    finally:
        # Also when something stopped the calls: what was paid is booked before it goes on.
        result |= _record_payments(paid)
    return result | _not_sent(unsent)


def _batch_held(batch_id: int | None) -> bool:
    return (
        batch_id is not None
        and DisbursementBatch.objects.filter(pk=batch_id, held_at__isnull=False).exists()
    )


def _ask_provider(disbursement: Disbursement) -> Payment | Disbursement:
    """Step 2: the provider's payment, or the disbursement as a refusal or an error left it."""
    provider = get_provider(disbursement.provider)
    try:
        return provider.pay(
            idempotency_key=disbursement.idempotency_key,
            amount=disbursement.amount,
            currency=disbursement.currency,
            payee=disbursement.payee_reference,  # the pinned payee, never the current one
            description=str(disbursement.grant),
        )
    except FinalError as error:
        grant_fail(grant=disbursement.grant, reason=str(error), final=True)
        return Disbursement.objects.get(pk=disbursement.pk)
    except RetryableError as error:
        return disbursement_record_error(disbursement=disbursement, error=str(error))
    except HoldError as error:
        return disbursement_hold(disbursement=disbursement, error=error)


def _record_payments(
    paid: list[tuple[Disbursement, Payment]], *, action: str = "disbursed"
) -> dict[int, Disbursement]:
    """Step 3: book the payments made, together (`disbursements_succeed`); one whose amount or
    currency is not what was asked is not booked but held (`_payment_mismatch`)."""
    asked: list[tuple[Disbursement, str]] = []
    result: dict[int, Disbursement] = {}
    for disbursement, payment in paid:
        if payment.amount == disbursement.amount and payment.currency == disbursement.currency:
            asked.append((disbursement, payment.reference))
        else:
            result[disbursement.pk] = _payment_mismatch(disbursement, payment)
    if asked:
        result |= disbursements_succeed(payments=asked, action=action)
    return result


def _unclaimed(disbursement_ids: list[int]) -> dict[int, Disbursement]:
    """Those with nothing to pay, as they are now, marked `held` when a hold keeps them."""
    if not disbursement_ids:
        return {}
    current = Disbursement.objects.select_related("grant", "batch").in_bulk(disbursement_ids)
    for disbursement in current.values():
        disbursement.held = disbursement.grant.is_held or (
            disbursement.batch is not None
            and disbursement.batch.is_held
            and disbursement.status in Disbursement.UNFINISHED_STATUSES
        )
    return current


def _not_sent(disbursement_ids: list[int]) -> dict[int, Disbursement]:
    """The platform's account held their batch while the chunk was being paid: these were
    claimed but never sent. They stay unsent, their tries uncounted, marked `held`; the
    batch's release queues them again."""
    if not disbursement_ids:
        return {}
    with transaction.atomic():
        Disbursement.objects.filter(
            pk__in=disbursement_ids, status=Disbursement.Status.PROCESSING
        ).update(attempts=F("attempts") - 1, updated_at=timezone.now())
    return _unclaimed(disbursement_ids)


def disbursement_hold(*, disbursement: Disbursement, error: HoldError) -> Disbursement:
    """The provider made no payment, for a cause someone must fix first, and neither fails
    nor tries it again meanwhile:

    - the payee's account cannot receive money yet: the grant is held with the provider's
      reason until a finance approver re-confirms it (`grant_hold_release`);
    - the platform's account (its balance is short, its key refused): the whole batch is
      held, so its other payments wait instead of each being refused in turn, and finance is
      told; a finance approver releases it (`batch_hold_release`). A payment outside any
      batch holds its grant, as above.

    Either release queues the payment again under the same key. Returns the disbursement
    marked `held`."""
    with transaction.atomic():
        locked = _locked_disbursement(disbursement.pk)
        if locked.status != Disbursement.Status.PROCESSING:
            return locked
        if error.scope == HoldError.PLATFORM and locked.batch_id is not None:
            reason = _(
                "The payout provider refused a payment for the platform's account: %(reason)s"
            )
            _batch_hold(locked.batch_id, reason=reason % {"reason": error.reason})
        else:
            if error.scope == HoldError.PLATFORM:
                reason = _("The payout provider refused it for the platform's account: %(reason)s")
            else:
                reason = _("The payout provider cannot pay this payee yet: %(reason)s")
            hold_locked(locked.grant, reason=reason % {"reason": error.reason}, actor=None)
        locked.last_error = str(error)
        locked.save(update_fields=["last_error", "updated_at"])
        locked.held = True
        return locked


def _batch_hold(batch_id: int, *, reason: str) -> bool:
    """Hold a batch (once: a held batch keeps its first reason), audited, and tell finance
    once this commits. Whether this call held it."""
    batch = DisbursementBatch.objects.select_for_update().get(pk=batch_id)
    if batch.is_held:
        return False
    batch.held_at = timezone.now()
    batch.hold_reason = reason.strip()
    batch.save(update_fields=["held_at", "hold_reason", "updated_at"])
    audit_record(actor=None, obj=batch, action="batch_held", note=batch.hold_reason)
    enqueue_on_commit("donations.tasks.send_finance_alert", "batch_held", batch.pk)
    return True


def batch_hold_release(*, batch: DisbursementBatch, actor) -> DisbursementBatch:
    """A finance approver, the platform's account fixed (topped up, its key renewed), lets a
    held batch's payments go: every unpaid one not held for its own reasons is queued again,
    under its same key, so none is paid twice (the provider answers a key it has paid with
    that payment). Idempotent: a batch not held is returned as it is."""
    permission_require(actor, "donations.approve_grant", doing=_("release a held batch"))
    with transaction.atomic(durable=True):
        locked = DisbursementBatch.objects.select_for_update().get(pk=batch.pk)
        if not locked.is_held:
            return locked
        note = locked.hold_reason
        locked.held_at = None
        locked.hold_reason = ""
        locked.save(update_fields=["held_at", "hold_reason", "updated_at"])
        audit_record(actor=actor, obj=locked, action="batch_hold_released", note=note)
        waiting = Disbursement.objects.filter(
            batch=locked,
            status__in=Disbursement.UNFINISHED_STATUSES,
            grant__held_at__isnull=True,
            grant__status__in=(Grant.Status.SCHEDULED, Grant.Status.PROCESSING),
        )
        ids = list(waiting.order_by("pk").values_list("pk", flat=True))
        now = timezone.now()
        Disbursement.objects.filter(pk__in=ids).update(queued_at=now, updated_at=now)
        chunk = settings.PAYOUT_BATCH_CHUNK
        if len(ids) <= chunk:
            for disbursement_id in ids:
                enqueue_on_commit("donations.tasks.pay_disbursement", disbursement_id)
        else:
            for start in range(0, len(ids), chunk):
                enqueue_on_commit("donations.tasks.pay_disbursements", ids[start : start + chunk])
        return locked


def platform_balance(provider: str | None = None):
    """What the platform's account with the provider holds now, per currency (a list of
    `Balance`), or None when the provider does not say or cannot be asked just now."""
    try:
        return get_provider(provider).balance()
    except PayoutError as error:
        logger.warning("Could not ask the payout provider for the balance: %s", error)
        return None


def disbursement_record_payment(
    *, disbursement: Disbursement, payment: Payment, action: str = "disbursed"
) -> Disbursement:
    """Record a payment the provider reports under the disbursement's key: booked if it is
    the amount and currency asked (`disbursement_succeed`); otherwise not booked, the grant
    held with the reason and its outcome unknown, for staff to settle with the provider."""
    return _record_payments([(disbursement, payment)], action=action)[disbursement.pk]


def _payment_mismatch(disbursement: Disbursement, payment: Payment) -> Disbursement:
    reason = _(
        "The provider reports payment %(reference)s under this grant's key for %(paid)s, not the "
        "%(asked)s asked: not booked. Settle it with the provider, then record its answer."
    ) % {
        "reference": payment.reference,
        "paid": f"{payment.currency} {payment.amount:,}",
        "asked": f"{disbursement.currency} {disbursement.amount:,}",
    }
    with transaction.atomic():
        locked = _locked_disbursement(disbursement.pk)
        if locked.status == Disbursement.Status.SUCCEEDED:
            return locked
        grant_hold(grant=locked.grant, reason=reason)
        if locked.status in Disbursement.UNFINISHED_STATUSES:
            _outcome_unknown(locked, reason=reason, recheck=False)
        elif locked.recheck_at is not None:  # unknown or failed: stop asking, staff decide
            locked.recheck_at = None
            locked.last_error = reason
            locked.save(update_fields=["recheck_at", "last_error", "updated_at"])
        return locked


def disbursement_succeed(
    *, disbursement: Disbursement, reference: str, action: str = "disbursed", actor=None
) -> Disbursement:
    """Record that the provider paid: the grant is disbursed and the fund's disbursed total
    grows. Idempotent: a second report of the same payment changes nothing.

    A grant whose outcome was unknown still has its amount committed. A failed one had given
    its amount back: the money has left all the same, so it is booked again, past the fund's
    total if need be, as an overspend staff resolve (`fund_book_late`), never refused."""
    return disbursements_succeed(payments=[(disbursement, reference)], action=action, actor=actor)[
        disbursement.pk
    ]


def disbursements_succeed(
    *, payments: list[tuple[Disbursement, str]], action: str = "disbursed", actor=None
) -> dict[int, Disbursement]:
    """`disbursement_succeed` for several payments (disbursement, provider's reference) in
    one transaction: one statement a table, not a few a payment. All or none is booked: a
    payment that cannot be recorded rolls the others back, each to be booked again by its
    key. Returns each disbursement by its id."""
    references = {disbursement.pk: reference for disbursement, reference in payments}
    with transaction.atomic():
        locked = _locked_disbursements(references)
        booking = [d for d in locked.values() if d.status != Disbursement.Status.SUCCEEDED]
        if not booking:
            return locked
        now = timezone.now()
        changes = []
        for disbursement in booking:
            grant = disbursement.grant
            if grant.status == Grant.Status.FAILED:
                fund_book_late(grant)
            elif grant.status not in (
                Grant.Status.SCHEDULED,
                Grant.Status.PROCESSING,
                Grant.Status.UNKNOWN,
            ):
                raise ValidationError(
                    _("%(grant)s is %(status)s; a payment cannot be recorded against it.")
                    % {"grant": grant, "status": grant.get_status_display()},
                    code="illegal_transition",
                )
            reference = references[disbursement.pk]
            changes.append((disbursement, action, disbursement.status, "succeeded", reference))
            changes.append((grant, action, grant.status, "disbursed", reference))
            disbursement.status = Disbursement.Status.SUCCEEDED
            disbursement.provider_reference = reference
            disbursement.completed_at = now
            disbursement.recheck_at = None
            # Paid: an earlier attempt's error no longer describes it (the history keeps it).
            disbursement.last_error = ""
            disbursement.refused_payee = ""
            disbursement.updated_at = now
            grant.status = Grant.Status.DISBURSED
            grant.status_reason = ""
            grant.disbursed_at = now
            grant.updated_at = now
        Disbursement.objects.bulk_update(
            booking,
            [
                "status",
                "provider_reference",
                "completed_at",
                "recheck_at",
                "last_error",
                "refused_payee",
                "updated_at",
            ],
        )
        grants = [disbursement.grant for disbursement in booking]
        Grant.objects.filter(pk__in=[grant.pk for grant in grants]).update(
            status=Grant.Status.DISBURSED, status_reason="", disbursed_at=now, updated_at=now
        )
        audit_changes(actor=actor, changes=changes)
        events_emit("grant.disbursed", objs=grants)
        # Last, so each fund's row, which every payment of the fund updates, is locked briefly.
        by_fund: dict[int, Decimal] = {}
        for grant in grants:
            by_fund[grant.fund_id] = by_fund.get(grant.fund_id, Decimal(0)) + grant.amount
        for fund_id, amount in sorted(by_fund.items()):
            Fund.objects.filter(pk=fund_id).update(
                disbursed=F("disbursed") + amount, updated_at=now
            )
        for disbursement in booking:
            provider = providers().get(disbursement.provider)
            if provider is not None and provider.reports_received:
                enqueue_on_commit("donations.tasks.record_money_received", disbursement.pk)
        return locked


def disbursement_received_record(*, disbursement_id: int) -> Disbursement:
    """Ask the provider what arrived on the payee's side of a payment made (the amount in the
    payee's currency and the exchange rate, when it converted) and record it, audited. Asked
    after the payment is booked, never as part of it: a failure here leaves the payment as it
    is. Raises `RetryableError` when the provider could not be asked (the job tries again,
    then the sweeper); idempotent once recorded."""
    disbursement = Disbursement.objects.get(pk=disbursement_id)
    if disbursement.status not in Disbursement.PAID_STATUSES or disbursement.received_currency:
        return disbursement
    try:
        received = get_provider(disbursement.provider).received(
            reference=disbursement.provider_reference
        )
    except RetryableError:
        raise
    except PayoutError as error:
        logger.warning("Could not ask what arrived of disbursement %s: %s", disbursement_id, error)
        return disbursement
    if received is None:
        return disbursement
    with transaction.atomic():
        locked = _locked_disbursement(disbursement_id)
        if locked.received_currency:
            return locked
        currency = received.currency.upper()
        locked.received_amount = received.amount.quantize(
            Decimal(1).scaleb(-currency_places(currency))
        )
        locked.received_currency = currency
        locked.exchange_rate = (
            None
            if received.exchange_rate is None
            else received.exchange_rate.quantize(Decimal(1).scaleb(-12)).normalize()
        )
        locked.save(
            update_fields=["received_amount", "received_currency", "exchange_rate", "updated_at"]
        )
        note = f"{currency} {locked.received_amount:,}"
        if locked.exchange_rate is not None:
            note += f" (1 {locked.currency} = {locked.exchange_rate} {currency})"
        audit_record(actor=None, obj=locked, action="money_received", note=note)
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
    up) mark its outcome unknown, its amount still committed: the last request may still be
    carried out, so this lookup finding nothing proves nothing yet (`disbursement_recheck`
    goes on asking). If the provider cannot be reached, leave it for the next sweep, or with
    `give_up` mark its outcome unknown all the same.
    """
    provider = get_provider(disbursement.provider)
    try:
        payment = provider.lookup(idempotency_key=disbursement.idempotency_key)
    except PayoutError as error:
        logger.warning("Could not look up disbursement %s: %s", disbursement.pk, error)
        if not give_up:
            return disbursement
        payment = None  # no answer either way: what became of it is unknown
    if payment is not None:
        return disbursement_record_payment(
            disbursement=disbursement, payment=payment, action="reconciled"
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
            _outcome_unknown(current, reason=reason)
        return Disbursement.objects.get(pk=disbursement.pk)
    with transaction.atomic():
        locked = _locked_disbursement(disbursement.pk)
        if locked.status in Disbursement.UNFINISHED_STATUSES:
            locked.queued_at = timezone.now()
            locked.save(update_fields=["queued_at", "updated_at"])
            enqueue_on_commit("donations.tasks.pay_disbursement", locked.pk)
        return locked


def _outcome_unknown(locked: Disbursement, *, reason: str, recheck: bool = True) -> None:
    """Move a processing payment (and its grant) to "outcome unknown", its amount still
    committed; with `recheck`, the sweeper first asks again PAYOUT_STALE_AFTER from now, else
    it is flagged for staff at once. Call with both rows locked."""
    grant = locked.grant
    now = timezone.now()
    changes = [
        (locked, "outcome_unknown", locked.status, Disbursement.Status.UNKNOWN, reason),
        (grant, "outcome_unknown", grant.status, Grant.Status.UNKNOWN, reason),
    ]
    locked.status = Disbursement.Status.UNKNOWN
    locked.unknown_since = now
    locked.recheck_at = now + timedelta(seconds=settings.PAYOUT_STALE_AFTER) if recheck else None
    locked.rechecks = 0
    locked.not_found = 0
    locked.last_error = reason
    locked.save(
        update_fields=[
            "status",
            "unknown_since",
            "recheck_at",
            "rechecks",
            "not_found",
            "last_error",
            "updated_at",
        ]
    )
    grant.status = Grant.Status.UNKNOWN
    grant.status_reason = reason
    grant.save(update_fields=["status", "status_reason", "updated_at"])
    audit_changes(actor=None, changes=changes)


def disbursements_sweep(*, now=None, limit: int = 500) -> int:
    """Reconcile payments the database says are unfinished but nobody has touched for
    PAYOUT_STALE_AFTER seconds (a lost task, a worker killed mid-payment), and ask again about
    payments whose outcome is unknown once each is due (see `disbursement_recheck`). Returns
    how many.

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
    due = list(Disbursement.objects.recheck_due(now=now).order_by("recheck_at", "pk")[:limit])
    for disbursement in due:
        disbursement_recheck(disbursement=disbursement, now=now)
    return len(stale) + len(due) + _received_sweep(now=now, older_than=older_than, limit=limit)


def _received_sweep(*, now, older_than, limit: int) -> int:
    """Ask again what arrived of payments whose first lookup failed, for as long as a payment
    of unknown outcome is asked about (PAYOUT_UNKNOWN_HORIZON), then leave them be."""
    reporting = [name for name, provider in providers().items() if provider.reports_received]
    if not reporting:
        return 0
    missing = list(
        Disbursement.objects.received_missing(
            providers=reporting,
            completed_after=now - timedelta(seconds=settings.PAYOUT_UNKNOWN_HORIZON),
            completed_before=older_than,
        )
        .order_by("completed_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for disbursement_id in missing:
        try:
            disbursement_received_record(disbursement_id=disbursement_id)
        except RetryableError as error:
            logger.warning(
                "Could not ask what arrived of disbursement %s: %s", disbursement_id, error
            )
    return len(missing)


#: Lookups in a row that must find no payment before the provider counts as having confirmed
#: that none was made (see `disbursement_recheck`).
NOT_FOUND_CONFIRMATIONS = 3


def recheck_delay(rechecks: int) -> timedelta:
    """How long after its `rechecks`-th recheck a payment of unknown outcome is asked about
    again: PAYOUT_STALE_AFTER, doubled at each recheck (15, 30, 60 minutes... by default)."""
    return timedelta(seconds=settings.PAYOUT_STALE_AFTER * 2 ** min(rechecks, 16))


def disbursement_recheck(*, disbursement: Disbursement, now=None) -> Disbursement:
    """Ask the provider again about a payment whose outcome is unknown (given up on after
    timeouts: a timed-out request can still be carried out later), and leave that state only
    on the provider's confirmation:

    - found paid, for the amount and currency asked: the grant is disbursed (booked);
    - found paid for another amount or currency: not booked, the grant is held, asked no more;
    - found nothing: that confirms no payment was made only at the NOT_FOUND_CONFIRMATIONS-th
      lookup in a row to find nothing. The rule: a timed-out request that the provider will
      still carry out is carried out within its settling delay, and the lookups are spread
      over PAYOUT_STALE_AFTER x (1 + 2 + 4) after the give-up (105 minutes with the default
      900 s), each twice as long after the one before, so the last one is asked well past it.
      Then the grant fails and its amount goes back to the fund; it can be retried (with the
      same key, so a payment made even later is found, not repeated) or cancelled;
    - the provider could not be reached: that is no answer, and counts for nothing.

    Without a confirmation the payment is asked about again, backing off (`recheck_delay`),
    until PAYOUT_UNKNOWN_HORIZON seconds after the give-up (7 days by default). At the horizon
    it is not failed and no money is released: it stays unknown, flagged for staff
    (`Disbursement.objects.unknown_flagged()`, the dashboard), who ask the provider and record
    its answer (`disbursement_outcome_record`).

    A payment failed after timeouts before the unknown state existed (failed, `recheck_at` set)
    is asked about once, as it was then: found paid, it is booked (past the fund's total if
    need be); found nothing, it is asked no more.
    """
    now = now or timezone.now()
    provider = get_provider(disbursement.provider)
    try:
        payment = provider.lookup(idempotency_key=disbursement.idempotency_key)
    except PayoutError as error:
        logger.warning("Could not recheck disbursement %s: %s", disbursement.pk, error)
        return _recheck_later(disbursement, now=now, found_nothing=False, error=str(error))
    if payment is None:
        return _recheck_later(disbursement, now=now, found_nothing=True)
    try:
        return disbursement_record_payment(
            disbursement=disbursement, payment=payment, action="reconciled"
        )
    except ValidationError as error:
        # Paid, but the grant moved on meanwhile (cancelled): never only a log line.
        grant_hold(
            grant=disbursement.grant,
            reason=_(
                "The provider paid %(reference)s under this grant's key, but it cannot be "
                "booked: %(error)s"
            )
            % {"reference": payment.reference, "error": " ".join(error.messages)},
        )
        Disbursement.objects.filter(pk=disbursement.pk).update(
            recheck_at=None, updated_at=timezone.now()
        )
        return Disbursement.objects.get(pk=disbursement.pk)


def _recheck_later(
    disbursement: Disbursement, *, now, found_nothing: bool, error: str = ""
) -> Disbursement:
    """After a recheck that found no payment (or could not ask): confirm non-payment, ask again
    later, or flag it for staff at the horizon. See `disbursement_recheck`."""
    with transaction.atomic():
        locked = _locked_disbursement(disbursement.pk)
        if locked.recheck_at is None or locked.recheck_at > now:
            return locked  # settled or rescheduled meanwhile (staff, a retry)
        if locked.status == Disbursement.Status.FAILED:  # from before the unknown state
            if found_nothing:
                locked.recheck_at = None
                locked.save(update_fields=["recheck_at", "updated_at"])
            return locked
        if locked.status != Disbursement.Status.UNKNOWN:
            return locked
        locked.rechecks += 1
        locked.not_found = locked.not_found + 1 if found_nothing else locked.not_found
        if error:
            locked.last_error = error
        if locked.not_found >= NOT_FOUND_CONFIRMATIONS:
            reason = _(
                "The provider confirmed no payment under this grant's key: %(count)s lookups in "
                "a row found none, the last %(since)s after the payment was given up on."
            ) % {"count": locked.not_found, "since": _duration(now - locked.unknown_since)}
            locked.save(update_fields=["rechecks", "not_found", "last_error", "updated_at"])
            grant_fail(grant=locked.grant, reason=reason)
            return Disbursement.objects.get(pk=locked.pk)
        horizon = locked.unknown_since + timedelta(seconds=settings.PAYOUT_UNKNOWN_HORIZON)
        if now >= horizon:
            locked.recheck_at = None
            audit_record(
                actor=None,
                obj=locked.grant,
                action="unknown_flagged",
                note=_(
                    "No confirmation from the provider %(since)s after the payment was given "
                    "up on: its amount stays committed. Ask the provider whether it paid, then "
                    "record its answer."
                )
                % {"since": _duration(now - locked.unknown_since)},
            )
        else:
            locked.recheck_at = min(now + recheck_delay(locked.rechecks), horizon)
        locked.save(
            update_fields=["rechecks", "not_found", "last_error", "recheck_at", "updated_at"]
        )
        return locked


def disbursement_outcome_record(
    *, grant: Grant, paid: bool, note: str, actor, reference: str = ""
) -> Grant:
    """Record by hand the answer the provider gave staff about a payment: for a grant whose
    outcome is unknown (flagged at the horizon, or held for another amount), or a failed grant
    that the provider's statement shows paid after all. Paid (with the provider's reference):
    the grant is disbursed, booked past the fund's total if need be. Not paid: it fails and its
    amount goes back to the fund. Audited with the staff member and their note."""
    if not note.strip():
        raise ValidationError(
            _("Say how the provider confirmed it (who, when, which statement)."),
            code="note_empty",
        )
    permission_require(
        actor, "donations.schedule_grant", doing=_("record a payment provider's answer")
    )
    if paid and not reference.strip():
        raise ValidationError(
            _("Give the provider's reference for the payment."), code="reference_empty"
        )
    current = Grant.objects.only("status").get(pk=grant.pk).status
    allowed = (Grant.Status.UNKNOWN, Grant.Status.FAILED) if paid else (Grant.Status.UNKNOWN,)
    if current not in allowed:
        raise ValidationError(
            _("%(grant)s is %(status)s; there is no open question about its payment.")
            % {"grant": grant, "status": Grant.Status(current).label},
            code="illegal_transition",
        )
    disbursement = Disbursement.objects.get(grant_id=grant.pk)
    with transaction.atomic(durable=True):
        if paid:
            disbursement_succeed(
                disbursement=disbursement,
                reference=reference.strip(),
                action="outcome_recorded",
                actor=actor,
            )
            audit_record(actor=actor, obj=grant, action="outcome_recorded", note=note.strip())
        else:
            grant_fail(
                grant=grant,
                reason=_("The provider confirmed no payment was made: %(note)s")
                % {"note": note.strip()},
                actor=actor,
            )
    return Grant.objects.get(pk=grant.pk)


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return _("%(n)s minutes") % {"n": minutes}
    if minutes < 48 * 60:
        return _("%(n)s hours") % {"n": minutes // 60}
    return _("%(n)s days") % {"n": minutes // (24 * 60)}


def _user_or_none(actor):
    return actor if getattr(actor, "is_authenticated", False) else None
