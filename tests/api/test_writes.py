"""Writes go through the pages' services with the integration's own account as the actor: the
separation of duties holds (what it proposed, someone else approves), every rule refuses as
a problem detail, and each write is audited with the integration's name."""

from decimal import Decimal

import pytest
from django.utils import timezone

from changemakers.api.models import ApiToken
from changemakers.core.models import AuditEvent
from creators.models import ChangeMakersList, ListEntry
from donations import services as donation_services
from donations.models import Grant, Nonprofit
from programs.models import Enrolment
from tests.factories import (
    ChangeMakersListFactory,
    CohortFactory,
    CreatorFactory,
    FundFactory,
    GrantFactory,
    NonprofitFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def verified():
    return NonprofitFactory(verification_status=Nonprofit.Verification.VERIFIED)


def _propose(writer, fund, nonprofit, **extra):
    body = {"fund": fund.pk, "nonprofit": nonprofit.pk, "amount": "2500.00", **extra}
    return writer.post("/api/v1/grants/", body, format="json")


def test_an_integration_proposes_a_grant_as_itself_audited(writer, verified):
    fund = FundFactory()
    response = _propose(writer, fund, verified, purpose="Books")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "proposed"
    assert body["amount"] == "2500.00"
    grant = Grant.objects.get(pk=body["id"])
    account = writer.token.integration.account
    assert grant.proposed_by == account
    assert AuditEvent.objects.for_object(grant).get().actor == account
    use = AuditEvent.objects.get(action="api_write")
    assert use.object_id == writer.token.pk
    assert use.actor == account
    assert "Writer" in use.note
    assert f"grant {grant.pk}" in use.note


def test_what_the_integration_proposed_it_cannot_approve(writer, verified):
    grant_id = _propose(writer, FundFactory(), verified).json()["id"]
    response = writer.post(f"/api/v1/grants/{grant_id}/approve/")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "approver_is_proposer"
    assert problem["status"] == 409
    assert Grant.objects.get(pk=grant_id).status == Grant.Status.PROPOSED
    assert AuditEvent.objects.filter(action="api_write").count() == 1  # the proposal only


def test_the_integration_approves_what_a_person_proposed(writer, verified):
    person = StaffFactory(is_superuser=True)
    grant = donation_services.grant_propose(
        fund=FundFactory(), nonprofit=verified, amount=Decimal("100"), actor=person
    )
    response = writer.post(f"/api/v1/grants/{grant.pk}/approve/")
    assert response.status_code == 200, response.json()
    grant.refresh_from_db()
    assert grant.status == Grant.Status.APPROVED
    assert grant.approved_by == writer.token.integration.account


def test_bad_grant_bodies_are_400s_with_their_fields(writer, verified):
    fund = FundFactory(currency="JPY")
    cases = [
        ({}, {"fund", "nonprofit", "amount"}),
        ({"fund": "x", "nonprofit": 1, "amount": "1"}, {"fund"}),
        ({"fund": 2**70, "nonprofit": verified.pk, "amount": "1"}, {"fund"}),
        ({"fund": fund.pk, "nonprofit": verified.pk, "amount": "NaN"}, {"amount"}),
        ({"fund": fund.pk, "nonprofit": verified.pk, "amount": "-5"}, {"amount"}),
        ({"fund": fund.pk, "nonprofit": verified.pk, "amount": "10.5"}, {"amount"}),  # yen
        ({"fund": fund.pk + 1, "nonprofit": verified.pk, "amount": "1"}, {"fund"}),
        ({"fund": fund.pk, "nonprofit": verified.pk, "amount": "1", "creator": 999}, {"creator"}),
    ]
    for body, fields in cases:
        response = writer.post("/api/v1/grants/", body, format="json")
        assert response.status_code == 400, (body, response.content)
        if fields:
            assert set(response.json()["errors"]) == fields, body
    # JSON may carry a lone surrogate, which no database stores.
    surrogate = (
        f'{{"fund": {fund.pk}, "nonprofit": {verified.pk}, "amount": "1", "purpose": "\\ud800"}}'
    )
    response = writer.post("/api/v1/grants/", surrogate, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"purpose"}
    assert (
        writer.post("/api/v1/grants/", "{not json", content_type="application/json").status_code
        == 400
    )
    response = writer.post(
        "/api/v1/grants/", "fund=1", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert not Grant.objects.exists()


def test_a_rejected_nonprofit_cannot_be_granted(writer):
    rejected = NonprofitFactory(verification_status="rejected", rejection_reason="Fake.")
    response = _propose(writer, FundFactory(), rejected)
    assert response.status_code == 400
    assert "nonprofit" in response.json()["errors"]


def test_cancelling_needs_a_reason_and_the_role(writer, superuser):
    grant = GrantFactory()
    assert writer.post(f"/api/v1/grants/{grant.pk}/cancel/", {}, format="json").status_code == 400
    response = writer.post(
        f"/api/v1/grants/{grant.pk}/cancel/", {"reason": "Duplicate"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_without_the_role_the_service_refuses_with_a_403(superuser, verified):
    from changemakers.core.roles import StaffRole
    from tests.api.conftest import client_for, staff_integration

    vetter = client_for(
        staff_integration(superuser, StaffRole.PROGRAM_MANAGER, name="PM only"),
        superuser,
        ApiToken.Scope.WRITE,
    )
    grant = GrantFactory(nonprofit=verified)
    response = vetter.post(f"/api/v1/grants/{grant.pk}/approve/")
    assert response.status_code == 403
    assert "approve grants" in response.json()["detail"]


def test_an_entry_is_added_to_a_draft_list(writer):
    edition = ChangeMakersListFactory(year=2031)
    creator = CreatorFactory(handle="joelbervell")
    response = writer.post(
        "/api/v1/lists/2031/entries/",
        {"handle": "@joelbervell", "citation": "Medicine on camera."},
        format="json",
    )
    assert response.status_code == 201, response.json()
    entry = ListEntry.objects.get()
    assert (entry.change_makers_list, entry.creator, entry.position) == (edition, creator, 1)
    assert response.json()["creator"]["handle"] == "joelbervell"
    again = writer.post(
        "/api/v1/lists/2031/entries/", {"handle": "joelbervell", "citation": "x"}, format="json"
    )
    assert again.status_code == 400  # the database's constraint, named by the service
    unknown = writer.post(
        "/api/v1/lists/2031/entries/", {"handle": "nobody", "citation": "x"}, format="json"
    )
    assert unknown.status_code == 400
    assert "handle" in unknown.json()["errors"]
    assert writer.post("/api/v1/lists/1999/entries/", {}, format="json").status_code == 404


def test_a_published_list_refuses_entries_with_a_409(writer):
    ChangeMakersListFactory(
        year=2030, status=ChangeMakersList.Status.PUBLISHED, published_at=timezone.now()
    )
    CreatorFactory(handle="karaxlewis")
    response = writer.post(
        "/api/v1/lists/2030/entries/", {"handle": "karaxlewis", "citation": "x"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "list_published"


def test_an_integration_invites_a_new_creator_into_a_cohort(
    writer, mailoutbox, django_capture_on_commit_callbacks
):
    cohort = CohortFactory()
    body = {
        "new_creator": {
            "display_name": "Eli Virkina",
            "handle": "elivirkina",
            "country": "GB",
            "causes": ["environment"],
        },
        "email": "eli@creators.example",
        "mission": "Stories of the climate.",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = writer.post(f"/api/v1/cohorts/{cohort.pk}/invitations/", body, format="json")
    assert response.status_code == 201, response.json()
    enrolment = Enrolment.objects.get()
    assert enrolment.cohort == cohort
    assert enrolment.creator.handle == "elivirkina"
    assert [m.to for m in mailoutbox] == [["eli@creators.example"]]
    assert AuditEvent.objects.filter(action="api_write").count() == 1


def test_an_invitation_names_one_creator_and_an_email_when_needed(writer):
    cohort = CohortFactory()
    creator = CreatorFactory()
    url = f"/api/v1/cohorts/{cohort.pk}/invitations/"
    assert writer.post(url, {}, format="json").status_code == 400
    response = writer.post(url, {"creator": creator.pk}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()["errors"]
    response = writer.post(
        url, {"creator": creator.pk, "new_creator": {"handle": "x"}}, format="json"
    )
    assert response.status_code == 400
    assert writer.post("/api/v1/cohorts/999999/invitations/", {}, format="json").status_code == 404
    assert not Enrolment.objects.exists()
