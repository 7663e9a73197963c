"""The database snapshot the security proofs compare before and after a refused request sees
every change to the program's tables and accounts, and nothing else (not a sign-in time)."""

import pytest
from django.utils import timezone

from tests.factories import CreatorFactory, UserFactory
from tests.security.probe import database_snapshot, snapshot_changes

pytestmark = pytest.mark.django_db


def test_a_snapshot_sees_a_new_row_and_a_changed_one_and_not_a_sign_in():
    creator = CreatorFactory(bio="Before")
    user = UserFactory()
    before = database_snapshot()
    assert snapshot_changes(before, database_snapshot()) == []

    type(user).objects.filter(pk=user.pk).update(last_login=timezone.now())
    assert snapshot_changes(before, database_snapshot()) == []

    type(creator).objects.filter(pk=creator.pk).update(bio="After")
    assert snapshot_changes(before, database_snapshot()) == ["creators.Creator: rows changed"]

    type(user).objects.filter(pk=user.pk).update(first_name="Changed")
    CreatorFactory()
    changes = snapshot_changes(before, database_snapshot())
    users = type(user)._meta.label
    assert any(change.startswith(f"{users}: ") for change in changes), changes
    assert "creators.Creator: 1 rows before, 2 after" in changes
