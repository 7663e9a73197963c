"""Opportunities through their services: staff publish, change and cancel them (emailing the
people signed up), people sign up and withdraw for themselves within the places and the dates,
staff mark attendance; and the refusals."""

import datetime
import threading

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation

from changemakers.core.models import AuditEvent
from changemakers.core.roles import StaffRole
from programs.models import Opportunity, OpportunitySignup
from programs.services import (
    opportunity_attendance_mark,
    opportunity_cancel,
    opportunity_signup,
    opportunity_update,
    opportunity_withdraw,
)
from tests.factories import CreatorFactory, NonprofitContactFactory, StaffFactory, UserFactory
from tests.programs.opportunities import make_opportunity, program_manager

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(db):
    return program_manager()


def sign_up(opportunity, user, **kwargs):
    return opportunity_signup(opportunity=opportunity, person=user, actor=user, **kwargs)


# --- Staff -----------------------------------------------------------------------------------


def test_a_program_manager_creates_a_draft_and_publishes_it(manager):
    opportunity = make_opportunity(manager, publish=False)
    assert opportunity.status == Opportunity.Status.DRAFT
    published = make_opportunity(manager)
    assert published.status == Opportunity.Status.PUBLISHED
    assert published.published_at is not None
    actions = set(
        AuditEvent.objects.filter(
            object_id=published.pk, content_type__model="opportunity"
        ).values_list("action", flat=True)
    )
    assert actions == {"created", "published"}


def test_the_title_is_read_in_the_active_language_with_english_when_missing(manager):
    opportunity = make_opportunity(manager)
    with translation.override("fr"):
        assert Opportunity.objects.get(pk=opportunity.pk).title == "Raconter pour agir"
    with translation.override("es"):
        assert Opportunity.objects.get(pk=opportunity.pk).title == "Storytelling for impact"


@pytest.mark.parametrize(
    "roles", [[StaffRole.AUDITOR], [StaffRole.FINANCE_APPROVER], [StaffRole.NONPROFIT_VETTER]]
)
def test_other_staff_roles_cannot_publish_opportunities(manager, roles):
    other = StaffFactory(roles=roles)
    with pytest.raises(ValidationError, match="do not let you publish opportunities"):
        make_opportunity(other)
    draft = make_opportunity(manager, publish=False)
    with pytest.raises(ValidationError):
        opportunity_cancel(opportunity=draft, actor=other, reason="No.")
    assert Opportunity.objects.get(pk=draft.pk).status == Opportunity.Status.DRAFT


def test_a_creator_cannot_publish_opportunities(creator_user):
    with pytest.raises(ValidationError, match="do not let you"):
        make_opportunity(creator_user)


def test_a_place_or_a_link_is_needed(manager):
    with pytest.raises(ValidationError, match="Give a place, a link, or both"):
        make_opportunity(manager, place="", link="")
    online = make_opportunity(manager, place="", link="https://meet.example/room")
    assert online.link == "https://meet.example/room"


def test_sign_ups_close_on_or_before_the_day(manager):
    starts = timezone.now() + datetime.timedelta(days=5)
    with pytest.raises(ValidationError) as refused:
        make_opportunity(
            manager, starts_at=starts, closes_on=(starts + datetime.timedelta(days=1)).date()
        )
    assert "signups_close_on" in refused.value.error_dict


def test_the_places_cannot_drop_below_those_taken(manager, creator_user, other_creator_user):
    opportunity = make_opportunity(manager, capacity=3)
    sign_up(opportunity, creator_user)
    sign_up(opportunity, other_creator_user)
    with pytest.raises(ValidationError) as refused:
        opportunity_update(opportunity=opportunity, actor=manager, capacity=1)
    assert "capacity" in refused.value.error_dict
    assert opportunity_update(opportunity=opportunity, actor=manager, capacity=2) == ["capacity"]


# --- Signing up ------------------------------------------------------------------------------


def test_a_creator_signs_up_once_and_it_is_audited(manager, creator_user):
    opportunity = make_opportunity(manager)
    signup = sign_up(opportunity, creator_user)
    again = sign_up(opportunity, creator_user)
    assert again.pk == signup.pk
    assert signup.role == OpportunitySignup.Role.CREATOR
    assert signup.name == creator_user.creator.display_name
    assert OpportunitySignup.objects.count() == 1
    assert AuditEvent.objects.filter(action="signed_up", object_id=signup.pk).count() == 1


