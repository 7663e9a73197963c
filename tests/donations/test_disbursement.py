"""Paying grants: scheduling, the pay task, provider failures, retries, crashes and races.

Whatever happens, a grant is paid at most once and the fund's books stay right: `committed` is
the sum of its approved-to-disbursed grants and `disbursed` the sum of its paid ones.
"""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.test import override_settings
from django.utils import timezone

from changemakers.core.models import AuditEvent
from donations.models import Disbursement, Fund, Grant, SandboxPayment
from donations.payouts import Payment, get_provider
from donations.payouts.sandbox import SandboxProvider
from donations.services import (
    disbursement_outcome_record,
    disbursement_pay,
    disbursement_reconcile,
    disbursement_record_payment,
    disbursement_succeed,
    disbursements_sweep,
    fund_overspend_resolve,
    grant_approve,
    grant_cancel,
    grant_fail,
    grant_hold,
    grant_propose,
    grant_retry,
    grant_schedule,
    grants_schedule,
    nonprofit_verify,
)
from donations.services import payments as payments_service
from donations.services.payments import _claim
from donations.tasks import pay_disbursement, pay_disbursements, retry_countdown
from tests.donations.payees import payee_changed
from tests.factories import FundFactory, GrantFactory, NonprofitFactory, UserFactory

AMOUNT = Decimal("25000.00")


@pytest.fixture
def fund(db):
    return FundFactory(total=Decimal("100000.00"))


def approved_grant(fund, staff, *, payee="acct-00001", amount=AMOUNT) -> Grant:
    nonprofit = NonprofitFactory(payout_reference=payee)
    nonprofit_verify(nonprofit=nonprofit, actor=staff)
    grant = GrantFactory(fund=fund, nonprofit=nonprofit, amount=amount)
    return grant_approve(grant=grant, actor=staff)


def assert_books_balance(fund: Fund) -> None:
    fund.refresh_from_db()
    grants = fund.grants.all()
    committed = grants.committing().aggregate(s=Sum("amount"))["s"] or Decimal(0)
    disbursed = grants.filter(status="disbursed").aggregate(s=Sum("amount"))["s"] or Decimal(0)
    assert fund.committed == committed
    assert fund.disbursed == disbursed
    paid = SandboxPayment.objects.filter(paid_at__isnull=False)
    assert paid.aggregate(s=Sum("amount"))["s"] or Decimal(0) == disbursed
    assert paid.count() == grants.filter(status="disbursed").count()


def actions(obj) -> list[str]:
    return list(AuditEvent.objects.for_object(obj).values_list("action", flat=True))


def schedule_and_run(grants, staff, capture):
    with capture(execute=True):
        return grants_schedule(grants=grants, actor=staff)


# --- Scheduling ------------------------------------------------------------------------------


def test_a_scheduled_batch_pays_each_grant_once(
    fund, staff_user, django_capture_on_commit_callbacks
):
    grants = [approved_grant(fund, staff_user) for _ in range(3)]

    batch = schedule_and_run(grants, staff_user, django_capture_on_commit_callbacks)

    assert batch.size == 3
    for grant in grants:
        grant.refresh_from_db()
        assert grant.status == Grant.Status.DISBURSED
        assert grant.disbursed_at is not None
        disbursement = grant.disbursement
        assert disbursement.batch == batch
        assert disbursement.status == Disbursement.Status.SUCCEEDED
        assert disbursement.attempts == 1
        assert disbursement.idempotency_key == str(grant.idempotency_key)
        payment = SandboxPayment.objects.get(idempotency_key=disbursement.idempotency_key)
        assert payment.reference == disbursement.provider_reference
        assert payment.requests == 1
        assert actions(grant) == ["approved", "scheduled", "payment_started", "disbursed"]
        assert actions(disbursement) == ["created", "payment_started", "disbursed"]
    assert_books_balance(fund)
    assert fund.disbursed == Decimal("75000.00")


def test_scheduling_is_audited_with_who_and_from_where(
    fund, staff_user, django_capture_on_commit_callbacks
):
    grant = approved_grant(fund, staff_user)
    with django_capture_on_commit_callbacks(execute=False):
        batch = grants_schedule(grants=[grant.pk], actor=staff_user)
    event = AuditEvent.objects.for_object(grant).get(action="scheduled")
    assert (event.actor, event.from_state, event.to_state) == (staff_user, "approved", "scheduled")
    assert event.note == str(batch)


def test_a_double_click_schedules_nothing_twice(
    fund, staff_user, django_capture_on_commit_callbacks
):
    grant = approved_grant(fund, staff_user)
    with django_capture_on_commit_callbacks() as callbacks:
        grants_schedule(grants=[grant], actor=staff_user)
        with pytest.raises(ValidationError, match="None of these grants is approved"):
            grants_schedule(grants=[grant], actor=staff_user)
    assert len(callbacks) == 1
    assert Disbursement.objects.count() == 1
    assert grant_schedule(grant=grant, actor=staff_user).status == Grant.Status.SCHEDULED


def test_only_approved_grants_are_scheduled(fund, staff_user):
    proposed = GrantFactory(fund=fund)
    with pytest.raises(ValidationError, match="None of these grants is approved"):
        grants_schedule(grants=[proposed], actor=staff_user)
    with pytest.raises(ValidationError, match="cannot go from “Proposed” to “Scheduled”"):
        grant_schedule(grant=proposed, actor=staff_user)
    assert not Disbursement.objects.exists()


