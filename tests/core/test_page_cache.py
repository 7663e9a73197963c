"""Parts of pages cached until the data changes (core/page_cache.py), with a real cache.

The test settings turn the "pages" cache off (tests roll their data back, which no cache sees);
these tests turn an in-memory one on and prove that what is cached is kept right: an audited
change retires it when it commits and not before, a change rolled back retires nothing, each
language has its own, a page refused to someone stays refused, and a cache that does not answer
slows a page without breaking it.
"""

import pytest
from django.db import transaction
from django.template import Context, Template
from django.test import override_settings
from django.utils import timezone, translation

from changemakers.core import page_cache
from creators.services import creator_profile_update
from donations.models import Grant
from donations.services import grant_approve
from tests.factories import (
    ChangeMakersListFactory,
    FundFactory,
    GrantFactory,
    ListEntryFactory,
    NonprofitFactory,
)

pytestmark = pytest.mark.django_db

NOBODY_ANSWERS = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing answers
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    },
}


@pytest.fixture
def published(db):
    edition = ChangeMakersListFactory(
        year=2031, status="published", published_at=timezone.now(), title="Change Makers 2031"
    )
    entry = ListEntryFactory(change_makers_list=edition, creator__display_name="Ayana Mwangi")
    return edition, entry


def list_page(client, **headers) -> str:
    return client.get("/list/2031/", headers=headers).content.decode()


def test_the_list_is_cached_until_an_audited_change_commits(
    client, pages, published, django_capture_on_commit_callbacks
):
    _, entry = published
    assert "Ayana Mwangi" in list_page(client)
    # A change behind the services' back (no audit) is not seen: the entries come from the cache.
    type(entry.creator).objects.filter(pk=entry.creator.pk).update(display_name="Unaudited")
    assert "Ayana Mwangi" in list_page(client)

    with django_capture_on_commit_callbacks(execute=True):
        creator_profile_update(
            creator=entry.creator, actor=entry.creator.user, display_name="Ayana W. Mwangi"
        )
    page = list_page(client)
    assert "Ayana W. Mwangi" in page
    assert "Ayana Mwangi" not in page


def test_a_change_rolled_back_retires_nothing(client, pages, published):
    _, entry = published
    list_page(client)
    before = page_cache.data_version()

    def change_then_fail() -> None:
        with transaction.atomic():
            creator_profile_update(creator=entry.creator, actor=entry.creator.user, bio="Changed")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        change_then_fail()
    assert page_cache.data_version() == before


def test_one_transaction_bumps_the_version_once(
    pages, published, django_capture_on_commit_callbacks
):
    _, entry = published
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        creator_profile_update(creator=entry.creator, actor=entry.creator.user, bio="One")
        creator_profile_update(creator=entry.creator, actor=entry.creator.user, bio="Two")
    assert [c for c in callbacks if c is page_cache._new_version] == [page_cache._new_version]


def test_each_language_has_its_own_cached_part(client, pages, published):
    def cause_tag(page: str) -> str:
        return page.split('class="entry-list"')[1].split('<span class="tag">')[1].split("<")[0]

    assert cause_tag(list_page(client)) == "Education"  # cached in English first
    assert cause_tag(list_page(client, accept_language="fr")) == "Éducation"
    assert cause_tag(list_page(client)) == "Education"


def test_a_cache_that_does_not_answer_slows_the_page_and_breaks_nothing(client, published):
    with override_settings(CACHES=NOBODY_ANSWERS):
        response = client.get("/list/2031/")
    assert response.status_code == 200
    assert "Ayana Mwangi" in response.content.decode()


def test_the_staff_dashboard_follows_approvals_and_stays_staff_only(
    client, pages, staff_user, creator_user, django_capture_on_commit_callbacks
):
    fund = FundFactory(currency="USD")
    grant = GrantFactory(fund=fund, nonprofit=NonprofitFactory(verification_status="verified"))
    client.force_login(staff_user)
    first = client.get("/staff/").context["needs_action"].counts
    assert first["proposed"] == 1

    with django_capture_on_commit_callbacks(execute=True):
        grant_approve(grant=grant, actor=staff_user)
    after = client.get("/staff/").context["needs_action"].counts
    assert (after["proposed"], after["approved"]) == (0, 1)

    client.force_login(creator_user)
    refused = client.get("/staff/")
    assert refused.status_code == 403
    assert "needs_action" not in (refused.context or {})


