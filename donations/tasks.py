"""Disbursement jobs: thin tasks that call the payment services and decide retries.

Every task is safe to run twice or concurrently: the services re-read the rows under lock and
the provider recognises the grant's idempotency key. They are acknowledged late (settings), so
a worker killed mid-task hands its message back to the broker.
"""

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings

from .models import Disbursement
from .services import disbursement_pay, disbursement_reconcile, disbursements_sweep


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


@shared_task(acks_late=True)
def start_disbursement_batch(batch_id: int) -> int:
    """Fan a scheduled batch out into one payment task per grant (here, not in the web request,
    so scheduling thousands stays instant). Returns how many were queued."""
    queued = 0
    pending = Disbursement.objects.filter(batch_id=batch_id, status=Disbursement.Status.PENDING)
    for disbursement_id in pending.values_list("pk", flat=True).iterator(chunk_size=2000):
        pay_disbursement.delay(disbursement_id)
        queued += 1
    return queued


@shared_task(bind=True, acks_late=True, max_retries=None)
def pay_disbursement(self, disbursement_id: int):
    """Pay one grant. A transient provider error is tried again with exponential backoff and
    full jitter, up to PAYOUT_MAX_ATTEMPTS tries counted in the database (so a task re-queued
    by the sweeper does not start counting afresh); then the grant fails, unless the provider
    is found to have paid after all."""
    disbursement = disbursement_pay(disbursement_id=disbursement_id)
    if disbursement.status != Disbursement.Status.PROCESSING:
        return disbursement.status
    if disbursement.attempts >= settings.PAYOUT_MAX_ATTEMPTS:
        return disbursement_reconcile(disbursement=disbursement, give_up=True).status
    countdown = retry_countdown(disbursement.attempts)
    # Returned rather than raised: the retry is queued all the same and this run ends normally,
    # and when tasks run eagerly Celery runs the returned retry at once.
    return self.retry(countdown=countdown, throw=False)


@shared_task(acks_late=True)
def sweep_disbursements() -> int:
    """Reconcile payments stuck pending or processing (see PAYOUT_STALE_AFTER)."""
    return disbursements_sweep()
