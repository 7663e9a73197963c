"""A signed-in person's key pages kept whole for them (core/whole_page.py, `personal_page`):
the creator portal, the staff dashboard and grant pipeline, a nonprofit's grants. With a real
cache: each reader gets only their own page, as the data stands, with their own fresh CSRF
token that their session accepts; the access check still runs on every request."""

import datetime
import re
from importlib import import_module

import pytest
import time_machine
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from changemakers.core import whole_page
from changemakers.core.roles import StaffRole
from changemakers.core.timezones import SESSION_KEY as TIME_ZONE_KEY
from donations.models import Grant
from donations.services import grant_cancel
from tests.factories import (
    CreatorFactory,
    GrantFactory,
    NonprofitContactFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PORTAL = reverse("programs:portal")
DASHBOARD = reverse("backoffice:dashboard")
GRANTS = reverse("donations:grant-list")
NONPROFIT_GRANTS = reverse("nonprofit:grant-list")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def kept(pages) -> list[str]:
    return [key for key in pages._cache if ":personal:" in key]


def tokens_of(response) -> set[str]:
    page = response.content.decode()
    found = set(TOKEN.findall(page))
    found |= set(re.findall(r'"X-CSRFToken": "([^"]+)"', page))
    return found


def creator_client(name: str) -> Client:
    creator = CreatorFactory(user=UserFactory(), display_name=name)
    client = Client()
    client.force_login(creator.user)
    return client


def test_each_creator_reads_only_their_own_portal(pages):
    amara = creator_client("Amara Okafor")
    joel = creator_client("Joel Tan")

    for client, own, other in (
        (amara, "Amara Okafor", "Joel Tan"),
        (joel, "Joel Tan", "Amara"),
    ) * 2:
        page = client.get(PORTAL).content.decode()
        assert own in page
        assert other not in page
    assert len(kept(pages)) == 2  # one page each, read twice


def test_a_kept_page_costs_the_view_nothing(pages, django_assert_max_num_queries):
    client = creator_client("Amara Okafor")
    with django_assert_max_num_queries(20) as first:
        fresh = client.get(PORTAL)
    with django_assert_max_num_queries(20) as second:
        again = client.get(PORTAL)
    # The session, the user and the creator the access check reads; not the portal's own.
    assert len(second) <= 3 < len(first)
    # The same page, but for its token.
    ((fresh_token,), (kept_token,)) = tokens_of(fresh), tokens_of(again)
    assert again.content == fresh.content.replace(fresh_token.encode(), kept_token.encode())


def test_each_response_gets_a_fresh_token_its_session_accepts(pages, staff_user):
    """Two sessions of one person share the kept page; each gets a token of its own secret."""
    sessions = [Client(enforce_csrf_checks=True) for _ in range(2)]
    seen = set()
    for session in sessions + sessions:
        session.force_login(staff_user)
        response = session.get(GRANTS)
        (token,) = tokens_of(response)  # one token, written in every form of the page
        assert token not in seen  # masked afresh for each response
        seen.add(token)
        changed = session.post(
            reverse("set_language"),
            {"language": "en", "next": GRANTS, "csrfmiddlewaretoken": token},
        )
        assert changed.status_code == 302, "the session refused its own token"
    assert len(kept(pages)) == 1


def test_a_committed_change_is_on_the_next_read(
    pages, staff_user, django_capture_on_commit_callbacks
):
    grant = GrantFactory(status=Grant.Status.PROPOSED)
    client = Client()
    client.force_login(staff_user)
    assert 'badge--proposed">Proposed' in client.get(GRANTS).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        grant_cancel(grant=grant, actor=staff_user, reason="Duplicate")

    assert 'badge--cancelled">Cancelled' in client.get(GRANTS).content.decode()


def test_each_staff_member_reads_the_page_of_their_own_permissions(pages):
    vetter = StaffFactory(roles=[StaffRole.NONPROFIT_VETTER])
    finance = StaffFactory(roles=[StaffRole.FINANCE_APPROVER])
    grants_tab = f'href="{GRANTS}"'
    for person, sees in ((finance, True), (vetter, False), (finance, True)):
        client = Client()
        client.force_login(person)
        assert (grants_tab in client.get(DASHBOARD).content.decode()) is sees

    # A role taken away (no audited change of the program's data) changes the page at once.
    finance.groups.clear()
    client = Client()
    client.force_login(finance)
    assert grants_tab not in client.get(DASHBOARD).content.decode()


def test_the_access_check_runs_before_a_kept_page(pages, staff_user):
    client = Client()
    client.force_login(staff_user)
    assert client.get(GRANTS).status_code == 200
    assert kept(pages)

    # Another person never gets it: a creator, a nonprofit's contact, a stranger.
    intruder = creator_client("Amara Okafor")
    assert intruder.get(GRANTS).status_code == 403
    contact = NonprofitContactFactory()
    client.force_login(contact.user)
    assert client.get(GRANTS).status_code == 403
    assert Client().get(GRANTS).status_code == 302  # to the sign-in page

    # Their own permission withdrawn, staff are refused too, the kept page notwithstanding.
    staff_user.is_superuser = False
    staff_user.save()
    staff_user.groups.clear()
    client.force_login(staff_user)
    assert client.get(GRANTS).status_code == 403


def test_a_nonprofit_reads_only_its_own_grants(pages):
    first, second = NonprofitContactFactory(), NonprofitContactFactory()
    GrantFactory(nonprofit=first.nonprofit, status=Grant.Status.PROPOSED)
    for contact, other in ((first, second), (second, first), (first, second)):
        client = Client()
        client.force_login(contact.user)
        page = client.get(NONPROFIT_GRANTS).content.decode()
        assert contact.nonprofit.legal_name in page
        assert other.nonprofit.legal_name not in page


def test_a_message_waiting_is_shown_once_and_not_kept(pages, staff_user):
    grant = GrantFactory(status=Grant.Status.PROPOSED)
    client = Client()
    client.force_login(staff_user)
    client.get(GRANTS)
    cancelled = client.post(
        reverse("donations:grant-cancel", args=[grant.pk]),
        {"reason": "Duplicate", "next": GRANTS},
        follow=True,
    )
    message = f"The grant to {grant.nonprofit} is cancelled."
    assert message in cancelled.content.decode()
    assert message not in client.get(GRANTS).content.decode()


def test_only_the_queries_it_names_are_kept(pages, staff_user):
    client = Client()
    client.force_login(staff_user)
    for query in (
        "?status=proposed",
        "?status=proposed&page=1",
        "?status=nonsense",
        "?q=Open+Medicine",
        "?fund=1' or 1=1",
        "?select=all&select=all",
    ):
        assert client.get(GRANTS + query).status_code == 200
    assert len(kept(pages)) == 2  # a status, and that status with a page number


def test_a_page_shown_live_is_not_kept(pages, staff_user, rf):
    def view(request, *, shows_live: bool) -> HttpResponse:
        if shows_live:
            whole_page.live(request)
        return HttpResponse("The platform's balance: 1,000.00 USD")

    for shows_live, path in ((False, "/from-the-database/"), (True, "/live/")):
        request = rf.get(path)
        request.user = staff_user
        request.session = import_module(settings.SESSION_ENGINE).SessionStore()
        assert whole_page.personal_page()(view)(request, shows_live=shows_live).status_code == 200
    assert len(kept(pages)) == 1  # the page from the database only


def test_a_page_is_kept_per_time_zone_and_day(pages, staff_user):
    """Times and "due in" are the reader's: another zone, or the next day, is another page."""
    client = Client()
    client.force_login(staff_user)
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC), tick=False):
        for _ in range(2):
            client.get(DASHBOARD)
        assert len(kept(pages)) == 1

        session = client.session
        session[TIME_ZONE_KEY] = "Asia/Manila"
        session.save()
        client.get(DASHBOARD)
        assert len(kept(pages)) == 2

    with time_machine.travel(datetime.datetime(2026, 3, 3, 9, tzinfo=datetime.UTC), tick=False):
        client.get(DASHBOARD)
    assert len(kept(pages)) == 3


