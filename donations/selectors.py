"""Staff reads that span models: the grant pipeline with its filters and counts, a grant's
history, a batch's progress, the funds' budgets and the nonprofit vetting list.

Every function here answers in a fixed number of queries, whatever the number of rows.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django_countries import countries

from changemakers.core import page_cache
from changemakers.core.content_languages import sorted_by_name
from changemakers.core.models import AuditEvent
from programs.models import Cohort

from .models import (
    BANK_TRANSFER_PROVIDER,
    Disbursement,
    DisbursementBatch,
    Fund,
    Grant,
    Nonprofit,
    NonprofitContact,
    NonprofitSignInLink,
    PaymentInstruction,
    PayoutDetailsChange,
    PayoutFailure,
    grants_digest,
)

# --- The grant pipeline ------------------------------------------------------------------------

# Who proposed and approved a grant, shown with it (and deciding which buttons each person
# gets: nobody is offered a step the separation of duties refuses them).
GRANT_DECIDERS = ("proposed_by", "first_approved_by", "approved_by")


HELD = "held"  # the pipeline's tab of grants on hold, whatever their status


def grants_filtered(
    *,
    fund: int | None = None,
    cohort: int | None = None,
    country: str = "",
    status: str = "",
    search: str = "",
) -> QuerySet[Grant]:
    """Grants matching the staff pipeline's filters, with their fund, nonprofit, creator and
    disbursement, newest first."""
    grants = Grant.objects.with_related().select_related("disbursement")
    if fund:
        grants = grants.filter(fund_id=fund)
    if cohort:
        # A creator is enrolled at most once per cohort, so this join adds no duplicates.
        grants = grants.filter(creator__enrolments__cohort_id=cohort)
    if country:
        grants = grants.filter(nonprofit__country=country)
    if status == HELD:
        grants = grants.held()
    elif status:
        grants = grants.filter(status=status)
    if search:
        grants = grants.search(search)
    return grants.order_by("-created_at", "-pk")


def grants_for_pipeline(**filters) -> QuerySet[Grant]:
    """The pipeline's rows: `grants_filtered` with who proposed and approved each grant. The
    deciders come in a query of their own (none when no row has one): joining the user table
    three more times made planning the rows' query cost more than running it."""
    return grants_filtered(**filters).prefetch_related(*GRANT_DECIDERS)


@dataclass(frozen=True)
class StatusCount:
    code: str  # "" for all
    label: str
    count: int


def grant_status_counts(grants: QuerySet[Grant]) -> list[StatusCount]:
    """How many of `grants` are in each status, on hold, and in all, in one query."""
    held = Grant.held_q()
    rows = (
        grants.order_by()
        .values("status")
        .annotate(n=Count("pk"), h=Count("pk", filter=held))
        .values_list("status", "n", "h")
    )
    per_status = {status: n for status, n, _ in rows}
    counts = [
        StatusCount(code, str(label), per_status.get(code, 0))
        for code, label in Grant.Status.choices
    ]
    return [
        *counts,
        StatusCount(HELD, gettext("On hold"), sum(h for _, _, h in rows)),
        StatusCount("", gettext("All"), sum(per_status.values())),
    ]


def fund_choices() -> list[Fund]:
    return list(Fund.objects.order_by("name"))


def cohort_choices() -> list[tuple[int, str]]:
    return list(Cohort.objects.order_by("-start_date").values_list("pk", "name"))


def nonprofit_country_choices() -> list[tuple[str, str]]:
    """The countries nonprofits are registered in, as (code, name) sorted by name."""
    codes = Nonprofit.objects.order_by().values_list("country", flat=True).distinct()
    return sorted_by_name(((code, str(countries.name(code))) for code in codes), key=lambda c: c[1])


def grant_filter_choices() -> tuple[list[tuple[int, str]], list[tuple[str, str]]]:
    """The cohorts and the countries the grant filters offer (the pipeline's and the staff
    dashboard's), kept per data version and language: two reads on every page otherwise."""
    return page_cache.cached(
        "grant-filter-choices", lambda: (cohort_choices(), nonprofit_country_choices())
    )


# --- One grant -----------------------------------------------------------------------------------


def grant_for_staff(pk: int) -> Grant:
    """A grant with everything its detail page and row show. Raises Grant.DoesNotExist."""
    return (
        Grant.objects.with_related()
        .select_related("disbursement", "disbursement__batch", *GRANT_DECIDERS)
        .get(pk=pk)
    )


