"""Milestones of an enrolment and the progress updates creators submit on them."""

import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from changemakers.core.models import TimeStampedModel, choice_display, person_field
from changemakers.core.uploads import RandomName
from creators.models import Creator

from .cohorts import Enrolment


class MilestoneQuerySet(models.QuerySet):
    OPEN = ("pending", "changes_requested")

    def open(self) -> "MilestoneQuerySet":
        return self.filter(status__in=self.OPEN)

    def overdue(self, today: datetime.date) -> "MilestoneQuerySet":
        return self.open().filter(due_date__lt=today)

    def due_between(self, first: datetime.date, last: datetime.date) -> "MilestoneQuerySet":
        return self.open().filter(due_date__range=(first, last))

    def of_active_enrolments(self) -> "MilestoneQuerySet":
        """Milestones of places taken up, in a cohort that has not ended."""
        return self.filter(enrolment__status="active").exclude(
            enrolment__cohort__status="completed"
        )

    def for_creator(self, creator: Creator) -> "MilestoneQuerySet":
        return self.filter(enrolment__creator=creator)

    def to_escalate(self, today: datetime.date, *, after_days: int) -> "MilestoneQuerySet":
        """Open milestones of active places overdue by more than `after_days` on `today` (a
        program day), not escalated yet."""
        return (
            self.open()
            .of_active_enrolments()
            .filter(
                due_date__lt=today - datetime.timedelta(days=after_days),
                escalated_at__isnull=True,
            )
        )

    def awaiting_review(self) -> "MilestoneQuerySet":
        return self.filter(status="submitted")

    def with_people(self) -> "MilestoneQuerySet":
        return self.select_related("enrolment__creator", "enrolment__cohort")


class Milestone(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUBMITTED = "submitted", _("Submitted")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        APPROVED = "approved", _("Approved")

    enrolment = models.ForeignKey(
        Enrolment, verbose_name=_("enrolment"), on_delete=models.CASCADE, related_name="milestones"
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    feedback = models.TextField(_("staff feedback"), blank=True)
    escalated_at = models.DateTimeField(
        _("escalated"),
        null=True,
        blank=True,
        help_text=_(
            "When the cohort's program manager was told the milestone is long overdue (once)."
        ),
    )

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["enrolment", "due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "title"],
                name="milestone_title_unique_per_enrolment",
                violation_error_message=_(
                    "This enrolment already has a milestone with this title."
                ),
            ),
        ]
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return self.title

    get_status_display = choice_display("status", Status)

    def is_overdue(self, today: datetime.date) -> bool:
        """Overdue is derived from the date, never stored."""
        return self.status in MilestoneQuerySet.OPEN and self.due_date < today

    @property
    def is_open(self) -> bool:
        return self.status in MilestoneQuerySet.OPEN

    def get_portal_url(self) -> str:
        return reverse("programs:portal-milestone", kwargs={"pk": self.pk})

    def get_review_url(self) -> str:
        return reverse("programs:milestone-review", kwargs={"pk": self.pk})


class ProgressUpdateQuerySet(models.QuerySet):
    def public_highlights(self) -> "ProgressUpdateQuerySet":
        """Updates the public may see as highlights: the creator wants them shown and staff
        approved them (whether the creator shows highlights at all is their consent)."""
        return self.filter(show_publicly=True, highlight=ProgressUpdate.Highlight.APPROVED)

    def awaiting_highlight_decision(self) -> "ProgressUpdateQuerySet":
        return self.filter(show_publicly=True, highlight=ProgressUpdate.Highlight.PENDING)


class ProgressUpdate(TimeStampedModel):
    class Highlight(models.TextChoices):
        """Staff's decision on showing the update as a public highlight, separate from the
        milestone's review. It applies only while the creator wants it shown."""

        PENDING = "pending", _("Not decided")
        APPROVED = "approved", _("Approved as a public highlight")
        DECLINED = "declined", _("Declined")

    milestone = models.ForeignKey(
        Milestone, verbose_name=_("milestone"), on_delete=models.CASCADE, related_name="updates"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    body = models.TextField(_("what happened"))
    link = models.URLField(_("link"), max_length=500, blank=True)
    attachment = models.FileField(
        _("attachment"),
        upload_to=RandomName("programs/attachments"),
        blank=True,
        help_text=_("A PDF or an image, at most 5 MB."),
    )
    # The creator's wish, theirs alone to give and take back (programs.services.highlights).
    show_publicly = models.BooleanField(_("show on my public page"), default=False)
    show_publicly_changed_at = models.DateTimeField(
        _("wish to show changed at"), null=True, blank=True
    )
    highlight = models.CharField(
        _("public highlight"),
        max_length=12,
        choices=Highlight.choices,
        default=Highlight.PENDING,
    )
    highlight_decided_by = person_field(_("highlight decided by"), on_delete=models.SET_NULL)
    highlight_decided_at = models.DateTimeField(_("highlight decided at"), null=True, blank=True)
    # Written by staff when they approve the highlight, one text per language
    # (programs/translation.py); empty: the public page shows the creator's own text.
    public_summary = models.TextField(
        _("public summary"),
        blank=True,
        help_text=_("Shown on the creator's public page instead of the update's text."),
    )

    objects = ProgressUpdateQuerySet.as_manager()

    class Meta:
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")
        ordering = ["milestone", "created_at"]
        permissions = [
            ("review_highlight", _("Can approve or decline a public highlight")),
        ]
        indexes = [models.Index(fields=["show_publicly", "highlight"])]

    def __str__(self) -> str:
        return f"{self.milestone}: {self.body[:40]}"

    @property
    def is_public_highlight(self) -> bool:
        return self.show_publicly and self.highlight == self.Highlight.APPROVED

    @property
    def public_text(self) -> str:
        """The staff-written summary in the reader's language (or English), else the
        creator's own words."""
        return self.public_summary or self.body
