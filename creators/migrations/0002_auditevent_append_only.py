"""On PostgreSQL the database itself refuses to rewrite or delete audit history.

SQLite (the embedded development default) relies on the model's guard alone, because Django's
test flush empties tables with DELETE there, which a trigger would refuse.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION creators_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'audit events are append-only: ' || TG_OP || ' refused',
        ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER creators_auditevent_append_only
    BEFORE UPDATE OR DELETE ON creators_auditevent
    FOR EACH ROW EXECUTE FUNCTION creators_auditevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS creators_auditevent_append_only ON creators_auditevent;
DROP FUNCTION IF EXISTS creators_auditevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("creators", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
