from django.db import migrations


def unaccent_install(apps, schema_editor):
    """PostgreSQL's `unaccent` (a trusted extension: the database's owner may install it);
    SQLite folds with a Python function instead (changemakers.core.search)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_outbox_events"),
    ]

    operations = [
        migrations.RunPython(unaccent_install, migrations.RunPython.noop, elidable=False),
    ]
