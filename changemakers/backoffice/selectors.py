"""Reads of the back office: the staff dashboard's sections and charts, the choices of the
exports' filters, and the public program page's text and totals. They span every app, which
is why they live above the apps.
"""

import datetime
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncMonth
from django.utils import formats, timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django_countries import countries

from changemakers.core.content_languages import content_languages, localized, sorted_by_name
from changemakers.core.models import AuditEvent
from creators.models import Cause, ChangeMakersList, Creator, ListEntry, PublicField, shows_q
from donations.models import Disbursement, DisbursementBatch, Fund, Grant, PayoutFailure
from donations.selectors import grants_filtered
from programs.models import Enrolment, Milestone

from .models import ProgramHub

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
    counts: dict[str, int]  # status (or "held") -> how many grants wait in it
    oldest: list[Grant]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def dashboard_needs_action(filters: DashboardFilters) -> NeedsAction:
    """How many grants wait for staff in each status, how many are on hold (whatever their
    status: counted there, not under it) waiting for their payee to be re-confirmed, and the
    oldest of them all: two queries."""
    # Payees to re-confirm; an unknown outcome on hold is among the money to settle.
    held = Grant.held_q(Grant.UNPAID_STATUSES)
    grants = _dashboard_grants(filters).filter(Q(status__in=NEEDS_ACTION) | held)
    rows = (
        grants.order_by()
        .values("status")
        .annotate(n=Count("pk", filter=~held), h=Count("pk", filter=held))
        .values_list("status", "n", "h")
    )
    per_status = {status: n for status, n, _ in rows}
    counts = {code: per_status.get(code, 0) for code in NEEDS_ACTION}
    counts["held"] = sum(h for _, _, h in rows)
    oldest = list(grants.order_by("created_at", "pk")[:DASHBOARD_LIST_SIZE])
    return NeedsAction(counts=counts, oldest=oldest)


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
class MoneyToSettle:
    """What only staff can settle with the payout provider, for the whole program: funds
    overspent by a payment found late, payments whose outcome is still unknown after the
    horizon or held (another amount reported), and how many unknown ones are still being asked
    about automatically; payments the provider reversed, not closed yet; batches held for the
    platform's account; nonprofits whose bank refused a payout."""

    overspent: list[Fund]
    flagged: list[Grant]
    flagged_count: int
    rechecking_count: int
    reversed: list[Grant] = field(default_factory=list)
    reversed_count: int = 0
    held_batches: list[DisbursementBatch] = field(default_factory=list)
    payout_failures: list[PayoutFailure] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (
            len(self.overspent)
            + self.flagged_count
            + self.reversed_count
            + len(self.held_batches)
            + len(self.payout_failures)
        )


