"""The back office's own rows: the text of the public program page, the personal data
requests staff handle, and the record of each retention purge."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from changemakers.core.models import TimeStampedModel, person_field

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


class AuditVerb(models.TextChoices):
    """What the back office records in the audit log (declared in `BackOfficeConfig.ready`)."""

    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    EXPORTED = "exported", _("Export ready")
    DOWNLOADED = "downloaded", _("Downloaded")
    ERASED = "erased", _("Erased")
    EXPIRED = "expired", _("Expired")
    PURGED = "purged", _("Retention purge")


class PersonalDataRequestQuerySet(models.QuerySet):
    def for_list(self) -> "PersonalDataRequestQuerySet":
        return self.select_related("creator", "requested_by", "reviewed_by").order_by(
            "-created_at", "-pk"
        )


class PersonalDataRequest(TimeStampedModel):
    """A request to export or erase everything the program holds about one person (a
    creator and their account). Nothing happens until a second member of staff, not the
    requester, approves it: an export is then built by a job and downloadable by the two of
    them for PERSONAL_DATA_EXPORT_DAYS; an erasure is carried out at once."""

    class Kind(models.TextChoices):
        EXPORT = "export", _("Export")
        ERASURE = "erasure", _("Erasure")

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        REJECTED = "rejected", _("Rejected")
        APPROVED = "approved", _("Approved, being prepared")
        DONE = "done", _("Done")
        EXPIRED = "expired", _("Expired")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    creator = models.ForeignKey(
        "creators.Creator",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.TextField(_("reason"), max_length=1000)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    requested_by = person_field(_("requested by"))
    reviewed_by = person_field(_("approved or rejected by"))
    reviewed_at = models.DateTimeField(_("approved or rejected at"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    completed_at = models.DateTimeField(_("done at"), null=True, blank=True)
    # The export's ZIP: in the default storage, which nothing serves; only the download view
    # hands it out, to the requester and the approver, until it expires.
    archive = models.FileField(_("archive"), upload_to="personal-data/", blank=True, editable=False)
    archive_expires_at = models.DateTimeField(_("download until"), null=True, blank=True)

    objects = PersonalDataRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal data request")
        verbose_name_plural = _("personal data requests")
        ordering = ["-created_at"]
        permissions = [
            (
                "handle_personal_data",
                _("Can request, approve and download personal data exports and erasures"),
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_by__isnull=True)
                | Q(reviewed_by__isnull=True)
                | ~Q(reviewed_by=F("requested_by")),
                name="personal_data_request_four_eyes",
                violation_error_message=_(
                    "A personal data request is approved by someone other than its requester."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(reviewed_at__isnull=False),
                name="personal_data_request_reviewed",
                violation_error_message=_("A decided request records when it was decided."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}: {self.creator}"


class RetentionRun(TimeStampedModel):
    """One run of the retention purge (`retention_purge`): how much of each kind it deleted.
    Its audit event is the purge's record."""

    counts = models.JSONField(_("deleted"), default=dict)

    class Meta:
        verbose_name = _("retention purge")
        verbose_name_plural = _("retention purges")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Retention purge {self.created_at:%Y-%m-%d %H:%M}"
