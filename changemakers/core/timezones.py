"""Each person's own time: the zone their pages and emails show times in.

A person's zone is their `Preferences` row. The row is made the first time the account is
used (created by a service, signed in, emailed), with the zone guessed from the person's
country: each app that knows a country for its accounts declares where to read it
(`time_zone_country_declare`, in its `AppConfig.ready()`), so the kernel knows no app. No
country (staff): the program's zone.

Pages: the zone is read once at sign-in (Django's `user_logged_in`) and kept in the session,
so a page costs no query for it; `TimeZoneMiddleware` activates it for the request. Visitors
who are not signed in read the program's zone (settings.TIME_ZONE). Dates that are calendar
days of the program (milestone due dates) are `DateField`s: no zone changes them.
"""

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from .audit import audit_record
from .models import Preferences
from .zones import program_time_zone, time_zone_for_country

SESSION_KEY = "time_zone"

# Callables user -> ISO 3166 country code or None, in the order the apps declared them.
_COUNTRY_SOURCES: list[Callable] = []


def time_zone_country_declare(source: Callable) -> None:
    """An app can tell the country of some accounts (`source(user)`: a code, or None)."""
    if source not in _COUNTRY_SOURCES:
        _COUNTRY_SOURCES.append(source)


def country_of(user) -> str:
    for source in _COUNTRY_SOURCES:
        country = source(user)
        if country:
            return str(country)
    return ""


def preferences_of(user) -> Preferences:
    """The account's preferences, made now (zone guessed from its country) if it has none."""
    found = Preferences.objects.filter(user=user).first()
    if found is not None:
        return found
    guessed = Preferences(user=user, time_zone=time_zone_for_country(country_of(user)))
    try:
        with transaction.atomic():
            guessed.save()
    except IntegrityError:  # made by a concurrent request a moment ago
        return Preferences.objects.get(user=user)
    return guessed


def time_zone_of(user) -> str:
    """The zone `user` reads times in; the program's for nobody (or an anonymous visitor)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return program_time_zone()
    return preferences_of(user).time_zone


def preferences_update(
    *, user, actor, time_zone: str | None = None, language: str | None = None
) -> Preferences:
    """A person changes their own time zone (and, staff, their email language). Nobody
    changes another's: `actor` must be `user`."""
    if actor is None or actor.pk != user.pk:
        raise PermissionDenied
    changes = {
        name: value
        for name, value in (("time_zone", time_zone), ("language", language))
        if value is not None
    }
    preferences_of(user)
    with transaction.atomic():
        locked = Preferences.objects.select_for_update().get(user=user)
        before = {name: getattr(locked, name) for name in changes}
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.full_clean(exclude=["user"])
        changed = [name for name in changes if before[name] != changes[name]]
        if not changed:
            return locked
        locked.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            obj=locked,
            action="updated",
            note=", ".join(f"{name}: {before[name]} → {getattr(locked, name)}" for name in changed),
        )
        return locked


# --- Pages ------------------------------------------------------------------------------------


def time_zone_remember(request, zone: str) -> None:
    """Keep the signed-in account's zone in its session (and use it for the rest of this
    request): after sign-in, and after the person changes it."""
    request.session[SESSION_KEY] = zone
    timezone.activate(zone)


def remember_on_sign_in(sender, request, user, **kwargs) -> None:
    """`user_logged_in` receiver (connected in CoreConfig.ready)."""
    if request is not None and hasattr(request, "session"):
        time_zone_remember(request, time_zone_of(user))


class TimeZoneMiddleware:
    """Times on a signed-in person's pages are in their zone; everyone else's in the
    program's. After the session and authentication middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = None
        # Without a session cookie nobody is signed in: the session is left unread, so an
        # anonymous answer does not vary on the cookie (public pages stay cacheable).
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
            zone = request.session.get(SESSION_KEY)
            if zone is None:  # a session signed in before time zones existed
                zone = time_zone_of(request.user)
                request.session[SESSION_KEY] = zone
        if zone:
            try:
                timezone.activate(zone)
            except (ValueError, KeyError):  # a zone removed from the tz database since
                timezone.deactivate()
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
