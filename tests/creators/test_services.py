import pytest
from django.core.exceptions import ValidationError

from changemakers.core.audit import state_transition
from changemakers.core.models import AuditEvent
from creators.models import ChangeMakersList, Creator
from creators.services import (
    creator_create,
    list_create,
    list_entry_add,
    list_publish,
    list_unpublish,
)
from tests.factories import ChangeMakersListFactory, CreatorFactory

pytestmark = pytest.mark.django_db


def test_creator_create_strips_the_at_and_saves_links(staff_user):
    creator = creator_create(
        display_name="Joel Bervell",
        handle="@joelbervell",
        country="US",
        causes=["health"],
        links=[("TikTok", "https://www.tiktok.com/@joelbervell")],
        actor=staff_user,
    )
    assert creator.handle == "joelbervell"
    assert [link.url for link in creator.links.all()] == ["https://www.tiktok.com/@joelbervell"]
    assert AuditEvent.objects.for_object(creator).get().actor == staff_user


def test_creator_create_refuses_bad_input_and_saves_nothing():
    with pytest.raises(ValidationError):
        creator_create(
            display_name="Nobody",
            handle="ok_handle",
            country="US",
            causes=["health"],
            links=[("Site", "not a url")],
        )
    assert not Creator.objects.exists()


def test_entries_without_a_position_go_last():
    change_makers_list = ChangeMakersListFactory()
    first = list_entry_add(
        change_makers_list=change_makers_list,
        creator=CreatorFactory(),
        cause="health",
        citation="First.",
    )
    second = list_entry_add(
        change_makers_list=change_makers_list,
        creator=CreatorFactory(country="NG"),
        cause="education",
        citation="Second.",
    )
    assert (first.position, second.position) == (1, 2)
    assert second.country == "NG"


def test_publishing_dates_the_list_and_is_idempotent(staff_user):
    change_makers_list = list_create(year=2026, title="Change Makers 2026", actor=staff_user)
    list_entry_add(
        change_makers_list=change_makers_list, creator=CreatorFactory(), cause="arts", citation="."
    )
    published = list_publish(change_makers_list=change_makers_list, actor=staff_user)
    again = list_publish(change_makers_list=published, actor=staff_user)
    assert again.status == ChangeMakersList.Status.PUBLISHED
    assert again.published_at == published.published_at
    events = AuditEvent.objects.for_object(change_makers_list)
    assert [(e.action, e.from_state, e.to_state) for e in events] == [
        ("created", "", "draft"),
        ("published", "draft", "published"),
    ]


def test_an_empty_list_cannot_be_published(staff_user):
    change_makers_list = ChangeMakersListFactory()
    with pytest.raises(ValidationError, match="An empty list cannot be published"):
        list_publish(change_makers_list=change_makers_list, actor=staff_user)


def test_unpublishing_takes_a_list_back_to_draft(staff_user):
    change_makers_list = ChangeMakersListFactory()
    list_entry_add(
        change_makers_list=change_makers_list, creator=CreatorFactory(), cause="arts", citation="."
    )
    list_publish(change_makers_list=change_makers_list, actor=staff_user)
    draft = list_unpublish(change_makers_list=change_makers_list, actor=staff_user)
    assert draft.status == ChangeMakersList.Status.DRAFT
    assert draft.published_at is None


def test_state_transition_refuses_an_illegal_move_readably(staff_user):
    change_makers_list = ChangeMakersListFactory()
    with pytest.raises(ValidationError) as error:
        state_transition(
            change_makers_list,
            to="published",
            allowed_from=["nowhere"],
            actor=staff_user,
            action="published",
        )
    assert "cannot go from “Draft” to “Published”" in error.value.messages[0]
    assert not AuditEvent.objects.exists()
