"""Reads that span models or depend on who looks: the cohort progress grid for staff, the
creator's own portal, the review queue."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from creators.models import Creator

from .models import Cohort, Enrolment, Milestone, ProgressUpdate


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
    return milestone.updates.select_related("author").order_by("-created_at")


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
