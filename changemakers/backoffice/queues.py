"""The work waiting for staff, queue by queue: the dashboard's Today rows and the staff
navigation's count badges.

Each queue is what one kind of decision waits on (grants to approve, milestones to review,
nonprofits to vet, ...), with how many items wait and since when the oldest has. A person
sees only the queues their roles let them act on: the permission the services check for
that decision, and the one that opens the page listing the queue.

Every visible queue is counted in one SQL statement (one aggregate per queue, joined with
UNION ALL), cached until the program's data changes, and computed at most once per request:
the navigation on every staff page and the dashboard's Today rows share it.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import CharField, Count, Min, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.timesince import timesince
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from changemakers.core import page_cache
from changemakers.core.roles import Role, role_of
from donations.models import DisbursementBatch, Grant, Nonprofit, PayoutDetailsChange
from donations.selectors import HELD
from programs.models import Application, Milestone

# The staff navigation's tabs that show a count (the tab's URL name -> its badge's key).
TAB_GRANTS = "grants"
TAB_BATCHES = "batches"
TAB_NONPROFITS = "nonprofits"
TAB_PAYOUT_CHANGES = "payout_changes"
TAB_REVIEWS = "reviews"
TAB_APPLICATIONS = "applications"

# The Grants tab counts each grant once, even when it waits in two queues (a held failed one).
GRANTS_WAITING = "grants-waiting"


@dataclass(frozen=True)
class Queue:
    """One kind of work. `items` are the rows waiting, `since` the field that says since when
    each has waited; `act` the permissions of which one lets a person do the work (as the
    services check it), `view` the one that opens the page listing it (`url`, `query`)."""

    key: str
    title: object  # lazy text: the row's heading, "To approve"
    items: Callable[[], QuerySet]
    since: object  # a field name or an expression
    act: tuple[str, ...]
    view: str
    url: str
    query: dict[str, str]
    tab: str
    what: object  # lazy plural text: "grants to approve", for "3 grants to approve"
    done: object  # lazy text for an empty queue: "Nothing to approve"


def _grants_held() -> QuerySet:
    return Grant.objects.held()


QUEUES: tuple[Queue, ...] = (
    Queue(
        key="approve",
        title=_("To approve"),
        # Awaiting a first approval, or a second one for a large grant: still proposed.
        items=lambda: Grant.objects.filter(status=Grant.Status.PROPOSED),
        since="created_at",
        act=("donations.approve_grant",),
        view="donations.view_grant",
        url="donations:grant-list",
        query={"status": Grant.Status.PROPOSED},
        tab=TAB_GRANTS,
        what=ngettext_lazy("grant to approve", "grants to approve", "n"),
        done=_("Nothing to approve"),
    ),
    Queue(
        key="schedule",
        title=_("To schedule"),
        # Approved grants are in no batch yet: scheduling one moves it on.
        items=lambda: Grant.objects.filter(status=Grant.Status.APPROVED),
        since=Coalesce("approved_at", "updated_at"),
        act=("donations.schedule_grant",),
        view="donations.view_grant",
        url="donations:grant-list",
        query={"status": Grant.Status.APPROVED},
        tab=TAB_GRANTS,
        what=ngettext_lazy("grant to schedule for payment", "grants to schedule for payment", "n"),
        done=_("Nothing to schedule"),
    ),
    Queue(
        key="failed",
        title=_("Failed payments"),
        items=lambda: Grant.objects.filter(status=Grant.Status.FAILED),
        since="updated_at",
        act=("donations.schedule_grant", "donations.cancel_grant"),
        view="donations.view_grant",
        url="donations:grant-list",
        query={"status": Grant.Status.FAILED},
        tab=TAB_GRANTS,
        what=ngettext_lazy(
            "failed payment to retry or cancel", "failed payments to retry or cancel", "n"
        ),
        done=_("No failed payment"),
    ),
    Queue(
        key="held",
        title=_("Held payments"),
        items=_grants_held,
        since="held_at",
        # Re-confirming a held grant's payee, and releasing a held batch, are approvals.
        act=("donations.approve_grant",),
        view="donations.view_grant",
        url="donations:grant-list",
        query={"status": HELD},
        tab=TAB_GRANTS,
        what=ngettext_lazy(
            "grant on hold, payee to re-confirm", "grants on hold, payee to re-confirm", "n"
        ),
        done=_("No payment on hold"),
    ),
    Queue(
        key="held-batches",
        title=_("Held payments"),
        items=lambda: DisbursementBatch.objects.filter(held_at__isnull=False),
        since="held_at",
        act=("donations.approve_grant",),
        view="donations.view_disbursementbatch",
        url="donations:batch-list",
        query={"held": "1"},
        tab=TAB_BATCHES,
        what=ngettext_lazy("batch on hold", "batches on hold", "n"),
        done=_("No payment on hold"),
    ),
    Queue(
        key="milestones",
        title=_("Milestones to review"),
        # A submitted milestone's last change is its submission.
        items=lambda: Milestone.objects.awaiting_review(),
        since="updated_at",
        act=("programs.change_milestone",),
        view="programs.view_milestone",
        url="programs:review-list",
        query={},
        tab=TAB_REVIEWS,
        what=ngettext_lazy("milestone to review", "milestones to review", "n"),
        done=_("No milestone to review"),
    ),
    Queue(
        key="applications",
        title=_("Applications"),
        items=lambda: Application.objects.filter(status=Application.Status.PENDING),
        since="created_at",
        act=("programs.change_application",),
        view="programs.view_application",
        url="programs:application-list",
        query={"status": Application.Status.PENDING},
        tab=TAB_APPLICATIONS,
        what=ngettext_lazy("application to decide", "applications to decide", "n"),
        done=_("No application waiting"),
    ),
    Queue(
        key="nonprofits",
        title=_("Nonprofits to vet"),
        items=lambda: Nonprofit.objects.filter(verification_status=Nonprofit.Verification.PENDING),
        since="created_at",
        act=("donations.verify_nonprofit",),
        view="donations.view_nonprofit",
        url="donations:nonprofit-list",
        query={"status": Nonprofit.Verification.PENDING},
        tab=TAB_NONPROFITS,
        what=ngettext_lazy("nonprofit to vet", "nonprofits to vet", "n"),
        done=_("No nonprofit to vet"),
    ),
    Queue(
        key="payout-changes",
        title=_("Payout-detail changes"),
        items=lambda: PayoutDetailsChange.objects.pending(),
        since="created_at",
        # Finance approvers decide them; vetters check them with the nonprofit.
        act=("donations.approve_payoutdetailschange", "donations.verify_nonprofit"),
        view="donations.view_payoutdetailschange",
        url="donations:payout-change-list",
        query={},
        tab=TAB_PAYOUT_CHANGES,
        what=ngettext_lazy(
            "payout-detail change to review", "payout-detail changes to review", "n"
        ),
        done=_("No payout-detail change waiting"),
    ),
)
BY_KEY = {queue.key: queue for queue in QUEUES}

# The Today rows, in order: the held grants and held batches make one row.
ROWS: tuple[tuple[str, ...], ...] = (
    ("approve",),
    ("schedule",),
    ("failed",),
    ("held", "held-batches"),
    ("milestones",),
    ("applications",),
    ("nonprofits",),
    ("payout-changes",),
)


def queue_visible(user, queue: Queue) -> bool:
    """Whether `user` may act on `queue`'s work and open the page that lists it."""
    if role_of(user) != Role.STAFF or not user.has_perm(queue.view):
        return False
    return any(user.has_perm(name) for name in queue.act)


