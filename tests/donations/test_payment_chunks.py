"""A large batch is paid a chunk at a time (`disbursements_pay`): the chunk's grants claimed in
one transaction, each sent to the provider under its own key, the payments booked in one more.
Each grant stays paid exactly once: what is in flight elsewhere is left alone, a platform
refusal stops the rest of the chunk before it is sent, and whatever stops the calls midway
books the payments already made first."""

from datetime import timedelta
from decimal import Decimal

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from changemakers.core.locks import _key
from changemakers.core.models import AuditEvent, OutboxEvent
from changemakers.core.roles import StaffRole
from donations.models import Disbursement, Grant, SandboxPayment
from donations.payouts.sandbox import SandboxProvider
from donations.services import (
    batch_hold_release,
    disbursements_pay,
    disbursements_sweep,
    grants_schedule,
)
from donations.tasks import pay_disbursements
from tests.factories import FundFactory, StaffFactory, UserFactory

from .stripe_payments import approved, assert_books, schedule, stripe_nonprofit
from .test_disbursement import approved_grant, assert_books_balance

TRANSFERS = ("POST", "/v1/transfers")
AMOUNT = Decimal("1000.00")


@pytest.fixture
def fund(db):
    return FundFactory(total=Decimal("1000000.00"))


def scheduled(fund, staff, count: int) -> list[int]:
    """`count` grants scheduled in one batch (its tasks not run); their disbursements' ids."""
    grants = [approved_grant(fund, staff, amount=AMOUNT) for _ in range(count)]
    grants_schedule(grants=grants, actor=staff)
    return list(
        Disbursement.objects.filter(grant__in=grants).order_by("pk").values_list("pk", flat=True)
    )


