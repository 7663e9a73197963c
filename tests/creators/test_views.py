import datetime as dt
import re

import pytest
from django.urls import reverse

from creators.models import Cause, ChangeMakersList, CreatorLink
from tests.factories import (
    ChangeMakersListFactory,
    CreatorFactory,
    ListEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def published_list(year: int, **kwargs) -> ChangeMakersList:
    return ChangeMakersListFactory(
        year=year,
        status=ChangeMakersList.Status.PUBLISHED,
        published_at=dt.datetime(year, 11, 1, 12, tzinfo=dt.UTC),
        **kwargs,
    )


def entry(change_makers_list, *, position, name, handle=None, country="KE", cause=Cause.EDUCATION):
    creator = CreatorFactory(
        display_name=name,
        handle=handle or f"h{position}_{change_makers_list.year}",
        country=country,
    )
    return ListEntryFactory(
        change_makers_list=change_makers_list,
        creator=creator,
        country=country,
        cause=cause,
        position=position,
    )


def fill(change_makers_list, count: int) -> None:
    for position in range(1, count + 1):
        entry(change_makers_list, position=position, name=f"Creator {position:03d}")


# Home


def test_home_renders_with_an_empty_database(client):
    response = client.get(reverse("creators:home"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "six-month cohort" in content
    assert "USD 25,000 donation" in content
    assert "has not been published yet" in content
    assert "<title>" in content


def test_home_shows_latest_published_list_with_counts_and_causes(client):
    older = published_list(2024)
    entry(older, position=1, name="Old Timer")
    latest = published_list(2025, title="Change Makers 2025")
    entry(latest, position=1, name="Joel Bervell", country="US", cause=Cause.HEALTH)
    entry(latest, position=2, name="Kara Lewis", country="US", cause=Cause.ARTS)
    entry(latest, position=3, name="Eli Virkina", country="GB", cause=Cause.ENVIRONMENT)
    draft = ChangeMakersListFactory(year=2026, title="Secret draft 2026")
    entry(draft, position=1, name="Draft Person")

    response = client.get(reverse("creators:home"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Change Makers 2025" in content
    assert "Joel Bervell" in content
    assert "Eli Virkina" in content
    assert "Old Timer" not in content
    assert "Draft Person" not in content
    assert "Secret draft" not in content
    summary = response.context["summary"]
    assert summary.creator_count == 3
    assert summary.country_count == 2
    assert {code for code, _label, _n in summary.causes} == {"health", "arts", "environment"}
    assert reverse("creators:list-year", kwargs={"year": 2025}) in content


def test_home_shows_only_the_first_eight_entries(client):
    fill(published_list(2025), 10)
    content = client.get(reverse("creators:home")).content.decode()
    assert "Creator 008" in content
    assert "Creator 009" not in content


# The list


def test_list_redirects_to_the_latest_published_year(client):
    published_list(2024)
    published_list(2025)
    ChangeMakersListFactory(year=2026)  # a draft is never the latest public list

    response = client.get(reverse("creators:list"))

    assert response.status_code == 302
    assert response.url == reverse("creators:list-year", kwargs={"year": 2025})


def test_list_without_published_year_says_not_published_yet(client):
    ChangeMakersListFactory(year=2026)
    response = client.get(reverse("creators:list"))
    assert response.status_code == 200
    assert "Not published yet" in response.content.decode()


def test_list_year_shows_entries_in_position_order(client):
    cml = published_list(2025, title="Change Makers 2025")
    entry(cml, position=2, name="Kara Lewis", handle="karaxlewis", country="US")
    entry(cml, position=1, name="Joel Bervell", handle="joelbervell", country="US")
    CreatorFactory(display_name="Not On The List")

    response = client.get(reverse("creators:list-year", kwargs={"year": 2025}))

    assert response.status_code == 200
    content = response.content.decode()
    assert content.index("Joel Bervell") < content.index("Kara Lewis")
    assert "@joelbervell" in content
    assert "United States of America" in content
    assert "Makes science make sense." in content
    assert "Education" in content
    assert reverse("creators:creator-detail", kwargs={"handle": "joelbervell"}) in content
    assert "Not On The List" not in content
    assert "<html" in content


def test_list_year_empty_published_list_renders(client):
    published_list(2025)
    response = client.get(reverse("creators:list-year", kwargs={"year": 2025}))
    assert response.status_code == 200
    assert "No creator has been added to this list yet." in response.content.decode()


def test_draft_list_is_not_public(client):
    draft = ChangeMakersListFactory(year=2026)
    entry(draft, position=1, name="Draft Person")
    response = client.get(reverse("creators:list-year", kwargs={"year": 2026}))
    assert response.status_code == 404


def test_missing_year_is_404(client):
    assert client.get(reverse("creators:list-year", kwargs={"year": 2031})).status_code == 404


def test_list_filters_by_country(client):
    cml = published_list(2025)
    entry(cml, position=1, name="Kenyan Creator", country="KE")
    entry(cml, position=2, name="Spanish Creator", country="ES")
    url = reverse("creators:list-year", kwargs={"year": 2025})

    content = client.get(url, {"country": "ES"}).content.decode()

    assert "Spanish Creator" in content
    assert "Kenyan Creator" not in content


def test_list_filters_by_cause(client):
    cml = published_list(2025)
    entry(cml, position=1, name="Teacher", cause=Cause.EDUCATION)
    entry(cml, position=2, name="Gardener", cause=Cause.ENVIRONMENT)
    url = reverse("creators:list-year", kwargs={"year": 2025})

    content = client.get(url, {"cause": "environment"}).content.decode()

    assert "Gardener" in content
    assert "Teacher" not in content


def test_list_filters_combine(client):
    cml = published_list(2025)
    entry(cml, position=1, name="Kenyan Teacher", country="KE", cause=Cause.EDUCATION)
    entry(cml, position=2, name="Kenyan Gardener", country="KE", cause=Cause.ENVIRONMENT)
    entry(cml, position=3, name="Spanish Gardener", country="ES", cause=Cause.ENVIRONMENT)
    url = reverse("creators:list-year", kwargs={"year": 2025})

    content = client.get(url, {"country": "KE", "cause": "environment"}).content.decode()

    assert "Kenyan Gardener" in content
    assert "Kenyan Teacher" not in content
    assert "Spanish Gardener" not in content


def test_country_filter_offers_only_countries_on_that_years_list(client):
    cml = published_list(2025)
    entry(cml, position=1, name="A", country="KE")
    entry(cml, position=2, name="B", country="SG")
    other = published_list(2024)
    entry(other, position=1, name="C", country="EG")

    response = client.get(reverse("creators:list-year", kwargs={"year": 2025}))

    codes = [code for code, _ in response.context["form"].fields["country"].choices]
    assert codes == ["", "KE", "SG"]
    content = response.content.decode()
    assert '<label for="id_country">' in content
    assert '<label for="id_cause">' in content


def test_unknown_filter_value_is_ignored(client):
    cml = published_list(2025)
    entry(cml, position=1, name="Teacher", country="KE")
    response = client.get(reverse("creators:list-year", kwargs={"year": 2025}), {"country": "ZZ"})
    assert response.status_code == 200
    assert "Teacher" in response.content.decode()


def test_list_filters_fold_unless_a_filter_narrows_the_list(client):
    """Folded, a phone's first screen shows creators; a shared filtered link opens them."""
    cml = published_list(2025)
    entry(cml, position=1, name="Teacher", cause=Cause.EDUCATION)
    url = reverse("creators:list-year", kwargs={"year": 2025})

    html = client.get(url).content.decode()
    assert '<details class="filters-fold filters-fold--wide-open">' in html
    assert '<span id="list-filters-label">Filters</span>' in html

    html = client.get(url, {"cause": "education", "country": "KE"}).content.decode()
    assert '<details class="filters-fold filters-fold--wide-open" open>' in html
    assert '<span id="list-filters-label">Filters (2 active)</span>' in html


def test_htmx_request_gets_only_the_results_partial(client):
    cml = published_list(2025)
    entry(cml, position=1, name="Teacher", cause=Cause.EDUCATION)
    entry(cml, position=2, name="Gardener", cause=Cause.ENVIRONMENT)

    response = client.get(
        reverse("creators:list-year", kwargs={"year": 2025}),
        {"cause": "education"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert "<form" not in content
    # The results, after what changes outside them (swapped out of band): the count for the
    # status region and the number of filters on the folded filters' summary.
    status, results = content.split('<section id="results"')
    assert [line.strip() for line in status.strip().splitlines()] == [
        '<div id="results-status" data-hx-swap-oob="innerHTML">1 creator</div>',
        '<span id="list-filters-label" data-hx-swap-oob="innerHTML">Filters (1 active)</span>',
    ]
    assert results
    assert "Teacher" in content
    assert "Gardener" not in content
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_whole_page(client):
    published_list(2025)
    response = client.get(
        reverse("creators:list-year", kwargs={"year": 2025}),
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in response.content.decode()


def test_filter_form_works_with_and_without_htmx(client):
    published_list(2025)
    url = reverse("creators:list-year", kwargs={"year": 2025})
    content = client.get(url).content.decode()
    form = re.search(r"<form class=\"filters\"[^>]*>", content).group(0)
    assert 'method="get"' in form
    assert f'action="{url}"' in form
    assert f'data-hx-get="{url}"' in form
    assert 'data-hx-target="#results"' in form
    assert 'data-hx-push-url="true"' in form


def test_list_is_paginated_by_fifty(client):
    fill(published_list(2025), 60)
    url = reverse("creators:list-year", kwargs={"year": 2025})

    first = client.get(url).content.decode()
    second = client.get(url, {"page": 2}).content.decode()

    assert "Creator 050" in first
    assert "Creator 051" not in first
    assert "Creator 051" in second
    assert "Creator 050" not in second
    assert "Creator 060" in second
    assert "?page=2" in first
    assert "60 creators" in first


def test_pagination_keeps_the_filters(client):
    cml = published_list(2025)
    for position in range(1, 56):
        entry(cml, position=position, name=f"Creator {position:03d}", country="KE")
    url = reverse("creators:list-year", kwargs={"year": 2025})

    content = client.get(url, {"country": "KE"}).content.decode()

    assert "?country=KE&amp;page=2" in content


def test_year_switcher_lists_other_published_years(client):
    published_list(2024)
    published_list(2025)
    ChangeMakersListFactory(year=2026)

    response = client.get(reverse("creators:list-year", kwargs={"year": 2025}))

    assert response.context["other_years"] == [2024]
    content = response.content.decode()
    assert reverse("creators:list-year", kwargs={"year": 2024}) in content
    assert reverse("creators:list-year", kwargs={"year": 2026}) not in content


@pytest.mark.parametrize("count", [10, 60])
def test_list_year_query_count_does_not_grow_with_entries(client, django_assert_num_queries, count):
    fill(published_list(2025), count)
    published_list(2024)
    url = reverse("creators:list-year", kwargs={"year": 2025})
    # list, other years, country choices, count, page of entries with their creators
    with django_assert_num_queries(5):
        response = client.get(url)
    assert response.status_code == 200


def test_home_query_count_does_not_grow_with_entries(client, django_assert_num_queries):
    fill(published_list(2025), 30)
    with django_assert_num_queries(4):
        client.get(reverse("creators:home"))


# Creator profile


def test_creator_profile_shows_public_data(client):
    creator = CreatorFactory(
        display_name="Joel Bervell",
        handle="joelbervell",
        country="US",
        causes=[Cause.HEALTH, Cause.EDUCATION],
        bio="Medical student debunking myths.",
        follower_count=1_234_567,
        user=UserFactory(username="joel@private.example"),
    )
    CreatorLink.objects.create(creator=creator, label="TikTok", url="https://tiktok.example/@joel")
    cml = published_list(2025, title="Change Makers 2025")
    ListEntryFactory(change_makers_list=cml, creator=creator, position=1, cause=Cause.HEALTH)
    draft = ChangeMakersListFactory(year=2026, title="Secret draft 2026")
    ListEntryFactory(change_makers_list=draft, creator=creator, position=1)

    response = client.get(reverse("creators:creator-detail", kwargs={"handle": "joelbervell"}))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Joel Bervell" in content
    assert "@joelbervell" in content
    assert "United States of America" in content
    assert "Health" in content
    assert "Education" in content
    assert "Medical student debunking myths." in content
    assert "1,234,567" in content
    assert "https://tiktok.example/@joel" in content
    assert "Change Makers 2025" in content
    assert "Secret draft" not in content
    assert "joel@private.example" not in content
    assert 'property="og:title"' in content
    assert "<title>Joel Bervell (@joelbervell)" in content


def test_creator_profile_lookup_ignores_case(client):
    CreatorFactory(handle="KaraXLewis", display_name="Kara Lewis")
    response = client.get(reverse("creators:creator-detail", kwargs={"handle": "karaxlewis"}))
    assert response.status_code == 200
    assert "Kara Lewis" in response.content.decode()


def test_unknown_creator_is_404(client):
    response = client.get(reverse("creators:creator-detail", kwargs={"handle": "nobody"}))
    assert response.status_code == 404


def test_creator_profile_shows_nothing_of_another_creator(client):
    CreatorFactory(handle="first", display_name="First Person", bio="First bio.")
    other = CreatorFactory(handle="second", display_name="Second Person", bio="Second bio.")
    CreatorLink.objects.create(creator=other, label="Second site", url="https://second.example")
    ListEntryFactory(change_makers_list=published_list(2025), creator=other, position=1)

    content = client.get(
        reverse("creators:creator-detail", kwargs={"handle": "first"})
    ).content.decode()

    assert "First Person" in content
    assert "Second Person" not in content
    assert "Second bio." not in content
    assert "second.example" not in content
    assert "Not on a published list yet." in content


def test_creator_profile_query_count(client, django_assert_num_queries):
    creator = CreatorFactory(handle="busy")
    for year in (2023, 2024, 2025):
        ListEntryFactory(change_makers_list=published_list(year), creator=creator, position=1)
    for n in range(3):
        CreatorLink.objects.create(creator=creator, label=f"L{n}", url=f"https://l{n}.example")
    # creator, links, entries with their lists; the story (changemakers/backoffice/stories.py,
    # tests/backoffice/test_creator_story.py): the place, the donation, the highlights
    with django_assert_num_queries(6):
        client.get(reverse("creators:creator-detail", kwargs={"handle": "busy"}))


# Layout


def test_pages_have_title_description_and_open_graph(client):
    published_list(2025, title="Change Makers 2025")
    for url in (reverse("creators:home"), reverse("creators:list-year", kwargs={"year": 2025})):
        content = client.get(url).content.decode()
        assert re.search(r"<title>[^<]+</title>", content)
        assert '<meta name="description" content="' in content
        assert '<meta property="og:title" content="' in content
        assert '<meta property="og:description" content="' in content


def test_layout_is_accessible_and_script_free(client):
    content = client.get(reverse("creators:home")).content.decode()
    assert '<html lang="en"' in content
    assert 'href="#main"' in content
    assert '<main id="main"' in content
    assert "/static/js/htmx.min.js" in content
    # A public page read by anyone holds no token (core/whole_page.py); the pages of a
    # signed-in person send theirs with every htmx request.
    assert "X-CSRFToken" not in content
    assert "data-hx-headers" in client.get(reverse("login")).content.decode()
    # The CSP forbids inline script and style: none may appear in our pages.
    assert "<script>" not in content
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", content)
    assert "style=" not in content
    assert "hx-on" not in content


def test_anonymous_nav(client):
    content = client.get(reverse("creators:home")).content.decode()
    assert reverse("login") in content
    assert reverse("admin:index") not in content
    assert "Sign out" not in content


def test_staff_nav_has_admin_link_and_post_logout(client, staff_user):
    client.force_login(staff_user)
    content = client.get(reverse("creators:home")).content.decode()
    assert f'href="{reverse("admin:index")}"' in content
    assert re.search(rf'<form method="post" action="{reverse("logout")}"', content)
    assert "Sign out" in content


def test_creator_nav_links_to_their_profile(client, creator_user):
    client.force_login(creator_user)
    content = client.get(reverse("creators:home")).content.decode()
    assert creator_user.creator.get_absolute_url() in content
    assert reverse("admin:index") not in content


def test_nonprofit_nav_shows_their_organisation(client, nonprofit_user):
    client.force_login(nonprofit_user)
    content = client.get(reverse("creators:home")).content.decode()
    assert nonprofit_user.nonprofit_contact.nonprofit.legal_name in content
    assert reverse("admin:index") not in content


def test_the_donation_amount_in_page_texts_comes_from_the_settings(client, db, settings):
    assert "USD 25,000 donation" in client.get("/").content.decode()
    settings.PROGRAM_DONATION_AMOUNT = "30000.00"
    settings.PROGRAM_CURRENCY = "EUR"
    page = client.get("/").content.decode()
    assert "EUR 30,000 donation" in page
    assert "25,000" not in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert "don de 30\u00a0000 EUR" in client.get("/").content.decode()