def test_a_nonprofit_contact_signs_up_for_their_organisation(manager, nonprofit_user):
    opportunity = make_opportunity(manager, audience=Opportunity.Audience.NONPROFITS)
    signup = sign_up(opportunity, nonprofit_user, organisation="Readers of Nairobi")
    assert signup.role == OpportunitySignup.Role.NONPROFIT
    assert signup.organisation == "Readers of Nairobi"


def test_a_full_opportunity_refuses_sign_ups(manager, creator_user, other_creator_user):
    opportunity = make_opportunity(manager, capacity=1)
    sign_up(opportunity, creator_user)
    with pytest.raises(ValidationError, match="This opportunity is full"):
        sign_up(opportunity, other_creator_user)
    assert opportunity.signups.current().count() == 1


def test_withdrawing_frees_the_place(manager, creator_user, other_creator_user):
    opportunity = make_opportunity(manager, capacity=1)
    sign_up(opportunity, creator_user)
    withdrawn = opportunity_withdraw(
        opportunity=opportunity, person=creator_user, actor=creator_user
    )
    assert withdrawn.status == OpportunitySignup.Status.WITHDRAWN
    assert sign_up(opportunity, other_creator_user).status == OpportunitySignup.Status.SIGNED_UP
    # The first is now refused: the place is the other's.
    with pytest.raises(ValidationError, match="full"):
        sign_up(opportunity, creator_user)


def test_signing_up_again_after_withdrawing_takes_the_same_row(manager, creator_user):
    opportunity = make_opportunity(manager)
    first = sign_up(opportunity, creator_user)
    opportunity_withdraw(opportunity=opportunity, person=creator_user, actor=creator_user)
    again = sign_up(opportunity, creator_user)
    assert again.pk == first.pk
    assert again.status == OpportunitySignup.Status.SIGNED_UP


def test_closed_sign_ups_are_refused(manager, creator_user):
    starts = timezone.now() + datetime.timedelta(days=10)
    opportunity = make_opportunity(manager, starts_at=starts)
    with (
        time_machine.travel(starts - datetime.timedelta(days=1), tick=False),
        pytest.raises(ValidationError, match="Sign-ups for this opportunity are closed"),
    ):
        sign_up(opportunity, creator_user)


def test_a_draft_or_cancelled_opportunity_refuses_sign_ups(manager, creator_user):
    draft = make_opportunity(manager, publish=False)
    with pytest.raises(ValidationError, match="not open for sign-ups"):
        sign_up(draft, creator_user)
    cancelled = opportunity_cancel(
        opportunity=make_opportunity(manager), actor=manager, reason="Speaker ill."
    )
    with pytest.raises(ValidationError, match="not open for sign-ups"):
        sign_up(cancelled, creator_user)


def test_a_creator_cannot_sign_up_to_an_opportunity_for_nonprofits(manager, creator_user):
    opportunity = make_opportunity(manager, audience=Opportunity.Audience.NONPROFITS)
    with pytest.raises(ValidationError, match="not meant for you"):
        sign_up(opportunity, creator_user)


def test_a_nonprofit_cannot_sign_up_to_an_opportunity_for_creators(manager, nonprofit_user):
    opportunity = make_opportunity(manager, audience=Opportunity.Audience.CREATORS)
    with pytest.raises(ValidationError, match="not meant for you"):
        sign_up(opportunity, nonprofit_user)


def test_staff_and_members_cannot_sign_up(manager):
    opportunity = make_opportunity(manager)
    for person in (manager, UserFactory()):
        with pytest.raises(ValidationError, match="not meant for you"):
            sign_up(opportunity, person)