def test_a_page_is_kept_without_its_token_or_not_at_all():
    token, other = b"a" * 32 + b"B" * 32, b"c" * 32 + b"D" * 32
    form = b'<input type="hidden" name="csrfmiddlewaretoken" value="%s">'
    header = b'<body data-hx-headers=\'{"X-CSRFToken": "%s"}\'>'
    page = header % token + form % token
    assert whole_page._without_token(page) == header % whole_page.TOKEN_SLOT + (
        form % whole_page.TOKEN_SLOT
    )
    assert whole_page._without_token(b"<p>No form</p>") == b"<p>No form</p>"
    # Two tokens (one from another render), or one written in a way not looked for: not kept.
    assert whole_page._without_token(page + form % other) is None
    assert whole_page._without_token(page + b'<div data-csrf="%s">' % other) is None
    assert whole_page._without_token(b'<div data-csrf="%s">' % token) is None


def test_htmx_gets_its_part_and_a_history_restore_the_whole_page(pages, staff_user):
    client = Client()
    client.force_login(staff_user)
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    for _ in range(2):  # each read again from the cache
        assert "<html" in client.get(GRANTS, headers=restore).content.decode()
        assert "<html" not in client.get(GRANTS, headers={"HX-Request": "true"}).content.decode()
        assert "<html" in client.get(GRANTS).content.decode()
    assert len(kept(pages)) == 3
