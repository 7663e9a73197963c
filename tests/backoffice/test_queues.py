"""The work waiting for staff: each queue's count and oldest item, who sees which queue, the
dashboard's Today rows and the staff navigation's count badges, all in one query."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse

from changemakers.backoffice.queues import (
    BY_KEY,
    GRANTS_WAITING,
    QUEUES,
    queue_counts,
    queues_visible,
    staff_queues,
)
from changemakers.core.roles import StaffRole
from donations.models import DisbursementBatch, Grant, PayoutDetailsChange
from programs.models import Application, Milestone
from programs.services.applications import application_submit
from tests.factories import (
    CohortFactory,
    GrantFactory,
    MilestoneFactory,
    NonprofitFactory,
    StaffFactory,
    UserFactory,
)

START = datetime.datetime(2026, 11, 10, 9, tzinfo=datetime.UTC)
NOW = START + datetime.timedelta(days=3, hours=5)
URL = "/staff/"
HTMX_BODY = {"HX-Request": "true", "HX-Target": "dashboard-body"}
MONEY = {"approve", "schedule", "failed", "held", "held-batches"}


def _apply(cohort, handle: str) -> Application:
    return application_submit(
        cohort=cohort,
        display_name=handle.title(),
        handle=handle,
        email=f"{handle}@example.org",
        country="SN",
        causes=["environment"],
        channel_url=f"https://example.org/{handle}",
        mission="Green the Sahel, one video at a time.",
        language="fr",
    )


@pytest.fixture
def work(db):
    """Two items in every queue (one made three days ago, one a day later), and items that
    wait in none (a verified nonprofit, a paid grant, a decided application...)."""
    cohort = CohortFactory()
    with time_machine.travel(START, tick=False):
        payee = NonprofitFactory(verification_status="verified")
    made = {}
    for days, tag in ((0, "old"), (1, "new")):
        with time_machine.travel(START + datetime.timedelta(days=days), tick=False):
            at = START + datetime.timedelta(days=days)
            nonprofit = NonprofitFactory()  # pending: to vet
            GrantFactory(nonprofit=payee, status=Grant.Status.PROPOSED)
            GrantFactory(nonprofit=payee, status=Grant.Status.APPROVED, approved_at=at)
            GrantFactory(nonprofit=payee, status=Grant.Status.FAILED)
            GrantFactory(
                nonprofit=payee,
                status=Grant.Status.SCHEDULED,
                held_at=at,
                hold_reason="New payee.",
            )
            DisbursementBatch.objects.create(size=0, held_at=at, hold_reason="Balance short.")
            MilestoneFactory(status=Milestone.Status.SUBMITTED)
            made[tag] = _apply(cohort, f"applicant_{tag}")
            PayoutDetailsChange.objects.create(
                nonprofit=nonprofit, requested_by=UserFactory(), payout_reference=f"acct-{tag}"
            )
    with time_machine.travel(START, tick=False):
        NonprofitFactory(verification_status="verified")
        NonprofitFactory(
            verification_status="rejected", rejection_reason="Unknown.", rejected_at=START
        )
        GrantFactory(nonprofit=payee, status=Grant.Status.DISBURSED)
        GrantFactory(nonprofit=payee, status=Grant.Status.CANCELLED)
        DisbursementBatch.objects.create(size=0)
        MilestoneFactory(status=Milestone.Status.APPROVED)
        MilestoneFactory(status=Milestone.Status.PENDING)
        declined = _apply(cohort, "applicant_declined")
        Application.objects.filter(pk=declined.pk).update(
            status=Application.Status.DECLINED, decision_message="Not this time.", decided_at=START
        )
    return made


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


# --- The counts -------------------------------------------------------------------------------


def test_each_queue_counts_its_items_and_its_oldest(work, django_assert_num_queries):
    with django_assert_num_queries(1):
        counts = queue_counts(tuple(BY_KEY))
    for queue in QUEUES:
        count, oldest = counts[queue.key]
        assert count == 2, queue.key
        assert START <= oldest < START + datetime.timedelta(minutes=1), queue.key
    # The grants tab counts every grant waiting once: two in each of four queues.
    assert counts[GRANTS_WAITING][0] == 8


def test_a_grant_in_two_queues_is_counted_once_on_the_grants_tab(db):
    GrantFactory(status=Grant.Status.FAILED, held_at=START, hold_reason="New payee.")
    counts = queue_counts(("failed", "held"))
    assert counts["failed"][0] == counts["held"][0] == 1
    assert counts[GRANTS_WAITING][0] == 1


def test_empty_queues_count_zero_with_no_oldest(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        counts = queue_counts(tuple(BY_KEY))
    assert {key: value for key, value in counts.items()} == {
        key: (0, None) for key in (*BY_KEY, GRANTS_WAITING)
    }


def test_no_queue_no_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert queue_counts(()) == {}


def test_the_rows_say_how_many_wait_and_since_when(work):
    rows = {row.key: row for row in staff_queues(StaffFactory(is_superuser=True)).rows}
    assert list(rows) == [
        "approve",
        "schedule",
        "failed",
        "held",
        "milestones",
        "applications",
        "nonprofits",
        "payout-changes",
    ]
    approve = rows["approve"]
    assert approve.count == 2
    assert approve.age == "3\xa0days"
    assert [(part.text, part.url) for part in approve.parts] == [
        ("grants to approve", "/staff/grants/?status=proposed")
    ]
    # Held grants and held batches make one row, each with its own list.
    held = rows["held"]
    assert held.count == 4
    assert [(part.count, part.url) for part in held.parts] == [
        (2, "/staff/grants/?status=held"),
        (2, "/staff/batches/?held=1"),
    ]
    assert rows["applications"].parts[0].url == "/staff/applications/?status=pending"
    assert rows["nonprofits"].parts[0].url == "/staff/nonprofits/?status=pending"
    assert rows["milestones"].parts[0].url == "/staff/reviews/"
    assert rows["payout-changes"].parts[0].url == "/staff/payout-changes/"


def test_one_item_reads_in_the_singular(db):
    with time_machine.travel(NOW - datetime.timedelta(hours=2), tick=False):
        GrantFactory(status=Grant.Status.PROPOSED)
    row = staff_queues(StaffFactory(is_superuser=True)).rows[0]
    assert (row.count, row.parts[0].text, row.age) == (1, "grant to approve", "2\xa0hours")


def test_an_empty_queue_reads_as_done(db):
    rows = {row.key: row for row in staff_queues(StaffFactory(is_superuser=True)).rows}
    assert rows["approve"].count == 0
    assert rows["approve"].done == "Nothing to approve"
    assert rows["approve"].age == ""
    assert rows["held"].done == "No payment on hold"


# --- Who sees which queue ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (
            [StaffRole.FINANCE_APPROVER],
            # Finance approvers also decide payout-detail changes (the services let them).
            {*MONEY, "payout-changes"},
        ),
        ([StaffRole.NONPROFIT_VETTER], {"nonprofits", "payout-changes"}),
        ([StaffRole.PROGRAM_MANAGER], {"milestones", "applications"}),
        ([StaffRole.AUDITOR], set()),  # reads everything, decides nothing
        ([], set()),
        (
            [StaffRole.PROGRAM_MANAGER, StaffRole.NONPROFIT_VETTER],
            {"milestones", "applications", "nonprofits", "payout-changes"},
        ),
    ],
)
def test_each_role_sees_the_queues_it_acts_on(db, roles, expected):
    assert set(queues_visible(StaffFactory(roles=roles))) == expected


def test_a_superuser_sees_every_queue(db):
    assert queues_visible(StaffFactory(is_superuser=True)) == tuple(BY_KEY)


def test_a_vetter_does_not_see_the_money_queues(work):
    vetter = StaffFactory(roles=[StaffRole.NONPROFIT_VETTER])
    found = staff_queues(vetter)
    assert [row.key for row in found.rows] == ["nonprofits", "payout-changes"]
    assert found.badges == {"nonprofits": 2, "payout_changes": 2}


def test_people_who_are_not_staff_see_no_queue(db, creator_user, nonprofit_user):
    superuser_not_staff = UserFactory(is_superuser=True)
    for user in (creator_user, nonprofit_user, superuser_not_staff):
        assert queues_visible(user) == ()


# --- The dashboard ----------------------------------------------------------------------------


def _today(page: str) -> str:
    match = re.search(r'<section id="today".*?</section>', page, re.S)
    assert match
    return match.group(0)


def test_today_comes_first_on_the_dashboard_with_links_into_the_lists(client, work):
    client.force_login(StaffFactory(roles=[StaffRole.FINANCE_APPROVER]))
    page = client.get(URL).content.decode()
    today = _today(page)
    assert page.index('id="today"') < page.index('id="dashboard-filters"')
    assert page.index('id="today"') < page.index('id="dashboard-budgets"')
    assert 'href="/staff/grants/?status=proposed"><span class="today__count">2</span>' in today
    assert "grants to approve" in today
    assert "oldest 3\xa0days" in today
    assert 'href="/staff/batches/?held=1"' in today
    assert "Milestones to review" not in today
    assert "Nonprofits to vet" not in today


def test_today_says_done_when_nothing_waits(client, db):
    client.force_login(StaffFactory(roles=[StaffRole.FINANCE_APPROVER]))
    today = _today(client.get(URL).content.decode())
    assert "Nothing to approve" in today
    assert "No failed payment" in today
    assert "today__count" not in today


def test_an_auditor_is_told_no_queue_is_theirs(client, work):
    client.force_login(StaffFactory(roles=[StaffRole.AUDITOR]))
    page = client.get(URL).content.decode()
    assert "None of the work queues is yours" in _today(page)
    assert "nav-badge" not in page


@pytest.mark.parametrize("who", ["creator_user", "nonprofit_user"])
def test_creators_and_nonprofits_cannot_reach_the_dashboard(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403


def test_the_dashboard_counts_the_queues_once_per_page(client, work, django_assert_max_num_queries):
    client.force_login(StaffFactory(is_superuser=True))
    client.get(URL)  # warm the session
    with django_assert_max_num_queries(24) as captured:
        client.get(URL)
    unions = [query for query in captured.captured_queries if "UNION ALL" in query["sql"]]
    assert len(unions) == 1  # Today and the badges share it
    with django_assert_max_num_queries(23) as captured:
        client.get(URL, headers=HTMX_BODY)
    assert not [query for query in captured.captured_queries if "UNION ALL" in query["sql"]]


def test_the_filters_are_folded_away_until_a_filter_is_chosen(client, work):
    client.force_login(StaffFactory(is_superuser=True))
    plain = client.get(URL).content.decode()
    assert '<details id="dashboard-filters-fold" class="filters-fold">' in plain
    filtered = client.get(URL, {"country": "GB"}).content.decode()
    assert '<details id="dashboard-filters-fold" class="filters-fold" open>' in filtered
    default_period = client.get(URL, {"period": "12m"}).content.decode()
    assert '<details id="dashboard-filters-fold" class="filters-fold">' in default_period
    refused = client.get(URL, {"since": "0001-01-01"}).content.decode()
    assert '<details id="dashboard-filters-fold" class="filters-fold" open>' in refused


# --- The staff navigation's badges ------------------------------------------------------------


def _staff_nav(page: str) -> str:
    match = re.search(r'<nav class="site-nav site-nav--staff".*?</nav>', page, re.S)
    assert match
    return match.group(0)


def test_the_staff_tabs_show_what_waits_with_words_for_screen_readers(client, work):
    client.force_login(StaffFactory(is_superuser=True))
    nav = _staff_nav(client.get(reverse("donations:fund-list")).content.decode())
    # The name read out is one phrase; the number shown is hidden from screen readers.
    assert (
        '<span aria-hidden="true">Grants<span class="nav-badge">8</span></span>'
        '<span class="visually-hidden">Grants, 8 waiting</span></a>'
    ) in nav
    for tab in ("Nonprofits", "Payout changes", "Batches", "Reviews", "Applications"):
        assert f'<span class="visually-hidden">{tab}, 2 waiting</span>' in nav
    assert "Funds</a>" in nav  # no queue behind it


def test_a_tab_with_nothing_waiting_has_no_badge(client, db):
    client.force_login(StaffFactory(is_superuser=True))
    assert "nav-badge" not in client.get(reverse("donations:fund-list")).content.decode()


def test_a_vetter_sees_badges_only_on_the_tabs_of_their_queues(client, work):
    client.force_login(StaffFactory(roles=[StaffRole.NONPROFIT_VETTER]))
    nav = _staff_nav(client.get(reverse("donations:nonprofit-list")).content.decode())
    assert nav.count('class="nav-badge"') == 2
    assert '<span class="visually-hidden">Nonprofits, 2 waiting</span>' in nav


def test_the_badges_cost_one_query_on_a_staff_page(client, work, django_assert_max_num_queries):
    user = StaffFactory(is_superuser=True)
    client.force_login(user)
    url = reverse("donations:fund-list")
    client.get(url)
    with django_assert_max_num_queries(50) as page:
        client.get(url)
    unions = [query for query in page.captured_queries if "UNION ALL" in query["sql"]]
    assert len(unions) == 1


def test_pages_without_the_staff_navigation_count_no_queue(
    client, work, django_assert_max_num_queries
):
    with django_assert_max_num_queries(50) as captured:  # a visitor
        client.get(reverse("creators:home"))
    assert not [query for query in captured.captured_queries if "UNION ALL" in query["sql"]]
    client.force_login(StaffFactory(roles=[StaffRole.AUDITOR]))  # staff with no queue
    with django_assert_max_num_queries(50) as captured:
        client.get(reverse("creators:home"))
    assert not [query for query in captured.captured_queries if "UNION ALL" in query["sql"]]


# --- The held batches' list -------------------------------------------------------------------


def test_the_batch_list_narrows_to_held_batches(client, work):
    client.force_login(StaffFactory(roles=[StaffRole.FINANCE_APPROVER]))
    every = client.get(reverse("donations:batch-list")).content.decode()
    held = client.get(reverse("donations:batch-list"), {"held": "1"}).content.decode()
    every_rows = re.search(r"<tbody>.*?</tbody>", every, re.S).group(0)
    held_rows = re.search(r"<tbody>.*?</tbody>", held, re.S).group(0)
    assert (every_rows.count("<tr>"), held_rows.count("<tr>")) == (3, 2)
    assert held_rows.count("On hold") == 2
    assert "Every batch" in held
    assert "Every batch" not in every
