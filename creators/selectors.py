"""Public reads that span models: the published list with its entries, counts and filters.

Drafts are never public, so every function here starts from published lists only.
"""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django_countries import countries

from changemakers.core.models import AuditEvent

from .models import Cause, ChangeMakersList, Creator, ListEntry


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
    """A list's entries in order with their creators, filtered by country, cause and a
    search on the creator's name or handle (with or without its @)."""
    entries = ListEntry.objects.filter(change_makers_list=change_makers_list).for_display()
    if country:
        entries = entries.filter(country=country)
    if cause:
        entries = entries.filter(cause=cause)
    text = q.strip().lstrip("@")
    if text:
        entries = entries.filter(
            Q(creator__display_name__icontains=text) | Q(creator__handle__icontains=text)
        )
    return entries


def list_country_choices(change_makers_list: ChangeMakersList) -> list[tuple[str, str]]:
    """The countries present on this list, as (code, name) sorted by name."""
    codes = (
        ListEntry.objects.filter(change_makers_list=change_makers_list)
        .order_by()
        .values_list("country", flat=True)
        .distinct()
    )
    return sorted(((code, str(countries.name(code))) for code in codes), key=lambda c: c[1])


def list_summary(change_makers_list: ChangeMakersList) -> ListSummary:
    rows = (
        ListEntry.objects.filter(change_makers_list=change_makers_list)
        .order_by()
        .values("cause")
        .annotate(n=Count("id"))
    )
    per_cause = {row["cause"]: row["n"] for row in rows}
    aggregate = ListEntry.objects.filter(change_makers_list=change_makers_list).aggregate(
        creators=Count("creator", distinct=True), countries=Count("country", distinct=True)
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
    """The published list entries a creator appears on, newest year first."""
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
