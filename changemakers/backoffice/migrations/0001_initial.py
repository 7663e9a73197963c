"""The program page's text moves from `creators` to the back office: the model changes app,
the table (`creators_programhub`) and its row stay as they are."""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_type_move(apps, schema_editor):
    """Keep the model's content type (and so its permissions) under its new app."""
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="backoffice", model="programhub").exists():
        content_type.objects.filter(app_label="creators", model="programhub").update(
            app_label="backoffice"
        )


def content_type_back(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="creators", model="programhub").exists():
        content_type.objects.filter(app_label="backoffice", model="programhub").update(
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
                    name="ProgramHub",
                    fields=[
                        (
                            "created_at",
                            models.DateTimeField(
                                auto_now_add=True, db_index=True, verbose_name="created"
                            ),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                        (
                            "id",
                            models.PositiveSmallIntegerField(
                                default=1, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        ("title", models.CharField(max_length=120, verbose_name="title")),
                        (
                            "hashtag",
                            models.CharField(
                                max_length=60,
                                validators=[
                                    django.core.validators.RegexValidator(
                                        message=(
                                            "A hashtag is # followed by up to 59 letters, "
                                            "digits or underscores."
                                        ),
                                        regex="^#[A-Za-z0-9_]{1,59}$",
                                    )
                                ],
                                verbose_name="hashtag",
                            ),
                        ),
                        (
                            "introduction",
                            models.CharField(
                                help_text="One or two sentences under the title.",
                                max_length=300,
                                verbose_name="introduction",
                            ),
                        ),
                        (
                            "body",
                            models.TextField(
                                blank=True,
                                help_text="Plain text; leave an empty line between paragraphs.",
                                max_length=5000,
                                verbose_name="text",
                            ),
                        ),
                        (
                            "updated_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="updated by",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "program page",
                        "verbose_name_plural": "program page",
                        "db_table": "creators_programhub",
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("id", 1)), name="program_hub_single_row"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_move, content_type_back, elidable=True),
    ]
