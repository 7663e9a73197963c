"""Disbursement jobs: thin tasks that call the payment services and decide retries.

Every task is safe to run twice or concurrently: the services re-read the rows under lock and
the provider recognises the grant's idempotency key. They are acknowledged late (settings), so
a worker killed mid-task hands its message back to the broker.

Each task's name is written out: services enqueue it by that name once they commit
(`changemakers.core.jobs.enqueue_on_commit`) and beat schedules it by it, so renaming or
moving a function keeps it.
"""

import logging
from collections import Counter
from itertools import batched

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded, Terminated, TimeLimitExceeded
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import InterfaceError, OperationalError

from .models import Disbursement, NonprofitSignInLink, PayoutDetailsChange
from .payouts import RetryableError
from .services import (
    disbursement_pay,
    disbursement_received_record,
    disbursement_reconcile,
    disbursements_pay,
    disbursements_sweep,
    finance_alert_email,
    nonprofit_link_email,
    nonprofit_link_request,
    payout_change_notice_email,
    provider_event_handle,
)

logger = logging.getLogger(__name__)

# Raised into a task to stop it: never caught as one payment's error.
INTERRUPTIONS = (SoftTimeLimitExceeded, TimeLimitExceeded, Terminated)
# The database down, restarting, or a deadlock: every grant of a chunk would fail alike.
DATABASE_DOWN = (OperationalError, InterfaceError)


def retry_countdown(attempts: int) -> int:
    """Seconds before the next try after `attempts` tries: a random wait up to
    PAYOUT_RETRY_BACKOFF * 2^(attempts - 1), capped at PAYOUT_RETRY_BACKOFF_MAX ("full jitter",
    so a provider outage does not end with every retry arriving at the same moment)."""
    return get_exponential_backoff_interval(
        factor=settings.PAYOUT_RETRY_BACKOFF,
        retries=max(attempts - 1, 0),
        maximum=settings.PAYOUT_RETRY_BACKOFF_MAX,
        full_jitter=True,
    )


@shared_task(name="donations.tasks.start_disbursement_batch", acks_late=True)
def start_disbursement_batch(batch_id: int) -> int:
    """Fan a scheduled batch out into payment tasks (here, not in the web request, so
    scheduling thousands stays instant): one `pay_disbursement` per grant for a small batch,
    `pay_disbursements` per PAYOUT_BATCH_CHUNK grants for a large one, which saves a message
    and a task's overhead per grant. Returns how many grants were queued."""
    # Only what is queued for the worker: a bank transfer made by hand has no `queued_at`.
    pending = Disbursement.objects.filter(
        batch_id=batch_id, status=Disbursement.Status.PENDING, queued_at__isnull=False
    )
    ids = list(pending.order_by("pk").values_list("pk", flat=True))
    chunk = settings.PAYOUT_BATCH_CHUNK
    if len(ids) <= chunk:
        for disbursement_id in ids:
            pay_disbursement.delay(disbursement_id)
    else:
        for part in batched(ids, chunk):
            pay_disbursements.delay(list(part))
    return len(ids)


def _after_attempt(disbursement: Disbursement, *, retry) -> str:
    """What follows one try: nothing when it is settled; for a transient error another try
    after a backoff (`retry(countdown)`), or, once PAYOUT_MAX_ATTEMPTS tries counted in the
    database are used up (a task re-queued by the sweeper does not start counting afresh),
    the grant fails unless the provider is found to have paid after all."""
    if getattr(disbursement, "in_flight", False):
        return "in_flight"  # another worker is paying it right now: it decides what follows
    if getattr(disbursement, "held", False):
        return "held"  # waits for its payee to be re-confirmed, which queues it again
    if disbursement.status != Disbursement.Status.PROCESSING:
        return disbursement.status
    if disbursement.attempts >= settings.PAYOUT_MAX_ATTEMPTS:
        return disbursement_reconcile(disbursement=disbursement, give_up=True).status
    retry(retry_countdown(disbursement.attempts))
    return "retrying"


@shared_task(name="donations.tasks.pay_disbursement", bind=True, acks_late=True, max_retries=None)
def pay_disbursement(self, disbursement_id: int):
    """Pay one grant; a transient provider error is tried again with exponential backoff and
    full jitter (see `_after_attempt`)."""
    disbursement = disbursement_pay(disbursement_id=disbursement_id)
    retried = []
    status = _after_attempt(
        disbursement,
        retry=lambda countdown: retried.append(self.retry(countdown=countdown, throw=False)),
    )
    # The retry is returned rather than raised: it is queued all the same and this run ends
    # normally, and when tasks run eagerly Celery runs a returned retry at once.
    return retried[0] if retried else status


