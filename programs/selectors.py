"""Reads that span models or depend on who looks: the cohort progress grid for staff, the
creator's own portal, the review queue, and the impact totals."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django_countries import countries

from creators.models import Creator

from .models import (
    Cohort,
    Enrolment,
    ImpactIndicator,
    ImpactValue,
    Milestone,
    ProgressUpdate,
    TikTokVideo,
)


@dataclass(frozen=True)
class ProgressCell:
    milestone: Milestone | None
    overdue: bool


@dataclass(frozen=True)
class ProgressRow:
    enrolment: Enrolment
    cells: list[ProgressCell]
    done: int
    total: int
    overdue: int


@dataclass(frozen=True)
class CohortProgress:
    columns: list[str]
    rows: list[ProgressRow]
    overdue: int


def cohorts_with_counts() -> QuerySet[Cohort]:
    return Cohort.objects.annotate(
        seats_taken=Count("enrolments", filter=~Q(enrolments__status="withdrawn")),
        active_count=Count("enrolments", filter=Q(enrolments__status="active")),
    ).order_by("-start_date")


def cohort_progress(cohort: Cohort, *, today: datetime.date) -> CohortProgress:
    """Every creator's milestones, one row per enrolment and one column per milestone title
    (the plan's first, in plan order, then any one-off milestones). Three queries, whatever
    the number of creators."""
    plan_titles = list(cohort.plan_items.values_list("title", flat=True))
    enrolments = list(
        cohort.enrolments.select_related("creator__user")
        .prefetch_related(
            Prefetch("milestones", queryset=Milestone.objects.order_by("due_date", "id"))
        )
        .order_by("status", "creator__display_name")
    )
    columns = list(plan_titles)
    for enrolment in enrolments:
        for milestone in enrolment.milestones.all():
            if milestone.title not in columns:
                columns.append(milestone.title)
    rows = []
    for enrolment in enrolments:
        by_title = {m.title: m for m in enrolment.milestones.all()}
        # Only a place still being worked on can be late; a withdrawn one is history.
        running = enrolment.status == Enrolment.Status.ACTIVE
        cells = [
            ProgressCell(
                milestone=by_title.get(title),
                overdue=running and title in by_title and by_title[title].is_overdue(today),
            )
            for title in columns
        ]
        rows.append(
            ProgressRow(
                enrolment=enrolment,
                cells=cells,
                done=sum(m.status == Milestone.Status.APPROVED for m in by_title.values()),
                total=len(by_title),
                overdue=sum(cell.overdue for cell in cells),
            )
        )
    return CohortProgress(columns=columns, rows=rows, overdue=sum(r.overdue for r in rows))


def review_queue() -> QuerySet[Milestone]:
    return (
        Milestone.objects.awaiting_review()
        .with_people()
        .annotate(update_count=Count("updates"))
        .order_by("updated_at")
    )


def milestone_updates(milestone: Milestone) -> QuerySet[ProgressUpdate]:
    """The milestone's updates, newest first, each with its TikTok videos (two queries)."""
    return (
        milestone.updates.select_related("author")
        .prefetch_related(
            Prefetch("tiktok_videos", queryset=TikTokVideo.objects.order_by("position", "pk"))
        )
        .order_by("-created_at")
    )


def milestone_impact(milestone: Milestone) -> list[ImpactValue]:
    """The milestone's impact figures with their indicators, in the indicators' order."""
    return list(milestone.impact_values.select_related("indicator"))


def impact_indicators_active() -> list[ImpactIndicator]:
    return list(ImpactIndicator.objects.filter(active=True))


@dataclass(frozen=True)
class ImpactGroup:
    """One row of a breakdown: a cohort or a country, and its total."""

    key: str | int
    label: str
    total: Decimal


@dataclass
class IndicatorTotal:
    indicator: ImpactIndicator
    total: Decimal = Decimal("0")
    by_cohort: list[ImpactGroup] = field(default_factory=list)
    by_country: list[ImpactGroup] = field(default_factory=list)


def impact_totals(*, cohort: int | None = None) -> list[IndicatorTotal]:
    """Each indicator that is active or has counted values, with the program's total, and its
    totals per cohort and per creator country (the creator's country now), largest first.
    Only values of approved milestones count, as `ImpactValue.counted` decides. Two queries,
    whatever the number of creators: the indicators, and one grouped sum."""
    rows = ImpactValue.objects.counted()
    if cohort:
        rows = rows.filter(milestone__enrolment__cohort_id=cohort)
    rows = (
        rows.order_by()
        .values_list(
            "indicator_id",
            "milestone__enrolment__cohort_id",
            "milestone__enrolment__cohort__name",
            "milestone__enrolment__creator__country",
        )
        .annotate(total=Sum("value"))
    )
    per_cohort: dict[int, dict] = {}
    per_country: dict[int, dict] = {}
    cohort_names: dict[int, str] = {}
    for indicator_id, cohort_id, cohort_name, country, total in rows:
        total = _decimal(total)
        cohort_names[cohort_id] = cohort_name
        bucket = per_cohort.setdefault(indicator_id, {})
        bucket[cohort_id] = bucket.get(cohort_id, Decimal("0")) + total
        bucket = per_country.setdefault(indicator_id, {})
        bucket[country] = bucket.get(country, Decimal("0")) + total
    indicators = ImpactIndicator.objects.filter(Q(active=True) | Q(pk__in=list(per_cohort)))
    totals = []
    for indicator in indicators:
        cohorts = per_cohort.get(indicator.pk, {})
        by_country = per_country.get(indicator.pk, {})
        totals.append(
            IndicatorTotal(
                indicator=indicator,
                total=sum(cohorts.values(), Decimal("0")),
                by_cohort=_groups({pk: (cohort_names[pk], t) for pk, t in cohorts.items()}),
                by_country=_groups(
                    {code: (str(countries.name(code)) or code, t) for code, t in by_country.items()}
                ),
            )
        )
    return totals


def _decimal(value) -> Decimal:
    """A database sum with its two places (SQLite sums decimals without them)."""
    return Decimal(value).quantize(Decimal("0.01"))


def _groups(labelled: dict) -> list[ImpactGroup]:
    return sorted(
        (ImpactGroup(key, label, total) for key, (label, total) in labelled.items()),
        key=lambda group: (-group.total, group.label),
    )


def impact_per_creator() -> dict[int, dict[int, Decimal]]:
    """Each creator's counted total per indicator ({creator id: {indicator id: total}}), for
    the creators export: one grouped query."""
    rows = (
        ImpactValue.objects.counted()
        .order_by()
        .values_list("milestone__enrolment__creator_id", "indicator_id")
        .annotate(total=Sum("value"))
    )
    totals: dict[int, dict[int, Decimal]] = {}
    for creator_id, indicator_id, total in rows:
        totals.setdefault(creator_id, {})[indicator_id] = _decimal(total)
    return totals


def portal_enrolments(creator: Creator) -> list[Enrolment]:
    """The creator's enrolments, current first, each with its milestones in date order."""
    return list(
        Enrolment.objects.for_creator(creator)
        .current_first()
        .prefetch_related(
            Prefetch("milestones", queryset=Milestone.objects.order_by("due_date", "id"))
        )
    )


def portal_donation(creator: Creator):
    """The creator's latest donation, read through the reverse accessor: `programs` sits below
    `donations` in the app graph and never imports it."""
    return creator.grants.select_related("nonprofit").order_by("-created_at").first()
