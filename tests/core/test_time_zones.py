"""Each person's own time: the zone guessed from their country, chosen on their profile (and
only by them), kept in the session, activated for their pages, used in their emails; everyone
else reads the program's zone."""

import datetime
import re
import zoneinfo

import pytest
import time_machine
from babel.core import get_global
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from changemakers.core.emails import email_render
from changemakers.core.models import AuditEvent, Preferences
from changemakers.core.timezones import (
    SESSION_KEY,
    TimeZoneMiddleware,
    preferences_of,
    preferences_update,
    time_zone_of,
)
from changemakers.core.zones import (
    PRIMARY_ZONES,
    offered_time_zones,
    time_zone_choices,
    time_zone_for_country,
)
from creators.services import creator_invitation_send
from donations.services import nonprofit_contact_create, nonprofit_link_send
from tests.factories import CreatorFactory, NonprofitFactory, UserFactory

pytestmark = pytest.mark.django_db

# 1 June 2026 10:30 UTC: 13:30 in Nairobi, 22:30 in Auckland (NZST), 03:30 in Vancouver (PDT).
MOMENT = datetime.datetime(2026, 6, 1, 10, 30, tzinfo=datetime.UTC)


def set_zone(user, zone: str) -> None:
    preferences_update(user=user, actor=user, time_zone=zone)


# --- Guessing from the country ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "zone"),
    [
        ("KE", "Africa/Nairobi"),
        ("SG", "Asia/Singapore"),
        ("SA", "Asia/Riyadh"),
        ("EG", "Africa/Cairo"),
        ("GB", "Europe/London"),
        ("PH", "Asia/Manila"),
        ("NG", "Africa/Lagos"),
        ("ES", "Europe/Madrid"),  # not the Canaries
        ("CA", "America/Toronto"),  # the most populous, not the first CLDR lists
        ("US", "America/New_York"),
        ("AU", "Australia/Sydney"),
        ("NZ", "Pacific/Auckland"),  # not the Chathams
        ("BR", "America/Sao_Paulo"),
        ("IN", "Asia/Kolkata"),  # the tz database's name, not the legacy Asia/Calcutta
        ("ke", "Africa/Nairobi"),
    ],
)
def test_the_zone_is_guessed_from_the_country(country, zone):
    assert time_zone_for_country(country) == zone


@pytest.mark.parametrize("country", ["", None, "AQ", "XX", "ZZ"])
def test_no_country_or_no_zone_of_its_own_gives_the_program_zone(settings, country):
    settings.PROGRAM_TIME_ZONE = "Africa/Nairobi"
    assert time_zone_for_country(country) == "Africa/Nairobi"


def test_every_country_with_several_zones_has_a_chosen_one_of_its_own():
    """A Babel upgrade that splits a country into zones fails here until one is chosen."""
    several = {
        country
        for country, zones in get_global("territory_zones").items()
        if len([z for z in zones if z != "Etc/Unknown"]) > 1 and country not in {"001", "ZZ", "AQ"}
    }
    assert several <= set(PRIMARY_ZONES)
    for country, zone in PRIMARY_ZONES.items():
        assert zone in get_global("territory_zones")[country], country


def test_every_guess_is_a_zone_the_select_offers():
    offered = set(offered_time_zones())
    for country in get_global("territory_zones"):
        assert time_zone_for_country(country) in offered, country


def test_the_select_offers_canonical_zones_grouped_by_region():
    offered = offered_time_zones()
    assert "UTC" in offered
    assert {"Africa/Nairobi", "Pacific/Auckland", "America/Vancouver"} <= set(offered)
    # Legacy names and fixed offsets are valid, but not offered.
    assert not {"Asia/Calcutta", "US/Pacific", "EST", "Etc/GMT+5"} & set(offered)
    groups = dict(time_zone_choices()[1:])
    with time_machine.travel(MOMENT, tick=False):
        africa = dict(dict(time_zone_choices()[1:])["Africa"])
    assert africa["Africa/Nairobi"] == "Nairobi (UTC+03:00)"
    assert [str(label) for label in groups][:2] == ["Africa", "Americas"]


# --- Made at creation ---------------------------------------------------------------------------


def test_a_nonprofit_contact_gets_the_zone_of_the_nonprofits_country(staff_user):
    contact = nonprofit_contact_create(
        nonprofit=NonprofitFactory(country="PH"), email="ana@ngo.example", actor=staff_user
    )
    assert Preferences.objects.get(user=contact.user).time_zone == "Asia/Manila"


def test_an_invited_creator_gets_the_zone_of_their_country(staff_user):
    creator = CreatorFactory(country="CA")
    creator_invitation_send(creator=creator, email="lee@example.org", actor=staff_user)
    creator.refresh_from_db()
    assert Preferences.objects.get(user=creator.user).time_zone == "America/Toronto"


