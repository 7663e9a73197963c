"""The back office's own row: the text of the public program page."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from changemakers.core.models import TimeStampedModel

hashtag_validator = RegexValidator(
    regex=r"^#[A-Za-z0-9_]{1,59}$",
    message=_("A hashtag is # followed by up to 59 letters, digits or underscores."),
)


class ProgramHub(TimeStampedModel):
    """The text of the public program page (the "social impact hub"), edited by staff.

    One row: the page reads the row with id 1 and `program_hub_update` writes it; a check
    constraint keeps a second row out. Plain text, shown with paragraphs, never as HTML.
    """

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    title = models.CharField(_("title"), max_length=120)
    hashtag = models.CharField(_("hashtag"), max_length=60, validators=[hashtag_validator])
    introduction = models.CharField(
        _("introduction"), max_length=300, help_text=_("One or two sentences under the title.")
    )
    body = models.TextField(
        _("text"),
        max_length=5000,
        blank=True,
        help_text=_("Plain text; leave an empty line between paragraphs."),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        # The table it has had since it lived in `creators` (migrations/0001_initial.py).
        db_table = "creators_programhub"
        verbose_name = _("program page")
        verbose_name_plural = _("program page")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="program_hub_single_row"),
        ]

    def __str__(self) -> str:
        return self.title
