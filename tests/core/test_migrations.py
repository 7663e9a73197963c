"""The audit log and the program page's text moved from `creators` to the kernel and the back
office without moving a row: a database in the old layout migrates to the new one with its
events, its page text, its permissions and (on PostgreSQL) its append-only trigger."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

OLD = [("creators", "0006_program_hub"), ("programs", "0003_staff_digest_delivery")]


def _migrate(targets):
    """Migrate to `targets` and return the models as they are there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1]]).apps


@pytest.fixture
def old_layout(transactional_db):
    """The database as it was before the move; put back to the latest layout afterwards."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    # Everything after the old layout: the apps that depend on creators 0007 go first.
    yield _migrate([("core", None), ("backoffice", None), *OLD])
    _migrate(latest)


def test_audit_rows_permissions_and_the_hub_survive_the_move(old_layout):
    old = old_layout
    user = old.get_model("auth", "User").objects.create(username="auditor")
    content_type = old.get_model("contenttypes", "ContentType")
    creator_type, _ = content_type.objects.get_or_create(app_label="creators", model="creator")
    audit_type, _ = content_type.objects.get_or_create(app_label="creators", model="auditevent")
    old.get_model("auth", "Permission").objects.get_or_create(
        content_type=audit_type, codename="view_auditevent", defaults={"name": "Can view"}
    )
    old_event = old.get_model("creators", "AuditEvent").objects.create(
        actor=user,
        content_type=creator_type,
        object_id=7,
        object_repr="Joel Bervell (@joelbervell)",
        action="created",
    )
    old.get_model("creators", "ProgramHub").objects.create(
        title="The hub", hashtag="#ChangeMakers", introduction="Hello."
    )

    new = _migrate(
        [
            ("core", "0001_initial"),
            ("backoffice", "0001_initial"),
            ("creators", "0007_audit_and_hub_move_out"),
        ]
    )

    event = new.get_model("core", "AuditEvent").objects.get()
    assert (event.pk, event.actor_id, event.object_id, event.action) == (
        old_event.pk,
        user.pk,
        7,
        "created",
    )
    assert new.get_model("backoffice", "ProgramHub").objects.get().title == "The hub"
    moved = new.get_model("contenttypes", "ContentType").objects.get(pk=audit_type.pk)
    assert (moved.app_label, moved.model) == ("core", "auditevent")
    assert (
        new.get_model("auth", "Permission")
        .objects.filter(content_type=moved, codename="view_auditevent")
        .exists()
    )


@pytest.mark.postgres
def test_the_append_only_trigger_still_guards_the_moved_table(old_layout):
    from changemakers.core.audit import audit_record
    from changemakers.core.models import AuditEvent
    from tests.factories import CreatorFactory

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    event = audit_record(actor=None, obj=CreatorFactory(), action="created")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(note="rewritten")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