def test_an_account_from_before_gets_its_zone_guessed_when_first_used(settings):
    settings.PROGRAM_TIME_ZONE = "UTC"
    creator = CreatorFactory(country="SG", user=UserFactory())
    staff = UserFactory(is_staff=True)
    assert not Preferences.objects.exists()
    assert time_zone_of(creator.user) == "Asia/Singapore"
    assert time_zone_of(staff) == "UTC"  # no country: the program's
    assert time_zone_of(None) == "UTC"
    assert Preferences.objects.count() == 2
    # Guessed once: a later change of country does not move the person's zone.
    creator.country = "GB"
    creator.save()
    assert time_zone_of(creator.user) == "Asia/Singapore"


# --- Changing it: only one's own, only a real zone ------------------------------------------------


def test_a_person_changes_their_own_zone_and_it_is_audited():
    user = UserFactory()
    preferences_of(user)
    set_zone(user, "Pacific/Auckland")
    preferences = Preferences.objects.get(user=user)
    assert preferences.time_zone == "Pacific/Auckland"
    event = AuditEvent.objects.for_object(preferences).get()
    assert (event.action, event.actor) == ("updated", user)
    assert "Pacific/Auckland" in event.note


def test_nobody_changes_another_persons_zone():
    owner, other = UserFactory(), UserFactory(is_staff=True, is_superuser=True)
    before = preferences_of(owner).time_zone
    with pytest.raises(PermissionDenied):
        preferences_update(user=owner, actor=other, time_zone="Pacific/Auckland")
    with pytest.raises(PermissionDenied):
        preferences_update(user=owner, actor=None, time_zone="Pacific/Auckland")
    assert Preferences.objects.get(user=owner).time_zone == before


def test_the_service_refuses_a_zone_that_is_not_one():
    user = UserFactory()
    with pytest.raises(ValidationError) as refused:
        preferences_update(user=user, actor=user, time_zone="Mars/Olympus_Mons")
    assert "not a time zone" in str(refused.value)
    assert Preferences.objects.get(user=user).time_zone != "Mars/Olympus_Mons"


def test_your_settings_saves_only_the_signed_in_persons_zone(client):
    user, other = UserFactory(is_staff=True), UserFactory()
    preferences_of(other)
    client.force_login(user)
    response = client.post(
        "/accounts/settings/",
        {"time_zone": "America/Vancouver", "language": "fr", "user": other.pk},
    )
    assert response.status_code == 302
    assert Preferences.objects.get(user=user).time_zone == "America/Vancouver"
    assert Preferences.objects.get(user=user).language == "fr"
    assert Preferences.objects.get(user=other).time_zone != "America/Vancouver"
    assert client.session[SESSION_KEY] == "America/Vancouver"


