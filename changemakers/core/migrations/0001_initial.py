"""The audit log moves from `creators` to the kernel: the model changes app, the table
(`creators_auditevent`), its rows, its indexes and the append-only trigger stay as they are.

The verbs are no longer `choices` of the column: each app declares its own in code
(`changemakers.core.audit.verbs_declare`), so a new verb needs no migration here.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def content_type_move(apps, schema_editor):
    """Keep the model's content type (and so its permissions) under its new app."""
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="core", model="auditevent").exists():
        content_type.objects.filter(app_label="creators", model="auditevent").update(
            app_label="core"
        )


def content_type_back(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="creators", model="auditevent").exists():
        content_type.objects.filter(app_label="core", model="auditevent").update(
            app_label="creators"
        )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        # The model's last state in `creators`; creators 0007 then forgets it there.
        ("creators", "0006_program_hub"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "occurred_at",
                            models.DateTimeField(
                                db_index=True,
                                default=django.utils.timezone.now,
                                verbose_name="when",
                            ),
                        ),
                        ("object_id", models.PositiveBigIntegerField()),
                        ("object_repr", models.CharField(max_length=200, verbose_name="object")),
                        ("action", models.CharField(max_length=40, verbose_name="action")),
                        (
                            "from_state",
                            models.CharField(blank=True, max_length=32, verbose_name="from"),
                        ),
                        ("to_state", models.CharField(blank=True, max_length=32, verbose_name="to")),
                        ("note", models.TextField(blank=True, verbose_name="note")),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                help_text=(
                                    "Empty when the system acted (a scheduled job, the seed "
                                    "command)."
                                ),
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="who",
                            ),
                        ),
                        (
                            "content_type",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="contenttypes.contenttype",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "audit event",
                        "verbose_name_plural": "audit events",
                        "db_table": "creators_auditevent",
                        "ordering": ["-occurred_at", "-id"],
                        "indexes": [
                            models.Index(
                                fields=["content_type", "object_id", "occurred_at"],
                                name="creators_au_content_b1b280_idx",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_move, content_type_back, elidable=True),
    ]
