"""Once added other apps' audit verbs to the audit log's column choices. The verbs are now
declared in code by the app that records them (changemakers.core.verbs) and the column has no
choices, so this migration does nothing; it stays only because databases have applied it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ('creators', '0002_auditevent_append_only'),
    ]

    operations = []
