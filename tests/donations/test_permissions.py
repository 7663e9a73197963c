"""Who may move money is the services' question: each decision refuses an actor whose staff
roles do not allow it (code "not_permitted"), whoever calls it: a page, the admin, a script.
The workers' own steps (failing a grant, recording a payment) take no actor and are not
refused."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from changemakers.core.roles import StaffRole
from donations.models import Fund, Grant, Nonprofit, PayoutDetailsChange
from donations.services import (
    fund_create,
    grant_approve,
    grant_cancel,
    grant_fail,
    grant_propose,
    grant_retry,
    grant_schedule,
    grants_schedule,
    nonprofit_details_update,
    nonprofit_reject,
    nonprofit_verify,
    payout_change_approve,
    payout_change_reject,
    payout_change_request,
)
from donations.services.nominations import nomination_create
from tests.factories import (
    CreatorFactory,
    EnrolmentFactory,
    FundFactory,
    GrantFactory,
    NonprofitContactFactory,
    NonprofitFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return StaffFactory(roles=[StaffRole.PROGRAM_MANAGER])


@pytest.fixture
def finance():
    return StaffFactory(roles=[StaffRole.FINANCE_APPROVER])


@pytest.fixture
def vetter():
    return StaffFactory(roles=[StaffRole.NONPROFIT_VETTER])


@pytest.fixture
def auditor():
    return StaffFactory(roles=[StaffRole.AUDITOR])


def _verified() -> Nonprofit:
    return NonprofitFactory(verification_status=Nonprofit.Verification.VERIFIED)


def _grant(status: str = Grant.Status.PROPOSED, **kwargs) -> Grant:
    return GrantFactory(nonprofit=_verified(), status=status, **kwargs)


def _refused(call, **kwargs) -> None:
    with pytest.raises(ValidationError) as refused:
        call(**kwargs)
    assert refused.value.code == "not_permitted"
    assert "Your staff roles do not let you" in refused.value.messages[0]


def test_the_program_manager_proposes_but_cannot_approve_schedule_cancel_or_retry(manager):
    fund = FundFactory()
    proposed = grant_propose(fund=fund, nonprofit=_verified(), amount="1000", actor=manager)
    assert proposed.status == Grant.Status.PROPOSED
    _refused(grant_approve, grant=proposed, actor=manager)
    _refused(grant_cancel, grant=proposed, actor=manager, reason="Mine.")
    approved = _grant(Grant.Status.APPROVED)
    _refused(grant_schedule, grant=approved, actor=manager)
    _refused(grants_schedule, grants=[approved], actor=manager)
    _refused(grant_retry, grant=_grant(Grant.Status.FAILED), actor=manager)
    _refused(fund_create, name="Side fund", total="10", actor=manager)
    _refused(nonprofit_verify, nonprofit=NonprofitFactory(), actor=manager)
    assert Grant.objects.get(pk=proposed.pk).status == Grant.Status.PROPOSED
    assert Grant.objects.get(pk=approved.pk).status == Grant.Status.APPROVED
    assert not Fund.objects.filter(name="Side fund").exists()


def test_the_finance_approver_approves_and_pays_but_cannot_vet_or_propose(finance):
    grant = _grant()
    fund = grant.fund
    assert grant_approve(grant=grant, actor=finance).status == Grant.Status.APPROVED
    assert grant_schedule(grant=grant, actor=finance).status == Grant.Status.SCHEDULED
    cancelled = grant_cancel(grant=_grant(Grant.Status.PROPOSED), actor=finance, reason="Dup.")
    assert cancelled.status == Grant.Status.CANCELLED
    assert fund_create(name="Second fund", total="500", actor=finance).total == Decimal("500.00")

    pending = NonprofitFactory()
    _refused(nonprofit_verify, nonprofit=pending, actor=finance)
    _refused(nonprofit_reject, nonprofit=pending, actor=finance, reason="No.")
    _refused(grant_propose, fund=fund, nonprofit=_verified(), amount="10", actor=finance)
    assert Nonprofit.objects.get(pk=pending.pk).verification_status == "pending"


def test_the_nonprofit_vetter_vets_but_cannot_touch_the_money(vetter):
    pending = NonprofitFactory()
    assert nonprofit_verify(nonprofit=pending, actor=vetter).verification_status == "verified"
    other = NonprofitFactory()
    assert nonprofit_reject(nonprofit=other, reason="Unknown.", actor=vetter).rejection_reason
    _refused(grant_approve, grant=_grant(), actor=vetter)
    change = PayoutDetailsChange.objects.create(
        nonprofit=pending, requested_by=UserFactory(), payout_reference="acct-new"
    )
    _refused(payout_change_approve, change=change, actor=vetter)
    assert Nonprofit.objects.get(pk=pending.pk).payout_reference == pending.payout_reference


def test_the_auditor_can_change_nothing(auditor):
    proposed, approved, failed = (
        _grant(),
        _grant(Grant.Status.APPROVED),
        _grant(Grant.Status.FAILED),
    )
    pending = NonprofitFactory()
    contact = NonprofitContactFactory()
    change = payout_change_request(
        nonprofit=contact.nonprofit, payout_reference="acct-moved-1", actor=contact.user
    )
    _refused(grant_propose, fund=proposed.fund, nonprofit=_verified(), amount="1", actor=auditor)
    _refused(grant_approve, grant=proposed, actor=auditor)
    _refused(grant_cancel, grant=approved, actor=auditor, reason="Audit.")
    _refused(grant_schedule, grant=approved, actor=auditor)
    _refused(grants_schedule, grants=[approved.pk], actor=auditor)
    _refused(grant_retry, grant=failed, actor=auditor)
    _refused(fund_create, name="Audit fund", total="1", actor=auditor)
    _refused(nonprofit_verify, nonprofit=pending, actor=auditor)
    _refused(nonprofit_reject, nonprofit=pending, reason="Audit.", actor=auditor)
    _refused(payout_change_approve, change=change, actor=auditor)
    _refused(payout_change_reject, change=change, reason="Audit.", actor=auditor)
    statuses = dict(Grant.objects.values_list("pk", "status"))
    assert statuses == {proposed.pk: "proposed", approved.pk: "approved", failed.pk: "failed"}
    assert PayoutDetailsChange.objects.get(pk=change.pk).status == "pending"


def test_payout_changes_are_decided_by_the_finance_approver(finance):
    contact = NonprofitContactFactory()
    change = payout_change_request(
        nonprofit=contact.nonprofit, payout_reference="acct-moved-2", actor=contact.user
    )
    assert payout_change_approve(change=change, actor=finance).status == "approved"
    contact.nonprofit.refresh_from_db()
    assert contact.nonprofit.payout_reference == "acct-moved-2"


def test_staff_without_a_role_and_people_outside_the_staff_are_refused():
    roleless, creator_user = StaffFactory(), CreatorFactory(user=UserFactory()).user
    for actor in (roleless, creator_user):
        _refused(grant_approve, grant=_grant(), actor=actor)
        _refused(nonprofit_verify, nonprofit=NonprofitFactory(), actor=actor)


def test_a_switched_off_account_loses_its_roles(finance):
    finance.is_active = False
    finance.save(update_fields=["is_active"])
    _refused(grant_approve, grant=_grant(), actor=finance)


def test_a_decision_without_an_actor_is_refused():
    """Only people decide: a script or task calling a decision with no one behind it is
    refused like anyone without the role."""
    _refused(grant_approve, grant=_grant(), actor=None)
    _refused(grants_schedule, grants=[_grant(Grant.Status.APPROVED)], actor=None)
    _refused(nonprofit_verify, nonprofit=NonprofitFactory(), actor=None)
    _refused(fund_create, name="Nobody's fund", total="1", actor=None)


def test_the_workers_own_steps_take_no_actor():
    scheduled = _grant(Grant.Status.SCHEDULED)
    scheduled.fund.committed = scheduled.amount
    scheduled.fund.save(update_fields=["committed"])
    failed = grant_fail(grant=scheduled, reason="Refused by the bank.")
    assert failed.status == Grant.Status.FAILED


def test_a_creator_proposes_only_the_donation_in_their_own_name(settings):
    creator = CreatorFactory(user=UserFactory())
    EnrolmentFactory(creator=creator, status="active")
    fund = FundFactory(currency=settings.PROGRAM_CURRENCY)
    nominated = nomination_create(creator=creator, actor=creator.user, nonprofit=_verified())
    assert (nominated.creator, nominated.status) == (creator, Grant.Status.PROPOSED)
    someone_else = CreatorFactory(user=UserFactory())
    _refused(
        grant_propose,
        fund=fund,
        nonprofit=_verified(),
        creator=someone_else,
        amount="25000",
        actor=creator.user,
    )


def test_only_the_vetter_among_staff_speaks_for_a_nonprofit(vetter, auditor):
    """Staff may act for a nonprofit's details only when their roles change nonprofits."""
    nonprofit = NonprofitFactory(website="https://before.example")
    with pytest.raises(ValidationError) as refused:
        nonprofit_details_update(
            nonprofit=nonprofit, actor=auditor, website="https://auditor.example"
        )
    assert refused.value.code == "not_own_nonprofit"
    updated = nonprofit_details_update(
        nonprofit=nonprofit, actor=vetter, website="https://vetted.example"
    )
    assert updated.website == "https://vetted.example"
