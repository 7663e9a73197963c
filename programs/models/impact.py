"""Impact figures: the indicators the program tracks, and the values creators report with
their milestone updates."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from changemakers.core.models import TimeStampedModel

from .milestones import Milestone, ProgressUpdate


class ImpactIndicator(TimeStampedModel):
    """Something the program counts (views, people reached, donations raised...). How a
    creator's values over their milestones make the creator's figure is `aggregation`; the
    creators' figures are then added up per cohort, per country and for the program."""

    class Aggregation(models.TextChoices):
        SUM = "sum", _("Added up: each milestone reports what is new since the last")
        MAX = "max", _("Highest: each milestone reports a running total")
        LATEST = "latest", _("Latest: the most recent milestone's value stands")

    name = models.CharField(_("name"), max_length=80, unique=True)
    unit = models.CharField(
        _("unit"), max_length=30, help_text=_("For example: views, people, USD.")
    )
    description = models.CharField(
        _("help for creators"),
        max_length=200,
        blank=True,
        help_text=_("Shown under the field in the creators' update form."),
    )
    aggregation = models.CharField(
        _("how it adds up"),
        max_length=10,
        choices=Aggregation.choices,
        default=Aggregation.SUM,
    )
    whole_numbers = models.BooleanField(
        _("whole numbers only"), default=True, help_text=_("Untick for amounts with cents.")
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Creators report only active indicators.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("impact indicator")
        verbose_name_plural = _("impact indicators")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class ImpactValueQuerySet(models.QuerySet):
    def counted(self) -> "ImpactValueQuerySet":
        """The values the totals are made of (see `ImpactValue.counted`)."""
        return self.filter(counted=True)


class ImpactValue(TimeStampedModel):
    """A milestone's figure for one indicator: what the creator reported with their latest
    update on it (`update`), possibly corrected by staff during review.

    It counts in the totals only once the milestone is approved, and then only if the
    indicator's aggregation makes it the one that counts for the place: every approved value
    of an added-up indicator, the highest of a running total, the latest of a latest-value
    one. `counted` records that decision, taken under the place's lock when a milestone is
    approved (or an indicator's aggregation changes), so totals are one grouped sum."""

    milestone = models.ForeignKey(
        Milestone,
        verbose_name=_("milestone"),
        on_delete=models.CASCADE,
        related_name="impact_values",
    )
    indicator = models.ForeignKey(
        ImpactIndicator,
        verbose_name=_("indicator"),
        on_delete=models.PROTECT,
        related_name="values",
    )
    update = models.ForeignKey(
        ProgressUpdate,
        verbose_name=_("reported with"),
        on_delete=models.CASCADE,
        related_name="impact_values",
    )
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    counted = models.BooleanField(_("counted in the totals"), default=False)

    objects = ImpactValueQuerySet.as_manager()

    class Meta:
        verbose_name = _("impact value")
        verbose_name_plural = _("impact values")
        ordering = ["milestone", "indicator__position", "indicator__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["milestone", "indicator"],
                name="impact_value_once_per_milestone",
                violation_error_message=_("This milestone already has a value for this indicator."),
            ),
            models.CheckConstraint(
                condition=models.Q(value__gte=Decimal("0")),
                name="impact_value_not_negative",
                violation_error_message=_("An impact figure cannot be negative."),
            ),
        ]
        indexes = [models.Index(fields=["indicator", "counted"])]

    def __str__(self) -> str:
        return f"{self.indicator}: {self.value}"