def test_no_query_string_can_fill_the_cache(client, pages, published):
    """Cached parts are keyed on a bounded set (a country, a cause, a page), never on what a
    visitor types: searches and stray parameters are computed afresh and kept nowhere."""
    list_page(client)
    kept = len(pages._cache)
    assert kept >= 2  # the data version, the filters and the entries
    for n in range(5):
        assert client.get(f"/list/2031/?q=search{n}").status_code == 200
        assert client.get(f"/list/2031/?utm_source=mail{n}&page={n}").status_code == 200
    assert len(pages._cache) == kept
    searched = client.get("/list/2031/?q=Ayana").content.decode()
    assert "Ayana Mwangi" in searched


ROWS = Template(
    '{% load page_cache %}{% pagecache_rows "test-rows" rows %}'
    '{% for row in rows %}{% pagecache_row "test-rows" row %}{{ row.purpose }}|'
    "{% endpagecache_row %}{% endfor %}"
)
ROW = Template(
    '{% load page_cache %}{% pagecache_row "test-rows" row %}{{ row.purpose }}|'
    "{% endpagecache_row %}"
)


def test_a_row_part_is_kept_until_its_row_changes(pages):
    first, second = GrantFactory(purpose="Books"), GrantFactory(purpose="Wells")
    rows = lambda: list(Grant.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk"))  # noqa: E731
    assert ROWS.render(Context({"rows": rows()})) == "Books|Wells|"
    # Unchanged rows come from the cache, all at once or one by one (a row answered alone).
    Grant.objects.filter(pk=first.pk).update(purpose="Unaudited")
    assert ROWS.render(Context({"rows": rows()})) == "Books|Wells|"
    assert ROW.render(Context({"row": rows()[0]})) == "Books|"
    # A row that changed (its updated_at) is drawn afresh; the others stay kept.
    Grant.objects.filter(pk=first.pk).update(updated_at=timezone.now())
    Grant.objects.filter(pk=second.pk).update(purpose="Unaudited too")
    assert ROWS.render(Context({"rows": rows()})) == "Unaudited|Wells|"


def test_a_row_part_is_kept_per_language_and_time_zone(pages):
    grant = GrantFactory()
    page = Template(
        '{% load page_cache %}{% pagecache_row "test-zone" row %}'
        '{{ row.created_at|date:"H e" }}{% endpagecache_row %}'
    )
    with timezone.override("Africa/Nairobi"):
        nairobi = page.render(Context({"row": grant}))
    with timezone.override("America/Mexico_City"):
        mexico = page.render(Context({"row": grant}))
    assert nairobi != mexico
    with translation.override("fr"):
        assert ROW.render(Context({"row": grant})) == f"{grant.purpose}|"
    assert len([key for key in pages._cache if "rows:" in key]) == 3


def test_the_pipeline_rows_follow_an_approval(
    client, pages, staff_user, proposer_user, django_capture_on_commit_callbacks
):
    grant = GrantFactory(
        nonprofit=NonprofitFactory(verification_status="verified"), proposed_by=proposer_user
    )
    client.force_login(staff_user)
    row = f'id="grant-{grant.pk}"'
    page = client.get("/staff/grants/").content.decode()
    assert 'badge--proposed">Proposed' in page.split(row)[1]
    assert f"/staff/grants/{grant.pk}/approve/" in page
    # The row's buttons are each reader's own, never kept with the row.
    client.force_login(proposer_user)
    page = client.get("/staff/grants/").content.decode()
    assert "You proposed it: someone else approves it." in page
    assert f"/staff/grants/{grant.pk}/approve/" not in page
    client.force_login(staff_user)

    with django_capture_on_commit_callbacks(execute=True):
        grant_approve(grant=grant, actor=staff_user)
    page = client.get("/staff/grants/").content.decode()
    assert 'badge--approved">Approved' in page.split(row)[1]
    assert f"Approved by {staff_user.get_username()}" in page


def test_the_dashboard_parts_kept_show_each_reader_their_own_times(
    client, pages, staff_user, django_capture_on_commit_callbacks
):
    from changemakers.core.timezones import preferences_update

    other = type(staff_user).objects.create(
        username="auckland@example.org", is_staff=True, is_superuser=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        preferences_update(user=staff_user, actor=staff_user, time_zone="Africa/Nairobi")
        preferences_update(user=other, actor=other, time_zone="Pacific/Auckland")
    when = page_cache.data_version()  # nothing changes from here on: every part is kept

    def event_times(user) -> str:
        client.force_login(user)
        page = client.get("/staff/").content.decode()
        return page.split('id="dashboard-events"')[1].split("</section>")[0]

    nairobi, auckland = event_times(staff_user), event_times(other)
    assert page_cache.data_version() == when
    assert nairobi != auckland  # the same events, at each reader's own time
    assert event_times(staff_user) == nairobi
