"""Public pages served whole from the cache (core/whole_page.py), with a real in-memory cache:
kept per language and bounded query, retired by the next audited change, carrying nothing of
one reader, and answered with 304 when the reader has them already. The language changes with
a GET for readers not signed in (core/language.py)."""

import pytest
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from creators.services import creator_profile_update
from tests.factories import ChangeMakersListFactory, ListEntryFactory, UserFactory

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = ["/", "/list/2031/", "/creators/ayana.m/", "/program/", "/nonprofits/"]


@pytest.fixture
def entry(db):
    edition = ChangeMakersListFactory(
        year=2031, status="published", published_at=timezone.now(), title="Change Makers 2031"
    )
    return ListEntryFactory(
        change_makers_list=edition,
        creator__display_name="Ayana Mwangi",
        creator__handle="ayana.m",
        country="KE",
    )


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_a_public_page_carries_nothing_of_its_reader_and_may_be_kept(client, entry, path):
    response = client.get(path)
    page = response.content.decode()
    assert response.status_code == 200
    assert "csrfmiddlewaretoken" not in page
    assert "X-CSRFToken" not in page
    assert not response.cookies  # no CSRF cookie, no session
    assert response["Cache-Control"] in ("public, no-cache", "no-cache, public")
    assert response["ETag"].startswith('"')
    assert response.has_header("Last-Modified")
    assert 'method="get" action="/language/"' in page  # the language form


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_a_reader_who_has_the_page_gets_304(client, pages, entry, path):
    first = client.get(path)
    again = client.get(path, headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]


def test_a_kept_page_is_served_without_a_query_until_an_audited_change_commits(
    client, pages, entry, django_assert_num_queries, django_capture_on_commit_callbacks
):
    first = client.get("/list/2031/?country=KE")
    with django_assert_num_queries(0):
        kept = client.get("/list/2031/?country=KE")
    assert kept.content == first.content
    assert kept["Content-Type"] == first["Content-Type"]
    assert "Ayana Mwangi" in kept.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        creator_profile_update(
            creator=entry.creator, actor=entry.creator.user, display_name="Ayana W. Mwangi"
        )
    page = client.get("/list/2031/?country=KE").content.decode()
    assert "Ayana W. Mwangi" in page  # on the next request
    assert client.get("/list/2031/?country=KE")["ETag"] != first["ETag"]


def test_the_filter_forms_empty_fields_keep_the_page_kept(
    client, pages, entry, django_assert_num_queries
):
    # The list's form sends every field, the search empty: still the country's page.
    client.get("/list/2031/?q=&country=KE&cause=", headers={"HX-Request": "true"})
    with django_assert_num_queries(0):
        kept = client.get("/list/2031/?q=&country=KE&cause=", headers={"HX-Request": "true"})
    assert "Ayana Mwangi" in kept.content.decode()


def test_each_language_and_the_htmx_fragment_are_kept_apart(client, pages, entry):
    english = client.get("/list/2031/").content.decode()
    french = client.get("/list/2031/", headers={"Accept-Language": "fr"}).content.decode()
    fragment = client.get("/list/2031/", headers={"HX-Request": "true"}).content.decode()
    assert 'lang="en"' in english
    assert 'lang="fr"' in french
    assert "<html" not in fragment
    assert client.get("/list/2031/").content.decode() == english


@pytest.mark.parametrize(
    "query", ["?q=ayana", "?country=KE&utm=x", "?cause=nothing", "?country=ke", "?page=0"]
)
def test_a_query_outside_the_bounded_set_is_computed_afresh_and_not_kept(
    client, pages, entry, query, django_assert_max_num_queries
):
    client.get(f"/list/2031/{query}")
    keys_before = len(pages._cache)
    response = client.get(f"/list/2031/{query}")
    assert response.status_code == 200
    assert len(pages._cache) == keys_before
    assert response["ETag"]  # still answered conditionally


def test_a_signed_in_reader_gets_their_own_page_never_a_kept_one(client, pages, entry):
    client.get("/list/2031/")  # kept for anonymous readers
    client.force_login(UserFactory())
    response = client.get("/list/2031/")
    page = response.content.decode()
    assert "X-CSRFToken" in page
    assert 'action="/i18n/setlang/"' in page
    assert "public" not in response.get("Cache-Control", "")


def test_a_reader_with_a_message_waiting_gets_it_on_a_page_of_their_own(client, pages, entry):
    client.get("/")  # kept for readers with nothing waiting
    storage = CookieStorage(RequestFactory().get("/"))
    storage.add(messages.SUCCESS, "Thank you for applying.")
    carrier = HttpResponse()
    storage.update(carrier)
    client.cookies.update(carrier.cookies)

    response = client.get("/")

    assert "Thank you for applying." in response.content.decode()
    assert "public" not in response.get("Cache-Control", "")


def test_the_language_changes_with_a_get_and_goes_back_to_the_page(client, entry):
    response = client.get("/language/", {"language": "fr", "next": "/list/2031/?country=KE"})
    assert response.status_code == 302
    assert response["Location"] == "/list/2031/?country=KE"
    assert response.cookies["django_language"].value == "fr"
    assert 'lang="fr"' in client.get("/list/2031/").content.decode()


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", ""])
def test_the_language_switch_goes_back_only_to_this_site(client, db, next_url):
    response = client.get("/language/", {"language": "es", "next": next_url})
    assert response["Location"] == "/"


def test_an_unknown_language_changes_nothing(client, db):
    response = client.get("/language/", {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert "django_language" not in response.cookies
