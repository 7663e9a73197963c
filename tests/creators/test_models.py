import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from changemakers.core.audit import audit_record
from changemakers.core.models import AuditEvent
from creators.models import Cause, ChangeMakersList, Creator
from tests.factories import (
    ChangeMakersListFactory,
    CreatorFactory,
    ListEntryFactory,
    NonprofitContactFactory,
)

pytestmark = pytest.mark.django_db


def test_handle_is_unique_ignoring_case_with_a_clear_message():
    CreatorFactory(handle="joelbervell")
    clash = CreatorFactory.build(handle="JoelBervell")
    with pytest.raises(ValidationError) as error:
        clash.full_clean()
    assert "Another creator already has this handle." in str(error.value)


def test_database_refuses_a_duplicate_handle_even_without_validation():
    CreatorFactory(handle="karaxlewis")
    with pytest.raises(IntegrityError):
        CreatorFactory(handle="KARAXLEWIS")


@pytest.mark.parametrize("handle", ["@joel", "a", "has space", "émile", "x" * 31])
def test_malformed_handles_are_refused(handle):
    creator = CreatorFactory.build(handle=handle)
    with pytest.raises(ValidationError) as error:
        creator.full_clean()
    assert "handle" in error.value.message_dict


def test_causes_must_come_from_the_vocabulary():
    creator = CreatorFactory.build(causes=["education", "astrology"])
    with pytest.raises(ValidationError) as error:
        creator.full_clean()
    assert "Unknown cause: astrology." in error.value.message_dict["causes"]


def test_a_creator_needs_at_least_one_cause():
    creator = CreatorFactory.build(causes=[])
    with pytest.raises(ValidationError) as error:
        creator.full_clean()
    assert "Pick at least one cause." in error.value.message_dict["causes"]


def test_country_must_be_an_iso_code():
    creator = CreatorFactory.build(country="Narnia")
    with pytest.raises(ValidationError) as error:
        creator.full_clean()
    assert "country" in error.value.message_dict


def test_with_cause_finds_creators_by_one_of_their_causes():
    teacher = CreatorFactory(causes=[Cause.EDUCATION, Cause.DISABILITY])
    CreatorFactory(causes=[Cause.HEALTH])
    assert list(Creator.objects.with_cause(Cause.DISABILITY)) == [teacher]


def test_a_creator_appears_once_per_list():
    entry = ListEntryFactory()
    again = ListEntryFactory.build(
        change_makers_list=entry.change_makers_list, creator=entry.creator, position=99
    )
    with pytest.raises(ValidationError) as error:
        again.validate_constraints()
    assert "This creator is already on this year's list." in str(error.value)


def test_two_entries_cannot_share_a_position():
    entry = ListEntryFactory(position=1)
    other = ListEntryFactory.build(change_makers_list=entry.change_makers_list, position=1)
    with pytest.raises(ValidationError) as error:
        other.validate_constraints()
    assert "Another entry already holds this position." in str(error.value)


def test_a_published_list_needs_a_publication_date():
    with pytest.raises(IntegrityError):
        ChangeMakersListFactory(status=ChangeMakersList.Status.PUBLISHED, published_at=None)


def test_only_published_lists_are_public():
    ChangeMakersListFactory(year=2030)
    assert not ChangeMakersList.objects.published().exists()


def test_audit_events_cannot_be_changed_or_deleted(staff_user):
    creator = CreatorFactory()
    event = audit_record(actor=staff_user, obj=creator, action="created")
    event.note = "rewritten history"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).note == ""


@pytest.mark.postgres
def test_postgresql_refuses_to_rewrite_audit_history_even_in_bulk(staff_user):
    creator = CreatorFactory()
    audit_record(actor=staff_user, obj=creator, action="created")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.update(note="rewritten")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().note == ""


def test_a_nonprofit_contacts_account_cannot_become_a_creator():
    contact = NonprofitContactFactory()
    creator = CreatorFactory()
    creator.user = contact.user

    with pytest.raises(ValidationError) as refused:
        creator.full_clean()

    assert "a creator needs an account of its own" in str(refused.value.message_dict["user"])
