"""The audit log went to the kernel (core 0001) and the program page's text to the back
office (backoffice 0001): `creators` forgets both models; their tables stay, now theirs."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("creators", "0006_program_hub"),
        ("core", "0001_initial"),
        ("backoffice", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AuditEvent"),
                migrations.DeleteModel(name="ProgramHub"),
            ],
            database_operations=[],
        ),
    ]
