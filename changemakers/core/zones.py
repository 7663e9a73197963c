"""Time zones as data: which IANA names are valid (the tz database Python's `zoneinfo` reads),
which are offered in a select, and the zone a person in a country most likely lives by (the
country's zones from CLDR, through Babel). Nothing here knows a person or an app."""

import datetime
import functools
import zoneinfo

from babel.core import get_global
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The tz database's areas, as the select groups them. Names outside them ("US/Pacific", "EST",
# "Etc/GMT+5") are legacy links or fixed offsets: valid, but not offered.
REGIONS = {
    "Africa": _("Africa"),
    "America": _("Americas"),
    "Antarctica": _("Antarctica"),
    "Arctic": _("Arctic"),
    "Asia": _("Asia"),
    "Atlantic": _("Atlantic Ocean"),
    "Australia": _("Australia"),
    "Europe": _("Europe"),
    "Indian": _("Indian Ocean"),
    "Pacific": _("Pacific Ocean"),
}

# Countries CLDR gives several zones: the one most of the country lives by (its most populous
# region, which is also the capital's but for Australia, Canada, Brazil and the United States,
# whose largest city is elsewhere). A country with several zones missing here gets the first
# zone CLDR lists (tests/core/test_time_zones.py checks the table covers them all).
PRIMARY_ZONES = {
    "AR": "America/Argentina/Buenos_Aires",
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "CD": "Africa/Kinshasa",
    "CL": "America/Santiago",
    "CN": "Asia/Shanghai",
    "CY": "Asia/Nicosia",
    "DE": "Europe/Berlin",
    "EC": "America/Guayaquil",
    "ES": "Europe/Madrid",
    "FM": "Pacific/Pohnpei",
    "GL": "America/Nuuk",
    "ID": "Asia/Jakarta",
    "KI": "Pacific/Tarawa",
    "KZ": "Asia/Almaty",
    "MH": "Pacific/Majuro",
    "MN": "Asia/Ulaanbaatar",
    "MX": "America/Mexico_City",
    "MY": "Asia/Kuala_Lumpur",
    "NZ": "Pacific/Auckland",
    "PF": "Pacific/Tahiti",
    "PG": "Pacific/Port_Moresby",
    "PS": "Asia/Hebron",
    "PT": "Europe/Lisbon",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "UM": "Pacific/Wake",
    "US": "America/New_York",
    "UZ": "Asia/Tashkent",
}


@functools.cache
def available_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@functools.cache
def offered_time_zones() -> tuple[str, ...]:
    """The zones a person may pick: every canonical zone of the tz database (legacy names,
    which CLDR lists as aliases, left out) in one of REGIONS, and UTC; sorted."""
    aliases = get_global("zone_aliases")
    return (
        "UTC",
        *sorted(
            zone
            for zone in available_time_zones()
            if zone.split("/", 1)[0] in REGIONS and zone not in aliases
        ),
    )


def canonical_time_zone(name: str) -> str:
    """`name` under the name the select offers ("Asia/Calcutta" is "Asia/Kolkata")."""
    if name in ("UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Universal", "Zulu"):
        return "UTC"
    return get_global("zone_aliases").get(name, name)


def validate_time_zone(value: str) -> None:
    if value not in available_time_zones():
        raise ValidationError(
            _("“%(value)s” is not a time zone. Pick one from the list, such as Africa/Nairobi."),
            code="invalid_time_zone",
            params={"value": value},
        )


def program_time_zone() -> str:
    """Where the program runs (DJANGO_PROGRAM_TIME_ZONE): its calendar days are the due dates,
    and visitors who are not signed in read times in it."""
    return canonical_time_zone(settings.PROGRAM_TIME_ZONE)


def time_zone_for_country(country: str | None) -> str:
    """The zone a person in `country` (ISO 3166 alpha-2) most likely lives by; the program's
    zone for an unknown or empty country, or one with no zone of its own (Antarctica)."""
    country = (country or "").upper()
    zones = [z for z in get_global("territory_zones").get(country, []) if z != "Etc/Unknown"]
    if not zones or country in {"AQ", "ZZ", "001"}:
        return program_time_zone()
    zone = PRIMARY_ZONES.get(country, zones[0])
    return canonical_time_zone(zone) if zone in available_time_zones() else program_time_zone()


def _offset(zone: str, now: datetime.datetime) -> str:
    minutes = int(now.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset().total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def time_zone_choices() -> list:
    """Choices for a select, grouped by region: ("Africa/Nairobi", "Nairobi (UTC+03:00)"),
    the offset as it is today. UTC first, on its own."""
    now = datetime.datetime.now(datetime.UTC)
    groups: dict[str, list[tuple[str, str]]] = {}
    for zone in offered_time_zones()[1:]:
        region, place = zone.split("/", 1)
        label = place.replace("_", " ")
        groups.setdefault(region, []).append((zone, f"{label} ({_offset(zone, now)})"))
    return [
        ("UTC", "UTC"),
        *((REGIONS[region], zones) for region, zones in sorted(groups.items())),
    ]