def test_your_settings_refuses_an_invalid_zone_with_a_clear_message(client):
    user = UserFactory(is_staff=True)
    client.force_login(user)
    response = client.post("/accounts/settings/", {"time_zone": "Mars/Olympus", "language": "en"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "is not a time zone we offer. Pick one from the list" in page
    assert 'aria-invalid="true"' in page
    assert Preferences.objects.get(user=user).time_zone != "Mars/Olympus"


def test_your_settings_needs_a_sign_in(client):
    response = client.get("/accounts/settings/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_creator_chooses_their_zone_on_their_profile(client, creator_user):
    client.force_login(creator_user)
    creator = creator_user.creator
    data = {
        "display_name": creator.display_name,
        "handle": creator.handle,
        "country": "KE",
        "causes": ["education"],
        "bio": "",
        "language": "en",
        "time_zone": "Pacific/Auckland",
        "links-TOTAL_FORMS": "0",
        "links-INITIAL_FORMS": "0",
    }
    response = client.post("/portal/profile/", data)
    assert response.status_code == 302
    assert time_zone_of(creator_user) == "Pacific/Auckland"
    assert client.session[SESSION_KEY] == "Pacific/Auckland"

    refused = client.post("/portal/profile/", data | {"time_zone": "Nowhere/Atlantis"})
    assert refused.status_code == 422
    assert "“Nowhere/Atlantis” is not a time zone we offer" in refused.content.decode()
    assert time_zone_of(creator_user) == "Pacific/Auckland"


def test_a_nonprofit_contact_chooses_their_zone_with_their_details(client, nonprofit_user):
    client.force_login(nonprofit_user)
    data = {
        "section": "contact",
        "contact-name": "Amani",
        "contact-job_title": "",
        "contact-phone": "",
        "contact-language": "en",
        "contact-time_zone": "America/Vancouver",
    }
    assert client.post("/nonprofit/details/", data).status_code == 302
    assert time_zone_of(nonprofit_user) == "America/Vancouver"
    refused = client.post("/nonprofit/details/", data | {"contact-time_zone": "Bad/Zone"})
    assert refused.status_code == 422
    assert time_zone_of(nonprofit_user) == "America/Vancouver"


# --- Pages in the reader's zone -------------------------------------------------------------------


def _local_now(response) -> datetime.datetime:
    page = response.content.decode()
    stamp = re.search(r'<time datetime="([^"]+)" data-testid="local-now"', page)
    return datetime.datetime.fromisoformat(stamp.group(1))


@time_machine.travel(MOMENT, tick=False)
@pytest.mark.parametrize(
    ("zone", "wall_clock"),
    [
        ("Africa/Nairobi", "13:30"),
        ("Pacific/Auckland", "22:30"),
        ("America/Vancouver", "03:30"),
    ],
)
def test_a_page_shows_times_in_the_readers_zone(client, zone, wall_clock):
    user = UserFactory(is_staff=True)
    set_zone(user, zone)
    client.force_login(user)  # the zone is read at sign-in
    response = client.get("/accounts/settings/")
    shown = _local_now(response)
    assert shown == MOMENT
    assert shown.strftime("%H:%M") == wall_clock
    assert zone in response.content.decode()


@time_machine.travel(MOMENT, tick=False)
def test_a_change_of_zone_shows_on_the_next_page_of_the_same_session(client):
    user = UserFactory(is_staff=True)
    set_zone(user, "Africa/Nairobi")
    client.force_login(user)
    client.post("/accounts/settings/", {"time_zone": "Pacific/Auckland", "language": "en"})
    assert _local_now(client.get("/accounts/settings/")).strftime("%H:%M") == "22:30"


def _through_middleware(request) -> str:
    seen = {}

    def view(request):
        seen["zone"] = timezone.get_current_timezone_name()
        return HttpResponse()

    TimeZoneMiddleware(view)(request)
    return seen["zone"]


def test_anonymous_visitors_read_the_program_zone_and_nothing_leaks_to_the_next_request(
    settings,
):
    settings.PROGRAM_TIME_ZONE = settings.TIME_ZONE = "UTC"
    user = UserFactory()
    set_zone(user, "Pacific/Auckland")
    signed_in = RequestFactory().get("/")
    signed_in.COOKIES[settings.SESSION_COOKIE_NAME] = "a-session"
    signed_in.user, signed_in.session = user, SessionStore()
    signed_in.session[SESSION_KEY] = "Pacific/Auckland"
    assert _through_middleware(signed_in) == "Pacific/Auckland"
    assert timezone.get_current_timezone_name() == "UTC"  # deactivated after the response

    anonymous = RequestFactory().get("/")
    anonymous.user, anonymous.session = AnonymousUser(), SessionStore()
    assert _through_middleware(anonymous) == "UTC"


def test_a_session_from_before_time_zones_reads_the_zone_once_and_keeps_it():
    user = UserFactory()
    set_zone(user, "America/Vancouver")
    request = RequestFactory().get("/")
    request.COOKIES[django_settings.SESSION_COOKIE_NAME] = "a-session"
    request.user, request.session = user, SessionStore()
    assert _through_middleware(request) == "America/Vancouver"
    assert request.session[SESSION_KEY] == "America/Vancouver"


def test_a_signed_in_page_costs_no_query_for_the_zone(client):
    user = UserFactory(is_staff=True)
    set_zone(user, "Africa/Nairobi")
    client.force_login(user)  # read here, once
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/accounts/settings/")
    assert "Africa/Nairobi" in response.content.decode()
    # The page itself reads the row for its form; the middleware adds no read of its own.
    assert len([q for q in queries.captured_queries if "core_preferences" in q["sql"]]) == 1
    with CaptureQueriesContext(connection) as queries:
        client.get("/nonprofit/sign-in/")
    assert not [q for q in queries.captured_queries if "core_preferences" in q["sql"]]


# --- Emails in the recipient's zone ---------------------------------------------------------------


def test_email_times_are_in_the_recipients_zone(staff_user, django_capture_on_commit_callbacks):
    contact = nonprofit_contact_create(
        nonprofit=NonprofitFactory(country="KE"), email="wanjiru@ngo.example", actor=staff_user
    )
    with (
        time_machine.travel(MOMENT, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        link = nonprofit_link_send(contact=contact, actor=staff_user)
    expires = link.expires_at.astimezone(zoneinfo.ZoneInfo("Africa/Nairobi"))
    assert f"({expires.tzname()})" == "(EAT)"
    assert "(EAT)" in mail.outbox[-1].body

    set_zone(contact.user, "Pacific/Auckland")
    with (
        time_machine.travel(MOMENT, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        nonprofit_link_send(contact=contact, actor=staff_user)
    assert "(NZST)" in mail.outbox[-1].body
    assert "EAT" not in mail.outbox[-1].body


def test_an_email_without_a_recipient_zone_uses_the_program_zone(settings, tmp_path):
    settings.PROGRAM_TIME_ZONE = "Africa/Nairobi"
    (tmp_path / "t_subject.txt").write_text("s")
    (tmp_path / "t_body.txt").write_text('{{ moment|date:"H:i e" }}')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    _subject, body = email_render(template="t", context={"moment": MOMENT}, language="en")
    assert body == "13:30 EAT"
    _subject, body = email_render(
        template="t", context={"moment": MOMENT}, language="en", time_zone="America/Vancouver"
    )
    assert body == "03:30 PDT"
