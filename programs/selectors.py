"""Reads that span models or depend on who looks: the cohort progress grid for staff, the
creator's own portal, the review queue, the impact totals, and the opportunities each person
may sign up to."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_countries import countries

from changemakers.core.content_languages import collated
from changemakers.core.models import AuditEvent
from changemakers.core.search import (
    PICKER_MIN_LENGTH,
    Picker,
    PickerMatch,
    picked_id,
    picker_rows,
    picker_with_selected,
    search_text,
)
from creators.models import Creator, CreatorInvitation

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
    # The portal invitation still waiting for an invited creator to set a password.
    invitation: CreatorInvitation | None = None


@dataclass(frozen=True)
class CohortProgress:
    columns: list[str]
    rows: list[ProgressRow]
    overdue: int


def creators_for_picker(*, cohort: Cohort | None = None) -> QuerySet[Creator]:
    """Creators a staff picker may show (not those erased), each with the name of the cohort
    they are active in (`active_cohort`, or None) and, given `cohort`, whether they already
    hold a place in it (`in_cohort`) and whether their active place overlaps it (`overlaps`:
    they could not take up a place in it). Subqueries: one query for any number of rows."""
    active = Enrolment.objects.filter(creator=OuterRef("pk"), status=Enrolment.Status.ACTIVE)
    creators = Creator.objects.public()
    if cohort is None:
        return creators.annotate(
            active_cohort=Subquery(active.values("cohort__name")[:1]),
            in_cohort=Value(False),
            overlaps=Value(False),
        )
    elsewhere = active.exclude(cohort=cohort)
    return creators.annotate(
        active_cohort=Subquery(elsewhere.values("cohort__name")[:1]),
        in_cohort=Exists(Enrolment.objects.filter(creator=OuterRef("pk"), cohort=cohort)),
        overlaps=Exists(
            elsewhere.filter(
                cohort__start_date__lt=cohort.end_date, cohort__end_date__gt=cohort.start_date
            )
        ),
    )


CREATOR_SEARCH = "creator_q"  # the picker's search parameter
CREATOR_SEARCH_HELP = _lazy("Their name or TikTok handle, with or without the @.")


def creator_matches(creators, *, cohort: Cohort | None = None) -> list[PickerMatch]:
    """Creators from `selectors.creators_for_picker` as picker rows, marked with the cohort
    they are active in; for `cohort`, those who cannot take a place in it are not pickable."""
    matches = []
    for creator in creators:
        if creator.in_cohort:
            mark = _("Already in this cohort")
        elif creator.active_cohort:
            mark = _("In %(cohort)s") % {"cohort": creator.active_cohort}
        else:
            mark = ""
        matches.append(
            PickerMatch(
                value=str(creator.pk),
                label=creator.display_name,
                detail=creator.at_handle,
                mark=mark,
                disabled=cohort is not None and (creator.in_cohort or creator.overlaps),
            )
        )
    return matches


def creator_picker(
    creators, *, query: str, picked: str, cohort: Cohort | None = None, **options
) -> Picker:
    """A creator picker (components/picker.html) over `creators` (from
    `selectors.creators_for_picker`): a few matching `query`, and the one `picked` (an id).
    Two queries at most, whatever the number of creators."""
    text, picked = search_text(query), picked_id(picked)
    rows, more = (
        picker_rows(creators.matching(text)) if len(text) >= PICKER_MIN_LENGTH else ([], False)
    )
    matches = creator_matches(rows, cohort=cohort)
    if picked and not any(match.value == picked for match in matches):
        found = creators.filter(pk=int(picked)).first()
        if found is not None:
            matches = picker_with_selected(matches, creator_matches([found], cohort=cohort)[0])
    options.setdefault("label", _("Creator"))
    options.setdefault("help", CREATOR_SEARCH_HELP)
    return Picker(
        name="creator",
        search_name=CREATOR_SEARCH,
        query=query,
        matches=matches,
        selected=picked if any(match.value == picked for match in matches) else "",
        more=more,
        **options,
    )


def cohorts_with_counts() -> QuerySet[Cohort]:
    return Cohort.objects.annotate(
        seats_taken=Count("enrolments", filter=~Q(enrolments__status="withdrawn")),
        active_count=Count("enrolments", filter=Q(enrolments__status="active")),
    ).order_by("-start_date")


def cohort_progress(cohort: Cohort, *, today: datetime.date) -> CohortProgress:
    """Every creator's milestones, one row per enrolment and one column per milestone title
    (the plan's first, in plan order, then any one-off milestones). Three queries, whatever
    the number of creators, plus one for the invitations of those invited."""
    plan_titles = list(cohort.plan_items.values_list("title", flat=True))
    enrolments = list(
        cohort.enrolments.select_related("creator__user")
        .prefetch_related(
            Prefetch("milestones", queryset=Milestone.objects.order_by("due_date", "id"))
        )
        .order_by("status", collated("creator__display_name"), "pk")
    )
    columns = list(plan_titles)
    for enrolment in enrolments:
        for milestone in enrolment.milestones.all():
            if milestone.title not in columns:
                columns.append(milestone.title)
    # The latest portal invitation of each invited creator without a password yet.
    waiting = [
        e.creator_id
        for e in enrolments
        if e.status == Enrolment.Status.INVITED
        and e.creator.user_id is not None
        and not e.creator.user.has_usable_password()
    ]
    invitations: dict[int, CreatorInvitation] = {}
    if waiting:
        for invitation in CreatorInvitation.objects.filter(creator_id__in=waiting).order_by(
            "creator_id", "-created_at", "-id"
        ):
            invitations.setdefault(invitation.creator_id, invitation)
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
                invitation=invitations.get(enrolment.creator_id),
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


def review_next(*, reviewer) -> Milestone | None:
    """The milestone `reviewer` reviews next: the oldest in the queue, or None when it is
    empty. Every holder of the permission reviews any milestone, so the queue is everyone's;
    a milestone of the reviewer's own creator profile is left to someone else."""
    return (
        Milestone.objects.awaiting_review()
        .exclude(enrolment__creator__user_id=reviewer.pk)
        .order_by("updated_at", "pk")
        .first()
    )


# What a review decides, as the audit log records it.
REVIEW_ACTIONS = ("approved", "changes_requested")


def milestone_decision(milestone: Milestone) -> AuditEvent | None:
    """The latest review decision on the milestone (who, when, what), from the audit log."""
    return (
        AuditEvent.objects.for_object(milestone)
        .filter(action__in=REVIEW_ACTIONS)
        .select_related("actor")
        .order_by("-occurred_at", "-id")
        .first()
    )


def milestone_updates(milestone: Milestone) -> QuerySet[ProgressUpdate]:
    """The milestone's updates, newest first, each with its TikTok videos (two queries)."""
    return (
        milestone.updates.select_related("author", "highlight_decided_by")
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


# --- Opportunities ---------------------------------------------------------------------------

# A portal lists at most this many opportunities open to sign up (the soonest).
PORTAL_OPPORTUNITIES = 50


@dataclass(frozen=True)
class PortalOpportunities:
    open: list  # published, meant for them, sign-ups not closed, not signed up to: soonest first
    mine: list  # their current sign-ups (OpportunitySignup, with its opportunity), soonest first


def portal_opportunities(user, audience: str) -> PortalOpportunities:
    """What a creator or a nonprofit contact (`audience`: Opportunity.Audience.CREATORS or
    NONPROFITS) sees: the opportunities they may still sign up to, each with `taken` places,
    then their own sign-ups. Two queries."""
    from django.utils import timezone

    from .clock import program_today
    from .models import Opportunity, OpportunitySignup

    mine = list(
        OpportunitySignup.objects.of(user)
        .current()
        .select_related("opportunity")
        .order_by("opportunity__starts_at", "pk")
    )
    open_ones = list(
        Opportunity.objects.published()
        .for_audience(audience)
        .filter(starts_at__gt=timezone.now(), signups_close_on__gte=program_today())
        .exclude(pk__in=[signup.opportunity_id for signup in mine])
        .with_taken()
        .order_by("starts_at", "pk")[:PORTAL_OPPORTUNITIES]
    )
    return PortalOpportunities(open=open_ones, mine=mine)


def opportunity_signups(opportunity) -> QuerySet:
    """An opportunity's sign-ups for staff: current ones first, then withdrawn, by date."""
    return opportunity.signups.select_related("user").order_by("status", "created_at", "pk")
