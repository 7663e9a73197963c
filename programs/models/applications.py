"""Applications to join the program, from the public page."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from changemakers.core.models import TimeStampedModel
from creators.models import Creator, handle_validator, validate_causes

from .cohorts import Cohort


class Application(TimeStampedModel):
    """A creator's public application to a future cohort, reviewed by staff."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting review")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    cohort = models.ForeignKey(
        Cohort,
        verbose_name=_("cohort applied to"),
        on_delete=models.PROTECT,
        related_name="applications",
        null=True,
        blank=True,
    )
    display_name = models.CharField(_("name"), max_length=120)
    handle = models.CharField(_("handle"), max_length=30, validators=[handle_validator])
    email = models.EmailField(_("email"))
    country = CountryField(_("country"))
    causes = models.JSONField(_("causes"), default=list, validators=[validate_causes])
    follower_count = models.PositiveBigIntegerField(_("followers"), default=0)
    channel_url = models.URLField(_("main channel"), max_length=500)
    mission = models.TextField(_("what you want to achieve in six months"))
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    decision_message = models.TextField(_("message to the applicant"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    creator = models.ForeignKey(
        Creator,
        verbose_name=_("creator"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="applications",
    )

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decision_message=""),
                name="application_decline_has_message",
                violation_error_message=_("Tell the applicant why they were declined."),
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.display_name} (@{self.handle})"