def queues_visible(user) -> tuple[str, ...]:
    """The keys of the queues `user` sees, in `QUEUES` order."""
    return tuple(queue.key for queue in QUEUES if queue_visible(user, queue))


def _aggregate(key: str, items: QuerySet, since) -> QuerySet:
    """One row: the queue's key, how many items and the oldest `since` (an aggregate with no
    GROUP BY, so an empty queue still gives its row, with 0 and None). A plain QuerySet over
    the same query: the rows of a translated model's own QuerySet (django-modeltranslation)
    would be rewritten as that model's, which the UNION's other rows are not."""
    items = QuerySet(model=items.model, query=items.query.chain())
    return (
        items.order_by()
        .annotate(queue=Value(key, output_field=CharField()))
        .values("queue")
        .annotate(n=Count("pk"), oldest=Min(since))
        .values_list("queue", "n", "oldest")
        .order_by()
    )


def queue_counts(keys: tuple[str, ...]) -> dict[str, tuple[int, datetime.datetime | None]]:
    """key -> (how many wait, since when the oldest has) for each of `keys`, and under
    `GRANTS_WAITING` the grants waiting in any of the grant queues among them, each once:
    one query, whatever the number of rows."""
    parts = [_aggregate(key, BY_KEY[key].items(), BY_KEY[key].since) for key in keys]
    grant_keys = [key for key in keys if BY_KEY[key].tab == TAB_GRANTS]
    if grant_keys:
        waiting = Q(pk__in=[])
        for key in grant_keys:
            waiting |= Q(pk__in=BY_KEY[key].items().values("pk"))
        parts.append(_aggregate(GRANTS_WAITING, Grant.objects.filter(waiting), "created_at"))
    if not parts:
        return {}
    first, *rest = parts
    rows = first.union(*rest, all=True).order_by() if rest else first
    return {key: (n, oldest) for key, n, oldest in rows}


