"""The public list: search, drafts never public anywhere, titles and social previews, and
query counts that stay the same from ten entries to a thousand."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from creators.models import Cause, ChangeMakersList, Creator, ListEntry, PublicField
from tests.factories import ChangeMakersListFactory, CreatorFactory, ListEntryFactory

pytestmark = pytest.mark.django_db


def published(year: int = 2026, **kwargs) -> ChangeMakersList:
    return ChangeMakersListFactory(
        year=year,
        title=f"Change Makers {year}",
        status=ChangeMakersList.Status.PUBLISHED,
        published_at=dt.datetime(year, 11, 1, tzinfo=dt.UTC),
        **kwargs,
    )


def fill(change_makers_list, count: int) -> None:
    """`count` entries in bulk (a thousand in a second): countries and causes alternate."""
    year = change_makers_list.year
    creators = Creator.objects.bulk_create(
        Creator(
            display_name=f"Person {n:04d}",
            handle=f"p{n}_{year}",
            country=("KE", "ES", "SG")[n % 3],
            causes=[Cause.EDUCATION],
            consent=Creator.Consent.AGREED,
            public_fields=list(PublicField.values),
        )
        for n in range(1, count + 1)
    )
    ListEntry.objects.bulk_create(
        ListEntry(
            change_makers_list=change_makers_list,
            creator=creator,
            country=creator.country,
            cause=(Cause.EDUCATION, Cause.HEALTH)[n % 2],
            citation="Citation.",
            position=n,
        )
        for n, creator in enumerate(creators, start=1)
    )


def names(response) -> list[str]:
    return [entry.creator.display_name for entry in response.context["page_obj"].object_list]


# --- Search ------------------------------------------------------------------------------------


def test_the_list_searches_names_and_handles_with_or_without_the_at(client):
    cml = published()
    for position, (name, handle) in enumerate(
        [("Joel Bervell", "joelbervell"), ("Kara Lewis", "karaxlewis"), ("Eli V", "elivirkina")],
        start=1,
    ):
        ListEntryFactory(
            change_makers_list=cml,
            creator=CreatorFactory(display_name=name, handle=handle),
            position=position,
        )
    url = reverse("creators:list-year", args=[2026])
    assert names(client.get(url, {"q": "lewis"})) == ["Kara Lewis"]
    assert names(client.get(url, {"q": "@ELIVIR"})) == ["Eli V"]
    assert names(client.get(url, {"q": "  "})) == ["Joel Bervell", "Kara Lewis", "Eli V"]
    empty = client.get(url, {"q": "nobody"})
    assert "No creator on this list matches these filters." in empty.content.decode()
    assert '<label for="id_q">' in client.get(url).content.decode()


def test_search_combines_with_the_filters_and_pagination_keeps_it(client):
    cml = published()
    fill(cml, 120)
    url = reverse("creators:list-year", args=[2026])
    response = client.get(url, {"q": "Person", "country": "KE", "cause": "health"})
    people = names(response)
    assert len(people) == 20  # n % 3 == 1 and n odd, among 120
    assert response.context["page_obj"].paginator.count == 20
    assert (
        "?q=Person&amp;country=KE"
        in client.get(url, {"q": "Person", "country": "KE"}).content.decode()
    )


# --- Drafts are never public -------------------------------------------------------------------


def test_a_draft_is_nowhere_public(client):
    pub = published(2026)
    ListEntryFactory(
        change_makers_list=pub, creator=CreatorFactory(handle="public_one"), position=1
    )
    draft = ChangeMakersListFactory(year=2027, title="Secret draft 2027")
    secret = CreatorFactory(display_name="Secret Person", handle="secret_one")
    ListEntryFactory(change_makers_list=draft, creator=secret, position=1, citation="Hush.")

    assert client.get(reverse("creators:list-year", args=[2027])).status_code == 404
    assert client.get(reverse("creators:list")).url == reverse("creators:list-year", args=[2026])
    home = client.get(reverse("creators:home")).content.decode()
    assert "Secret Person" not in home
    assert "Secret draft" not in home
    profile = client.get(reverse("creators:creator-detail", args=["secret_one"])).content.decode()
    assert "Secret draft" not in profile
    assert "Hush." not in profile
    assert "Not on a published list yet." in profile
    searched = client.get(reverse("creators:list-year", args=[2026]), {"q": "Secret"})
    assert names(searched) == []


def test_the_preview_of_a_draft_is_for_staff_only(client, creator_user):
    ChangeMakersListFactory(year=2027)
    url = reverse("creators:edition-preview", args=[2027])
    assert client.get(url).status_code == 302
    client.force_login(creator_user)
    assert client.get(url).status_code == 403


# --- Titles and social previews ----------------------------------------------------------------


def _meta(content: str, attribute: str, name: str) -> str:
    match = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)"', content)
    assert match, name
    return match.group(1)


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/list/2026/", "Change Makers 2026"),
        ("/creators/joelbervell/", "Joel Bervell (@joelbervell)"),
        ("/program/", "The Change Makers social impact hub"),
    ],
)
def test_public_pages_have_a_title_and_social_preview_metadata(client, path, title):
    cml = published()
    ListEntryFactory(
        change_makers_list=cml,
        creator=CreatorFactory(display_name="Joel Bervell", handle="joelbervell"),
        position=1,
    )
    content = client.get(path, {"page": "1"}).content.decode()
    assert re.search(rf"<title>{re.escape(title)} · Change Makers</title>", content)
    assert _meta(content, "property", "og:title").startswith(title.split(" (")[0])
    assert _meta(content, "property", "og:description")
    assert _meta(content, "property", "og:url") == f"http://testserver{path}"
    assert _meta(content, "name", "twitter:card") == "summary_large_image"
    assert _meta(content, "name", "twitter:title")
    assert _meta(content, "name", "twitter:description")
    # The canonical address leaves out filters and pages.
    assert f'<link rel="canonical" href="http://testserver{path}">' in content


# --- Fast with thousands of entries ------------------------------------------------------------


@pytest.mark.parametrize("count", [10, 1000])
@pytest.mark.parametrize(
    "query",
    [{}, {"country": "KE"}, {"cause": "health", "country": "ES"}, {"q": "person 00"}, {"page": 3}],
    ids=["all", "country", "country-and-cause", "search", "page-3"],
)
def test_the_list_page_makes_the_same_queries_for_10_and_1000_entries(
    client, django_assert_num_queries, count, query
):
    fill(published(2026), count)
    published(2025)
    url = reverse("creators:list-year", args=[2026])
    # list, other years, country choices, count, page of entries with their creators
    with django_assert_num_queries(5):
        response = client.get(url, query)
    assert response.status_code == 200


@pytest.mark.parametrize("count", [10, 1000])
def test_the_htmx_results_make_the_same_queries_for_10_and_1000_entries(
    client, django_assert_num_queries, count
):
    fill(published(2026), count)
    with django_assert_num_queries(5):
        client.get(
            reverse("creators:list-year", args=[2026]),
            {"q": "person"},
            headers={"HX-Request": "true"},
        )


@pytest.mark.parametrize("count", [10, 1000])
def test_a_creator_profile_makes_the_same_queries_however_big_the_lists(
    client, django_assert_num_queries, count
):
    cml = published(2026)
    fill(cml, count)
    creator = cml.entries.order_by("position").first().creator
    for year in (2023, 2024, 2025):
        ListEntryFactory(change_makers_list=published(year), creator=creator, position=1)
    # creator, links, entries with their lists; the impact story's place, donation and
    # highlights (cached in production; the test settings cache nothing)
    with django_assert_num_queries(6):
        response = client.get(creator.get_absolute_url())
    assert response.status_code == 200
    assert len(response.context["entries"]) == 4


@pytest.mark.parametrize("count", [10, 1000])
def test_the_home_page_makes_the_same_queries_for_10_and_1000_entries(
    client, django_assert_num_queries, count
):
    fill(published(2026), count)
    with django_assert_num_queries(4):
        client.get(reverse("creators:home"))


@pytest.mark.parametrize("path", ["/creators/%00/", "/creators/a%00b/photo/", "/creators/x/"])
def test_a_creator_address_that_cannot_be_a_handle_is_not_found(client, path):
    assert client.get(path).status_code == 404


def test_filtering_in_place_announces_the_count_not_the_whole_list(client):
    fill(published(2026), 60)
    page = client.get(reverse("creators:list-year", args=[2026])).content.decode()
    assert 'aria-live="polite"' not in page.split('id="results"')[1].split(">")[0]
    assert '<div id="results-status" class="visually-hidden" role="status"' in page
    results = client.get(
        reverse("creators:list-year", args=[2026]),
        {"country": "KE"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert '<div id="results-status" data-hx-swap-oob="innerHTML">20 creators</div>' in results
    assert 'aria-live="polite"' not in results
