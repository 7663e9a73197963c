"""An insufficient platform balance holds the batch, not the grants: the first payment Stripe
refuses for it holds its batch, the batch's other payments wait without being sent, finance is
told (dashboard, with the platform's balance, and email), and a finance approver's release
sends them again under their same keys, each paid once."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from changemakers.core.models import AuditEvent
from changemakers.core.roles import StaffRole
from donations.models import Disbursement, DisbursementBatch, Grant
from donations.services import batch_hold_release, disbursements_sweep
from tests.factories import FundFactory, StaffFactory

from .stripe_payments import approved, assert_books, schedule, stripe_nonprofit

TRANSFERS = ("POST", "/v1/transfers")


@pytest.fixture
def held_batch(
    db, settings, stripe_standin, staff_user, proposer_user, django_capture_on_commit_callbacks
):
    """Three approved grants of $25,000 scheduled as one batch while the platform holds $100."""
    settings.PAYOUT_PROVIDER = "stripe"
    stripe_standin.set_balance("usd", 10000)
    fund = FundFactory(total=Decimal("100000.00"))
    grants = [
        approved(fund, stripe_nonprofit(stripe_standin), proposer_user, staff_user)
        for _ in range(3)
    ]
    mail.outbox.clear()
    batch = schedule(grants, staff_user, django_capture_on_commit_callbacks)
    batch.refresh_from_db()
    return batch, grants


def test_a_short_platform_balance_holds_the_batch_and_fails_no_grant(held_batch, stripe_standin):
    batch, grants = held_batch

    assert batch.is_held
    assert "insufficient available funds" in batch.hold_reason
    # One transfer asked (and refused); the other two payments were never sent.
    assert stripe_standin.requests.count(TRANSFERS) == 1
    assert stripe_standin.transfers() == []
    for grant in grants:
        grant.refresh_from_db()
        assert grant.status in (Grant.Status.SCHEDULED, Grant.Status.PROCESSING)
        assert not grant.is_held  # the batch waits, not each grant
    statuses = sorted(Disbursement.objects.filter(batch=batch).values_list("status", flat=True))
    assert statuses == ["pending", "pending", "processing"]
    assert sum(Disbursement.objects.filter(batch=batch).values_list("attempts", flat=True)) == 1
    assert AuditEvent.objects.filter(action="batch_held", object_id=batch.pk).count() == 1
    assert_books(grants[0].fund)


def test_finance_is_told_once_by_email(held_batch):
    batch, _grants = held_batch
    to_staff = [email for email in mail.outbox if email.to == ["staff@example.org"]]
    [email] = to_staff
    assert str(batch) in email.subject
    assert "3 payments wait" in email.body
    assert f"/staff/batches/{batch.pk}/" in email.body


def test_the_sweeper_leaves_a_held_batch_alone(held_batch, stripe_standin, settings):
    settings.PAYOUT_STALE_AFTER = 0
    batch, _grants = held_batch

    disbursements_sweep()

    assert stripe_standin.requests.count(TRANSFERS) == 1
    batch.refresh_from_db()
    assert batch.is_held


def test_the_dashboard_and_the_batch_page_show_the_hold_with_the_platforms_balance(
    client, held_batch, staff_user
):
    batch, _grants = held_batch
    client.force_login(staff_user)

    dashboard = client.get("/staff/").content.decode()
    page = client.get(f"/staff/batches/{batch.pk}/").content.decode()

    assert 'id="settle-held-batches"' in dashboard
    assert "insufficient available funds" in dashboard
    assert "$100.00" in dashboard  # the platform's available balance, asked live
    assert 'id="batch-hold"' in page
    assert "$100.00" in page
    assert f'action="/staff/batches/{batch.pk}/release-hold/"' in page
    assert "data-hx-trigger" not in page  # nothing moves: no polling


def test_releasing_the_hold_pays_each_waiting_grant_once_under_its_key(
    client, held_batch, stripe_standin, staff_user, django_capture_on_commit_callbacks
):
    batch, grants = held_batch
    stripe_standin.set_balance("usd", 10**9)
    finance = StaffFactory(roles=[StaffRole.FINANCE_APPROVER])
    client.force_login(finance)

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/staff/batches/{batch.pk}/release-hold/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/staff/batches/{batch.pk}/release-hold/")  # a double click

    assert answer.status_code == 302
    batch.refresh_from_db()
    assert not batch.is_held
    keys = sorted(t["metadata"]["idempotency_key"] for t in stripe_standin.transfers())
    assert keys == sorted(str(grant.idempotency_key) for grant in grants)
    for grant in grants:
        grant.refresh_from_db()
        assert grant.status == Grant.Status.DISBURSED
    released = AuditEvent.objects.get(action="batch_hold_released", object_id=batch.pk)
    assert released.actor == finance
    assert_books(grants[0].fund)


def test_only_a_finance_approver_releases_a_batch(client, held_batch):
    batch, _grants = held_batch
    for role in (StaffRole.PROGRAM_MANAGER, StaffRole.AUDITOR, StaffRole.NONPROFIT_VETTER):
        person = StaffFactory(roles=[role])
        with pytest.raises(ValidationError, match="staff roles"):
            batch_hold_release(batch=batch, actor=person)
        client.force_login(person)
        assert client.post(f"/staff/batches/{batch.pk}/release-hold/").status_code == 403
        page = client.get(f"/staff/batches/{batch.pk}/").content.decode()
        assert "release-hold" not in page
    assert DisbursementBatch.objects.get(pk=batch.pk).is_held


def test_a_held_payee_stays_held_when_the_batch_is_released(
    held_batch, stripe_standin, staff_user, django_capture_on_commit_callbacks
):
    from donations.services import grant_hold

    batch, grants = held_batch
    waiting = Grant.objects.filter(
        pk__in=[g.pk for g in grants], disbursement__status="pending"
    ).first()
    grant_hold(grant=waiting, reason="Payee to check.")
    stripe_standin.set_balance("usd", 10**9)

    with django_capture_on_commit_callbacks(execute=True):
        batch_hold_release(batch=batch, actor=staff_user)

    assert len(stripe_standin.transfers()) == 2
    waiting.refresh_from_db()
    assert waiting.status == Grant.Status.SCHEDULED
    assert waiting.is_held