@dataclass(frozen=True)
class TodayPart:
    """One queue in a Today row: `text` is "grants to approve" for its count."""

    key: str
    count: int
    text: str
    url: str


@dataclass(frozen=True)
class TodayRow:
    key: str
    title: str
    parts: list[TodayPart]
    count: int
    oldest: datetime.datetime | None
    done: str

    @property
    def age(self) -> str:
        """How long the oldest item has waited, to the largest unit: "3 days"."""
        if self.oldest is None:
            return ""
        now = timezone.now()
        if now - self.oldest < datetime.timedelta(minutes=1):
            return gettext("less than a minute")
        return timesince(self.oldest, now, depth=1)


@dataclass(frozen=True)
class StaffQueues:
    """What waits for one person: the dashboard's Today rows and the navigation's badges."""

    rows: list[TodayRow]
    badges: dict[str, int]  # tab -> how many wait behind it (only tabs with some)

    @property
    def total(self) -> int:
        return sum(row.count for row in self.rows)


def _url(queue: Queue) -> str:
    url = reverse(queue.url)
    return f"{url}?{urlencode(queue.query)}" if queue.query else url


def staff_queues(user) -> StaffQueues:
    """The queues `user` may act on, counted (one query, none when the data did not change
    since the last time someone with the same queues asked)."""
    keys = queues_visible(user)
    counts = page_cache.cached("staff-queues", lambda: queue_counts(keys), keys) if keys else {}
    rows = []
    for row_keys in ROWS:
        shown = [BY_KEY[key] for key in row_keys if key in counts]
        if not shown:
            continue
        parts = [
            TodayPart(
                key=queue.key,
                count=counts[queue.key][0],
                text=queue.what % {"n": counts[queue.key][0]},
                url=_url(queue),
            )
            for queue in shown
        ]
        ages = [counts[queue.key][1] for queue in shown if counts[queue.key][1] is not None]
        rows.append(
            TodayRow(
                key=row_keys[0],
                title=str(shown[0].title),
                parts=[part for part in parts if part.count] or parts[:1],
                count=sum(part.count for part in parts),
                oldest=min(ages, default=None),
                done=str(shown[0].done),
            )
        )
    badges: dict[str, int] = {}
    for key, (count, _oldest) in counts.items():
        tab = TAB_GRANTS if key == GRANTS_WAITING else BY_KEY[key].tab
        if tab != TAB_GRANTS or key == GRANTS_WAITING:
            badges[tab] = badges.get(tab, 0) + count
    return StaffQueues(rows=rows, badges={tab: n for tab, n in badges.items() if n})


def staff_queues_of(request) -> StaffQueues:
    """`staff_queues` of the signed-in person, computed once per request."""
    cached = getattr(request, "_staff_queues", None)
    if cached is None:
        cached = request._staff_queues = staff_queues(request.user)
    return cached


def context(request) -> dict:
    """Context processor: `staff_queues`, counted only when a template reads it (the staff
    navigation does, on staff pages)."""
    return {"staff_queues": SimpleLazyObject(lambda: staff_queues_of(request))}
