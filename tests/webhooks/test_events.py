"""What each service emits, once and only when its state moved, and what of it may leave the
program: each event's data has exactly its public keys (no payout details, contacts,
registration numbers, reasons or staff notes)."""

import datetime
from decimal import Decimal

import pytest

from changemakers.core.events import event_emit, event_type_choices
from changemakers.core.models import OutboxEvent
from creators import services as creator_services
from donations.events import grant_reversed_emit
from donations.models import Grant
from donations.services import (
    disbursement_pay,
    grant_approve,
    grant_propose,
    grant_schedule,
    nonprofit_verify,
)
from programs import services as program_services
from programs.models import Milestone
from tests.factories import (
    CohortFactory,
    CreatorFactory,
    EnrolmentFactory,
    FundFactory,
    MilestoneFactory,
    NonprofitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ENVELOPE_KEYS = {"type", "timestamp", "version", "data"}
GRANT_KEYS = {
    "id",
    "status",
    "amount",
    "currency",
    "approved_at",
    "disbursed_at",
    "nonprofit",
    "creator",
}
NONPROFIT_KEYS = {"id", "name", "country"}
CREATOR_KEYS = {"handle", "name"}
SECRETS = ("acct-77", "REG-SECRET-9", "grants@secret.example", "Not paid: bank closed")


def staff(name):
    return UserFactory(username=f"{name}@program.example", is_staff=True, is_superuser=True)


def data_of(event_type):
    return [event.data for event in OutboxEvent.objects.filter(type=event_type).order_by("pk")]


def test_every_type_the_brief_names_is_declared():
    assert {value for value, _ in event_type_choices()} == {
        "grant.proposed",
        "grant.approved",
        "grant.scheduled",
        "grant.disbursed",
        "grant.failed",
        "grant.reversed",
        "milestone.submitted",
        "milestone.approved",
        "list.published",
        "nonprofit.verified",
    }


def test_a_grant_emits_each_step_with_public_fields_only(settings):
    settings.SECOND_APPROVAL_ABOVE = Decimal("10000")
    proposer, first, second = staff("proposer"), staff("first"), staff("second")
    nonprofit = nonprofit_verify(
        nonprofit=NonprofitFactory(
            legal_name="Readers of Nairobi",
            registration_number="REG-SECRET-9",
            contact_email="grants@secret.example",
            payout_reference="acct-77",
        ),
        actor=first,
    )
    creator = CreatorFactory(handle="ayana.teaches", display_name="Ayana Mwangi")
    grant = grant_propose(
        fund=FundFactory(),
        nonprofit=nonprofit,
        creator=creator,
        amount="25000.00",
        purpose="Books",
        actor=proposer,
    )
    grant = grant_approve(grant=grant, actor=first)  # the first of two: no event
    assert data_of("grant.approved") == []
    grant = grant_approve(grant=grant, actor=second)
    grant_approve(grant=grant, actor=second)  # again: nothing moves, nothing emitted
    grant = grant_schedule(grant=grant, actor=second)
    disbursement_pay(disbursement_id=grant.disbursement.pk)

    types = list(OutboxEvent.objects.order_by("pk").values_list("type", flat=True))
    assert types == [
        "nonprofit.verified",
        "grant.proposed",
        "grant.approved",
        "grant.scheduled",
        "grant.disbursed",
    ]
    for event_type, status in [
        ("grant.proposed", "proposed"),
        ("grant.approved", "approved"),
        ("grant.scheduled", "scheduled"),
        ("grant.disbursed", "disbursed"),
    ]:
        (data,) = data_of(event_type)
        assert set(data) == GRANT_KEYS
        assert data["status"] == status
        assert data["amount"] == "25000.00"
        assert set(data["nonprofit"]) == NONPROFIT_KEYS
        assert data["nonprofit"] == {
            "id": nonprofit.pk,
            "name": "Readers of Nairobi",
            "country": nonprofit.country.code,
        }
        assert data["creator"] == {"handle": "ayana.teaches", "name": "Ayana Mwangi"}
    (verified,) = data_of("nonprofit.verified")
    assert set(verified) == {*NONPROFIT_KEYS, "website", "verification_status", "verified_at"}
    text = str(list(OutboxEvent.objects.values_list("data", flat=True)))
    for secret in SECRETS:
        assert secret not in text
    assert "Books" not in text  # the staff's purpose line stays inside


def test_a_final_failure_emits_grant_failed_without_its_reason():
    staff_user = staff("finance")
    nonprofit = nonprofit_verify(
        nonprofit=NonprofitFactory(payout_reference="sandbox-fail"), actor=staff_user
    )
    grant = grant_propose(
        fund=FundFactory(), nonprofit=nonprofit, amount="500.00", actor=staff("proposer")
    )
    grant = grant_schedule(grant=grant_approve(grant=grant, actor=staff_user), actor=staff_user)
    disbursement_pay(disbursement_id=grant.disbursement.pk)
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.FAILED
    (data,) = data_of("grant.failed")
    assert data["status"] == "failed"
    assert set(data) == GRANT_KEYS


def test_milestones_emit_submitted_and_approved_but_not_their_text():
    enrolment = EnrolmentFactory(
        cohort=CohortFactory(name="Cohort 1"),
        creator=CreatorFactory(user=UserFactory(), handle="kara.shoots"),
        status="active",
    )
    milestone = MilestoneFactory(enrolment=enrolment, title="Kickoff")
    program_services.progress_update_submit(
        milestone=milestone, author=enrolment.creator.user, body="Private draft notes."
    )
    program_services.milestone_request_changes(
        milestone=milestone, actor=staff("pm"), feedback="Say more, privately."
    )
    program_services.progress_update_submit(
        milestone=milestone, author=enrolment.creator.user, body="Second try."
    )
    program_services.milestone_approve(milestone=milestone, actor=staff("pm2"), feedback="Good.")
    assert Milestone.objects.get(pk=milestone.pk).status == Milestone.Status.APPROVED

    submitted = data_of("milestone.submitted")
    assert len(submitted) == 2
    (approved,) = data_of("milestone.approved")
    keys = {"id", "title", "status", "due_date", "creator", "cohort"}
    assert set(approved) == set(submitted[0]) == keys
    assert approved["status"] == "approved"
    assert approved["creator"]["handle"] == "kara.shoots"
    assert approved["cohort"]["name"] == "Cohort 1"
    text = str([*submitted, approved])
    assert "Private" not in text
    assert "privately" not in text
    assert "Good." not in text


def test_publishing_a_list_emits_its_public_address():
    manager = staff("pm")
    edition = creator_services.list_create(year=2026, title="Change Makers 2026", actor=manager)
    creator_services.list_entry_add(
        change_makers_list=edition,
        creator=CreatorFactory(),
        cause="education",
        citation="Makes learning travel.",
        actor=manager,
    )
    creator_services.list_publish(change_makers_list=edition, actor=manager)
    (data,) = data_of("list.published")
    assert data["year"] == 2026
    assert data["entries"] == 1
    assert data["url"].endswith("/list/2026/")
    assert set(data) == {"id", "year", "title", "entries", "published_at", "url"}


def test_the_reversal_helper_emits_grant_reversed():
    grant = Grant.objects.create(
        fund=FundFactory(),
        nonprofit=NonprofitFactory(),
        amount=Decimal("25000.00"),
        currency="USD",
        status=Grant.Status.DISBURSED,
    )
    when = datetime.datetime(2026, 11, 5, 12, 0, tzinfo=datetime.UTC)
    grant_reversed_emit(grant=grant, amount=Decimal("25000.00"), currency="USD", reversed_at=when)
    (data,) = data_of("grant.reversed")
    assert data["reversal"] == {
        "amount": "25000.00",
        "currency": "USD",
        "reversed_at": "2026-11-05T12:00:00+00:00",
    }
    assert set(data) == {*GRANT_KEYS, "reversal"}


def test_an_undeclared_type_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown event type"):
        event_emit("grant.stolen", obj=FundFactory())