def test_nobody_signs_up_or_withdraws_someone_else(manager, creator_user, other_creator_user):
    opportunity = make_opportunity(manager)
    with pytest.raises(ValidationError, match="for themselves only"):
        opportunity_signup(opportunity=opportunity, person=other_creator_user, actor=creator_user)
    with pytest.raises(ValidationError, match="for themselves only"):
        opportunity_signup(opportunity=opportunity, person=creator_user, actor=manager)
    sign_up(opportunity, other_creator_user)
    with pytest.raises(ValidationError, match="for themselves only"):
        opportunity_withdraw(opportunity=opportunity, person=other_creator_user, actor=creator_user)
    assert opportunity.signups.current().count() == 1


def test_the_database_holds_one_sign_up_per_person(manager, creator_user):
    opportunity = make_opportunity(manager)
    sign_up(opportunity, creator_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        OpportunitySignup.objects.create(
            opportunity=opportunity, user=creator_user, role="creator", name="Twice"
        )


# --- Attendance and cancelling ---------------------------------------------------------------


def test_staff_mark_attendance(manager, creator_user):
    opportunity = make_opportunity(manager)
    signup = sign_up(opportunity, creator_user)
    assert opportunity_attendance_mark(signup=signup, attended=True, actor=manager).attended
    assert (
        opportunity_attendance_mark(signup=signup, attended=False, actor=manager).attended is False
    )
    event = AuditEvent.objects.filter(action="attendance_marked").order_by("pk").last()
    assert (event.from_state, event.to_state) == ("attended", "absent")
    auditor = StaffFactory(roles=[StaffRole.AUDITOR])
    with pytest.raises(ValidationError):
        opportunity_attendance_mark(signup=signup, attended=True, actor=auditor)
    with pytest.raises(ValidationError):
        opportunity_attendance_mark(signup=signup, attended=True, actor=creator_user)


def test_cancelling_emails_everyone_signed_up_in_their_language(
    manager, creator_user, django_capture_on_commit_callbacks
):
    opportunity = make_opportunity(manager)
    creator_user.creator.language = "fr"
    creator_user.creator.save(update_fields=["language"])
    contact = NonprofitContactFactory(language="es")
    gone = CreatorFactory(user=UserFactory()).user
    sign_up(opportunity, creator_user)
    sign_up(opportunity, contact.user, organisation=contact.nonprofit.legal_name)
    sign_up(opportunity, gone)
    opportunity_withdraw(opportunity=opportunity, person=gone, actor=gone)
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = opportunity_cancel(opportunity=opportunity, actor=manager, reason="Rain.")
    assert cancelled.status == Opportunity.Status.CANCELLED
    assert cancelled.cancel_reason == "Rain."
    by_address = {message.to[0]: message for message in mail.outbox}
    assert set(by_address) == {creator_user.email, contact.user.email}
    # Each in their language: the staff-written title in it (the English where staff wrote
    # none), the program's own words in it.
    french, spanish = by_address[creator_user.email], by_address[contact.user.email]
    assert "Raconter pour agir" in french.subject
    assert "L'équipe Change Makers" in french.body
    assert "Storytelling for impact" in spanish.subject
    assert "El equipo de Change Makers" in spanish.body
    assert "Rain." in french.body
    # Once: cancelling again sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        opportunity_cancel(opportunity=opportunity, actor=manager, reason="Rain.")
    assert len(mail.outbox) == 2


def test_cancelling_needs_a_reason(manager):
    opportunity = make_opportunity(manager)
    with pytest.raises(ValidationError) as refused:
        opportunity_cancel(opportunity=opportunity, actor=manager, reason="  ")
    assert "reason" in refused.value.error_dict


# --- Two people, one last place --------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_taking_the_last_place_at_once_cannot_both_get_it():
    """Ten creators sign up at the same moment for the last two places: exactly two get one,
    eight are told it is full, and the places taken never pass the capacity."""
    manager = program_manager()
    opportunity = make_opportunity(manager, capacity=3)
    first = CreatorFactory(user=UserFactory()).user
    sign_up(opportunity, first)
    people = [CreatorFactory(user=UserFactory()).user for _ in range(10)]
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []

    def take(person):
        try:
            barrier.wait()
            sign_up(opportunity, person)
            outcomes.append("signed up")
        except ValidationError as refusal:
            outcomes.append(refusal.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("signed up") == 2
    assert outcomes.count("This opportunity is full.") == 8
    assert opportunity.signups.current().count() == 3