@shared_task(name="donations.tasks.pay_disbursements", bind=True, acks_late=True, max_retries=None)
def pay_disbursements(self, disbursement_ids: list[int]) -> dict[str, int]:
    """Pay several grants of a batch together (`disbursements_pay`: each by its own
    idempotency key, claimed and recorded in one transaction each for the whole chunk). A
    grant that hits a transient error goes on alone as a `pay_disbursement` retry. Should the
    chunk fail as a whole (an unexpected error), each grant is paid again on its own, so one
    bad grant is logged and left to the sweeper while the others are still paid; the soft time
    limit ends the whole task, leaving the rest to the sweeper. When the database cannot be
    reached, the whole chunk is tried again after a backoff (paying each alone would fail each
    in turn, leaving them all to the sweeper), up to PAYOUT_MAX_ATTEMPTS times. Returns the
    count of each outcome."""
    outcomes: Counter[str] = Counter()
    try:
        paid = disbursements_pay(disbursement_ids=disbursement_ids)
    except INTERRUPTIONS:
        raise
    except DATABASE_DOWN:
        if self.request.retries < settings.PAYOUT_MAX_ATTEMPTS:
            logger.warning(
                "The database cannot be reached; the chunk of %s grants is tried again later.",
                len(disbursement_ids),
            )
            # Returned, not raised, as `pay_disbursement` does.
            return self.retry(countdown=retry_countdown(self.request.retries + 1), throw=False)
        logger.exception(
            "Paying disbursements %s together failed; left to the sweeper.", disbursement_ids
        )
        return {"error": len(disbursement_ids)}
    except Exception:
        logger.exception(
            "Paying disbursements %s together failed; paying them one by one.", disbursement_ids
        )
        paid = {}
    for disbursement_id in disbursement_ids:
        try:
            disbursement = paid.get(disbursement_id) or disbursement_pay(
                disbursement_id=disbursement_id
            )
            outcome = _after_attempt(
                disbursement,
                retry=lambda countdown, pk=disbursement_id: pay_disbursement.apply_async(
                    (pk,), countdown=countdown
                ),
            )
        except INTERRUPTIONS:
            # The soft time limit (or a termination) ends the task, not just this grant: the
            # disbursements left pending or processing are the sweeper's to finish.
            raise
        except Exception:
            logger.exception(
                "Paying disbursement %s failed; the sweeper will retry it.", disbursement_id
            )
            outcome = "error"
        outcomes[outcome] += 1
    return dict(outcomes)


@shared_task(name="donations.tasks.sweep_disbursements", acks_late=True)
def sweep_disbursements() -> int:
    """Reconcile payments stuck pending or processing (see PAYOUT_STALE_AFTER)."""
    return disbursements_sweep()


@shared_task(
    name="donations.tasks.send_nonprofit_link",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_nonprofit_link(link_id: int) -> bool:
    """Email a nonprofit contact their sign-in link (nothing if it is no longer usable)."""
    link = (
        NonprofitSignInLink.objects.select_related("contact__user", "contact__nonprofit")
        .filter(pk=link_id)
        .first()
    )
    if link is None:
        return False
    return nonprofit_link_email(link=link)


@shared_task(
    name="donations.tasks.send_requested_nonprofit_link",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_requested_nonprofit_link(email: str) -> bool:
    """Someone asked for a sign-in link for `email` on the public page: send one if it is an
    active contact's, within the hourly limit. Takes the address, not a contact's id: looking
    it up in the request would make the page slower for contacts than for anyone else."""
    return nonprofit_link_request(email=email) is not None


@shared_task(
    name="donations.tasks.send_payout_change_notice",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_payout_change_notice(change_id: int) -> int:
    """Tell a nonprofit's contacts that its payout details were changed (approved change)."""
    change = PayoutDetailsChange.objects.filter(pk=change_id).first()
    return 0 if change is None else payout_change_notice_email(change=change)


@shared_task(name="donations.tasks.handle_provider_event", acks_late=True)
def handle_provider_event(event_id: int) -> str:
    """Act on a webhook event stored by the endpoint (once: a handled event is left alone)."""
    return provider_event_handle(event_id=event_id).type


@shared_task(
    name="donations.tasks.send_finance_alert",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_finance_alert(kind: str, object_id: int) -> int:
    """Email the finance approvers what the provider reported (a reversal, a bank refusing a
    payout, a batch held for the platform's account)."""
    return finance_alert_email(kind=kind, object_id=object_id)


@shared_task(name="donations.tasks.record_money_received", bind=True, acks_late=True, max_retries=5)
def record_money_received(self, disbursement_id: int):
    """Record what arrived of a payment made, in the payee's currency. A provider that cannot
    be asked just now is asked again with backoff; once the retries are used up, the sweeper
    asks again later. The payment itself is booked already, whatever happens here."""
    try:
        return disbursement_received_record(disbursement_id=disbursement_id).received_currency
    except RetryableError as error:
        if self.request.retries >= self.max_retries:
            logger.warning("Gave up asking what arrived of %s: %s", disbursement_id, error)
            return ""
        # Returned, not raised, as `pay_disbursement` does.
        return self.retry(countdown=retry_countdown(self.request.retries + 1), throw=False)
