"""The audit log stays append-only, with one narrow exception for erasing a person
(`changemakers.core.personal_data.audit_redact`): while a transaction has set
`changemakers.audit_redaction` to `on` (locally, for that transaction), an UPDATE that changes
nothing but the object's text and the note goes through. Who, when, what, the object and its
states can never change, and DELETE is refused as before.

SQLite (the embedded default) has no trigger: the model's guard refuses a rewrite, and only
the redaction's queryset update goes past it.
"""

from django.db import migrations

REDACTABLE = """
CREATE OR REPLACE FUNCTION creators_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('changemakers.audit_redaction', true) = 'on'
       AND NEW.id = OLD.id
       AND NEW.occurred_at = OLD.occurred_at
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
       AND NEW.content_type_id = OLD.content_type_id
       AND NEW.object_id = OLD.object_id
       AND NEW.action = OLD.action
       AND NEW.from_state = OLD.from_state
       AND NEW.to_state = OLD.to_state THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = 'audit events are append-only: ' || TG_OP || ' refused',
        ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION creators_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'audit events are append-only: ' || TG_OP || ' refused',
        ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REDACTABLE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial"), ("creators", "0002_auditevent_append_only")]

    operations = [migrations.RunPython(forwards, backwards)]