def dashboard_money_to_settle() -> MoneyToSettle:
    """Four small queries, one more for each kind of grant to list (flagged, reversed);
    never narrowed by the filters (like the budgets), so nothing to settle is hidden by a
    filter."""
    flagged = Q(status=Grant.Status.UNKNOWN, disbursement__recheck_at__isnull=True) | Q(
        held_at__isnull=False
    )
    rechecking = Q(status=Grant.Status.UNKNOWN, disbursement__recheck_at__isnull=False)
    reversed_ = Q(status=Grant.Status.REVERSED)
    open_questions = Grant.objects.exclude(status=Grant.Status.CANCELLED)
    counts = (
        open_questions.filter(Q(status=Grant.Status.UNKNOWN) | Q(held_at__isnull=False) | reversed_)
        .order_by()
        .aggregate(
            flagged=Count("pk", filter=flagged),
            rechecking=Count("pk", filter=rechecking),
            reversed=Count("pk", filter=reversed_),
        )
    )
    related = ("nonprofit", "creator", "fund", "disbursement")
    oldest = []
    if counts["flagged"]:
        oldest = list(
            open_questions.filter(flagged)
            .select_related(*related)
            .order_by("updated_at", "pk")[:DASHBOARD_LIST_SIZE]
        )
    reversed_grants = []
    if counts["reversed"]:
        reversed_grants = list(
            Grant.objects.filter(reversed_)
            .select_related(*related)
            .order_by("disbursement__reversed_at", "pk")[:DASHBOARD_LIST_SIZE]
        )
    return MoneyToSettle(
        overspent=list(Fund.objects.filter(overspent__gt=0).order_by("name")),
        flagged=oldest,
        flagged_count=counts["flagged"],
        rechecking_count=counts["rechecking"],
        reversed=reversed_grants,
        reversed_count=counts["reversed"],
        held_batches=list(
            DisbursementBatch.objects.filter(held_at__isnull=False).order_by("held_at", "pk")
        ),
        payout_failures=list(
            PayoutFailure.objects.open()
            .select_related("nonprofit")
            .order_by("failed_at", "pk")[:DASHBOARD_LIST_SIZE]
        ),
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
    grouped queries; grants in other currencies are named, not converted. Months and the
    period's days are the program's calendar (not the reader's zone: every reader sees the
    same figures)."""
    zone = zoneinfo.ZoneInfo(settings.PROGRAM_TIME_ZONE)
    with timezone.override(zone):  # the `__date` lookups below count in the current zone
        return _dashboard_charts(filters, currency=currency, today=today, zone=zone)


def _dashboard_charts(
    filters: DashboardFilters, *, currency: str, today: datetime.date, zone
) -> DisbursedCharts:
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
    return sorted_by_name(((code, str(countries.name(code))) for code in codes), key=lambda c: c[1])


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
class FundTotals:
    """The funds held in one currency, added up. Amounts in different currencies are never
    added together: the program's budget is one of these per currency."""

    currency: str
    funds: int
    total: Decimal
    committed: Decimal
    disbursed: Decimal
    remaining: Decimal


def fund_totals_by_currency(funds) -> list[FundTotals]:
    """One line per currency of `funds`, in code order (USD and EUR funds: two lines)."""
    by_currency: dict[str, list] = {}
    for fund in funds:
        by_currency.setdefault(fund.currency, []).append(fund)
    return [
        FundTotals(
            currency=currency,
            funds=len(group),
            total=sum((fund.total for fund in group), ZERO),
            committed=sum((fund.committed for fund in group), ZERO),
            disbursed=sum((fund.disbursed for fund in group), ZERO),
            remaining=sum((fund.remaining for fund in group), ZERO),
        )
        for currency, group in sorted(by_currency.items())
    ]


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
    # What the public list shows: entries of creators who confirmed (or listed before consent
    # was asked); countries only of those who show their country.
    published_entries = ListEntry.objects.public()
    in_cohorts = Creator.objects.filter(enrolments__status__in=COHORT_CREATOR_STATUSES)
    creators = Creator.objects.filter(
        Q(pk__in=published_entries.values("creator_id")) | Q(pk__in=in_cohorts.values("pk"))
    ).count()
    # UNION (not UNION ALL) drops the duplicates: one row per country.
    country_codes = (
        published_entries.filter(shows_q(PublicField.COUNTRY, prefix="creator__"))
        .order_by()
        .values_list("country", flat=True)
        .union(
            in_cohorts.filter(shows_q(PublicField.COUNTRY))
            .order_by()
            .values_list("country", flat=True)
        )
    )
    return ProgramTotals(
        money=money, nonprofits=nonprofits, creators=creators, countries=country_codes.count()
    )


# --- The program page's text ---------------------------------------------------------------


def program_hub() -> ProgramHub:
    """The program page's text: the one staff saved, or a first text until they do."""
    hub = ProgramHub.objects.filter(pk=ProgramHub.SINGLETON_ID).first()
    if hub is not None:
        return hub
    # The first text in every language the catalogue has it in, each in its own column.
    texts = {}
    for language in content_languages():
        with translation.override(language):
            texts[localized("title", language)] = _("The Change Makers social impact hub")
            texts[localized("introduction", language)] = _(
                "Creators using their voice for change, and the nonprofits they support."
            )
    return ProgramHub(hashtag=settings.PROGRAM_HASHTAG, **texts)