def grant_disbursement(grant: Grant) -> Disbursement | None:
    """The grant's disbursement, if it was ever scheduled (select_related already fetched it)."""
    try:
        return grant.disbursement
    except Disbursement.DoesNotExist:
        return None


def payout_details_asks(grant: Grant) -> list[NonprofitSignInLink]:
    """The asks for new payout details sent about `grant` (`payout_details_ask`), newest
    first, each with its contact and sender (one query)."""
    return list(
        NonprofitSignInLink.objects.filter(
            grant=grant, purpose=NonprofitSignInLink.Purpose.PAYOUT_DETAILS
        )
        .select_related("contact__user", "created_by")
        .order_by("-created_at", "-pk")
    )


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
    if reached.get("disbursed") and not reached.get("processing"):
        # A bank transfer made by hand goes from scheduled to paid when it is recorded as
        # sent: the payment was sent then.
        reached["processing"] = reached["disbursed"]
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


# --- Reviewing a payment before it is made --------------------------------------------------------


@dataclass(frozen=True)
class MoneyTotal:
    """How many grants and how much, in one currency (from one fund when `fund` is set):
    totals are never summed across currencies."""

    currency: str
    count: int
    total: Decimal
    fund: Fund | None = None


def money_totals(rows: Iterable, *, by_fund: bool = False) -> list[MoneyTotal]:
    """Count and sum of rows with `amount` and `currency` (and `fund` when `by_fund`), per
    currency, in the order met."""
    sums: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0)])
    funds: dict[tuple, Fund | None] = {}
    for row in rows:
        key = (row.fund_id, row.currency) if by_fund else (row.currency,)
        sums[key][0] += 1
        sums[key][1] += row.amount
        funds[key] = row.fund if by_fund else None
    return [
        MoneyTotal(currency=key[-1], count=count, total=total, fund=funds[key])
        for key, (count, total) in sums.items()
    ]


@dataclass(frozen=True)
class ScheduleReview:
    """What a batch would pay, shown before it is paid: the ticked grants still approved,
    their totals per fund and per currency, how many ticked ones are left out (no longer
    approved), and the digest the payment must match (`grants_schedule(expected=...)`)."""

    grants: list[Grant]
    by_fund: list[MoneyTotal]
    by_currency: list[MoneyTotal]
    left_out: int
    digest: str

    @property
    def count(self) -> int:
        return len(self.grants)

    @property
    def ids(self) -> list[int]:
        return [grant.pk for grant in self.grants]


def schedule_review(ids: Iterable[int]) -> ScheduleReview:
    """The review of a payment of the grants `ids` (one query)."""
    wanted = set(ids)
    grants = list(
        Grant.objects.filter(pk__in=wanted, status=Grant.Status.APPROVED)
        .select_related("fund", "nonprofit", "creator")
        .order_by("fund__name", "nonprofit__legal_name", "pk")
    )
    return ScheduleReview(
        grants=grants,
        by_fund=money_totals(grants, by_fund=True),
        by_currency=money_totals(grants),
        left_out=len(wanted) - len(grants),
        digest=grants_digest(grants),
    )


# --- Batches -------------------------------------------------------------------------------------


def batch_lines(batch: DisbursementBatch):
    """The batch's payments, one per grant, with their grant, nonprofit, creator and (for a
    bank transfer made by hand) payment instruction: one query."""
    return (
        Disbursement.objects.filter(batch=batch)
        .select_related("grant__nonprofit", "grant__creator", "grant__fund", "instruction")
        .order_by("pk")
    )


UNFINISHED = (Disbursement.Status.PENDING, Disbursement.Status.PROCESSING)


@dataclass(frozen=True)
class BatchProgress:
    batch: DisbursementBatch
    counts: dict[str, int]  # disbursement status -> how many
    total: int
    finished: int
    failed: list[Disbursement] = field(default_factory=list)
    # Pending bank transfers made by hand: no worker will finish them, a person records them.
    awaiting_transfer: int = 0

    @property
    def done(self) -> bool:
        """Nothing left for the worker (the page stops polling)."""
        return self.finished + self.awaiting_transfer >= self.total

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
        **{code: Count("pk", filter=Q(status=code)) for code in Disbursement.Status.values},
        awaiting_transfer=Count(
            "pk", filter=Q(status__in=UNFINISHED, provider=BANK_TRANSFER_PROVIDER)
        ),
    )
    awaiting_transfer = counts.pop("awaiting_transfer")
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
        batch=batch,
        counts=counts,
        total=total,
        finished=total - unfinished,
        failed=failed,
        awaiting_transfer=awaiting_transfer,
    )


