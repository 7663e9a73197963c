"""Public reads that span models: the published list with its entries, counts and filters.

Drafts are never public, so every function here starts from published lists only.
"""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django_countries import countries

from changemakers.core.content_languages import sorted_by_name
from changemakers.core.models import AuditEvent

from .models import Cause, ChangeMakersList, Creator, ListEntry, PublicField, shows_q

SHOWS_COUNTRY = shows_q(PublicField.COUNTRY, prefix="creator__")
SHOWS_CAUSES = shows_q(PublicField.CAUSES, prefix="creator__")


@dataclass(frozen=True)
class ListSummary:
    creator_count: int
    country_count: int
    causes: list[tuple[str, str, int]]  # (code, label, entries)


def published_list_latest() -> ChangeMakersList | None:
    return ChangeMakersList.objects.published().order_by("-year").first()


def published_list_for_year(year: int) -> ChangeMakersList | None:
    return ChangeMakersList.objects.published().filter(year=year).first()


def published_years() -> list[int]:
    return list(
        ChangeMakersList.objects.published().order_by("-year").values_list("year", flat=True)
    )


def list_entries(
    change_makers_list: ChangeMakersList, *, country: str = "", cause: str = "", q: str = ""
) -> QuerySet[ListEntry]:
    """A list's entries the public may see, in order with their creators, filtered by
    country, cause and a search on the creator's name or handle (with or without its @).

    Only creators who confirmed appear, and a filter on a country or cause matches only the
    creators who show it: filtering must not reveal what a creator keeps hidden."""
    entries = (
        ListEntry.objects.filter(change_makers_list=change_makers_list).consented().for_display()
    )
    if country:
        entries = entries.filter(SHOWS_COUNTRY, country=country)
    if cause:
        entries = entries.filter(SHOWS_CAUSES, cause=cause)
    text = q.strip().lstrip("@")
    if text:
        entries = entries.filter(
            Q(creator__display_name__icontains=text) | Q(creator__handle__icontains=text)
        )
    return entries


def list_country_choices(change_makers_list: ChangeMakersList) -> list[tuple[str, str]]:
    """The countries shown on this list, as (code, name) sorted by name."""
    codes = (
        ListEntry.objects.filter(SHOWS_COUNTRY, change_makers_list=change_makers_list)
        .order_by()
        .values_list("country", flat=True)
        .distinct()
    )
    return sorted_by_name(((code, str(countries.name(code))) for code in codes), key=lambda c: c[1])


def list_summary(change_makers_list: ChangeMakersList) -> ListSummary:
    """The figures the public sees, counted over what it may see: confirmed creators, and
    the countries and causes of those who show them."""
    shown = ListEntry.objects.filter(change_makers_list=change_makers_list).consented()
    rows = shown.filter(SHOWS_CAUSES).order_by().values("cause").annotate(n=Count("id"))
    per_cause = {row["cause"]: row["n"] for row in rows}
    aggregate = shown.aggregate(
        creators=Count("creator", distinct=True),
        countries=Count("country", distinct=True, filter=SHOWS_COUNTRY),
    )
    causes = [
        (code, str(label), per_cause[code]) for code, label in Cause.choices if code in per_cause
    ]
    return ListSummary(
        creator_count=aggregate["creators"],
        country_count=aggregate["countries"],
        causes=causes,
    )


def creator_public_entries(creator: Creator) -> QuerySet[ListEntry]:
    """The published list entries a creator appears on publicly, newest year first."""
    return (
        ListEntry.objects.filter(creator=creator)
        .public()
        .select_related("change_makers_list", "creator")
        .order_by("-change_makers_list__year")
    )


def creator_published_entries(creator: Creator) -> QuerySet[ListEntry]:
    """The published lists a creator is on, shown to the public or not yet (for their own
    consent page: drafts stay staff's until published)."""
    return (
        ListEntry.objects.filter(
            creator=creator, change_makers_list__status=ChangeMakersList.Status.PUBLISHED
        )
        .select_related("change_makers_list")
        .order_by("-change_makers_list__year")
    )


def list_history(change_makers_list: ChangeMakersList) -> list[AuditEvent]:
    """What happened to an edition (created, imported, published, unpublished), oldest first."""
    return list(AuditEvent.objects.for_object(change_makers_list).select_related("actor"))
