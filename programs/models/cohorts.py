"""Six-month cohorts, the milestone plan each one stamps onto its places, and enrolments
(a creator's place in a cohort)."""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _

from changemakers.core.models import TimeStampedModel
from creators.models import Creator

COHORT_MONTHS = 6
# The dates a cohort may start between: guards against typos such as year 9999.
COHORT_EARLIEST = datetime.date(2000, 1, 1)
COHORT_LATEST = datetime.date(2100, 12, 31)


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
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("program manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"is_staff": True},
        help_text=_("Told when a milestone is long overdue. Empty: every program manager is told."),
    )

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
