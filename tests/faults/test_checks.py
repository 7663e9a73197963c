"""The fault tests' own checks (tests/faults/run.py), on a batch paid in this process: they pass
on a healthy batch and catch a state change missing from the audit log. The fault scenarios
themselves run with `make test-faults`, not here."""

from decimal import Decimal

from creators.models import AuditEvent
from donations.models import Grant
from tests.donations.test_disbursement import approved_grant, schedule_and_run
from tests.factories import FundFactory
from tests.faults.run import audit_trail


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
    AuditEvent.objects.for_object(grants[0]).filter(to_state=Grant.Status.PROCESSING).delete()
    AuditEvent.objects.for_object(grants[1].disbursement).filter(to_state="succeeded").delete()

    assert audit_trail(batch.pk, fund.pk) == [
        "1 grants whose audit trail has a gap",
        "1 disbursements whose audit trail has a gap",
    ]
