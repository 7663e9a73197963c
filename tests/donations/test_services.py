import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from changemakers.core.models import AuditEvent
from donations.models import Disbursement, Fund, Grant, Nonprofit
from donations.services import (
    fund_create,
    grant_approve,
    grant_cancel,
    grant_fail,
    grant_propose,
    grant_retry,
    grants_schedule,
    nonprofit_create,
    nonprofit_reject,
    nonprofit_verify,
)
from tests.factories import CreatorFactory, FundFactory, NonprofitFactory, UserFactory


@pytest.fixture
def verified(db, staff_user):
    return nonprofit_verify(nonprofit=NonprofitFactory(), actor=staff_user)


@pytest.mark.django_db
def test_money_is_never_a_float(staff_user):
    with pytest.raises(TypeError):
        fund_create(name="Float fund", total=1000000.0, actor=staff_user)
    fund = fund_create(name="Decimal fund", total="1000000", actor=staff_user)
    assert fund.total == Decimal("1000000.00")


@pytest.mark.django_db
def test_a_grant_takes_its_funds_currency(staff_user, verified, proposer_user):
    fund = FundFactory(currency="EUR")
    grant = grant_propose(fund=fund, nonprofit=verified, amount="25000", actor=proposer_user)
    assert (grant.currency, grant.amount, grant.status) == ("EUR", Decimal("25000.00"), "proposed")


@pytest.mark.django_db
def test_approving_commits_the_amount_against_the_fund(staff_user, verified, proposer_user):
    fund = FundFactory(total=Decimal("50000.00"))
    grant = grant_propose(
        fund=fund,
        nonprofit=verified,
        creator=CreatorFactory(),
        amount="25000",
        actor=proposer_user,
    )
    approved = grant_approve(grant=grant, actor=staff_user)
    again = grant_approve(grant=grant, actor=staff_user)  # a double click
    fund.refresh_from_db()
    assert approved.status == again.status == Grant.Status.APPROVED
    assert fund.committed == Decimal("25000.00")
    assert [e.to_state for e in AuditEvent.objects.for_object(grant)] == ["proposed", "approved"]


@pytest.mark.django_db
def test_approval_beyond_the_budget_is_refused_with_what_remains(
    staff_user, verified, proposer_user
):
    fund = FundFactory(total=Decimal("30000.00"))
    first = grant_propose(fund=fund, nonprofit=verified, amount="25000", actor=proposer_user)
    second = grant_propose(fund=fund, nonprofit=verified, amount="25000", actor=proposer_user)
    grant_approve(grant=first, actor=staff_user)
    with pytest.raises(ValidationError) as error:
        grant_approve(grant=second, actor=staff_user)
    assert "USD 5,000.00 remaining, USD 25,000.00 asked" in error.value.messages[0]
    second.refresh_from_db()
    fund.refresh_from_db()
    assert second.status == Grant.Status.PROPOSED
    assert fund.committed == Decimal("25000.00")


@pytest.mark.django_db
def test_only_a_verified_nonprofit_can_receive_an_approved_grant(staff_user, proposer_user):
    pending = NonprofitFactory()
    grant = grant_propose(fund=FundFactory(), nonprofit=pending, amount="100", actor=proposer_user)
    with pytest.raises(ValidationError, match="is not verified yet"):
        grant_approve(grant=grant, actor=staff_user)


@pytest.mark.django_db
def test_a_grant_to_a_nonprofit_without_payout_details_cannot_be_approved(
    staff_user, proposer_user
):
    unpayable = nonprofit_verify(
        nonprofit=NonprofitFactory(legal_name="No Bank", payout_reference=""), actor=staff_user
    )
    fund = FundFactory()
    grant = grant_propose(fund=fund, nonprofit=unpayable, amount="100", actor=proposer_user)

    with pytest.raises(ValidationError) as error:
        grant_approve(grant=grant, actor=staff_user)

    assert error.value.code == "payout_reference_missing"
    assert "No Bank has no payout reference yet" in error.value.messages[0]
    grant.refresh_from_db()
    fund.refresh_from_db()
    assert grant.status == Grant.Status.PROPOSED
    assert fund.committed == 0


