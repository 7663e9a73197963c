"""A creator's impact story, as their public profile tells it: their cohort and mission, the
nonprofit given money in their name, and the highlights of their work. It spans creators,
programs and donations, which is why it is composed here, above the apps.

Each part is shown only if the creator shows it (creators.PublicField: COHORT, DONATION,
HIGHLIGHTS); a creator who answered before these parts existed has not ticked them, so they
stay hidden until the creator does.

What the public reads about the donation, by the grant's status (the words are the
template's, `backoffice/story.html`):

- approved, scheduled, processing: "Granted" — the money is committed to the nonprofit and
  on its way; nothing about when or how it is paid.
- disbursed: "Paid" — the nonprofit has been paid.
- proposed, cancelled, failed, unknown, reversed: nothing is shown. A proposal is not a
  promise, a cancelled grant was never given, and a failed, reversed or unknown payment is
  finance's to settle, not a story for the public page: showing it would say more than the
  program knows or than the nonprofit agreed to.

Only the nonprofit's name is shown: no payee, no payout details, no contact.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch

from changemakers.core import page_cache
from creators.models import Creator, PublicField
from donations.models import Grant, Nonprofit
from programs.models import Enrolment, ImpactValue, ProgressUpdate, TikTokVideo

GRANTED_STATUSES = (Grant.Status.APPROVED, Grant.Status.SCHEDULED, Grant.Status.PROCESSING)
PAID_STATUSES = (Grant.Status.DISBURSED,)
# A creator's highlights on their page, newest first.
HIGHLIGHTS_SHOWN = 10


@dataclass(frozen=True)
class StoryDonation:
    nonprofit_name: str
    amount: Decimal
    currency: str
    paid: bool  # False: granted, on its way
    # The nonprofit's public page, once the program has paid it ("" before).
    nonprofit_url: str = ""


@dataclass(frozen=True)
class StoryHighlight:
    text: str
    created_at: object
    milestone_title: str
    videos: list[TikTokVideo] = field(default_factory=list)
    figures: list[ImpactValue] = field(default_factory=list)


@dataclass(frozen=True)
class Story:
    cohort_name: str = ""
    cohort_start: object = None
    cohort_end: object = None
    mission: str = ""
    donation: StoryDonation | None = None
    highlights: list[StoryHighlight] = field(default_factory=list)

    @property
    def has_cohort(self) -> bool:
        return bool(self.cohort_name)

    @property
    def is_empty(self) -> bool:
        return not (self.cohort_name or self.donation or self.highlights)


def _enrolment(creator: Creator) -> Enrolment | None:
    """The place the story tells: the current one, else the latest completed one. An invited
    or withdrawn place is not the creator's story."""
    return (
        Enrolment.objects.for_creator(creator)
        .filter(status__in=(Enrolment.Status.ACTIVE, Enrolment.Status.COMPLETED))
        .current_first()
        .first()
    )


def _donation(creator: Creator) -> StoryDonation | None:
    grant = (
        Grant.objects.filter(creator=creator, status__in=(*GRANTED_STATUSES, *PAID_STATUSES))
        .select_related("nonprofit")
        .only("amount", "currency", "status", "nonprofit__legal_name", "nonprofit__slug")
        .annotate(
            nonprofit_public=Exists(Nonprofit.objects.supported().filter(pk=OuterRef("nonprofit")))
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    if grant is None:
        return None
    return StoryDonation(
        nonprofit_name=grant.nonprofit.legal_name,
        amount=grant.amount,
        currency=grant.currency,
        paid=grant.status in PAID_STATUSES,
        nonprofit_url=grant.nonprofit.get_absolute_url() if grant.nonprofit_public else "",
    )


def _highlights(creator: Creator) -> list[StoryHighlight]:
    updates = (
        ProgressUpdate.objects.public_highlights()
        .filter(milestone__enrolment__creator=creator)
        .select_related("milestone")
        .prefetch_related(
            Prefetch(
                "tiktok_videos",
                queryset=TikTokVideo.objects.order_by("position", "pk"),
            ),
            Prefetch(
                "impact_values",
                queryset=ImpactValue.objects.select_related("indicator").order_by(
                    "indicator__position", "indicator__name"
                ),
            ),
        )
        .order_by("-created_at", "-pk")[:HIGHLIGHTS_SHOWN]
    )
    return [
        StoryHighlight(
            text=update.public_text,
            created_at=update.created_at,
            milestone_title=update.milestone.title,
            videos=list(update.tiktok_videos.all()),
            figures=list(update.impact_values.all()),
        )
        for update in updates
    ]


def story_compute(creator: Creator) -> Story:
    """The parts of the creator's story they show: at most five queries, whatever the
    number of highlights, videos and figures."""
    parts: dict = {}
    if creator.shows(PublicField.COHORT):
        enrolment = _enrolment(creator)
        if enrolment is not None:
            parts.update(
                cohort_name=enrolment.cohort.name,
                cohort_start=enrolment.cohort.start_date,
                cohort_end=enrolment.cohort.end_date,
                mission=enrolment.mission,
            )
    if creator.shows(PublicField.DONATION):
        parts["donation"] = _donation(creator)
    if creator.shows(PublicField.HIGHLIGHTS):
        parts["highlights"] = _highlights(creator)
    return Story(**parts)


def creator_story(creator: Creator) -> Story:
    """The story, cached until the program's data changes: every service that changes a
    part (consent, enrolments, grants, highlights, impact figures, previews) retires it
    (core/page_cache.py). The consent is in the key too, so what the creator hides is never
    read from a part cached while it was shown."""
    return page_cache.cached(
        "creator-story",
        lambda: story_compute(creator),
        creator.pk,
        creator.consent,
        ",".join(creator.public_fields),
    )
