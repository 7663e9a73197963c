"""TikTok videos linked from progress updates, with the preview the job fetched for them."""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from changemakers.core.models import TimeStampedModel
from changemakers.core.uploads import RandomName

from ..tiktok import video_link_validator
from .milestones import ProgressUpdate


class TikTokVideoQuerySet(models.QuerySet):
    def due(self, before) -> "TikTokVideoQuerySet":
        """Pending previews whose next try was due before `before` (or, never tried, that
        were added before it): the sweeper's work."""
        return self.filter(status="pending").filter(
            models.Q(next_attempt_at__isnull=True, created_at__lte=before)
            | models.Q(next_attempt_at__lte=before)
        )


class TikTokVideo(TimeStampedModel):
    """One video link of an update. Until its preview is ready the page shows the plain link;
    `ready` means the title, author and our own copy of the thumbnail are stored."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Preview being fetched")
        READY = "ready", _("Preview ready")
        UNAVAILABLE = "unavailable", _("No preview")

    update = models.ForeignKey(
        ProgressUpdate,
        verbose_name=_("progress update"),
        on_delete=models.CASCADE,
        related_name="tiktok_videos",
    )
    url = models.URLField(_("TikTok link"), max_length=200, validators=[video_link_validator])
    video_id = models.CharField(_("video id"), max_length=25)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    title = models.CharField(_("title"), max_length=300, blank=True)
    author_name = models.CharField(_("author"), max_length=100, blank=True)
    author_url = models.URLField(_("author's page"), max_length=200, blank=True)
    thumbnail = models.FileField(
        _("thumbnail"), upload_to=RandomName("programs/tiktok"), blank=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    fetched_at = models.DateTimeField(_("fetched at"), null=True, blank=True)

    objects = TikTokVideoQuerySet.as_manager()

    class Meta:
        verbose_name = _("TikTok video")
        verbose_name_plural = _("TikTok videos")
        ordering = ["update", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["update", "video_id"], name="tiktok_video_once_per_update"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return self.url

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    def get_thumbnail_url(self) -> str:
        return reverse("programs:tiktok-thumbnail", kwargs={"pk": self.pk})
