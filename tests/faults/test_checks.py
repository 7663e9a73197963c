"""The fault tests' own checks (tests/faults/run.py), on a batch paid in this process: they pass
on a healthy batch and catch a state change missing from the audit log. The fault scenarios
themselves run with `make test-faults`, not here."""

from decimal import Decimal

from donations.models import Disbursement, Grant
from tests.donations.test_disbursement import approved_grant, schedule_and_run
from tests.factories import FundFactory
from tests.faults.run import audit_trail, nothing_lost, stripe_exactly_once


def paid_batch(staff, capture):
    fund = FundFactory(total=Decimal("100000.00"))
    grants = [approved_grant(fund, staff) for _ in range(2)]
    batch = schedule_and_run(grants, staff, capture)
    assert set(Grant.objects.values_list("status", flat=True)) == {Grant.Status.DISBURSED}
    return fund, grants, batch


def test_a_healthy_batch_has_a_gapless_audit_trail(staff_user, django_capture_on_commit_callbacks):
    fund, _, batch = paid_batch(staff_user, django_capture_on_commit_callbacks)

    assert audit_trail(batch.pk, fund.pk) == []


def test_a_state_change_missing_from_the_audit_log_is_caught(
    staff_user, django_capture_on_commit_callbacks
):
    fund, grants, batch = paid_batch(staff_user, django_capture_on_commit_callbacks)
    # Moved by hand, not by a service: no audit event (the log itself refuses deletes on
    # PostgreSQL, so a gap is made this way).
    Grant.objects.filter(pk=grants[0].pk).update(status=Grant.Status.FAILED)
    Disbursement.objects.filter(grant=grants[1]).update(status=Disbursement.Status.PENDING)

    assert audit_trail(batch.pk, fund.pk) == [
        "1 grants whose audit trail has a gap",
        "1 disbursements whose audit trail has a gap",
    ]


def test_the_stall_scenarios_check_passes_when_every_grant_ended_as_expected(
    staff_user, django_capture_on_commit_callbacks
):
    fund, _, batch = paid_batch(staff_user, django_capture_on_commit_callbacks)

    assert nothing_lost(batch.pk, fund.pk, {}) == []


def test_a_payment_made_but_not_booked_is_caught_as_lost(
    staff_user, django_capture_on_commit_callbacks
):
    fund, grants, batch = paid_batch(staff_user, django_capture_on_commit_callbacks)
    # As if a paid grant had been failed: the provider's payment is not on the books.
    Grant.objects.filter(pk=grants[0].pk).update(status=Grant.Status.FAILED)

    failures = nothing_lost(batch.pk, fund.pk, {grants[0].pk: "failed"})

    assert f"grant {grants[0].pk} paid at the provider but failed: money lost" in failures
    assert any(failure.startswith("fund books off") for failure in failures)


def stripe_paid_batch(staff, capture, standin, settings):
    settings.PAYOUT_PROVIDER = "stripe"
    fund = FundFactory(total=Decimal("100000.00"))
    grants = [
        approved_grant(fund, staff, payee=standin.add_account(ready=True)["id"]) for _ in range(2)
    ]
    batch = schedule_and_run(grants, staff, capture)
    assert set(Grant.objects.values_list("status", flat=True)) == {Grant.Status.DISBURSED}
    return fund, grants, batch


def test_the_stripe_scenarios_check_passes_on_a_batch_paid_once_through_stripe(
    staff_user, django_capture_on_commit_callbacks, stripe_standin, settings
):
    fund, _, batch = stripe_paid_batch(
        staff_user, django_capture_on_commit_callbacks, stripe_standin, settings
    )

    assert len(stripe_standin.transfers()) == 2
    assert stripe_exactly_once(batch.pk, fund.pk, stripe_standin) == []


def test_the_stripe_scenarios_check_catches_a_second_transfer_and_a_wrong_reference(
    staff_user, django_capture_on_commit_callbacks, stripe_standin, settings
):
    fund, grants, batch = stripe_paid_batch(
        staff_user, django_capture_on_commit_callbacks, stripe_standin, settings
    )
    # Stripe paid the first key twice; the second grant recorded another transfer's id.
    first, second = (Disbursement.objects.get(grant=grant) for grant in grants)
    copy = {**stripe_standin.world.transfers[0], "id": "tr_again"}
    copy["transfer_group"] = first.idempotency_key
    stripe_standin.world.transfers.append(copy)
    Disbursement.objects.filter(pk=second.pk).update(provider_reference="tr_elsewhere")

    failures = stripe_exactly_once(batch.pk, fund.pk, stripe_standin)

    assert "1 keys transferred more than once" in failures
    assert any(f"grant {grants[1].pk}: recorded 'tr_elsewhere'" in f for f in failures)
    assert any(failure.startswith("transferred ") for failure in failures)
