"""Staff reads that span models: the grant pipeline with its filters and counts, a grant's
history, a batch's progress, the funds' budgets and the nonprofit vetting list.

Every function here answers in a fixed number of queries, whatever the number of rows.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, Count, F, IntegerField, Max, Q, QuerySet, Sum, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncMonth
from django.utils import formats, timezone
from django.utils.translation import gettext, pgettext_lazy
from django_countries import countries

from creators.models import AuditEvent, Cause, ChangeMakersList, Creator, ListEntry
from programs.models import Cohort, Enrolment, Milestone

from .models import (
    Disbursement,
    DisbursementBatch,
    Fund,
    Grant,
    Nonprofit,
    NonprofitContact,
    PayoutDetailsChange,
)

# --- The grant pipeline ------------------------------------------------------------------------


def grants_filtered(
    *,
    fund: int | None = None,
    cohort: int | None = None,
    country: str = "",
    status: str = "",
    search: str = "",
) -> QuerySet[Grant]:
    """Grants matching the staff pipeline's filters, with what a row shows, newest first."""
    grants = Grant.objects.with_related().select_related("disbursement")
    if fund:
        grants = grants.filter(fund_id=fund)
    if cohort:
        # A creator is enrolled at most once per cohort, so this join adds no duplicates.
        grants = grants.filter(creator__enrolments__cohort_id=cohort)
    if country:
        grants = grants.filter(nonprofit__country=country)
    if status:
        grants = grants.filter(status=status)
    if search:
        grants = grants.search(search)
    return grants.order_by("-created_at", "-pk")


@dataclass(frozen=True)
class StatusCount:
    code: str  # "" for all
    label: str
    count: int


def grant_status_counts(grants: QuerySet[Grant]) -> list[StatusCount]:
    """How many of `grants` are in each status, plus "all", in one query."""
    rows = grants.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    per_status = dict(rows)
    counts = [
        StatusCount(code, str(label), per_status.get(code, 0))
        for code, label in Grant.Status.choices
    ]
    return [*counts, StatusCount("", gettext("All"), sum(per_status.values()))]


def fund_choices() -> list[Fund]:
    return list(Fund.objects.order_by("name"))


def cohort_choices() -> list[tuple[int, str]]:
    return list(Cohort.objects.order_by("-start_date").values_list("pk", "name"))


def nonprofit_country_choices() -> list[tuple[str, str]]:
    """The countries nonprofits are registered in, as (code, name) sorted by name."""
    codes = Nonprofit.objects.order_by().values_list("country", flat=True).distinct()
    return sorted(((code, str(countries.name(code))) for code in codes), key=lambda c: c[1])


# --- One grant -----------------------------------------------------------------------------------


def grant_for_staff(pk: int) -> Grant:
    """A grant with everything its detail page and row show. Raises Grant.DoesNotExist."""
    return (
        Grant.objects.with_related()
        .select_related("disbursement", "disbursement__batch")
        .get(pk=pk)
    )


def grant_disbursement(grant: Grant) -> Disbursement | None:
    """The grant's disbursement, if it was ever scheduled (select_related already fetched it)."""
    try:
        return grant.disbursement
    except Disbursement.DoesNotExist:
        return None


def grant_history(grant: Grant) -> list[AuditEvent]:
    """The grant's audit events and its disbursement's, in the order they happened (one
    query). Each event says whether it is about the payment, with its states' labels."""
    events = AuditEvent.objects.for_object(grant)
    disbursement = grant_disbursement(grant)
    if disbursement is not None:
        events = events | AuditEvent.objects.for_object(disbursement)
    history = list(events.select_related("actor").order_by("occurred_at", "id"))
    grant_labels = dict(Grant.Status.choices)
    payment_labels = dict(Disbursement.Status.choices)
    payment_type = ContentType.objects.get_for_model(Disbursement).pk
    for event in history:
        event.is_payment = event.content_type_id == payment_type
        labels = payment_labels if event.is_payment else grant_labels
        event.from_label = labels.get(event.from_state, event.from_state)
        event.to_label = labels.get(event.to_state, event.to_state)
    return history


def grant_step_events(grant: Grant) -> list[AuditEvent]:
    """The grant's steps as its creator and its nonprofit see them (one query): the grant's
    own moves, never its payment's attempts and errors, which leave its state as it was."""
    return list(AuditEvent.objects.for_object(grant).exclude(from_state=F("to_state")))


