"""Staff pickers: a search as staff type (name or handle, with or without @, any case or
accents) answers a few matches, marked when they are already in an active cohort or on the
edition, in a constant number of queries; only staff who may act get them. Handles are typed
with or without their @ everywhere, and single-use links show when they were sent and until
when they work."""

import datetime
import re

import pytest
from django.urls import reverse

from changemakers.core.search import fold, search_text
from changemakers.core.timezones import SESSION_KEY as TIME_ZONE_KEY
from creators.forms import EntryAddForm, ProfileForm
from creators.models import Creator
from creators.services import creator_invitation_send
from donations.models import Nonprofit
from donations.services.links import nonprofit_link_send
from programs.forms import InviteNewForm
from programs.models import Cohort, Enrolment
from tests.factories import (
    ChangeMakersListFactory,
    CohortFactory,
    CreatorFactory,
    EnrolmentFactory,
    ListEntryFactory,
    NonprofitContactFactory,
    NonprofitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def radios(html: str) -> dict[str, str]:
    """value -> the whole <input> tag, for each match."""
    return {
        re.search(r'value="([^"]*)"', tag).group(1): tag
        for tag in re.findall(r'<input type="radio"[^>]*>', html)
    }


@pytest.fixture
def world():
    running = CohortFactory(name="Cohort 2", status=Cohort.Status.ACTIVE)
    later = CohortFactory(name="Cohort 9", start_date=datetime.date(2028, 1, 1))
    cohort = CohortFactory(name="Cohort 3", start_date=running.start_date)
    zoe = CreatorFactory(display_name="Zoë Núñez", handle="zoe.nunez")
    busy = CreatorFactory(display_name="Nuno Busy", handle="nuno.busy")
    EnrolmentFactory(cohort=running, creator=busy, status=Enrolment.Status.ACTIVE)
    placed = CreatorFactory(display_name="Nunzia Placed", handle="nunzia")
    EnrolmentFactory(cohort=cohort, creator=placed)
    CreatorFactory(display_name="Someone Else", handle="someone")
    return {"cohort": cohort, "later": later, "zoe": zoe, "busy": busy, "placed": placed}


def test_folding_ignores_case_accents_and_a_handles_at():
    assert fold("Zoë NÚÑEZ") == "zoe nunez"
    assert search_text("  @Núñ ") == "nun"


@pytest.mark.parametrize("typed", ["nun", "NÚÑ", "@nun", "zoe.nu", "@ZOE", "Zoë N"])
def test_the_cohort_picker_matches_names_and_handles_alike(client, staff_user, world, typed):
    client.force_login(staff_user)
    url = reverse("programs:cohort-creator-search", args=[world["cohort"].pk])

    found = radios(client.get(url, {"creator_q": typed}).content.decode())

    assert str(world["zoe"].pk) in found
    assert "someone" not in str(found)


def test_the_cohort_picker_marks_who_cannot_take_a_place(
    client, staff_user, world, django_assert_num_queries
):
    client.force_login(staff_user)
    url = reverse("programs:cohort-creator-search", args=[world["cohort"].pk])

    with django_assert_num_queries(4):  # session, user, the cohort, the matches
        html = client.get(url, {"creator_q": "nun"}).content.decode()

    found = radios(html)
    assert set(found) == {str(world[name].pk) for name in ("zoe", "busy", "placed")}
    assert "disabled" not in found[str(world["zoe"].pk)]
    # Active in an overlapping cohort: marked and not pickable; so is who is already in it.
    assert "disabled" in found[str(world["busy"].pk)]
    assert "In Cohort 2" in html
    assert "disabled" in found[str(world["placed"].pk)]
    assert "Already in this cohort" in html
    assert 'id="invite-creator-status" data-hx-swap-oob="innerHTML">3 matches' in html
    # A later cohort does not overlap: marked, but they may be offered a place in it.
    later = reverse("programs:cohort-creator-search", args=[world["later"].pk])
    later_found = radios(client.get(later, {"creator_q": "nuno"}).content.decode())
    assert "disabled" not in later_found[str(world["busy"].pk)]


def test_the_picker_answers_a_few_in_constant_queries(
    client, staff_user, world, django_assert_num_queries
):
    CreatorFactory.create_batch(30, display_name="Nuñito")
    client.force_login(staff_user)
    url = reverse("programs:cohort-creator-search", args=[world["cohort"].pk])

    with django_assert_num_queries(4):
        html = client.get(url, {"creator_q": "nun"}).content.decode()

    assert len(radios(html)) == 8
    assert "More match" in html
    assert radios(client.get(url, {"creator_q": "n"}).content.decode()) == {}  # too short


def test_a_picked_creator_stays_in_sight_when_the_search_changes(client, staff_user, world):
    client.force_login(staff_user)
    url = reverse("programs:cohort-creator-search", args=[world["cohort"].pk])

    html = client.get(url, {"creator_q": "someone", "creator": world["zoe"].pk}).content.decode()

    assert "checked" in radios(html)[str(world["zoe"].pk)]


def test_without_javascript_the_cohort_page_lists_the_matches(client, staff_user, world):
    client.force_login(staff_user)
    page = reverse("programs:cohort-detail", args=[world["cohort"].pk])

    html = client.get(page, {"creator_q": "zoe"}).content.decode()

    assert str(world["zoe"].pk) in radios(html)
    assert 'form="invite-search-form"' in html
    assert "Zoë Núñez" not in client.get(page).content.decode()  # no list of everyone


def test_a_refused_invitation_keeps_the_pick(client, staff_user, world):
    client.force_login(staff_user)
    url = reverse("programs:cohort-invite", args=[world["cohort"].pk])

    refused = client.post(url, {"creator": world["zoe"].pk, "email": ""})
    nothing = client.post(url, {"email": "x@example.org"})

    assert refused.status_code == 422
    assert "checked" in radios(refused.content.decode())[str(world["zoe"].pk)]
    assert "Search for the creator, then pick them." in nothing.content.decode()


def test_the_grant_pickers_find_nonprofits_and_creators(client, staff_user, world):
    client.force_login(staff_user)
    verified = NonprofitFactory(legal_name="Fundación Óptima")
    pending = NonprofitFactory(
        legal_name="Optimal Health", verification_status=Nonprofit.Verification.PENDING
    )
    rejected = NonprofitFactory(
        legal_name="Optimism Rejected",
        verification_status=Nonprofit.Verification.REJECTED,
        rejection_reason="Not a charity.",
    )

    html = client.get(
        reverse("donations:grant-nonprofit-search"), {"nonprofit_q": "OPTI"}
    ).content.decode()
    found = radios(html)
    assert set(found) == {str(n.pk) for n in (verified, pending, rejected)}
    assert "disabled" in found[str(rejected.pk)]
    assert "Pending review" in html
    creators = client.get(
        reverse("donations:grant-creator-search"), {"creator_q": "nuno"}
    ).content.decode()
    found = radios(creators)
    assert "" in found  # "Program grant (no creator)" is always offered
    assert "disabled" not in found[str(world["busy"].pk)]  # a grant may name them
    assert "In Cohort 2" in creators


@pytest.mark.parametrize(
    ("name", "kwargs", "query"),
    [
        ("programs:cohort-creator-search", True, {"creator_q": "nun"}),
        ("donations:grant-nonprofit-search", False, {"nonprofit_q": "nun"}),
        ("donations:grant-creator-search", False, {"creator_q": "nun"}),
    ],
)
def test_only_staff_search(client, world, creator_user, nonprofit_user, name, kwargs, query):
    url = reverse(name, args=[world["cohort"].pk] if kwargs else [])
    anonymous = client.get(url, query)
    assert anonymous.status_code == 302
    assert anonymous.url.startswith(reverse("login"))
    for user in (creator_user, nonprofit_user, UserFactory(is_staff=True)):
        client.force_login(user)
        refused = client.get(url, query)
        assert refused.status_code == 403
        assert "Núñez" not in refused.content.decode()


def test_the_edition_search_is_staff_only(client, creator_user, nonprofit_user):
    ChangeMakersListFactory(year=2027)
    url = reverse("creators:edition-creator-search", args=[2027])
    for user in (creator_user, nonprofit_user):
        client.force_login(user)
        assert client.get(url, {"creator_q": "nun"}).status_code == 403


def test_the_edition_picker_marks_who_is_on_the_list(client, staff_user, world):
    edition = ChangeMakersListFactory(year=2026)
    ListEntryFactory(change_makers_list=edition, creator=world["busy"])
    client.force_login(staff_user)

    html = client.get(
        reverse("creators:edition-creator-search", args=[2026]), {"creator_q": "@NUÑ"}
    ).content.decode()

    found = radios(html)
    assert "disabled" in found["nuno.busy"]
    assert "On the 2026 list" in html
    assert "disabled" not in found["zoe.nunez"]


# --- One wording for handles ----------------------------------------------------------------


@pytest.mark.parametrize("typed", ["@JoelBervell", "joelbervell", "  @joelbervell "])
def test_a_handle_is_typed_with_or_without_its_at(typed):
    data = {
        "display_name": "Joel",
        "handle": typed,
        "email": "joel@example.org",
        "country": "US",
        "causes": ["health"],
    }
    form = InviteNewForm(data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["handle"].lower() == "joelbervell"
    entry = EntryAddForm({"handle": typed, "citation": "x"})
    assert entry.is_valid(), entry.errors
    assert entry.cleaned_data["handle"].lower() == "joelbervell"


def test_the_handles_help_and_error_say_the_same():
    form = InviteNewForm({"handle": "@no spaces"})
    form.is_valid()
    assert form.fields["handle"].help_text == "Their TikTok handle, such as @joelbervell."
    assert form.errors["handle"] == [
        "A handle is 2 to 30 letters, digits, dots or underscores, such as @joelbervell."
    ]
    profile_help = ProfileForm.base_fields["handle"].help_text
    assert profile_help == "Your TikTok handle, such as @joelbervell."
    assert "without the" not in str(Creator._meta.get_field("handle").help_text)


def test_an_unknown_handle_is_named_with_its_at(client, staff_user):
    ChangeMakersListFactory(year=2027)
    client.force_login(staff_user)

    refused = client.post(
        reverse("creators:edition-entry-add", args=[2027]),
        {"handle": "@nobody_here", "citation": "x"},
    )

    assert refused.status_code == 422
    assert "No creator has the handle @nobody_here." in refused.content.decode()


# --- Sent and expiry dates of single-use links ----------------------------------------------


def test_the_cohort_grid_shows_when_an_invitation_was_sent_and_expires(
    client, staff_user, world, time_machine
):
    time_machine.move_to(datetime.datetime(2026, 12, 3, 10, tzinfo=datetime.UTC))
    creator_invitation_send(creator=world["placed"], email="n@example.org", actor=staff_user)
    client.force_login(staff_user)
    page = reverse("programs:cohort-detail", args=[world["cohort"].pk])

    html = client.get(page).content.decode()
    assert re.search(r"Portal invitation:\s+<span class=\"link-dates\">", html)
    assert "Sent December 3, expires December 10" in html

    time_machine.move_to(datetime.datetime(2026, 12, 11, tzinfo=datetime.UTC))
    later = client.get(page).content.decode()
    assert re.search(r"Sent December 3</span> · <strong[^>]*>Expired</strong>", later)


def test_dates_are_in_the_readers_time_zone(client, staff_user, world, time_machine):
    # 23:30 UTC on the 3rd is already 02:30 on the 4th in Nairobi, the reader's zone.
    time_machine.move_to(datetime.datetime(2026, 12, 3, 23, 30, tzinfo=datetime.UTC))
    creator_invitation_send(creator=world["placed"], email="n@example.org", actor=staff_user)
    client.force_login(staff_user)
    session = client.session
    session[TIME_ZONE_KEY] = "Africa/Nairobi"
    session.save()

    html = client.get(reverse("programs:cohort-detail", args=[world["cohort"].pk]))

    assert "Sent December 4, expires December 11" in html.content.decode()


def test_the_contacts_page_shows_the_last_links_dates(client, staff_user, time_machine):
    time_machine.move_to(datetime.datetime(2026, 12, 3, 10, tzinfo=datetime.UTC))
    contact = NonprofitContactFactory()
    nonprofit_link_send(contact=contact, actor=staff_user)
    client.force_login(staff_user)
    page = reverse("donations:nonprofit-contacts", args=[contact.nonprofit_id])

    html = client.get(page).content.decode()
    assert re.search(r"Sent December 3, expires December \d+", html)

    time_machine.move_to(datetime.datetime(2027, 1, 30, tzinfo=datetime.UTC))
    client.force_login(staff_user)
    assert "Expired" in client.get(page).content.decode()
