"""Every public page, walked as anonymous: what a creator keeps hidden appears on none.

The walk takes every URL pattern of the project (the URL resolver's, so a public page added
later is walked too), fills it with the quiet creator's handle and the published year, and
reads every answer anonymous gets (HTML, CSV, images, and the htmx fragments of the pages
that have them, plus the list filtered by the hidden country and cause). The same walk with
everything shown must find each field, so it is known to catch a leak."""

import datetime as dt
import re

import pytest
from django.urls import NoReverseMatch, reverse

from changemakers.core.uploads import image_check, rename_checked
from creators import services
from creators.models import Cause, ChangeMakersList, Creator, PublicField
from programs.models import ProgressUpdate
from tests.factories import (
    ChangeMakersListFactory,
    CreatorFactory,
    EnrolmentFactory,
    GrantFactory,
    ListEntryFactory,
    MilestoneFactory,
    NonprofitFactory,
    UserFactory,
)
from tests.security.probe import read, url_patterns
from tests.uploads import image_file

pytestmark = pytest.mark.django_db

NAME, HANDLE = "Quiet Quillon", "quiet.quillon"
BIO = "Secret bio 7f3a about a quiet life."
LINK_LABEL, LINK_URL = "SecretChannel7f3a", "https://secret-7f3a.example/channel"
FOLLOWERS = 9_876_543
MISSION = "Secret mission 7f3a: quiet work."
NONPROFIT = "Secret Nonprofit 7f3a"
HIGHLIGHT = "Secret highlight 7f3a: a quiet win."

# What each field looks like on a page when it leaks.
MARKERS = {
    PublicField.BIO: [BIO[:16]],
    PublicField.LINKS: [LINK_LABEL, "secret-7f3a.example"],
    PublicField.FOLLOWERS: ["9,876,543", "9876543", "9\u00a0876\u00a0543"],
    PublicField.PHOTO: [f"/creators/{HANDLE}/photo/"],
    PublicField.COUNTRY: ["Kenya", "country=KE", 'value="KE"', "🇰🇪"],
    PublicField.CAUSES: ["Disability", "cause=disability"],
    PublicField.COHORT: [MISSION[:20]],
    PublicField.DONATION: [NONPROFIT],
    PublicField.HIGHLIGHTS: [HIGHLIGHT[:20]],
}
SELECT = re.compile(r"<select\b.*?</select>", re.DOTALL)
# The application form's cause boxes: the whole vocabulary, whoever is listed.
CAUSE_BOX = re.compile(r'<label[^>]*>\s*<input type="checkbox" name="causes"[^>]*>[^<]*</label>')
# The language form sends the visitor back to the URL they asked for: their own query.
NEXT = re.compile(r'<input type="hidden" name="next" value="[^"]*">')


def _without_fixed_vocabularies(page: str) -> str:
    """Drop the drop-downs that offer every country or every cause whoever is listed (the
    application form's, the list's cause filter): they reveal nobody. A drop-down built from
    the data (the list's country filter) is kept and checked."""

    def keep(match: re.Match) -> str:
        select = match.group(0)
        options = select.count("<option")
        every_cause = all(f'value="{code}"' in select for code in Cause.values)
        return "" if options > 100 or every_cause else select

    return NEXT.sub("", CAUSE_BOX.sub("", SELECT.sub(keep, page)))


@pytest.fixture(autouse=True)
def cards_as_text(monkeypatch):
    """A share image (/share/...png) is text drawn on a card, not a photo: the walk reads the
    card it would draw, so a hidden country or cause drawn on it is caught like on a page."""
    from changemakers.backoffice import sharing

    monkeypatch.setattr(sharing, "card_png", lambda card: repr(card).encode())