@dataclass(frozen=True)
class TimelineStep:
    code: str
    label: str
    date: object  # the datetime the grant last reached this step, or None
    current: bool


TIMELINE_STEPS = [
    ("proposed", pgettext_lazy("grant step", "Proposed")),
    ("approved", pgettext_lazy("grant step", "Approved")),
    ("scheduled", pgettext_lazy("grant step", "Scheduled for payment")),
    ("processing", pgettext_lazy("grant step", "Payment sent")),
    ("disbursed", pgettext_lazy("grant step", "Paid")),
    ("received", pgettext_lazy("grant step", "Received")),
]


def grant_timeline(grant: Grant) -> list[TimelineStep]:
    """Every step of a grant from proposal to the nonprofit's receipt, each with the date it
    was (last) reached, from the grant's audit events (one query)."""
    reached = {event.to_state: event.occurred_at for event in grant_step_events(grant)}
    reached["received"] = grant.receipt_confirmed_at
    current = "received" if grant.receipt_confirmed_at else grant.status
    codes = [code for code, _label in TIMELINE_STEPS]
    if current in codes:
        # A retried payment goes back to "scheduled": the failed attempt's later steps are
        # history, not where the grant stands, so they show as still to come.
        for code in codes[codes.index(current) + 1 :]:
            reached[code] = None
    return [
        TimelineStep(code, str(label), reached.get(code), code == current)
        for code, label in TIMELINE_STEPS
    ]


# --- Batches -------------------------------------------------------------------------------------

UNFINISHED = (Disbursement.Status.PENDING, Disbursement.Status.PROCESSING)


@dataclass(frozen=True)
class BatchProgress:
    batch: DisbursementBatch
    counts: dict[str, int]  # disbursement status -> how many
    total: int
    finished: int
    failed: list[Disbursement] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.finished >= self.total

    @property
    def percent(self) -> int:
        return 100 if not self.total else (100 * self.finished) // self.total

    @property
    def status_counts(self) -> list[tuple[str, str, int]]:
        return [
            (code, str(label), self.counts.get(code, 0))
            for code, label in Disbursement.Status.choices
        ]


def batch_progress(batch: DisbursementBatch) -> BatchProgress:
    """Where a batch's payments stand, and the failed ones with their error: two queries."""
    counts = Disbursement.objects.filter(batch=batch).aggregate(
        **{code: Count("pk", filter=Q(status=code)) for code in Disbursement.Status.values}
    )
    total = sum(counts.values())
    unfinished = sum(counts[code] for code in UNFINISHED)
    failed = []
    if counts[Disbursement.Status.FAILED]:
        failed = list(
            Disbursement.objects.filter(batch=batch, status=Disbursement.Status.FAILED)
            .select_related("grant__nonprofit", "grant__creator")
            .order_by("pk")
        )
    return BatchProgress(
        batch=batch, counts=counts, total=total, finished=total - unfinished, failed=failed
    )


def batches_with_counts() -> QuerySet[DisbursementBatch]:
    """Batches, newest first, each with how many of its payments are in each status."""
    return (
        DisbursementBatch.objects.select_related("created_by")
        .annotate(
            **{
                f"n_{code}": Count("disbursements", filter=Q(disbursements__status=code))
                for code in Disbursement.Status.values
            }
        )
        .order_by("-created_at", "-pk")
    )


# --- Funds ---------------------------------------------------------------------------------------


def funds_with_grant_counts() -> QuerySet[Fund]:
    """Every fund with how many of its grants are in each status (`n_<status>`), one query."""
    return Fund.objects.annotate(
        **{
            f"n_{code}": Count("grants", filter=Q(grants__status=code))
            for code in Grant.Status.values
        }
    ).order_by("name")


# --- Nonprofits ----------------------------------------------------------------------------------


