"""Roles: the kernel knows no app; each app declares how an account links to its rows."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from changemakers.core import roles
from changemakers.core.roles import Role, linked_roles, role_of
from tests.factories import CreatorFactory, NonprofitContactFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_each_app_declares_its_account_link_once_in_load_order():
    assert roles._LINKS == [(Role.CREATOR, "creator"), (Role.NONPROFIT, "nonprofit_contact")]
    roles.role_link_declare(Role.CREATOR, "creator")  # a second ready() changes nothing
    assert roles._LINKS == [(Role.CREATOR, "creator"), (Role.NONPROFIT, "nonprofit_contact")]


def test_who_is_looking():
    creator = CreatorFactory(user=UserFactory())
    contact = NonprofitContactFactory()
    assert role_of(AnonymousUser()) == Role.ANONYMOUS
    assert role_of(UserFactory(is_staff=True)) == Role.STAFF
    assert role_of(creator.user) == Role.CREATOR
    assert role_of(contact.user) == Role.NONPROFIT
    assert role_of(UserFactory()) == Role.MEMBER
    assert linked_roles(contact.user) == [Role.NONPROFIT]
    assert linked_roles(AnonymousUser()) == []


def test_a_nonprofit_contacts_account_cannot_also_be_a_creators():
    contact = NonprofitContactFactory()
    creator = CreatorFactory.build(user=contact.user)
    with pytest.raises(ValidationError) as refused:
        creator.full_clean()
    assert "user" in refused.value.error_dict
    # The creator's own account is no refusal.
    CreatorFactory.build(user=UserFactory()).full_clean()
