"""The disbursement jobs through a real Celery worker on Redis, reading the real PostgreSQL
test database: a whole batch, and workers killed with -9 after the provider paid but before
the answer was recorded."""

import os
import signal
import time
from decimal import Decimal

import pytest
from django.db.models import Sum

from donations.models import Disbursement, Fund, Grant, SandboxPayment
from donations.services import grant_approve, grants_schedule, nonprofit_verify
from donations.tasks import sweep_disbursements
from tests.factories import FundFactory, GrantFactory, NonprofitFactory, UserFactory

pytestmark = [pytest.mark.broker, pytest.mark.postgres]


def approved(fund, staff, payee="acct-00001"):
    nonprofit = nonprofit_verify(nonprofit=NonprofitFactory(payout_reference=payee), actor=staff)
    return grant_approve(grant=GrantFactory(fund=fund, nonprofit=nonprofit), actor=staff)


def wait_for(condition, worker, timeout=60.0, what="the work"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        assert worker.process.poll() is None, worker.output()
        time.sleep(0.2)
    raise AssertionError(f"{what} did not finish in {timeout} s:\n{worker.output()}")


def unfinished() -> int:
    return Disbursement.objects.filter(status__in=Disbursement.UNFINISHED_STATUSES).count()


def test_a_batch_is_paid_through_real_workers_each_grant_once(start_worker):
    worker = start_worker(pool="prefork", concurrency=2, env={"DJANGO_PAYOUT_RETRY_BACKOFF": "0"})
    staff = UserFactory(is_staff=True, is_superuser=True)
    fund = FundFactory(total=Decimal("1000000.00"))
    payees = [f"acct-{n:05d}" for n in range(20)] + ["sandbox-flaky"] * 4
    payees += ["sandbox-lose-response"] * 4
    payees += ["sandbox-fail"] * 2
    grants = [approved(fund, staff, payee) for payee in payees]

    batch = grants_schedule(grants=grants, actor=staff)
    wait_for(lambda: unfinished() == 0, worker, what="the batch")

    assert batch.disbursements.count() == 30
    statuses = Grant.objects.filter(pk__in=[g.pk for g in grants]).values_list("status", flat=True)
    assert sorted(statuses).count("disbursed") == 28
    assert list(statuses).count("failed") == 2
    payments = SandboxPayment.objects.filter(paid_at__isnull=False)
    assert payments.count() == 28  # one row per key: no grant paid twice
    assert set(payments.values_list("idempotency_key", flat=True)) == {
        str(g.idempotency_key) for g in grants if g.nonprofit.payout_reference != "sandbox-fail"
    }
    fund = Fund.objects.get(pk=fund.pk)
    assert fund.disbursed == payments.aggregate(s=Sum("amount"))["s"] == Decimal("700000.00")
    assert fund.committed == fund.disbursed


def test_a_worker_killed_after_the_provider_paid_pays_once_when_the_task_is_redelivered(
    start_worker,
):
    """The pool process dies with -9 while the provider's answer is on its way back: the
    worker hands the unacknowledged task back (acks_late, reject_on_worker_lost), the task
    runs again, sends the same key, and gets the payment that was already made."""
    worker = start_worker(pool="prefork", concurrency=1, env={"DJANGO_PAYOUT_SANDBOX_LATENCY": "3"})
    staff = UserFactory(is_staff=True, is_superuser=True)
    fund = FundFactory()
    grant = approved(fund, staff)

    grants_schedule(grants=[grant], actor=staff)
    key = str(grant.idempotency_key)
    wait_for(
        lambda: SandboxPayment.objects.filter(idempotency_key=key, paid_at__isnull=False).exists(),
        worker,
        what="the payment",
    )
    children = worker.children()
    assert len(children) == 1, worker.output()
    os.kill(children[0], signal.SIGKILL)
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.PROCESSING  # not recorded

    wait_for(lambda: unfinished() == 0, worker, what="the redelivered task")

    grant.refresh_from_db()
    assert grant.status == Grant.Status.DISBURSED
    payment = SandboxPayment.objects.get()
    assert payment.requests == 2
    assert grant.disbursement.provider_reference == payment.reference
    assert grant.disbursement.attempts == 2
    fund.refresh_from_db()
    assert fund.disbursed == grant.amount


def test_a_whole_worker_killed_after_the_provider_paid_is_reconciled_by_the_sweeper(
    start_worker,
):
    """Worker and pool die together, so nobody hands the task back before the broker's
    visibility timeout; the sweeper finds the disbursement stale and the payment by its key."""
    first = start_worker(pool="prefork", concurrency=1, env={"DJANGO_PAYOUT_SANDBOX_LATENCY": "3"})
    staff = UserFactory(is_staff=True, is_superuser=True)
    grant = approved(FundFactory(), staff)

    grants_schedule(grants=[grant], actor=staff)
    key = str(grant.idempotency_key)
    wait_for(
        lambda: SandboxPayment.objects.filter(idempotency_key=key, paid_at__isnull=False).exists(),
        first,
        what="the payment",
    )
    for pid in [*first.children(), first.process.pid]:
        os.kill(pid, signal.SIGKILL)
    first.process.wait()

    second = start_worker(env={"DJANGO_PAYOUT_STALE_AFTER": "1"})
    time.sleep(1.5)
    sweep_disbursements.delay()
    wait_for(lambda: unfinished() == 0, second, what="the sweep")

    grant.refresh_from_db()
    assert grant.status == Grant.Status.DISBURSED
    assert SandboxPayment.objects.get().requests == 1  # looked up, not asked again
    assert grant.disbursement.provider_reference == SandboxPayment.objects.get().reference