def app_statements(queries) -> list[str]:
    """What a chunk asks of the database, less the sandbox provider's own table (it stands for
    the provider's API) and transaction control."""
    return [
        q["sql"]
        for q in queries
        if "donations_sandboxpayment" not in q["sql"]
        and not q["sql"].startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def test_a_chunk_costs_the_same_few_statements_whatever_its_size(fund, staff_user):
    small, large = scheduled(fund, staff_user, 2), scheduled(fund, staff_user, 20)

    counts = []
    for ids in (small, large):
        with CaptureQueriesContext(connection) as paying:
            paid = disbursements_pay(disbursement_ids=ids)
        assert {d.status for d in paid.values()} == {Disbursement.Status.SUCCEEDED}
        counts.append(len(app_statements(paying.captured_queries)))

    # Lock, claim (lock rows, 2 updates, audit), book (lock rows, 2 updates, audit, event,
    # fund), unlock.
    assert counts[0] == counts[1] == 12
    assert Grant.objects.filter(status=Grant.Status.DISBURSED).count() == 22
    assert SandboxPayment.objects.filter(paid_at__isnull=False).count() == 22
    assert OutboxEvent.objects.filter(type="grant.disbursed").count() == 22
    assert AuditEvent.objects.filter(action="disbursed").count() == 44  # grant + disbursement
    assert_books_balance(fund)


def test_a_grant_another_worker_is_paying_is_left_to_it(fund, staff_user):
    ids = scheduled(fund, staff_user, 3)
    other = connection.get_new_connection(connection.get_connection_params())
    try:
        with other.cursor() as cursor:  # another worker, mid-payment of the second grant
            cursor.execute(
                "SELECT pg_advisory_lock(%s)", [_key(f"donations.disbursement_pay:{ids[1]}")]
            )
        paid = disbursements_pay(disbursement_ids=ids)
    finally:
        other.close()

    assert paid[ids[1]].in_flight
    assert paid[ids[1]].status == Disbursement.Status.PENDING  # not claimed, no try counted
    assert paid[ids[1]].attempts == 0
    assert [paid[pk].status for pk in (ids[0], ids[2])] == ["succeeded", "succeeded"]
    assert SandboxPayment.objects.count() == 2
    # Let go of: the next delivery pays it.
    assert disbursements_pay(disbursement_ids=ids)[ids[1]].status == "succeeded"
    assert SandboxPayment.objects.filter(paid_at__isnull=False).count() == 3
    assert_books_balance(fund)


def test_a_time_limit_midway_books_the_payments_made_before_it(
    fund, staff_user, monkeypatch, django_capture_on_commit_callbacks
):
    ids = scheduled(fund, staff_user, 4)
    real_pay = SandboxProvider.pay
    calls = []

    def limited(self, **kwargs):
        calls.append(kwargs["idempotency_key"])
        if len(calls) == 3:
            raise SoftTimeLimitExceeded()
        return real_pay(self, **kwargs)

    monkeypatch.setattr(SandboxProvider, "pay", limited)

    with pytest.raises(SoftTimeLimitExceeded):
        pay_disbursements(ids)

    statuses = dict(Disbursement.objects.values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == ["succeeded", "succeeded", "processing", "processing"]
    fund.refresh_from_db()
    assert fund.disbursed == 2 * AMOUNT
    assert_books_balance(fund)
    # The sweeper, later, pays the other two, each once.
    monkeypatch.setattr(SandboxProvider, "pay", real_pay)
    with django_capture_on_commit_callbacks(execute=True):
        later = timezone.now() + timedelta(seconds=settings.PAYOUT_STALE_AFTER + 60)
        assert disbursements_sweep(now=later) == 2
    assert Grant.objects.filter(status=Grant.Status.DISBURSED).count() == 4
    assert SandboxPayment.objects.filter(paid_at__isnull=False).count() == 4
    assert_books_balance(fund)


def test_a_platform_refusal_stops_the_rest_of_the_chunk_before_it_is_sent(
    db,
    settings,
    stripe_standin,
    staff_user,
    proposer_user,
    django_capture_on_commit_callbacks,
):
    settings.PAYOUT_PROVIDER = "stripe"
    settings.PAYOUT_BATCH_CHUNK = 2  # five grants: chunks of 2, 2 and 1
    stripe_standin.set_balance("usd", 10000)
    fund = FundFactory(total=Decimal("200000.00"))
    grants = [
        approved(fund, stripe_nonprofit(stripe_standin), proposer_user, staff_user)
        for _ in range(5)
    ]

    batch = schedule(grants, staff_user, django_capture_on_commit_callbacks)

    batch.refresh_from_db()
    assert batch.is_held
    assert stripe_standin.requests.count(TRANSFERS) == 1  # the first; the rest never sent
    assert stripe_standin.transfers() == []
    payments = Disbursement.objects.filter(batch=batch).order_by("pk")
    # The first chunk was claimed before the refusal: its second payment stays unsent, its
    # try not counted; the later chunks found the batch held and claimed nothing.
    assert [d.status for d in payments] == ["processing", "processing", *["pending"] * 3]
    assert [d.attempts for d in payments] == [1, 0, 0, 0, 0]
    assert not Grant.objects.filter(held_at__isnull=False).exists()

    stripe_standin.set_balance("usd", 10**9)
    finance = StaffFactory(roles=[StaffRole.FINANCE_APPROVER])
    with django_capture_on_commit_callbacks(execute=True):
        batch_hold_release(batch=batch, actor=finance)

    keys = sorted(t["metadata"]["idempotency_key"] for t in stripe_standin.transfers())
    assert keys == sorted(str(grant.idempotency_key) for grant in grants)
    assert set(Grant.objects.filter(fund=fund).values_list("status", flat=True)) == {"disbursed"}
    assert_books(fund)


@pytest.mark.django_db(transaction=True)
def test_a_chunk_that_cannot_reach_the_database_is_tried_again_whole(settings, caplog, held_tasks):
    """A database that will not answer (here a row lock held past `lock_timeout` by another
    connection: PostgreSQL's own OperationalError) fails every grant of the chunk alike. The
    chunk is tried again as a whole, not paid one by one into the same wall; nothing is
    claimed or counted meanwhile, and once the database answers the chunk is paid."""
    staff = UserFactory(is_staff=True, is_superuser=True)
    fund = FundFactory(total=Decimal("1000000.00"))
    ids = scheduled(fund, staff, 2)  # its task goes to a queue nobody reads
    settings.PAYOUT_MAX_ATTEMPTS = 2
    other = connection.get_new_connection(connection.get_connection_params())
    try:
        with other.cursor() as cursor:  # another transaction holds the first grant's row
            cursor.execute("BEGIN")
            cursor.execute(
                "SELECT 1 FROM donations_grant WHERE id = "
                "(SELECT grant_id FROM donations_disbursement WHERE id = %s) FOR UPDATE",
                [ids[0]],
            )
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        try:
            outcome = pay_disbursements.apply(args=(ids,)).result  # eager: retries run at once
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
    finally:
        other.close()  # lets go of the row

    retried = [r for r in caplog.records if "tried again later" in r.getMessage()]
    assert len(retried) == settings.PAYOUT_MAX_ATTEMPTS
    assert not [r for r in caplog.records if "one by one" in r.getMessage()]
    assert outcome == {"error": 2}  # the last try gave up: the sweeper's now
    assert set(Disbursement.objects.values_list("status", "attempts")) == {("pending", 0)}
    assert not SandboxPayment.objects.exists()
    assert pay_disbursements.apply(args=(ids,)).result == {"succeeded": 2}
    assert_books_balance(fund)