def batch_provider(batch: DisbursementBatch) -> str | None:
    """The payout provider the batch's payments go through (one query)."""
    return Disbursement.objects.filter(batch=batch).values_list("provider", flat=True).first()


def batches_with_counts(*, held: bool = False) -> QuerySet[DisbursementBatch]:
    """Batches, newest first, each with how many of its payments are in each status; only
    those on hold when `held`."""
    batches = DisbursementBatch.objects.all()
    if held:
        batches = batches.filter(held_at__isnull=False)
    return (
        batches.select_related("created_by")
        .annotate(
            **{
                f"n_{code}": Count("disbursements", filter=Q(disbursements__status=code))
                for code in Disbursement.Status.values
            }
        )
        .order_by("-created_at", "-pk")
    )


# --- Bank transfers by hand ---------------------------------------------------------------------


@dataclass(frozen=True)
class InstructionRow:
    """A payment instruction as the batch page and the payment files see it: `state` is
    "sent", "cancelled" (its payment called off or failed), "held" (not to be paid now, for
    `reason`) or "awaiting" (to be paid: in the files)."""

    instruction: PaymentInstruction
    state: str
    reason: str = ""

    @property
    def payable(self) -> bool:
        return self.state == "awaiting"


def _instruction_state(instruction: PaymentInstruction) -> tuple[str, str]:
    disbursement = instruction.disbursement
    grant = disbursement.grant
    nonprofit = grant.nonprofit
    if instruction.sent_at is not None:
        return "sent", ""
    if disbursement.status not in UNFINISHED:
        return "cancelled", disbursement.get_status_display()
    if grant.is_held:
        return "held", grant.hold_reason
    if not nonprofit.verification_current():
        return "held", gettext("The nonprofit is not verified, or its verification expired.")
    if nonprofit.payout_fingerprint() != instruction.payee_fingerprint:
        return "held", gettext("The nonprofit's bank details changed after the approval.")
    return "awaiting", ""


def batch_instructions(batch: DisbursementBatch) -> list[InstructionRow]:
    """The batch's payment instructions with where each stands (one query). Those awaiting
    are the ones that may be paid now, as the worker would check an electronic payment: not
    called off, grant not held, nonprofit verified and its bank details still those pinned."""
    return [
        InstructionRow(instruction, *_instruction_state(instruction))
        for instruction in PaymentInstruction.objects.for_batch(batch).select_related("sent_by")
    ]


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
    """Nonprofits, those awaiting review first, with how many grants each has and the latest
    payout its bank refused that is not cleared yet (`payout_failed_at`, its code and
    message), all in one query."""
    failures = PayoutFailure.objects.open().filter(nonprofit=OuterRef("pk")).order_by("-failed_at")
    nonprofits = Nonprofit.objects.annotate(
        grant_count=Count("grants"),
        payout_failed_at=Subquery(failures.values("failed_at")[:1]),
        payout_failure_code=Subquery(failures.values("failure_code")[:1]),
        payout_failure_message=Subquery(failures.values("failure_message")[:1]),
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
        .annotate(last_expires_at=Max("sign_in_links__expires_at"))
        .annotate(
            open_links=Count("sign_in_links", filter=open_links),
            last_link_at=Max("sign_in_links__created_at"),
            last_used_at=Max("sign_in_links__used_at"),
            # Until when the open links work; every link has expired once the last one has.
            open_until=Max("sign_in_links__expires_at", filter=open_links),
            links_expired=ExpressionWrapper(
                Q(last_expires_at__lte=now), output_field=BooleanField()
            ),
        )
        .order_by("user__email")
    )


def payout_changes_pending() -> QuerySet[PayoutDetailsChange]:
    return PayoutDetailsChange.objects.pending().for_review()


def payout_changes_reviewed(limit: int = 20) -> list[PayoutDetailsChange]:
    """The latest reviewed changes, newest first, for the record under the pending ones."""
    return list(
        PayoutDetailsChange.objects.exclude(status=PayoutDetailsChange.Status.PENDING)
        .select_related("nonprofit", "requested_by", "first_approved_by", "reviewed_by")
        .order_by("-reviewed_at", "-pk")[:limit]
    )