def nonprofits_for_vetting(*, status: str = "", search: str = "") -> QuerySet[Nonprofit]:
    """Nonprofits, those awaiting review first, with how many grants each has."""
    nonprofits = Nonprofit.objects.annotate(
        grant_count=Count("grants"),
        review_order=Case(
            When(verification_status=Nonprofit.Verification.PENDING, then=Value(0)),
            When(verification_status=Nonprofit.Verification.VERIFIED, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        ),
    )
    if status:
        nonprofits = nonprofits.filter(verification_status=status)
    text = search.strip()
    if text:
        nonprofits = nonprofits.filter(
            Q(legal_name__icontains=text)
            | Q(registration_number__icontains=text)
            | Q(contact_email__icontains=text)
        )
    return nonprofits.order_by("review_order", "legal_name", "pk")


def nonprofit_status_counts() -> dict[str, int]:
    rows = Nonprofit.objects.order_by().values("verification_status").annotate(n=Count("pk"))
    return {row["verification_status"]: row["n"] for row in rows}


# --- Nonprofit contacts and payout details changes ------------------------------------------


def nonprofit_contacts(nonprofit: Nonprofit | int) -> QuerySet[NonprofitContact]:
    """A nonprofit's contacts, each with how many sign-in links are open and when the last
    one was sent (one query)."""
    now = timezone.now()
    open_links = Q(
        sign_in_links__used_at__isnull=True,
        sign_in_links__revoked_at__isnull=True,
        sign_in_links__expires_at__gt=now,
    )
    return (
        NonprofitContact.objects.filter(nonprofit=nonprofit)
        .select_related("user")
        .annotate(
            open_links=Count("sign_in_links", filter=open_links),
            last_link_at=Max("sign_in_links__created_at"),
            last_used_at=Max("sign_in_links__used_at"),
        )
        .order_by("user__email")
    )


def payout_changes_pending() -> QuerySet[PayoutDetailsChange]:
    return PayoutDetailsChange.objects.pending().for_review()


def payout_changes_reviewed(limit: int = 20) -> list[PayoutDetailsChange]:
    """The latest reviewed changes, newest first, for the record under the pending ones."""
    return list(
        PayoutDetailsChange.objects.exclude(status=PayoutDetailsChange.Status.PENDING)
        .select_related("nonprofit", "requested_by", "reviewed_by")
        .order_by("-reviewed_at", "-pk")[:limit]
    )


# --- The staff dashboard -------------------------------------------------------------------------
# The whole program on one page, in a fixed number of aggregate queries: the lists are cut to
# a few rows in SQL and every sum is grouped in the database, never added up row by row.

DASHBOARD_LIST_SIZE = 5
DASHBOARD_EVENTS = 15
CHART_TOP_COUNTRIES = 8
ZERO = Decimal("0.00")
# The statuses in which a grant waits for staff: approve, schedule, or retry/cancel.
NEEDS_ACTION = (Grant.Status.PROPOSED, Grant.Status.APPROVED, Grant.Status.FAILED)


@dataclass(frozen=True)
class DashboardFilters:
    """What the dashboard is narrowed to. Fund, cohort and country (of the nonprofit, as in
    the grant pipeline) narrow the grant sections; the period narrows the charts; the cohort
    also narrows the overdue milestones."""

    fund: int | None = None
    cohort: int | None = None
    country: str = ""
    since: datetime.date | None = None  # inclusive, a day in the program's timezone
    until: datetime.date | None = None  # inclusive

    def pipeline_query(self) -> dict[str, str]:
        """The same narrowing as the grant pipeline's query parameters."""
        query = {"fund": self.fund, "cohort": self.cohort, "country": self.country}
        return {name: str(value) for name, value in query.items() if value}


def _dashboard_grants(filters: DashboardFilters) -> QuerySet[Grant]:
    return grants_filtered(fund=filters.fund, cohort=filters.cohort, country=filters.country)


@dataclass(frozen=True)
class NeedsAction:
    counts: dict[str, int]  # status -> how many grants wait in it
    oldest: list[Grant]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def dashboard_needs_action(filters: DashboardFilters) -> NeedsAction:
    """How many grants wait for staff in each status, and the oldest of them: two queries."""
    grants = _dashboard_grants(filters).filter(status__in=NEEDS_ACTION)
    per_status = dict(
        grants.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    oldest = list(grants.order_by("created_at", "pk")[:DASHBOARD_LIST_SIZE])
    return NeedsAction(
        counts={code: per_status.get(code, 0) for code in NEEDS_ACTION}, oldest=oldest
    )


def dashboard_failures(filters: DashboardFilters) -> list[Grant]:
    """Grants whose payment failed, and those whose payment is being retried after an error,
    the most recently tried first, with the provider's last error (one query)."""
    retrying = Q(
        disbursement__status__in=Disbursement.UNFINISHED_STATUSES,
        disbursement__attempts__gt=0,
    ) & ~Q(disbursement__last_error="")
    return list(
        _dashboard_grants(filters)
        .filter(Q(status=Grant.Status.FAILED) | retrying)
        .order_by(F("disbursement__updated_at").desc(nulls_last=True), "-updated_at", "-pk")[
            :DASHBOARD_LIST_SIZE
        ]
    )


@dataclass(frozen=True)
class OverdueMilestones:
    count: int
    oldest: list[Milestone]


def dashboard_overdue(*, today: datetime.date, cohort: int | None = None) -> OverdueMilestones:
    """Open milestones past their due date in places still being worked on (as the cohort
    progress grid counts them), and the longest overdue: two queries."""
    milestones = Milestone.objects.overdue(today).of_active_enrolments()
    if cohort:
        milestones = milestones.filter(enrolment__cohort_id=cohort)
    return OverdueMilestones(
        count=milestones.count(),
        oldest=list(milestones.with_people().order_by("due_date", "pk")[:DASHBOARD_LIST_SIZE]),
    )


def dashboard_recent_events() -> list[AuditEvent]:
    """The latest audit events, with who acted and what kind of object it was (one query)."""
    return list(
        AuditEvent.objects.select_related("actor", "content_type").order_by("-occurred_at", "-id")[
            :DASHBOARD_EVENTS
        ]
    )


# --- Money disbursed, for the dashboard's charts -------------------------------------------------


@dataclass(frozen=True)
class ChartBar:
    label: str
    amount: Decimal
    share: float  # of the largest bar, 0..1, for drawing
    short: str = ""  # an axis label, when the label is too long for one

    @property
    def percent(self) -> int:
        return round(self.share * 100)


@dataclass(frozen=True)
class DisbursedCharts:
    currency: str
    total: Decimal
    by_month: list[ChartBar]
    by_country: list[ChartBar]
    by_cause: list[ChartBar]
    other_currencies: list[str]


def _money(value) -> Decimal:
    """A database sum as money: SQLite sums decimals without their places."""
    return Decimal(value).quantize(ZERO)


def _bars(pairs: list[tuple[str, Decimal]], shorts: list[str] | None = None) -> list[ChartBar]:
    largest = max((amount for _label, amount in pairs), default=ZERO)
    shorts = shorts or [label for label, _amount in pairs]
    return [
        ChartBar(label, amount, float(amount / largest) if largest else 0.0, short)
        for (label, amount), short in zip(pairs, shorts, strict=True)
    ]


def _month_starts(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    return months


def dashboard_charts(
    filters: DashboardFilters, *, currency: str, today: datetime.date
) -> DisbursedCharts:
    """Money paid out in the period, in `currency`: per month, per creator country (the
    largest few, then "other") and per creator's main cause (the first they list). Three
    grouped queries; grants in other currencies are named, not converted."""
    zone = timezone.get_current_timezone()
    paid = Grant.objects.filter(status=Grant.Status.DISBURSED, disbursed_at__isnull=False)
    if filters.fund:
        paid = paid.filter(fund_id=filters.fund)
    if filters.cohort:
        paid = paid.filter(creator__enrolments__cohort_id=filters.cohort)
    if filters.country:
        paid = paid.filter(nonprofit__country=filters.country)
    if filters.since:
        paid = paid.filter(disbursed_at__date__gte=filters.since)
    if filters.until:
        paid = paid.filter(disbursed_at__date__lte=filters.until)
    paid = paid.order_by()

    monthly = (
        paid.annotate(month=TruncMonth("disbursed_at", tzinfo=zone))
        .values("month", "currency")
        .annotate(total=Sum("amount"))
    )
    per_month: dict[datetime.date, Decimal] = {}
    currencies: set[str] = set()
    for row in monthly:
        currencies.add(row["currency"])
        if row["currency"] == currency:
            month = timezone.localtime(row["month"], zone).date()
            per_month[month] = per_month.get(month, ZERO) + _money(row["total"])
    last = min(filters.until, today) if filters.until else today
    first = filters.since or (min(per_month) if per_month else last)
    months = _month_starts(min(first, last), last)
    by_month = _bars(
        [
            (formats.date_format(month, "YEAR_MONTH_FORMAT"), per_month.get(month, ZERO))
            for month in months
        ],
        [formats.date_format(month, "M y") for month in months],
    )

    in_currency = paid.filter(currency=currency)
    countries_rows = sorted(
        in_currency.values("creator__country")
        .annotate(total=Sum("amount"))
        .values_list("creator__country", "total"),
        key=lambda row: -row[1],
    )
    country_pairs = [
        (str(countries.name(code)) if code else gettext("Program grants"), _money(total))
        for code, total in countries_rows[:CHART_TOP_COUNTRIES]
    ]
    rest = sum((_money(total) for _code, total in countries_rows[CHART_TOP_COUNTRIES:]), ZERO)
    if rest:
        country_pairs.append((gettext("Other countries"), rest))

    cause_labels = dict(Cause.choices)
    cause_rows = sorted(
        in_currency.annotate(cause=KeyTextTransform("0", "creator__causes"))
        .values("cause")
        .annotate(total=Sum("amount"))
        .values_list("cause", "total"),
        key=lambda row: -row[1],
    )
    cause_pairs = [
        (str(cause_labels.get(code, code)) if code else gettext("Program grants"), _money(total))
        for code, total in cause_rows
    ]
    return DisbursedCharts(
        currency=currency,
        total=sum(per_month.values(), ZERO),
        by_month=by_month,
        by_country=_bars(country_pairs),
        by_cause=_bars(cause_pairs),
        other_currencies=sorted(currencies - {currency}),
    )


# --- Choices for the exports' filters ------------------------------------------------------------


def _country_choices(codes) -> list[tuple[str, str]]:
    return sorted(((code, str(countries.name(code))) for code in codes), key=lambda c: c[1])


def creator_country_choices() -> list[tuple[str, str]]:
    """The countries creators are from, as (code, name) sorted by name."""
    return _country_choices(Creator.objects.order_by().values_list("country", flat=True).distinct())


def list_entry_country_choices() -> list[tuple[str, str]]:
    """The countries on any year's list, as (code, name) sorted by name."""
    return _country_choices(
        ListEntry.objects.order_by().values_list("country", flat=True).distinct()
    )


def list_year_choices() -> list[int]:
    """Every list's year, drafts included, newest first."""
    return list(ChangeMakersList.objects.order_by("-year").values_list("year", flat=True))


# --- The public program page ---------------------------------------------------------------------

# Creators who are, or were, in a cohort (an invitation not yet taken up, or withdrawn, is not).
COHORT_CREATOR_STATUSES = (Enrolment.Status.ACTIVE, Enrolment.Status.COMPLETED)


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    granted: Decimal
    disbursed: Decimal


@dataclass(frozen=True)
class ProgramTotals:
    money: list[CurrencyTotal]  # one per currency, the largest amount granted first
    nonprofits: int
    creators: int
    countries: int


def program_totals() -> ProgramTotals:
    """The program's public figures, computed now in four queries whatever the data:

    - granted: grants approved or further along (scheduled, being paid, paid), not cancelled
      or failed, per currency; disbursed: grants paid, per currency;
    - nonprofits: nonprofits with at least one such grant;
    - creators: creators on a published list or with an active or completed cohort place;
    - countries: the countries of those creators (a list entry's country that year, the
      creator's country for a cohort place).
    """
    money_rows = (
        Grant.objects.committing()
        .order_by()
        .values("currency")
        .annotate(
            granted=Sum("amount"),
            disbursed=Sum("amount", filter=Q(status=Grant.Status.DISBURSED)),
        )
    )
    money = sorted(
        (
            CurrencyTotal(
                currency=row["currency"],
                granted=row["granted"],
                disbursed=row["disbursed"] or Decimal("0.00"),
            )
            for row in money_rows
        ),
        key=lambda total: (-total.granted, total.currency),
    )
    nonprofits = Grant.objects.committing().aggregate(n=Count("nonprofit", distinct=True))["n"]
    published_entries = ListEntry.objects.filter(
        change_makers_list__status=ChangeMakersList.Status.PUBLISHED
    )
    in_cohorts = Creator.objects.filter(enrolments__status__in=COHORT_CREATOR_STATUSES)
    creators = Creator.objects.filter(
        Q(pk__in=published_entries.values("creator_id")) | Q(pk__in=in_cohorts.values("pk"))
    ).count()
    # UNION (not UNION ALL) drops the duplicates: one row per country.
    country_codes = (
        published_entries.order_by()
        .values_list("country", flat=True)
        .union(in_cohorts.order_by().values_list("country", flat=True))
    )
    return ProgramTotals(
        money=money, nonprofits=nonprofits, creators=creators, countries=country_codes.count()
    )
