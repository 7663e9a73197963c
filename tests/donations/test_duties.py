"""Separation of duties, held by the services whoever calls them (pages, admin, scripts): the
proposer of a grant neither approves, schedules nor retries it; a large grant takes two
approvers; whoever adds a nonprofit does not verify it; a payout details change is approved by
neither its requester nor a contact of the nonprofit, and by two people when the nonprofit's
contact email was changed lately. Each decision is recorded on its row."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from changemakers.core.models import AuditEvent
from donations.models import Grant, Nonprofit, NonprofitContact, PayoutDetailsChange, grants_digest
from donations.services import (
    grant_approve,
    grant_propose,
    grant_retry,
    grant_schedule,
    grants_schedule,
    nonprofit_create,
    nonprofit_details_update,
    nonprofit_reject,
    nonprofit_verify,
    payout_change_approve,
    payout_change_request,
)
from tests.factories import (
    FundFactory,
    GrantFactory,
    NonprofitContactFactory,
    NonprofitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def staff(name: str):
    return UserFactory(username=f"{name}@program.example", is_staff=True, is_superuser=True)


@pytest.fixture
def proposer(db):
    return staff("proposer")


@pytest.fixture
def approver_a(db):
    return staff("approver-a")


@pytest.fixture
def approver_b(db):
    return staff("approver-b")


@pytest.fixture
def two_approvals_above_10000(settings):
    settings.SECOND_APPROVAL_ABOVE = Decimal("10000")


@pytest.fixture
def fund(db):
    return FundFactory(name="Change Makers Fund", total=Decimal("100000.00"))


@pytest.fixture
def nonprofit(db):
    return NonprofitFactory(
        legal_name="Readers of Nairobi", verification_status=Nonprofit.Verification.VERIFIED
    )


def propose(fund, nonprofit, proposer, amount="25000.00") -> Grant:
    return grant_propose(fund=fund, nonprofit=nonprofit, amount=amount, actor=proposer)


def refused(call, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as error:
        call(**kwargs)
    return error.value


# --- Grants: approving ---------------------------------------------------------------------


def test_the_proposer_cannot_approve_their_own_grant(fund, nonprofit, proposer, approver_a):
    grant = propose(fund, nonprofit, proposer, amount="5000.00")

    error = refused(grant_approve, grant=grant, actor=proposer)

    assert error.code == "approver_is_proposer"
    assert error.messages == ["You proposed this grant; someone else approves it."]
    grant.refresh_from_db()
    fund.refresh_from_db()
    assert (grant.status, grant.approved_by, fund.committed) == ("proposed", None, 0)

    approved = grant_approve(grant=grant, actor=approver_a)

    assert approved.status == Grant.Status.APPROVED
    assert (approved.proposed_by, approved.approved_by) == (proposer, approver_a)
    assert approved.approved_at is not None
    assert approved.first_approved_by is None  # one approval is enough at this amount


def test_a_grant_above_the_threshold_takes_two_different_approvers(
    two_approvals_above_10000, fund, nonprofit, proposer, approver_a, approver_b
):
    grant = propose(fund, nonprofit, proposer, amount="25000.00")

    first = grant_approve(grant=grant, actor=approver_a)

    # Recorded, but still proposed, and no money committed yet.
    fund.refresh_from_db()
    assert first.status == Grant.Status.PROPOSED
    assert (first.first_approved_by, first.approved_by) == (approver_a, None)
    assert first.first_approved_at is not None
    assert fund.committed == 0
    event = AuditEvent.objects.for_object(grant).get(action="first_approved")
    assert (event.actor, event.from_state, event.to_state) == (approver_a, "proposed", "proposed")

    # The same person cannot give the second approval, nor the proposer either.
    again = refused(grant_approve, grant=grant, actor=approver_a)
    assert again.code == "approver_already_approved"
    assert "second approval is someone else's" in again.messages[0]
    assert refused(grant_approve, grant=grant, actor=proposer).code == "approver_is_proposer"
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.PROPOSED

    second = grant_approve(grant=grant, actor=approver_b)

    fund.refresh_from_db()
    assert second.status == Grant.Status.APPROVED
    assert (second.proposed_by, second.first_approved_by, second.approved_by) == (
        proposer,
        approver_a,
        approver_b,
    )
    assert fund.committed == Decimal("25000.00")
    assert grant_approve(grant=grant, actor=approver_b).status == "approved"  # a double click


def test_the_threshold_is_the_setting_and_an_amount_at_it_takes_one_approver(
    settings, fund, nonprofit, proposer, approver_a
):
    settings.SECOND_APPROVAL_ABOVE = Decimal("10000")
    at_threshold = propose(fund, nonprofit, proposer, amount="10000.00")
    assert grant_approve(grant=at_threshold, actor=approver_a).status == "approved"

    settings.SECOND_APPROVAL_ABOVE = Decimal("30000")
    below_a_higher_one = propose(fund, nonprofit, proposer, amount="25000.00")
    assert grant_approve(grant=below_a_higher_one, actor=approver_a).status == "approved"


def test_a_first_approval_needs_a_named_approver_and_money_left_in_the_fund(
    two_approvals_above_10000, nonprofit, proposer, approver_a
):
    fund = FundFactory(total=Decimal("20000.00"))
    grant = propose(fund, nonprofit, proposer, amount="15000.00")
    assert (
        refused(grant_approve, grant=grant, actor=None).code == "not_permitted"
    )  # nobody: refused first

    too_big = propose(fund, nonprofit, proposer, amount="25000.00")
    error = refused(grant_approve, grant=too_big, actor=approver_a)

    assert error.code == "fund_exhausted"
    too_big.refresh_from_db()
    assert too_big.first_approved_by is None


def test_the_database_refuses_an_approver_who_proposed_or_approved_twice(
    fund, nonprofit, proposer, approver_a
):
    grant = propose(fund, nonprofit, proposer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Grant.objects.filter(pk=grant.pk).update(approved_by=proposer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Grant.objects.filter(pk=grant.pk).update(
            first_approved_by=approver_a, approved_by=approver_a
        )


# --- Grants: paying ------------------------------------------------------------------------


def test_nobody_schedules_the_payment_of_a_grant_they_proposed(
    fund, nonprofit, proposer, approver_a
):
    grant = grant_approve(grant=propose(fund, nonprofit, proposer), actor=approver_a)
    other = GrantFactory(fund=fund, nonprofit=nonprofit, status=Grant.Status.APPROVED)

    in_a_batch = refused(grants_schedule, grants=[grant, other], actor=proposer)
    alone = refused(grant_schedule, grant=grant, actor=proposer)

    assert in_a_batch.code == alone.code == "scheduler_is_proposer"
    assert alone.messages == [
        "You proposed the grant to Readers of Nairobi; someone else schedules its payment."
    ]
    assert set(Grant.objects.values_list("status", flat=True)) == {"approved"}

    assert grant_schedule(grant=grant, actor=approver_a).status == Grant.Status.SCHEDULED


def test_nobody_retries_the_payment_of_a_grant_they_proposed(fund, nonprofit, proposer, staff_user):
    grant = GrantFactory(
        fund=fund, nonprofit=nonprofit, proposed_by=proposer, status=Grant.Status.FAILED
    )

    error = refused(grant_retry, grant=grant, actor=proposer)

    assert error.code == "retrier_is_proposer"
    assert "someone else retries it" in error.messages[0]
    grant.refresh_from_db()
    fund.refresh_from_db()
    assert (grant.status, fund.committed) == (Grant.Status.FAILED, 0)

    assert grant_retry(grant=grant, actor=staff_user).status == Grant.Status.SCHEDULED


# --- Nonprofits ----------------------------------------------------------------------------


def test_whoever_added_a_nonprofit_does_not_verify_it(proposer, approver_a):
    nonprofit = nonprofit_create(
        legal_name="Code Lagos Initiative",
        registration_number="NG-1",
        country="NG",
        contact_email="hello@codelagos.example",
        actor=proposer,
    )
    assert nonprofit.created_by == proposer

    error = refused(nonprofit_verify, nonprofit=nonprofit, actor=proposer)

    assert error.code == "verifier_is_creator"
    assert error.messages == ["You added Code Lagos Initiative; someone else verifies it."]
    nonprofit.refresh_from_db()
    assert nonprofit.verification_status == Nonprofit.Verification.PENDING

    verified = nonprofit_verify(nonprofit=nonprofit, actor=approver_a)
    assert (verified.verified_by, verified.verification_status) == (approver_a, "verified")
    assert verified.verified_at is not None

    # Rejecting is not vouching: whoever added it may take it back.
    rejected = nonprofit_reject(nonprofit=verified, reason="Register says closed", actor=proposer)
    assert (rejected.rejected_by, rejected.verified_by, rejected.verified_at) == (
        proposer,
        None,
        None,
    )
    assert refused(nonprofit_verify, nonprofit=rejected, actor=proposer).code == (
        "verifier_is_creator"
    )


# --- Payout details changes ----------------------------------------------------------------


@pytest.fixture
def contact(nonprofit):
    return NonprofitContactFactory(nonprofit=nonprofit)


def test_the_requester_does_not_approve_their_own_payout_change(nonprofit, approver_a):
    change = payout_change_request(
        nonprofit=nonprofit, payout_reference="acct-new-0001", actor=approver_a
    )

    error = refused(payout_change_approve, change=change, actor=approver_a)

    assert error.code == "approver_is_requester"
    assert error.messages == ["You asked for this change; someone else approves it."]
    change.refresh_from_db()
    assert change.status == PayoutDetailsChange.Status.PENDING


def test_a_contact_of_the_nonprofit_does_not_approve_its_payout_change(nonprofit, contact):
    # The model keeps staff from being contacts (clean()); a row that slipped by anyway, say
    # from a script, must not let the nonprofit approve where its own money goes.
    insider = staff("insider")
    NonprofitContact.objects.create(user=insider, nonprofit=nonprofit)
    change = payout_change_request(
        nonprofit=nonprofit, payout_reference="acct-new-0002", actor=contact.user
    )

    error = refused(payout_change_approve, change=change, actor=insider)

    assert error.code == "approver_is_contact"
    assert "You sign in for Readers of Nairobi" in error.messages[0]
    nonprofit.refresh_from_db()
    assert nonprofit.payout_reference != "acct-new-0002"


def test_a_payout_change_after_a_contact_email_change_takes_two_approvers(
    nonprofit, contact, approver_a, approver_b
):
    nonprofit_details_update(
        nonprofit=nonprofit, contact_email="finance@lookalike.example", actor=contact.user
    )
    change = payout_change_request(
        nonprofit=nonprofit, payout_reference="acct-new-0003", actor=contact.user
    )
    before = Nonprofit.objects.get(pk=nonprofit.pk).payout_reference

    first = payout_change_approve(change=change, actor=approver_a)

    nonprofit.refresh_from_db()
    assert first.status == PayoutDetailsChange.Status.PENDING
    assert (first.first_approved_by, first.reviewed_by) == (approver_a, None)
    assert nonprofit.payout_reference == before  # nothing applied yet
    assert AuditEvent.objects.for_object(change).filter(action="first_approved").count() == 1

    again = refused(payout_change_approve, change=change, actor=approver_a)
    assert again.code == "approver_already_approved"

    second = payout_change_approve(change=change, actor=approver_b)

    nonprofit.refresh_from_db()
    assert second.status == PayoutDetailsChange.Status.APPROVED
    assert (second.first_approved_by, second.reviewed_by) == (approver_a, approver_b)
    assert nonprofit.payout_reference == "acct-new-0003"


def test_without_a_recent_contact_email_change_one_approver_is_enough(
    nonprofit, contact, approver_a
):
    change = payout_change_request(
        nonprofit=nonprofit, payout_reference="acct-new-0004", actor=contact.user
    )

    approved = payout_change_approve(change=change, actor=approver_a)

    assert approved.status == PayoutDetailsChange.Status.APPROVED
    assert (approved.first_approved_by, approved.reviewed_by) == (None, approver_a)


# --- What the staff pages show and answer ----------------------------------------------------


def in_row(grant) -> dict[str, str]:
    return {"HX-Request": "true", "HX-Target": f"grant-{grant.pk}"}


def row_of(page: str, row_id: str) -> str:
    return page.split(f'id="{row_id}"')[1].split("</tr>")[0]


def test_the_proposer_is_refused_in_the_row_and_offered_no_approve_button(
    client, fund, nonprofit, proposer
):
    grant = propose(fund, nonprofit, proposer, amount="5000.00")
    client.force_login(proposer)

    row = row_of(client.get(reverse("donations:grant-list")).content.decode(), f"grant-{grant.pk}")
    assert "Proposed by proposer@program.example" in row
    assert "You proposed it: someone else approves it." in row
    assert reverse("donations:grant-approve", args=[grant.pk]) not in row

    response = client.post(
        reverse("donations:grant-approve", args=[grant.pk]), headers=in_row(grant)
    )

    assert response.status_code == 422
    assert "You proposed this grant; someone else approves it." in response.content.decode()
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.PROPOSED


def test_a_large_grant_on_the_pages_awaits_a_second_approver(
    two_approvals_above_10000, client, fund, nonprofit, proposer, approver_a, approver_b
):
    grant = propose(fund, nonprofit, proposer, amount="25000.00")
    approve_url = reverse("donations:grant-approve", args=[grant.pk])
    client.force_login(approver_a)

    first = client.post(approve_url, headers=in_row(grant))

    assert first.status_code == 200
    body = first.content.decode()
    assert "it awaits a second approval by someone else" in body  # the announcement
    assert (
        "Awaiting a second approval by someone else "
        "(first approved by approver-a@program.example)" in body
    )
    assert approve_url not in body  # no button for the first approver
    assert "You gave the first approval: someone else gives the second." in body

    again = client.post(approve_url, headers=in_row(grant))
    assert again.status_code == 422
    assert "the second approval is someone else&#x27;s" in again.content.decode()

    client.force_login(approver_b)
    row = row_of(client.get(reverse("donations:grant-list")).content.decode(), f"grant-{grant.pk}")
    assert approve_url in row  # the button stays for a different approver
    assert "Awaiting a second approval by someone else" in row

    second = client.post(approve_url, headers=in_row(grant))

    assert second.status_code == 200
    assert "The grant to Readers of Nairobi is approved." in second.content.decode()
    detail = client.get(reverse("donations:grant-detail", args=[grant.pk])).content.decode()
    assert "by proposer@program.example" in detail
    assert "by approver-a@program.example" in detail  # the first approval
    assert "by approver-b@program.example" in detail  # the approval
    assert "First of two approvals" in detail  # in the history


def test_a_refusal_without_javascript_comes_back_as_a_message(client, fund, nonprofit, proposer):
    grant = propose(fund, nonprofit, proposer, amount="5000.00")
    client.force_login(proposer)

    response = client.post(reverse("donations:grant-approve", args=[grant.pk]), follow=True)

    assert "You proposed this grant; someone else approves it." in response.content.decode()


def test_the_proposer_is_refused_scheduling_in_a_batch(
    client, fund, nonprofit, proposer, approver_a
):
    grant = grant_approve(grant=propose(fund, nonprofit, proposer), actor=approver_a)
    client.force_login(proposer)

    row = row_of(client.get(reverse("donations:grant-list")).content.decode(), f"grant-{grant.pk}")
    assert "Approved by approver-a@program.example" in row
    assert "You proposed it: someone else schedules its payment." in row
    assert 'name="grants"' not in row  # not offered for a batch either

    batch = client.post(
        reverse("donations:grants-schedule"),
        {"grants": [grant.pk], "expected": grants_digest([Grant.objects.get(pk=grant.pk)])},
    )

    message = "You proposed the grant to Readers of Nairobi; someone else schedules its payment."
    assert batch.status_code == 422
    assert message in batch.content.decode()
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.APPROVED


def test_verifying_a_nonprofit_one_added_is_refused_in_the_row(client, proposer):
    nonprofit = nonprofit_create(
        legal_name="Code Lagos Initiative",
        registration_number="NG-2",
        country="NG",
        contact_email="hello@codelagos.example",
        actor=proposer,
    )
    client.force_login(proposer)

    response = client.post(
        reverse("donations:nonprofit-verify", args=[nonprofit.pk]),
        headers={"HX-Request": "true", "HX-Target": f"nonprofit-{nonprofit.pk}"},
    )

    assert response.status_code == 422
    assert "You added Code Lagos Initiative; someone else verifies it." in (
        response.content.decode()
    )


def test_a_payout_change_after_an_email_change_awaits_a_second_approver_on_its_page(
    client, nonprofit, contact, approver_a, approver_b
):
    nonprofit_details_update(
        nonprofit=nonprofit, contact_email="finance@lookalike.example", actor=contact.user
    )
    change = payout_change_request(
        nonprofit=nonprofit, payout_reference="acct-new-0005", actor=contact.user
    )
    url = reverse("donations:payout-change-approve", args=[change.pk])
    headers = {"HX-Request": "true", "HX-Target": f"payout-change-{change.pk}"}
    client.force_login(approver_a)

    first = client.post(url, headers=headers)

    assert first.status_code == 200
    body = first.content.decode()
    assert "someone else gives the second approval" in body
    assert (
        "Awaiting a second approval by someone else "
        "(first approved by approver-a@program.example)" in body
    )
    assert url not in body
    again = client.post(url, headers=headers)
    assert again.status_code == 422
    assert "the second approval is someone else&#x27;s" in again.content.decode()

    client.force_login(approver_b)
    page = client.get(reverse("donations:payout-change-list")).content.decode()
    assert url in row_of(page, f"payout-change-{change.pk}")
    second = client.post(url, headers=headers)

    assert second.status_code == 200
    assert "are approved; its unpaid grants are on hold" in second.content.decode()
    assert PayoutDetailsChange.objects.get(pk=change.pk).status == "approved"


def test_the_requester_of_a_payout_change_is_refused_on_its_page(client, nonprofit, approver_a):
    change = payout_change_request(
        nonprofit=nonprofit, payout_reference="acct-new-0006", actor=approver_a
    )
    client.force_login(approver_a)

    response = client.post(
        reverse("donations:payout-change-approve", args=[change.pk]),
        headers={"HX-Request": "true", "HX-Target": f"payout-change-{change.pk}"},
    )

    assert response.status_code == 422
    assert "You asked for this change; someone else approves it." in response.content.decode()