@pytest.fixture
def world(media_root):
    edition = ChangeMakersListFactory(
        year=2026,
        title="Change Makers 2026",
        status=ChangeMakersList.Status.PUBLISHED,
        published_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )
    quiet = services.creator_create(
        display_name=NAME,
        handle=HANDLE,
        country="KE",
        causes=[Cause.DISABILITY],
        bio=BIO,
        follower_count=FOLLOWERS,
        links=[(LINK_LABEL, LINK_URL)],
        user=UserFactory(),
    )
    photo = image_file("face.png")
    services.creator_profile_update(
        creator=quiet,
        actor=quiet.user,
        photo=rename_checked(photo, image_check(photo, max_bytes=2 * 1024 * 1024)),
    )
    # Agreed to appear, showing nothing but the name and @handle.
    quiet = services.creator_consent_confirm(creator=quiet, actor=quiet.user, public_fields=[])
    ListEntryFactory(
        change_makers_list=edition,
        creator=quiet,
        country="KE",
        cause=Cause.DISABILITY,
        citation="Listed for quiet work.",
        position=1,
    )
    # Their impact story: an active place with a mission, a paid donation in their name and
    # an approved highlight.
    milestone = MilestoneFactory(
        enrolment=EnrolmentFactory(creator=quiet, mission=MISSION, status="active")
    )
    GrantFactory(
        creator=quiet,
        nonprofit=NonprofitFactory(legal_name=NONPROFIT, verification_status="verified"),
        status="disbursed",
    )
    ProgressUpdate.objects.create(
        milestone=milestone,
        author=quiet.user,
        body=HIGHLIGHT,
        show_publicly=True,
        highlight=ProgressUpdate.Highlight.APPROVED,
    )
    # Someone who shows everything, from elsewhere and for another cause, so the pages have
    # countries, causes and figures to show.
    ListEntryFactory(
        change_makers_list=edition,
        creator=CreatorFactory(display_name="Open Oduya", country="JP", causes=[Cause.ARTS]),
        country="JP",
        cause=Cause.ARTS,
        position=2,
    )
    return quiet


FILL = {"year": "2026", "direction": "up", "token": "x", "uidb64": "x"}
PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
# The API's description (its OpenAPI schema and docs) lists every cause a creator may choose,
# as the choices of a field, not any creator's: "Disability" is there for everyone.
DESCRIBES_CHOICES = {"api:schema", "api:docs"}


def public_answers(client) -> dict[str, tuple[int, str, bytes]]:
    """Every URL anonymous may GET, filled with the quiet creator: {path: (status, type,
    body)} for the answers that are 200."""
    answers = {}
    for route, name, _callback in url_patterns():
        if name is None or route.startswith("admin/") or name in DESCRIBES_CHOICES:
            continue
        kwargs = {}
        for converter, param in PARAM.findall(route):
            if param == "handle":
                kwargs[param] = HANDLE
            else:
                kwargs[param] = FILL.get(param, "1" if converter == "int" else "x")
        try:
            path = reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
        paths = [path]
        if name == "creators:list-year":
            paths += [f"{path}?country=KE", f"{path}?cause=disability", f"{path}?q={HANDLE}"]
        for url in paths:
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(url, headers=headers)
                if response.status_code == 200:
                    kind = response.get("Content-Type", "")
                    answers[f"{url} {headers}"] = (response.status_code, kind, read(response))
    return answers


def leaks(client) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for url, (_status, kind, body) in public_answers(client).items():
        if kind.startswith("image/") and not url.startswith("/share/"):
            found.setdefault(PublicField.PHOTO, []).append(url)
            continue
        page = _without_fixed_vocabularies(body.decode(errors="replace"))
        for field, markers in MARKERS.items():
            if any(marker in page for marker in markers):
                found.setdefault(field, []).append(url)
    return found


def test_the_walk_reaches_the_public_pages_and_finds_the_creator_there(client, world):
    answers = public_answers(client)
    paths = {url.split(" ")[0].split("?")[0] for url in answers}
    for page in ("/", "/list/2026/", f"/creators/{HANDLE}/", "/program/", "/apply/"):
        assert page in paths
    assert NAME in answers["/list/2026/ {}"][2].decode()
    assert NAME in answers[f"/creators/{HANDLE}/ {{}}"][2].decode()
    assert NAME in answers[f"/share/creators/{HANDLE}.png {{}}"][2].decode()


def test_no_public_page_shows_a_hidden_field(client, world):
    assert leaks(client) == {}


def test_the_walk_finds_every_field_once_it_is_shown(client, world):
    services.creator_consent_confirm(
        creator=world, actor=world.user, public_fields=PublicField.values
    )
    found = leaks(client)
    assert set(found) == set(PublicField.values)


@pytest.mark.parametrize("field", PublicField.values)
def test_each_field_shown_alone_appears_alone(client, world, field):
    services.creator_consent_confirm(creator=world, actor=world.user, public_fields=[field])
    assert set(leaks(client)) == {field}


def test_a_creator_who_has_not_confirmed_is_not_on_the_public_list(client, world):
    Creator.objects.filter(pk=world.pk).update(consent=Creator.Consent.UNANSWERED)
    for url, (_status, _kind, body) in public_answers(client).items():
        if url.startswith(("/list/", "/ ")):
            assert NAME not in body.decode(), url
    assert leaks(client) == {}
