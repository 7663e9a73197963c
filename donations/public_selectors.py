"""Reads of the public nonprofit pages: the nonprofits the program supports (verified, and paid
at least once: `NonprofitQuerySet.supported`), what each received, and the creators whose
donations went to it, named only where they agreed to be shown.

Nothing here reads a contact, an email, a payout reference, bank details or a Stripe account:
the public pages show the name, country, website, causes and the approved description only.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, QuerySet, Sum
from django_countries import countries

from creators.models import Creator, ListEntry

from .models import Grant, Nonprofit

# The columns a public page reads of a nonprofit; no other leaves the database for it.
PUBLIC_FIELDS = ("pk", "slug", "legal_name", "country", "website", "causes", "description")


@dataclass(frozen=True)
class Received:
    currency: str
    amount: Decimal


def supported_nonprofits(*, country: str = "", cause: str = "") -> QuerySet[Nonprofit]:
    """The nonprofits the public pages show, by name, narrowed by country and cause."""
    nonprofits = Nonprofit.objects.supported().only(*PUBLIC_FIELDS).order_by("legal_name", "pk")
    if country:
        nonprofits = nonprofits.filter(country=country)
    if cause:
        nonprofits = nonprofits.with_cause(cause)
    return nonprofits


def supported_nonprofit(slug: str) -> Nonprofit | None:
    return Nonprofit.objects.supported().only(*PUBLIC_FIELDS).filter(slug=slug).first()


def supported_country_choices() -> list[tuple[str, str]]:
    """The countries of the supported nonprofits, as (code, name in the reader's language),
    sorted by that name."""
    codes = supported_nonprofits().order_by().values_list("country", flat=True).distinct()
    return sorted(((code, str(countries.name(code))) for code in codes), key=lambda c: c[1])


def _kept(grants: QuerySet[Grant]):
    """Per currency, what the nonprofit kept of its paid grants: never added across
    currencies."""
    return (
        grants.paid_out()
        .order_by()
        .values("disbursement__currency")
        .annotate(total=Sum(F("disbursement__amount") - F("disbursement__reversed_amount")))
    )


def received_totals(nonprofit: Nonprofit) -> list[Received]:
    rows = _kept(Grant.objects.filter(nonprofit=nonprofit))
    return sorted(
        (Received(row["disbursement__currency"], row["total"]) for row in rows),
        key=lambda r: r.currency,
    )


def received_totals_for(nonprofits: Iterable[Nonprofit]) -> dict[int, list[Received]]:
    """`received_totals` of a page of nonprofits, in one query."""
    rows = _kept(Grant.objects.filter(nonprofit__in=[n.pk for n in nonprofits])).values(
        "nonprofit", "disbursement__currency", "total"
    )
    totals: dict[int, list[Received]] = {}
    for row in sorted(rows, key=lambda r: r["disbursement__currency"]):
        totals.setdefault(row["nonprofit"], []).append(
            Received(row["disbursement__currency"], row["total"])
        )
    return totals


def nonprofit_public_creators(nonprofit: Nonprofit) -> QuerySet[Creator]:
    """The creators in whose name the nonprofit was paid, who may be named here: not erased,
    who agreed to appear publicly, and on a published list the public sees them on. The
    others are counted by no one and named nowhere."""
    paid = Grant.objects.paid_out().filter(nonprofit=nonprofit, creator=OuterRef("pk"))
    listed = ListEntry.objects.public().filter(creator=OuterRef("pk"))
    return (
        Creator.objects.public()
        .filter(Exists(paid), Exists(listed), consent=Creator.Consent.AGREED)
        .only("pk", "display_name", "handle", "consent", "public_fields")
        .order_by("display_name", "pk")
    )
