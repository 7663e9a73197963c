"""The navigation of every signed-in page, kept in the pages cache (templates/base.html): the
main links per person, page and role; the staff tabs per page and permissions; the language
menu per language. With a real cache, each reader still sees exactly their own navigation:
their tabs, their page marked, their counts as the data stands, and a fresh CSRF token."""

import re

import pytest
from django.core.signals import request_finished, request_started
from django.urls import reverse

from changemakers.core import page_cache
from changemakers.core.roles import StaffRole
from donations.models import Grant
from donations.services import grant_cancel
from tests.factories import CreatorFactory, GrantFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

COHORTS = reverse("programs:cohort-list")
DASHBOARD = reverse("backoffice:dashboard")
GRANTS = reverse("donations:grant-list")


def staff_nav(page: str) -> str:
    match = re.search(r'<nav class="site-nav site-nav--staff".*?</nav>', page, re.S)
    assert match, "no staff navigation"
    return match.group(0)


def main_nav(page: str) -> str:
    match = re.search(r'<nav class="site-nav" aria-label="Main">.*?</nav>', page, re.S)
    assert match, "no main navigation"
    return match.group(0)


def csrf_token_of(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', main_nav(page))
    assert match, "no sign-out token"
    return match.group(1)


def test_each_staff_member_sees_the_tabs_of_their_own_permissions(client, pages):
    vetter = StaffFactory(roles=[StaffRole.NONPROFIT_VETTER])
    manager = StaffFactory(roles=[StaffRole.PROGRAM_MANAGER])
    assert not vetter.has_perm("programs.view_cohort")
    assert manager.has_perm("programs.view_cohort")

    for person, sees_cohorts in ((vetter, False), (manager, True), (vetter, False)):
        client.force_login(person)
        nav = staff_nav(client.get(DASHBOARD).content.decode())
        assert (f'href="{COHORTS}"' in nav) is sees_cohorts
    assert any(key.startswith(":1:fragment:staff-nav:") for key in pages._cache)


def test_the_page_a_reader_is_on_is_the_one_marked(client, pages, staff_user):
    client.force_login(staff_user)
    for path in (DASHBOARD, GRANTS, DASHBOARD):
        nav = staff_nav(client.get(path).content.decode())
        marked = re.findall(r'<a href="([^"]+)" aria-current="page"', nav)
        assert marked == [path]


def test_the_waiting_counts_follow_a_committed_change(
    client, pages, staff_user, django_capture_on_commit_callbacks
):
    grants = [GrantFactory(status=Grant.Status.PROPOSED) for _ in range(2)]
    client.force_login(staff_user)
    assert "Grants, 2 waiting" in staff_nav(client.get(DASHBOARD).content.decode())

    with django_capture_on_commit_callbacks(execute=True):
        grant_cancel(grant=grants[0], actor=staff_user, reason="Duplicate")

    assert "Grants, 1 waiting" in staff_nav(client.get(DASHBOARD).content.decode())


def test_each_creator_sees_their_own_profile_link(client, pages):
    first = CreatorFactory(user=UserFactory(), handle="first.creator")
    second = CreatorFactory(user=UserFactory(), handle="second.creator")
    for creator in (first, second, first):
        client.force_login(creator.user)
        nav = main_nav(client.get(reverse("programs:portal")).content.decode())
        assert f'href="{creator.get_absolute_url()}"' in nav
        other = second if creator == first else first
        assert f'href="{other.get_absolute_url()}"' not in nav


def test_the_sign_out_token_is_each_sessions_own(client, pages, staff_user):
    """The sign-out form stays outside the kept navigation: its token is never another's."""
    client.force_login(staff_user)
    first = csrf_token_of(client.get(DASHBOARD).content.decode())
    client.logout()
    client.force_login(staff_user)
    second = csrf_token_of(client.get(DASHBOARD).content.decode())
    assert first != second  # a new session, a new secret: not one kept with the navigation


def test_the_language_menu_marks_the_readers_language(client, pages, staff_user):
    client.force_login(staff_user)
    for language in ("fr", "en", "fr"):
        page = client.get(DASHBOARD, headers={"accept-language": language})
        client.cookies.pop("django_language", None)
        selected = re.findall(r'<option value="(\w+)"[^>]* selected>', page.content.decode())
        assert selected == [language]


def test_a_request_reads_the_data_version_once(
    client, pages, staff_user, django_capture_on_commit_callbacks, monkeypatch
):
    page_cache.data_version()  # the cache holds a version (the first read also sets one)
    reads = []
    real_get = pages.get
    monkeypatch.setattr(
        pages, "get", lambda key, *a, **kw: reads.append(key) or real_get(key, *a, **kw)
    )
    client.force_login(staff_user)
    client.get(DASHBOARD)
    assert reads.count(page_cache.VERSION_KEY) == 1

    # Outside a request (a task, a command), each read asks the cache.
    reads.clear()
    page_cache.data_version()
    page_cache.data_version()
    assert reads.count(page_cache.VERSION_KEY) == 2


def test_a_change_committed_in_a_request_is_seen_by_the_rest_of_it(pages):
    request_started.send(sender=None)
    try:
        before = page_cache.data_version()
        page_cache._new_version()  # what an audited change does when it commits
        after = page_cache.data_version()
        assert after != before
        assert after == pages.get(page_cache.VERSION_KEY)
    finally:
        request_finished.send(sender=None)