def test_a_batch_leaves_out_grants_no_longer_approved(
    fund, staff_user, django_capture_on_commit_callbacks
):
    ready = approved_grant(fund, staff_user)
    cancelled = approved_grant(fund, staff_user)
    grant_cancel(grant=cancelled, actor=staff_user, reason="Duplicate")

    batch = schedule_and_run([ready, cancelled], staff_user, django_capture_on_commit_callbacks)

    assert batch.size == 1
    assert list(batch.disbursements.values_list("grant", flat=True)) == [ready.pk]


# --- Cancelling ------------------------------------------------------------------------------


def test_cancelling_a_scheduled_grant_calls_off_its_payment(
    fund, staff_user, django_capture_on_commit_callbacks
):
    grant = approved_grant(fund, staff_user)
    with django_capture_on_commit_callbacks() as queued:
        grants_schedule(grants=[grant], actor=staff_user)

    grant_cancel(grant=grant, actor=staff_user, reason="The nonprofit closed")
    for callback in queued:  # the task was already on its way
        callback()

    grant.refresh_from_db()
    assert grant.status == Grant.Status.CANCELLED
    assert grant.disbursement.status == Disbursement.Status.CANCELLED
    assert not SandboxPayment.objects.exists()
    assert_books_balance(fund)
    assert fund.committed == 0


def test_a_grant_being_paid_cannot_be_cancelled(
    fund, staff_user, django_capture_on_commit_callbacks
):
    grant = approved_grant(fund, staff_user)
    with django_capture_on_commit_callbacks():  # held: the test plays the worker
        grants_schedule(grants=[grant], actor=staff_user)
    _claim(grant.disbursement.pk)

    with pytest.raises(ValidationError, match="being paid or paid already"):
        grant_cancel(grant=grant, actor=staff_user, reason="Too late")
    grant.refresh_from_db()
    assert grant.status == Grant.Status.PROCESSING


# --- Provider failures -----------------------------------------------------------------------


def test_a_refused_payment_fails_the_grant_and_gives_the_money_back(
    fund, staff_user, django_capture_on_commit_callbacks
):
    grant = approved_grant(fund, staff_user, payee="sandbox-fail")

    schedule_and_run([grant], staff_user, django_capture_on_commit_callbacks)

    grant.refresh_from_db()
    assert grant.status == Grant.Status.FAILED
    assert "account is closed" in grant.status_reason
    assert grant.disbursement.status == Disbursement.Status.FAILED
    assert grant.disbursement.attempts == 1  # a final error is not retried
    assert actions(grant)[-1] == "failed"
    assert_books_balance(fund)
    assert fund.committed == 0


@override_settings(PAYOUT_MAX_ATTEMPTS=4)
def test_timeouts_are_retried_then_the_outcome_is_unknown_and_the_money_stays_committed(
    fund, staff_user, django_capture_on_commit_callbacks
):
    grant = approved_grant(fund, staff_user, payee="sandbox-timeout")

    schedule_and_run([grant], staff_user, django_capture_on_commit_callbacks)

    grant.refresh_from_db()
    assert grant.disbursement.attempts == 4
    assert grant.status == Grant.Status.UNKNOWN
    assert grant.disbursement.status == Disbursement.Status.UNKNOWN
    assert grant.status_reason.startswith("Gave up after 4 attempts: The sandbox did not answer")
    assert actions(grant).count("payment_error") == 4
    assert actions(grant)[-1] == "outcome_unknown"
    assert_books_balance(fund)
    assert fund.committed == AMOUNT  # not released: the provider may still pay it


def test_a_flaky_provider_is_paid_on_the_retry(
    fund, staff_user, django_capture_on_commit_callbacks
):
    grant = approved_grant(fund, staff_user, payee="sandbox-flaky")

    schedule_and_run([grant], staff_user, django_capture_on_commit_callbacks)

    grant.refresh_from_db()
    assert grant.status == Grant.Status.DISBURSED
    assert grant.disbursement.attempts == 2
    assert SandboxPayment.objects.get().requests == 2
    assert_books_balance(fund)


def test_a_lost_response_is_retried_and_the_payment_found_not_repeated(
    fund, staff_user, django_capture_on_commit_callbacks
):
    grant = approved_grant(fund, staff_user, payee="sandbox-lose-response")

    schedule_and_run([grant], staff_user, django_capture_on_commit_callbacks)

    grant.refresh_from_db()
    assert grant.status == Grant.Status.DISBURSED
    payment = SandboxPayment.objects.get()
    assert payment.requests == 2
    assert grant.disbursement.provider_reference == payment.reference
    assert_books_balance(fund)


