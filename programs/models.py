"""Six-month cohorts, enrolments, milestones and the progress updates creators submit."""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from changemakers.core.models import TimeStampedModel
from changemakers.core.uploads import RandomName
from creators.models import Creator, handle_validator, validate_causes

COHORT_MONTHS = 6
# The dates a cohort may start between: guards against typos such as year 9999.
COHORT_EARLIEST = datetime.date(2000, 1, 1)
COHORT_LATEST = datetime.date(2100, 12, 31)


class AuditVerb(models.TextChoices):
    """What this app records in the audit log (declared in `ProgramsConfig.ready`)."""

    STARTED = "started", _("Started")
    INVITED = "invited", _("Invited")
    ACTIVATED = "activated", _("Activated")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


def add_months(day: datetime.date, months: int) -> datetime.date:
    """`day` plus whole months, clamped to the month's last day (31 Aug + 6 months = 28 Feb),
    the same rule as PostgreSQL's `date + interval` and the AddMonths expression below."""
    return day + relativedelta(months=months)


class AddMonths(Func):
    """SQL for `date + N months` with end-of-month clamping, on PostgreSQL and SQLite alike,
    so the cohort length can be a database constraint."""

    output_field = models.DateField()

    def __init__(self, expression, months: int, **extra):
        self.months = int(months)
        super().__init__(expression, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotImplementedError(f"AddMonths is not implemented for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql})::date + INTERVAL '{self.months} months')::date", params

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        shifted = f"date({sql}, '+{self.months} months')"
        month_end = f"date({sql}, 'start of month', '+{self.months + 1} months', '-1 day')"
        return f"min({shifted}, {month_end})", (*params, *params)


class Cohort(TimeStampedModel):
    class Status(models.TextChoices):
        PLANNING = "planning", _("Planning")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")

    name = models.CharField(_("name"), max_length=120, unique=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(
        _("end date"), help_text=_("Always six months after the start date.")
    )
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=10)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PLANNING
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("cohort")
        verbose_name_plural = _("cohorts")
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date=AddMonths(F("start_date"), COHORT_MONTHS)),
                name="cohort_lasts_six_months",
                violation_error_message=_("A cohort ends exactly six months after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1) & Q(capacity__lte=100),
                name="cohort_capacity_range",
                violation_error_message=_("A cohort holds between 1 and 100 creators."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.pk is not None:
            taken = self.enrolments.holding_a_seat().count()
            if self.capacity is not None and self.capacity < taken:
                raise ValidationError(
                    {
                        "capacity": _(
                            "%(taken)s creators already hold a place; the capacity cannot be lower."
                        )
                        % {"taken": taken}
                    },
                    code="capacity_below_enrolled",
                )


class MilestonePlanItem(models.Model):
    """One step of a cohort's milestone plan, stamped onto each enrolment as a dated Milestone."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="plan_items")
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    offset_days = models.PositiveSmallIntegerField(
        _("days after the start"), help_text=_("Due this many days after the cohort starts.")
    )

    class Meta:
        verbose_name = _("milestone plan item")
        verbose_name_plural = _("milestone plan")
        ordering = ["cohort", "offset_days", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "title"],
                name="plan_item_title_unique",
                violation_error_message=_("This cohort's plan already has a step with this title."),
            ),
            models.CheckConstraint(
                condition=Q(offset_days__lte=186),
                name="plan_item_within_six_months",
                violation_error_message=_("A milestone must fall within the six months."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def due_date_for(self, cohort: Cohort) -> datetime.date:
        return min(cohort.start_date + datetime.timedelta(days=self.offset_days), cohort.end_date)


class EnrolmentQuerySet(models.QuerySet):
    def holding_a_seat(self) -> "EnrolmentQuerySet":
        """Enrolments that count against a cohort's capacity."""
        return self.exclude(status=Enrolment.Status.WITHDRAWN)

    def for_creator(self, creator: Creator) -> "EnrolmentQuerySet":
        return self.filter(creator=creator)

    def current_first(self) -> "EnrolmentQuerySet":
        """Active first, then invited, then the rest; newest cohort first within each."""
        order = models.Case(
            models.When(status="active", then=0),
            models.When(status="invited", then=1),
            default=2,
        )
        return self.select_related("cohort").order_by(order, "-cohort__start_date")


class Enrolment(TimeStampedModel):
    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    cohort = models.ForeignKey(
        Cohort, verbose_name=_("cohort"), on_delete=models.PROTECT, related_name="enrolments"
    )
    creator = models.ForeignKey(
        Creator, verbose_name=_("creator"), on_delete=models.PROTECT, related_name="enrolments"
    )
    mission = models.TextField(_("mission statement"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.INVITED
    )

    objects = EnrolmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["cohort", "creator__display_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "creator"],
                name="enrolment_once_per_cohort",
                violation_error_message=_("This creator is already enrolled in this cohort."),
            ),
            models.UniqueConstraint(
                fields=["creator"],
                condition=Q(status="active"),
                name="enrolment_one_active_per_creator",
                violation_error_message=_("This creator is already active in another cohort."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.creator} in {self.cohort}"

    def clean(self) -> None:
        # Capacity spans rows, so the database cannot hold it; the service also locks the cohort.
        if self.cohort_id and self.status != self.Status.WITHDRAWN:
            taken = (
                Enrolment.objects.holding_a_seat()
                .filter(cohort_id=self.cohort_id)
                .exclude(pk=self.pk)
                .count()
            )
            if taken >= self.cohort.capacity:
                raise ValidationError(
                    _("%(cohort)s is full: all %(capacity)s places are taken."),
                    code="cohort_full",
                    params={"cohort": self.cohort.name, "capacity": self.cohort.capacity},
                )


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


class ProgressUpdate(TimeStampedModel):
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

    class Meta:
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")
        ordering = ["milestone", "created_at"]

    def __str__(self) -> str:
        return f"{self.milestone}: {self.body[:40]}"


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
