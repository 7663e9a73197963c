"""Records of the scheduled emails: milestone reminders claimed and sent, and the weekly staff
digest with one delivery per staff address."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .milestones import Milestone


class MilestoneReminder(models.Model):
    """One reminder kind for one milestone. The row is claimed before the email goes out, and
    the unique constraint means concurrent or repeated jobs claim it only once."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", _("Due in a week")
        DUE_TODAY = "due_today", _("Due today")
        OVERDUE = "overdue", _("Overdue")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Skipped")

    milestone = models.ForeignKey(
        Milestone, verbose_name=_("milestone"), on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    claimed_at = models.DateTimeField(_("claimed at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("milestone reminder")
        verbose_name_plural = _("milestone reminders")
        ordering = ["-claimed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["milestone", "kind"],
                name="milestone_reminder_once_per_kind",
                violation_error_message=_("This reminder has already been sent."),
            ),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.milestone}: {self.get_kind_display()}"


class StaffDigest(models.Model):
    """The weekly email to staff, claimed once per week (the Monday it starts on)."""

    week = models.DateField(_("week starting"), unique=True)
    claimed_at = models.DateTimeField(_("claimed at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    recipients = models.PositiveSmallIntegerField(_("recipients"), default=0)

    class Meta:
        verbose_name = _("staff digest")
        verbose_name_plural = _("staff digests")
        ordering = ["-week"]

    def __str__(self) -> str:
        return str(self.week)


class StaffDigestDelivery(models.Model):
    """One staff member's copy of one week's digest, claimed before it is sent: unique per
    (week, address), so a failed send affects only that address and a re-run sends only the
    copies not yet sent."""

    digest = models.ForeignKey(
        StaffDigest,
        verbose_name=_("staff digest"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    email = models.EmailField(_("email"))
    claimed_at = models.DateTimeField(_("claimed at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff digest delivery")
        verbose_name_plural = _("staff digest deliveries")
        ordering = ["digest", "email"]
        constraints = [
            models.UniqueConstraint(
                fields=["digest", "email"],
                name="staff_digest_once_per_recipient",
                violation_error_message=_("This digest has already been sent to this address."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.digest}: {self.email}"