@pytest.mark.django_db
def test_a_payout_reference_cleared_after_approval_stops_scheduling_and_retrying(
    staff_user, proposer_user
):
    nonprofit = nonprofit_verify(
        nonprofit=NonprofitFactory(legal_name="Gone Bank"), actor=staff_user
    )
    fund = FundFactory()
    approved = grant_approve(
        grant=grant_propose(fund=fund, nonprofit=nonprofit, amount="100", actor=proposer_user),
        actor=staff_user,
    )
    to_fail = grant_approve(
        grant=grant_propose(fund=fund, nonprofit=nonprofit, amount="50", actor=proposer_user),
        actor=staff_user,
    )
    grants_schedule(grants=[to_fail], actor=staff_user)
    failed = grant_fail(grant=to_fail, reason="The bank refused.", actor=staff_user)
    # Cleared behind the services' back (an old admin edit, a database fix): nothing may
    # then ask the provider to pay an empty payee.
    Nonprofit.objects.filter(pk=nonprofit.pk).update(payout_reference="")

    with pytest.raises(ValidationError) as scheduling:
        grants_schedule(grants=[approved], actor=staff_user)
    assert scheduling.value.code == "payout_reference_missing"
    assert "before scheduling a payment" in scheduling.value.messages[0]
    with pytest.raises(ValidationError) as retrying:
        grant_retry(grant=failed, actor=staff_user)
    assert retrying.value.code == "payout_reference_missing"

    approved.refresh_from_db()
    failed.refresh_from_db()
    assert (approved.status, failed.status) == (Grant.Status.APPROVED, Grant.Status.FAILED)
    assert not Disbursement.objects.filter(grant=approved).exists()


@pytest.mark.django_db
def test_cancelling_an_approved_grant_releases_its_commitment(staff_user, verified, proposer_user):
    fund = FundFactory()
    grant = grant_propose(fund=fund, nonprofit=verified, amount="25000", actor=proposer_user)
    grant_approve(grant=grant, actor=staff_user)
    with pytest.raises(ValidationError, match="Say why"):
        grant_cancel(grant=grant, actor=staff_user, reason="")
    cancelled = grant_cancel(grant=grant, actor=staff_user, reason="Nonprofit closed")
    grant_cancel(grant=grant, actor=staff_user, reason="Clicked twice")
    fund.refresh_from_db()
    assert cancelled.status == Grant.Status.CANCELLED
    assert cancelled.status_reason == "Nonprofit closed"
    assert fund.committed == Decimal("0.00")


@pytest.mark.django_db
def test_a_cancelled_grant_cannot_be_approved(staff_user, verified):
    grant = grant_propose(fund=FundFactory(), nonprofit=verified, amount="10", actor=staff_user)
    grant_cancel(grant=grant, actor=staff_user, reason="Duplicate")
    with pytest.raises(ValidationError, match="cannot go from “Cancelled” to “Approved”"):
        grant_approve(grant=grant, actor=staff_user)


@pytest.mark.django_db
def test_a_duplicate_nonprofit_is_refused(staff_user):
    nonprofit_create(
        legal_name="Readers of Nairobi",
        registration_number="KE-1",
        country="KE",
        contact_email="a@example.org",
        actor=staff_user,
    )
    with pytest.raises(ValidationError, match="already registered in this country"):
        nonprofit_create(
            legal_name="Readers of Nairobi (again)",
            registration_number=" KE-1 ",
            country="KE",
            contact_email="b@example.org",
            actor=staff_user,
        )
    assert Nonprofit.objects.count() == 1


@pytest.mark.django_db
def test_rejecting_needs_a_reason(staff_user, verified):
    with pytest.raises(ValidationError, match="Say why"):
        nonprofit_reject(nonprofit=verified, reason=" ", actor=staff_user)
    verified.refresh_from_db()
    assert verified.verification_status == Nonprofit.Verification.VERIFIED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_never_overspend_the_fund():
    """Twenty staff approve twenty $25,000 grants at once against a $100,000 fund: exactly
    four are approved, the rest are refused, and the fund is committed to the cent."""
    staff = UserFactory(is_staff=True, is_superuser=True)
    proposer = UserFactory(is_staff=True, is_superuser=True)
    nonprofit = nonprofit_verify(nonprofit=NonprofitFactory(), actor=staff)
    fund = FundFactory(total=Decimal("100000.00"))
    grants = [
        grant_propose(fund=fund, nonprofit=nonprofit, amount="25000", actor=proposer)
        for _ in range(20)
    ]
    barrier = threading.Barrier(len(grants))
    outcomes: list[str] = []

    def approve(grant):
        try:
            barrier.wait()
            grant_approve(grant=grant, actor=staff)
            outcomes.append("approved")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(g,)) for g in grants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    fund = Fund.objects.get(pk=fund.pk)
    assert sorted(outcomes).count("approved") == 4
    assert outcomes.count("refused") == 16
    assert fund.committed == Decimal("100000.00")
    assert Grant.objects.filter(status=Grant.Status.APPROVED).count() == 4