@override_settings(PAYOUT_RETRY_BACKOFF=5, PAYOUT_RETRY_BACKOFF_MAX=60)
def test_retries_back_off_exponentially_with_jitter_up_to_a_cap():
    for attempts, ceiling in [(1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (9, 60)]:
        waits = {retry_countdown(attempts) for _ in range(200)}
        assert max(waits) <= ceiling
        assert min(waits) >= 0
        assert len(waits) > 1  # jittered, not all at the same moment


# --- Retrying a failed grant -----------------------------------------------------------------


def test_a_failed_grant_is_retried_once_its_details_are_fixed(
    fund, staff_user, django_capture_on_commit_callbacks
):
    grant = approved_grant(fund, staff_user, payee="sandbox-fail")
    schedule_and_run([grant], staff_user, django_capture_on_commit_callbacks)
    payee_changed(grant, "acct-fixed")

    with django_capture_on_commit_callbacks(execute=True):
        grant_retry(grant=grant, actor=staff_user)

    grant.refresh_from_db()
    assert grant.status == Grant.Status.DISBURSED
    assert grant.status_reason == ""
    assert grant.disbursement.attempts == 1  # counted afresh since the retry
    assert actions(grant)[-6:] == [
        "failed",
        "held",
        "hold_released",
        "retried",
        "payment_started",
        "disbursed",
    ]
    assert_books_balance(fund)


def test_retrying_commits_the_money_again_and_is_refused_when_the_fund_has_none_left(
    staff_user, django_capture_on_commit_callbacks
):
    fund = FundFactory(total=AMOUNT)
    failed = approved_grant(fund, staff_user, payee="sandbox-fail")
    schedule_and_run([failed], staff_user, django_capture_on_commit_callbacks)
    approved_grant(fund, staff_user)  # took the money back

    with pytest.raises(ValidationError, match="Not enough left"):
        grant_retry(grant=failed, actor=staff_user)
    failed.refresh_from_db()
    assert failed.status == Grant.Status.FAILED
    assert_books_balance(fund)


def test_only_failed_grants_are_retried(fund, staff_user):
    grant = approved_grant(fund, staff_user)
    with pytest.raises(ValidationError, match="cannot go from “Approved” to “Scheduled”"):
        grant_retry(grant=grant, actor=staff_user)


def test_a_retry_finds_a_payment_that_went_through_after_all(
    fund, staff_user, django_capture_on_commit_callbacks
):
    """Given up on after timeouts, but the provider did pay in the end: the retry sends the
    same key, gets that payment back, and nothing is paid twice."""
    grant = approved_grant(fund, staff_user, payee="sandbox-timeout")
    with override_settings(PAYOUT_MAX_ATTEMPTS=2):
        schedule_and_run([grant], staff_user, django_capture_on_commit_callbacks)
    confirm_not_paid(grant)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.FAILED
    # The provider's late payment, as its own ledger would show it.
    payee_changed(grant, "acct-fixed")
    late = get_provider().pay(
        idempotency_key=str(grant.idempotency_key),
        amount=AMOUNT,
        currency="USD",
        payee="acct-fixed",
    )

    with django_capture_on_commit_callbacks(execute=True):
        grant_retry(grant=grant, actor=staff_user)

    grant.refresh_from_db()
    assert grant.status == Grant.Status.DISBURSED
    assert grant.disbursement.provider_reference == late.reference
    assert SandboxPayment.objects.count() == 1
    assert_books_balance(fund)


def test_marking_failed_needs_a_reason_and_gives_the_money_back(
    fund, staff_user, django_capture_on_commit_callbacks
):
    grant = approved_grant(fund, staff_user)
    with django_capture_on_commit_callbacks():  # held: the test plays the worker
        grants_schedule(grants=[grant], actor=staff_user)
    with pytest.raises(ValidationError, match="Say why"):
        grant_fail(grant=grant, reason=" ", actor=staff_user)

    grant_fail(grant=grant, reason="Bank holiday rejection", actor=staff_user)

    grant.refresh_from_db()
    assert grant.status == Grant.Status.FAILED
    assert grant.disbursement.status == Disbursement.Status.FAILED
    assert_books_balance(fund)


# --- Running twice, crashing, sweeping -------------------------------------------------------


def test_running_the_pay_task_again_after_payment_pays_nothing(
    fund, staff_user, django_capture_on_commit_callbacks
):
    grant = approved_grant(fund, staff_user)
    schedule_and_run([grant], staff_user, django_capture_on_commit_callbacks)
    disbursement = grant.disbursement

    assert pay_disbursement.delay(disbursement.pk).get() == "succeeded"
    assert disbursement_pay(disbursement_id=disbursement.pk).status == "succeeded"

    assert SandboxPayment.objects.get().requests == 1
    assert actions(grant).count("disbursed") == 1
    assert_books_balance(fund)


def test_a_worker_that_died_after_the_provider_paid_is_reconciled_by_the_sweeper(
    fund, staff_user, django_capture_on_commit_callbacks
):
    grant = approved_grant(fund, staff_user)
    with django_capture_on_commit_callbacks():  # held: the test plays the worker
        grants_schedule(grants=[grant], actor=staff_user)
    # The worker claims the payment, the provider pays... and the worker dies before recording.
    disbursement = _claim(grant.disbursement.pk)
    paid = get_provider().pay(
        idempotency_key=disbursement.idempotency_key, amount=AMOUNT, currency="USD", payee=""
    )

    assert disbursements_sweep() == 0  # not stale yet: it may still be answered
    with django_capture_on_commit_callbacks(execute=True):
        later = timezone.now() + timedelta(hours=1)
        assert disbursements_sweep(now=later) == 1

    grant.refresh_from_db()
    assert grant.status == Grant.Status.DISBURSED
    assert grant.disbursement.provider_reference == paid.reference
    assert SandboxPayment.objects.get().requests == 1  # found by key, not paid again
    assert actions(grant)[-1] == "reconciled"
    assert_books_balance(fund)


def test_the_sweeper_requeues_payments_whose_task_was_lost(
    fund, staff_user, django_capture_on_commit_callbacks
):
    """A broker restart empties the queue; the database still says the payment is pending."""
    grant = approved_grant(fund, staff_user)
    with django_capture_on_commit_callbacks():  # the message is lost
        grants_schedule(grants=[grant], actor=staff_user)
    fresh = approved_grant(fund, staff_user)
    with django_capture_on_commit_callbacks():
        grants_schedule(grants=[fresh], actor=staff_user)
    Disbursement.objects.filter(grant=fresh).update(queued_at=timezone.now() + timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        later = timezone.now() + timedelta(seconds=settings.PAYOUT_STALE_AFTER + 60)
        swept = disbursements_sweep(now=later)

    assert swept == 1
    grant.refresh_from_db()
    fresh.refresh_from_db()
    assert grant.status == Grant.Status.DISBURSED
    assert fresh.status == Grant.Status.SCHEDULED  # not stale: left alone
    assert_books_balance(fund)


# --- Races (real PostgreSQL, real threads) ----------------------------------------------------


def run_together(count: int, work) -> list:
    barrier = threading.Barrier(count)
    outcomes: list = []

    def run(index):
        try:
            barrier.wait()
            outcomes.append(work(index))
        except ValidationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_pay_tasks_for_one_grant_pay_it_once(held_tasks):
    staff = UserFactory(is_staff=True, is_superuser=True)
    fund = FundFactory(total=Decimal("100000.00"))
    grant = approved_grant(fund, staff)
    grants_schedule(grants=[grant], actor=staff)
    disbursement_id = grant.disbursement.pk

    def deliver(_):
        disbursement = disbursement_pay(disbursement_id=disbursement_id)
        return "in_flight" if getattr(disbursement, "in_flight", False) else disbursement.status

    outcomes = run_together(8, deliver)

    # One paid it. The ones that came while it was paying left it to that one; the ones that
    # came after found it paid. None of them counted a try.
    assert len(outcomes) == 8
    assert "succeeded" in outcomes
    assert set(outcomes) <= {"succeeded", "in_flight"}
    assert Disbursement.objects.get(pk=disbursement_id).attempts == 1
    grant.refresh_from_db()
    assert grant.status == Grant.Status.DISBURSED
    assert SandboxPayment.objects.filter(paid_at__isnull=False).count() == 1
    assert actions(grant).count("disbursed") == 1
    assert_books_balance(fund)
    assert fund.disbursed == AMOUNT


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_overlapping_batches_schedule_each_grant_once(held_tasks):
    staff = UserFactory(is_staff=True, is_superuser=True)
    fund = FundFactory(total=Decimal("1000000.00"))
    grants = [approved_grant(fund, staff) for _ in range(12)]
    ids = [g.pk for g in grants]

    outcomes = run_together(
        4, lambda i: grants_schedule(grants=ids[i * 2 :] + ids[: i * 2], actor=staff).size
    )

    scheduled = [o for o in outcomes if isinstance(o, int)]
    assert sum(scheduled) == 12
    assert outcomes.count("nothing_to_schedule") == 4 - len(scheduled)
    assert Disbursement.objects.count() == 12
    assert Grant.objects.filter(status=Grant.Status.SCHEDULED).count() == 12


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_cancel_racing_the_pay_task_either_cancels_or_pays_never_both(held_tasks):
    staff = UserFactory(is_staff=True, is_superuser=True)
    fund = FundFactory(total=Decimal("1000000.00"))
    for _ in range(10):
        grant = approved_grant(fund, staff)
        grants_schedule(grants=[grant], actor=staff)
        disbursement_id = grant.disbursement.pk

        def work(index, grant=grant, disbursement_id=disbursement_id):
            if index == 0:
                return disbursement_pay(disbursement_id=disbursement_id).status
            return grant_cancel(grant=grant, actor=staff, reason="Race").status

        run_together(2, work)
        grant.refresh_from_db()
        paid = SandboxPayment.objects.filter(idempotency_key=str(grant.idempotency_key)).exists()
        assert grant.status in (Grant.Status.DISBURSED, Grant.Status.CANCELLED)
        assert paid == (grant.status == Grant.Status.DISBURSED)
    assert_books_balance(fund)


# --- Large batches: several grants per task message ----------------------------------------


@override_settings(PAYOUT_BATCH_CHUNK=2, PAYOUT_RETRY_BACKOFF=0)
def test_a_large_batch_is_paid_in_chunks_each_grant_on_its_own(
    fund, staff_user, django_capture_on_commit_callbacks
):
    payees = ["acct-1", "acct-2", "sandbox-flaky", "sandbox-fail", "sandbox-lose-response"]
    grants = [
        approved_grant(fund, staff_user, payee=payee, amount=Decimal(1000)) for payee in payees
    ]

    schedule_and_run(grants, staff_user, django_capture_on_commit_callbacks)

    statuses = [Grant.objects.get(pk=g.pk).status for g in grants]
    assert statuses == ["disbursed", "disbursed", "disbursed", "failed", "disbursed"]
    assert SandboxPayment.objects.filter(paid_at__isnull=False).count() == 4
    assert_books_balance(fund)


def test_one_broken_payment_in_a_chunk_does_not_stop_the_others(fund, staff_user):
    grants = [approved_grant(fund, staff_user) for _ in range(2)]
    grants_schedule(grants=grants, actor=staff_user)  # on-commit tasks do not run here
    ids = [g.disbursement.pk for g in Grant.objects.filter(pk__in=[g.pk for g in grants])]

    outcomes = pay_disbursements([ids[0], 999_999, ids[1]])

    assert outcomes == {"succeeded": 2, "error": 1}
    assert_books_balance(fund)
    assert fund.disbursed == Decimal("50000.00")


# --- Found in review: races between a give-up, retries and staff ----------------------------


def test_a_give_up_never_fails_a_payment_another_attempt_has_in_flight(
    fund, staff_user, django_capture_on_commit_callbacks
):
    """Chain A used its last try; chain B (a sweep's re-queue) has started another, whose
    request is still on its way. A's lookup finds nothing yet, but A must not fail the grant
    and give its money back: B's payment lands a moment later."""
    grant = approved_grant(fund, staff_user)
    with django_capture_on_commit_callbacks():
        grants_schedule(grants=[grant], actor=staff_user)
    seen_by_a = _claim(grant.disbursement.pk)
    _claim(grant.disbursement.pk)  # chain B's attempt

    after = disbursement_reconcile(disbursement=seen_by_a, give_up=True)

    assert after.status == Disbursement.Status.PROCESSING
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.PROCESSING
    with pytest.raises(ValidationError, match="being paid"):
        grant_cancel(grant=grant, actor=staff_user, reason="Looks stuck")
    landed = get_provider().pay(
        idempotency_key=after.idempotency_key, amount=AMOUNT, currency="USD", payee=""
    )
    disbursement_succeed(disbursement=after, reference=landed.reference)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.DISBURSED
    assert_books_balance(fund)


@override_settings(PAYOUT_MAX_ATTEMPTS=3, PAYOUT_RETRY_BACKOFF=0)
def test_a_staff_retry_after_the_tries_ran_out_gets_fresh_tries(
    fund, staff_user, django_capture_on_commit_callbacks
):
    grant = approved_grant(fund, staff_user, payee="sandbox-timeout")
    schedule_and_run([grant], staff_user, django_capture_on_commit_callbacks)
    confirm_not_paid(grant)
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.FAILED
    payee_changed(grant, "sandbox-flaky")

    with django_capture_on_commit_callbacks(execute=True):
        grant_retry(grant=grant, actor=staff_user)

    grant.refresh_from_db()
    assert grant.status == Grant.Status.DISBURSED
    assert grant.disbursement.attempts == 2


def test_amounts_finer_than_a_cent_are_refused_not_rounded(fund, staff_user):
    with pytest.raises(ValidationError, match="USD has 2 decimals"):
        grant_propose(fund=fund, nonprofit=NonprofitFactory(), amount="10.005", actor=staff_user)
    assert not Grant.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_schedule_payment_is_not_an_error(held_tasks):
    staff = UserFactory(is_staff=True, is_superuser=True)
    fund = FundFactory(total=Decimal("1000000.00"))
    for _ in range(5):
        grant = approved_grant(fund, staff)
        outcomes = run_together(
            2, lambda _, grant=grant: grant_schedule(grant=grant, actor=staff).status
        )
        assert outcomes == ["scheduled", "scheduled"]
    assert Disbursement.objects.count() == 5


# --- A payment given up on has an unknown outcome until the provider confirms --------------


@pytest.fixture
def given_up(fund, staff_user, django_capture_on_commit_callbacks):
    """A grant whose payment timed out on every try: its outcome unknown, its money committed."""
    grant = approved_grant(fund, staff_user, payee="sandbox-timeout")
    with override_settings(PAYOUT_MAX_ATTEMPTS=2):
        schedule_and_run([grant], staff_user, django_capture_on_commit_callbacks)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.UNKNOWN
    return grant


def sweep_when_due(grant: Grant) -> Disbursement:
    """Run the sweep at the moment the grant's payment is due to be asked about again."""
    due = Disbursement.objects.get(grant=grant).recheck_at
    assert due is not None
    assert disbursements_sweep(now=due - timedelta(seconds=1)) == 0  # not yet
    assert disbursements_sweep(now=due) == 1
    return Disbursement.objects.get(grant=grant)


def confirm_not_paid(grant: Grant) -> None:
    """Sweep until the provider has confirmed it made no payment for the grant."""
    for _ in range(payments_service.NOT_FOUND_CONFIRMATIONS):
        sweep_when_due(grant)
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.FAILED


def provider_paid_late(grant: Grant) -> str:
    """The provider carries out the grant's payment after all; returns its reference."""
    return (
        get_provider()
        .pay(idempotency_key=str(grant.idempotency_key), amount=AMOUNT, currency="USD", payee="")
        .reference
    )


def test_an_unknown_outcome_cannot_be_cancelled_or_retried(given_up, fund, staff_user):
    disbursement = given_up.disbursement
    stale_after = timedelta(seconds=settings.PAYOUT_STALE_AFTER)
    assert disbursement.recheck_at == disbursement.unknown_since + stale_after

    with pytest.raises(ValidationError, match="not known yet") as cancelling:
        grant_cancel(grant=given_up, actor=staff_user, reason="Looks stuck")
    with pytest.raises(ValidationError, match="not known yet") as retrying:
        grant_retry(grant=given_up, actor=staff_user)

    assert cancelling.value.code == retrying.value.code == "outcome_unknown"
    given_up.refresh_from_db()
    assert given_up.status == Grant.Status.UNKNOWN
    assert_books_balance(fund)
    assert fund.committed == AMOUNT
    # Nominating again while it is unknown is refused too: the grant is still the creator's.
    assert Grant.objects.filter(fund=fund, creator=given_up.creator).count() == 1


def test_a_late_payment_is_found_by_a_recheck_backing_off_and_booked(given_up, fund):
    first = given_up.disbursement.recheck_at

    nothing_yet = sweep_when_due(given_up)

    assert nothing_yet.status == Disbursement.Status.UNKNOWN
    assert nothing_yet.not_found == 1
    assert nothing_yet.recheck_at == first + timedelta(seconds=2 * settings.PAYOUT_STALE_AFTER)
    # The provider carries out the timed-out request after all, later still.
    late = get_provider().pay(
        idempotency_key=str(given_up.idempotency_key), amount=AMOUNT, currency="USD", payee=""
    )

    found = sweep_when_due(given_up)

    assert found.status == Disbursement.Status.SUCCEEDED
    assert found.recheck_at is None
    given_up.refresh_from_db()
    assert given_up.status == Grant.Status.DISBURSED
    assert found.provider_reference == late.reference
    assert actions(given_up)[-1] == "reconciled"
    assert_books_balance(fund)
    assert fund.disbursed == AMOUNT


def test_only_lookups_in_a_row_finding_nothing_confirm_no_payment(given_up, fund, staff_user):
    for _ in range(payments_service.NOT_FOUND_CONFIRMATIONS - 1):
        assert sweep_when_due(given_up).status == Disbursement.Status.UNKNOWN
        fund.refresh_from_db()
        assert fund.committed == AMOUNT

    confirmed = sweep_when_due(given_up)

    assert confirmed.status == Disbursement.Status.FAILED
    assert confirmed.recheck_at is None
    given_up.refresh_from_db()
    assert given_up.status == Grant.Status.FAILED
    assert "confirmed no payment" in given_up.status_reason
    assert_books_balance(fund)
    assert fund.committed == 0
    assert disbursements_sweep(now=timezone.now() + timedelta(days=30)) == 0  # asked no more
    assert grant_cancel(grant=given_up, actor=staff_user, reason="Gave up").status == "cancelled"


def test_a_lookup_that_cannot_reach_the_provider_confirms_nothing(fund, staff_user, given_up):
    SandboxPayment.objects.create(
        idempotency_key=str(given_up.idempotency_key),
        amount=AMOUNT,
        currency="USD",
        payee="sandbox-dark",  # the provider is unreachable for this key from now on
    )
    for _ in range(payments_service.NOT_FOUND_CONFIRMATIONS + 1):
        checked = sweep_when_due(given_up)
    assert checked.status == Disbursement.Status.UNKNOWN
    assert checked.not_found == 0
    assert checked.rechecks == payments_service.NOT_FOUND_CONFIRMATIONS + 1
    assert "could not be reached" in checked.last_error


def test_at_the_horizon_an_unconfirmed_payment_stays_unknown_committed_and_flagged(
    fund, staff_user, django_capture_on_commit_callbacks
):
    grant = approved_grant(fund, staff_user, payee="sandbox-dark")
    with override_settings(PAYOUT_MAX_ATTEMPTS=2):
        schedule_and_run([grant], staff_user, django_capture_on_commit_callbacks)
    disbursement = Disbursement.objects.get(grant=grant)
    horizon = disbursement.unknown_since + timedelta(seconds=settings.PAYOUT_UNKNOWN_HORIZON)

    sweeps = 0
    while disbursement.recheck_at is not None and sweeps < 30:
        disbursement = sweep_when_due(grant)
        sweeps += 1

    assert disbursement.status == Disbursement.Status.UNKNOWN
    assert disbursement.rechecks == sweeps
    assert 5 < sweeps < 20  # backed off: not once per sweep for a week
    assert disbursement.updated_at is not None
    assert list(Disbursement.objects.unknown_flagged()) == [disbursement]
    grant.refresh_from_db()
    assert grant.status == Grant.Status.UNKNOWN
    assert actions(grant)[-1] == "unknown_flagged"
    assert AuditEvent.objects.for_object(grant).last().occurred_at is not None
    assert_books_balance(fund)
    assert fund.committed == AMOUNT  # no money released without the provider's word
    assert disbursements_sweep(now=horizon + timedelta(days=30)) == 0
    with pytest.raises(ValidationError, match="not known yet"):
        grant_cancel(grant=grant, actor=staff_user, reason="A week without news")


def test_staff_record_the_providers_answer_for_a_flagged_payment(given_up, fund, staff_user):
    with pytest.raises(ValidationError, match="how the provider confirmed"):
        disbursement_outcome_record(grant=given_up, paid=False, note=" ", actor=staff_user)
    with pytest.raises(ValidationError, match="staff roles do not let you"):
        disbursement_outcome_record(
            grant=given_up, paid=False, note="Call", actor=UserFactory(is_staff=False)
        )

    failed = disbursement_outcome_record(
        grant=given_up, paid=False, note="Phoned the provider on Monday", actor=staff_user
    )

    assert failed.status == Grant.Status.FAILED
    assert "Phoned the provider on Monday" in failed.status_reason
    event = AuditEvent.objects.for_object(failed).last()
    assert (event.action, event.actor) == ("failed", staff_user)
    assert_books_balance(fund)
    assert fund.committed == 0


def test_staff_record_a_payment_the_provider_confirms_made(given_up, fund, staff_user):
    reference = provider_paid_late(given_up)

    paid = disbursement_outcome_record(
        grant=given_up, paid=True, reference=reference, note="Statement of May", actor=staff_user
    )

    assert paid.status == Grant.Status.DISBURSED
    assert paid.disbursement.provider_reference == reference
    assert actions(paid)[-2:] == ["outcome_recorded", "outcome_recorded"]
    fund.refresh_from_db()
    assert (fund.committed, fund.disbursed, fund.overspent) == (AMOUNT, AMOUNT, 0)


# --- A payment found made is booked, even past the fund's total ------------------------------


def fill(fund, staff):
    """Approve grants until the fund has nothing left."""
    fund.refresh_from_db()
    while fund.remaining >= AMOUNT:
        approved_grant(fund, staff)
        fund.refresh_from_db()
    assert fund.remaining == 0


def test_a_payment_found_made_when_the_fund_is_full_is_booked_as_an_overspend(
    fund, staff_user, django_capture_on_commit_callbacks
):
    """A grant failed after timeouts before the unknown state existed gave its money back and
    waits for its one recheck; the fund's room went to other grants meanwhile. The provider did
    pay it: it is booked all the same, and the fund shows the overspend."""
    grant = approved_grant(fund, staff_user, payee="sandbox-fail")
    schedule_and_run([grant], staff_user, django_capture_on_commit_callbacks)
    due = timezone.now()
    Disbursement.objects.filter(grant=grant).update(recheck_at=due)
    fill(fund, staff_user)
    late = SandboxPayment.objects.create(
        idempotency_key=str(grant.idempotency_key),
        amount=AMOUNT,
        currency="USD",
        reference="SBX-LATE",
        paid_at=due,
    )

    assert disbursements_sweep(now=due) == 1

    grant.refresh_from_db()
    assert grant.status == Grant.Status.DISBURSED
    assert grant.disbursement.provider_reference == late.reference
    fund.refresh_from_db()
    assert fund.overspent == AMOUNT
    assert fund.committed == fund.total + AMOUNT
    assert_books_balance(fund)
    assert actions(fund)[-1] == "overspent"
    # No decision overspends it further, in the code or in the database.
    with pytest.raises(ValidationError, match="Not enough left"):
        approved_grant(fund, staff_user, amount=Decimal("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Fund.objects.filter(pk=fund.pk).update(committed=F("committed") + 1)


def test_staff_booking_a_failed_grant_the_provider_paid_after_all_records_the_overspend(
    given_up, fund, staff_user
):
    confirm_not_paid(given_up)
    fill(fund, staff_user)

    disbursement_outcome_record(
        grant=given_up,
        paid=True,
        reference=provider_paid_late(given_up),
        note="On the statement",
        actor=staff_user,
    )

    fund.refresh_from_db()
    assert fund.overspent == AMOUNT
    assert_books_balance(fund)


def test_resolving_an_overspend_raises_the_total_audited(fund, staff_user, given_up):
    confirm_not_paid(given_up)
    fill(fund, staff_user)
    disbursement_outcome_record(
        grant=given_up,
        paid=True,
        reference=provider_paid_late(given_up),
        note="On the statement",
        actor=staff_user,
    )
    with pytest.raises(ValidationError, match="how the overspend is covered"):
        fund_overspend_resolve(fund=fund, actor=staff_user, note="")

    resolved = fund_overspend_resolve(fund=fund, actor=staff_user, note="Board topped it up")

    assert resolved.total == Decimal("125000.00")
    assert resolved.overspent == 0
    assert resolved.committed == resolved.total
    event = AuditEvent.objects.for_object(fund).last()
    assert event.action == "overspend_resolved"
    assert "Board topped it up" in event.note
    assert fund_overspend_resolve(fund=fund, actor=staff_user, note="again").total == (
        resolved.total
    )


def test_releasing_money_of_an_overspent_fund_first_reduces_the_overspend(
    fund, staff_user, given_up
):
    confirm_not_paid(given_up)
    fill(fund, staff_user)
    disbursement_outcome_record(
        grant=given_up,
        paid=True,
        reference=provider_paid_late(given_up),
        note="On the statement",
        actor=staff_user,
    )
    other = Grant.objects.filter(fund=fund, status=Grant.Status.APPROVED).first()

    grant_cancel(grant=other, actor=staff_user, reason="Withdrawn")

    fund.refresh_from_db()
    assert fund.overspent == 0
    assert fund.committed == fund.total
    assert_books_balance(fund)


# --- The provider's amount and currency must be the ones asked -------------------------------


@pytest.mark.parametrize(
    ("amount", "currency"), [(AMOUNT - 1, "USD"), (AMOUNT, "EUR")], ids=["amount", "currency"]
)
def test_a_late_payment_of_another_amount_or_currency_holds_the_grant(
    given_up, fund, amount, currency
):
    SandboxPayment.objects.create(
        idempotency_key=str(given_up.idempotency_key),
        amount=amount,
        currency=currency,
        reference="SBX-ODD",
        paid_at=timezone.now(),
    )

    held = sweep_when_due(given_up)

    given_up.refresh_from_db()
    assert given_up.held_at is not None
    assert "SBX-ODD" in given_up.hold_reason
    assert f"{currency} {amount:,}" in given_up.hold_reason
    assert given_up.status == Grant.Status.UNKNOWN  # not booked, not released
    assert held.recheck_at is None  # for staff now, not the sweeper
    assert list(Disbursement.objects.unknown_flagged()) == [held]
    assert actions(given_up)[-1] == "held"
    fund.refresh_from_db()
    assert (fund.committed, fund.disbursed) == (AMOUNT, 0)


def test_a_payment_answer_of_another_amount_holds_the_grant_not_books_it(fund, staff_user):
    grant = approved_grant(fund, staff_user)
    grants_schedule(grants=[grant], actor=staff_user)
    claimed = _claim(grant.disbursement.pk)

    after = disbursement_record_payment(
        disbursement=claimed, payment=Payment(reference="R-1", amount=AMOUNT, currency="EUR")
    )

    assert after.status == Disbursement.Status.UNKNOWN
    assert after.recheck_at is None
    grant.refresh_from_db()
    assert grant.status == Grant.Status.UNKNOWN
    assert "EUR 25,000.00" in grant.hold_reason
    assert_books_balance(fund)
    assert fund.committed == AMOUNT


def test_the_sandbox_reports_the_amount_and_currency_it_paid(fund):
    provider = get_provider()
    paid = provider.pay(idempotency_key="k-1", amount=Decimal("12.34"), currency="EUR", payee="x")
    found = provider.lookup(idempotency_key="k-1")
    assert (
        (paid.amount, paid.currency)
        == (found.amount, found.currency)
        == (
            Decimal("12.34"),
            "EUR",
        )
    )


def test_a_held_grant_is_held_once(given_up, staff_user):
    first = grant_hold(grant=given_up, reason="Amount differs", actor=staff_user)
    again = grant_hold(grant=given_up, reason="Other", actor=staff_user)
    assert again.held_at == first.held_at
    assert again.hold_reason == "Amount differs"
    assert actions(given_up).count("held") == 1


# --- Celery set for money: time limits, overlapping sweeps, what counts as an attempt --------


def test_a_soft_time_limit_in_a_chunk_ends_the_task_and_leaves_the_payment_to_the_sweeper(
    fund, staff_user, monkeypatch, django_capture_on_commit_callbacks
):
    """The soft limit is the warning before the worker is killed: the task must end, not log
    it as one grant's error and go on paying the rest of the chunk into the hard limit."""
    grants = [approved_grant(fund, staff_user) for _ in range(2)]
    grants_schedule(grants=grants, actor=staff_user)  # on-commit tasks do not run here
    ids = list(
        Disbursement.objects.filter(grant__in=grants).order_by("pk").values_list("pk", flat=True)
    )
    real_pay = SandboxProvider.pay

    def stalled(self, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(SandboxProvider, "pay", stalled)

    with pytest.raises(SoftTimeLimitExceeded):
        pay_disbursements(ids)

    assert not Grant.objects.filter(status=Grant.Status.FAILED).exists()
    assert set(Disbursement.objects.values_list("status", flat=True)) <= {"pending", "processing"}
    assert not SandboxPayment.objects.exists()
    monkeypatch.setattr(SandboxProvider, "pay", real_pay)
    with django_capture_on_commit_callbacks(execute=True):
        later = timezone.now() + timedelta(seconds=settings.PAYOUT_STALE_AFTER + 60)
        assert disbursements_sweep(now=later) == 2
    assert Grant.objects.filter(status=Grant.Status.DISBURSED).count() == 2
    assert_books_balance(fund)


def test_a_soft_time_limit_while_paying_one_grant_leaves_it_processing(
    fund, staff_user, monkeypatch
):
    grant = approved_grant(fund, staff_user)
    grants_schedule(grants=[grant], actor=staff_user)

    def stalled(self, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(SandboxProvider, "pay", stalled)

    with pytest.raises(SoftTimeLimitExceeded):
        pay_disbursement(grant.disbursement.pk)

    grant.refresh_from_db()
    assert grant.status == Grant.Status.PROCESSING
    assert grant.disbursement.status == Disbursement.Status.PROCESSING


def test_a_message_delivered_again_while_the_first_is_paying_neither_pays_nor_counts(
    fund, staff_user, monkeypatch
):
    """Redis handed the message to a second worker while the first is waiting on the
    provider: the second must not call the provider nor use up one of the tries."""
    grant = approved_grant(fund, staff_user)
    grants_schedule(grants=[grant], actor=staff_user)
    disbursement_id = grant.disbursement.pk
    real_pay = SandboxProvider.pay
    calls, second_delivery = [], []

    def slow_pay(self, **kwargs):
        calls.append(kwargs["idempotency_key"])
        if len(calls) == 1:  # the duplicate arrives while this call is on its way
            second_delivery.append(pay_disbursement(disbursement_id))
        return real_pay(self, **kwargs)

    monkeypatch.setattr(SandboxProvider, "pay", slow_pay)

    assert pay_disbursement(disbursement_id) == "succeeded"

    assert second_delivery == ["in_flight"]
    assert len(calls) == 1
    disbursement = Disbursement.objects.get(pk=disbursement_id)
    assert disbursement.status == Disbursement.Status.SUCCEEDED
    assert disbursement.attempts == 1
    assert_books_balance(fund)


@override_settings(PAYOUT_RETRY_BACKOFF=0)
def test_a_worker_that_died_before_calling_the_provider_uses_up_no_try(
    fund, staff_user, monkeypatch, django_capture_on_commit_callbacks
):
    """Attempts count calls to the provider, not deliveries of the message."""
    grant = approved_grant(fund, staff_user, payee="sandbox-flaky")
    grants_schedule(grants=[grant], actor=staff_user)
    disbursement_id = grant.disbursement.pk
    real_get_provider = payments_service.get_provider

    def dying(*args, **kwargs):
        raise SystemExit("worker killed")  # the process goes before any request is sent

    monkeypatch.setattr(payments_service, "get_provider", dying)
    with pytest.raises(SystemExit):
        pay_disbursement(disbursement_id)
    monkeypatch.setattr(payments_service, "get_provider", real_get_provider)

    assert pay_disbursement.delay(disbursement_id).get() == "succeeded"  # flaky, then paid

    disbursement = Disbursement.objects.get(pk=disbursement_id)
    assert disbursement.attempts == SandboxPayment.objects.get().requests == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_never_handle_the_same_payment_twice(held_tasks, monkeypatch):
    staff = UserFactory(is_staff=True, is_superuser=True)
    fund = FundFactory(total=Decimal("1000000.00"))
    grants = [approved_grant(fund, staff) for _ in range(6)]
    grants_schedule(grants=grants, actor=staff)
    for disbursement in Disbursement.objects.all():
        _claim(disbursement.pk)  # workers that died mid-payment
    lookups: list[str] = []
    real_lookup = SandboxProvider.lookup

    def counting_lookup(self, *, idempotency_key):
        lookups.append(idempotency_key)
        time.sleep(0.05)  # a network round trip: long enough for the sweeps to overlap
        return real_lookup(self, idempotency_key=idempotency_key)

    monkeypatch.setattr(SandboxProvider, "lookup", counting_lookup)
    later = timezone.now() + timedelta(seconds=settings.PAYOUT_STALE_AFTER + 60)

    outcomes = run_together(2, lambda _: disbursements_sweep(now=later))

    assert sorted(outcomes) == [0, 6]
    assert len(lookups) == len(set(lookups)) == 6
