"""Staff pages for grants, nonprofits, funds and payment batches: who may see them, what the
row actions answer with and without htmx, filters, and query counts that do not grow."""

import json
from decimal import Decimal
from urllib.parse import quote, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from changemakers.core.htmx import form_refusal
from changemakers.core.models import AuditEvent
from donations.forms import GrantProposeForm
from donations.models import (
    Disbursement,
    DisbursementBatch,
    Fund,
    Grant,
    Nonprofit,
    grants_digest,
)
from donations.services import (
    grant_approve,
    grants_schedule,
    nonprofit_verify,
)
from tests.donations.payees import payee_changed
from tests.factories import (
    CohortFactory,
    CreatorFactory,
    DisbursementFactory,
    EnrolmentFactory,
    FundFactory,
    GrantFactory,
    NonprofitFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
AMOUNT = Decimal("25000.00")


def htmx(target: str) -> dict[str, str]:
    return {**HTMX, "HX-Target": target}


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def fund(db):
    return FundFactory(name="Change Makers Fund", total=Decimal("100000.00"))


def verified_nonprofit(**kwargs) -> Nonprofit:
    return NonprofitFactory(verification_status=Nonprofit.Verification.VERIFIED, **kwargs)


def proposed_grant(fund, **kwargs) -> Grant:
    kwargs.setdefault("nonprofit", verified_nonprofit())
    return GrantFactory(fund=fund, **kwargs)


def approved_grant(fund, staff, **kwargs) -> Grant:
    return grant_approve(grant=proposed_grant(fund, **kwargs), actor=staff)


def status_of(grant: Grant) -> str:
    return Grant.objects.values_list("status", flat=True).get(pk=grant.pk)


def content(response) -> str:
    return response.content.decode()


# --- Who may come in -------------------------------------------------------------------------

PAGES = [
    ("backoffice:dashboard", False),
    ("donations:grant-list", False),
    ("donations:grant-create", False),
    ("donations:grant-detail", True),
    ("donations:batch-list", False),
    ("donations:batch-detail", "batch"),
    ("donations:fund-list", False),
    ("donations:nonprofit-list", False),
    ("donations:nonprofit-create", False),
]
GRANT_ACTIONS = ["grant-approve", "grant-cancel", "grant-retry"]


@pytest.fixture
def world(fund, staff_user):
    """A proposed grant to a pending nonprofit, an approved grant and a batch."""
    pending = NonprofitFactory()
    proposed = GrantFactory(fund=fund, nonprofit=pending)
    approved = approved_grant(fund, staff_user)
    batch = DisbursementBatch.objects.create(created_by=staff_user, size=0)
    return {"pending": pending, "proposed": proposed, "approved": approved, "batch": batch}


def page_url(name: str, arg, world) -> str:
    if arg is True:
        return reverse(name, args=[world["proposed"].pk])
    if arg == "batch":
        return reverse(name, args=[world["batch"].pk])
    return reverse(name)


def post_actions(world) -> list[tuple[str, dict]]:
    grant = world["proposed"].pk
    nonprofit = world["pending"].pk
    return [
        *[
            (reverse(f"donations:{name}", args=[grant]), {"reason": "Because."})
            for name in GRANT_ACTIONS
        ],
        (reverse("donations:grants-schedule"), {"grants": [world["approved"].pk]}),
        (reverse("donations:nonprofit-verify", args=[nonprofit]), {}),
        (reverse("donations:nonprofit-reject", args=[nonprofit]), {"reason": "Because."}),
        (
            reverse("donations:nonprofit-create"),
            {
                "legal_name": "Sneaky",
                "registration_number": "X-1",
                "country": "GB",
                "contact_email": "a@b.example",
                "reach": "local",
            },
        ),
        (
            reverse("donations:grant-create"),
            {"fund": world["proposed"].fund_id, "nonprofit": nonprofit, "amount": "10.00"},
        ),
    ]


def snapshot(world) -> tuple:
    return (
        status_of(world["proposed"]),
        status_of(world["approved"]),
        Nonprofit.objects.get(pk=world["pending"].pk).verification_status,
        Nonprofit.objects.count(),
        Grant.objects.count(),
        DisbursementBatch.objects.count(),
        Fund.objects.values_list("committed", flat=True).get(pk=world["proposed"].fund_id),
    )


@pytest.mark.parametrize(("name", "arg"), PAGES)
def test_staff_sees_every_staff_page(staff_client, world, name, arg):
    response = staff_client.get(page_url(name, arg, world), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == []


@pytest.mark.parametrize(("name", "arg"), PAGES)
def test_anonymous_is_sent_to_sign_in_from_every_page(client, world, name, arg):
    url = page_url(name, arg, world)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("who", ["creator_user", "nonprofit_user"])
@pytest.mark.parametrize(("name", "arg"), PAGES)
def test_creators_and_nonprofit_contacts_are_refused_every_page(
    client, world, request, who, name, arg
):
    client.force_login(request.getfixturevalue(who))
    assert client.get(page_url(name, arg, world)).status_code == 403


def test_anonymous_posts_change_nothing_and_go_to_sign_in(client, world):
    before = snapshot(world)
    for url, data in post_actions(world):
        response = client.post(url, data, headers=HTMX)
        assert response.status_code == 302, url
        assert urlsplit(response.url).path == reverse("login"), url
    assert snapshot(world) == before


@pytest.mark.parametrize("who", ["creator_user", "nonprofit_user"])
def test_creator_and_nonprofit_contact_posts_are_refused_and_change_nothing(
    client, world, request, who
):
    client.force_login(request.getfixturevalue(who))
    before = snapshot(world)
    for url, data in post_actions(world):
        assert client.post(url, data).status_code == 403, url
        assert client.post(url, data, headers=HTMX).status_code == 403, url
    assert snapshot(world) == before


def test_staff_lands_on_the_dashboard_after_signing_in(client, staff_user):
    from tests.factories import PASSWORD

    response = client.post(
        reverse("login"), {"username": staff_user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == reverse("backoffice:dashboard")


def test_staff_nav_links_to_the_staff_pages(staff_client):
    html = content(staff_client.get(reverse("donations:fund-list")))
    for name in (
        "backoffice:dashboard",
        "donations:grant-list",
        "donations:nonprofit-list",
        "donations:fund-list",
        "donations:batch-list",
    ):
        assert f'href="{reverse(name)}"' in html
    assert f'href="{reverse("donations:fund-list")}" aria-current="page"' in html


def test_creator_sees_no_staff_links(client, creator_user):
    client.force_login(creator_user)
    assert reverse("donations:grant-list") not in content(client.get(reverse("creators:home")))


# --- The pipeline ------------------------------------------------------------------------------


def test_pipeline_row_shows_nonprofit_name_fund_money_and_status(staff_client, staff_user):
    big = FundFactory(name="Big Fund", total=Decimal("5000000.00"))
    creator = CreatorFactory(display_name="Joel Bervell")
    approved_grant(
        big,
        staff_user,
        creator=creator,
        amount=Decimal("1234567.50"),
        nonprofit=verified_nonprofit(legal_name="Open Medicine"),
    )
    proposed_grant(big, creator=None, nonprofit=verified_nonprofit(legal_name="Clean Water"))

    html = content(staff_client.get(reverse("donations:grant-list")))

    assert "$1,234,567.50" in html
    assert "Joel Bervell" in html
    assert "Program grant" in html
    assert "Big Fund" in html
    assert 'class="badge badge--approved">Approved<' in html
    assert 'class="badge badge--proposed">Proposed<' in html


def test_pipeline_offers_only_the_actions_a_status_allows(staff_client, fund, staff_user):
    proposed = proposed_grant(fund)
    approved = approved_grant(fund, staff_user)
    cancelled = GrantFactory(fund=fund, status=Grant.Status.CANCELLED)
    failed = GrantFactory(fund=fund, status=Grant.Status.FAILED)

    html = content(staff_client.get(reverse("donations:grant-list")))

    def urls(name, grant):
        return reverse(f"donations:{name}", args=[grant.pk])

    assert urls("grant-approve", proposed) in html
    assert urls("grant-cancel", proposed) in html
    review = reverse("donations:grants-review")
    assert f"{review}?grants={proposed.pk}&" not in html
    assert f"{review}?grants={approved.pk}&" in html
    assert urls("grant-approve", approved) not in html
    assert urls("grant-retry", failed) in html
    assert urls("grant-cancel", failed) in html
    for name in GRANT_ACTIONS:
        assert urls(name, cancelled) not in html
    assert f'name="grants" value="{approved.pk}"' in html
    assert f'name="grants" value="{proposed.pk}"' not in html


def names_listed(response) -> set[str]:
    return {grant.nonprofit.legal_name for grant in response.context["page_obj"].object_list}


def test_pipeline_filters_by_fund_cohort_country_status_and_search(staff_client, staff_user):
    fund_a = FundFactory(name="Fund A")
    fund_b = FundFactory(name="Fund B")
    cohort = CohortFactory(name="Spring")
    enrolled = EnrolmentFactory(cohort=cohort).creator
    proposed_grant(
        fund_a, nonprofit=verified_nonprofit(legal_name="Alpha", country="KE"), creator=enrolled
    )
    approved_grant(
        fund_a,
        staff_user,
        nonprofit=verified_nonprofit(legal_name="Bravo", country="GB"),
        purpose="Reading kits",
    )
    proposed_grant(fund_b, nonprofit=verified_nonprofit(legal_name="Charlie", country="KE"))
    url = reverse("donations:grant-list")

    assert names_listed(staff_client.get(url)) == {"Alpha", "Bravo", "Charlie"}
    assert names_listed(staff_client.get(url, {"fund": fund_b.pk})) == {"Charlie"}
    assert names_listed(staff_client.get(url, {"cohort": cohort.pk})) == {"Alpha"}
    assert names_listed(staff_client.get(url, {"country": "KE"})) == {"Alpha", "Charlie"}
    assert names_listed(staff_client.get(url, {"status": "approved"})) == {"Bravo"}
    assert names_listed(staff_client.get(url, {"q": "reading"})) == {"Bravo"}
    assert names_listed(staff_client.get(url, {"q": enrolled.handle})) == {"Alpha"}
    assert names_listed(staff_client.get(url, {"country": "KE", "fund": fund_a.pk})) == {"Alpha"}
    # An unknown value is ignored, not an error page.
    assert names_listed(staff_client.get(url, {"fund": "999999", "status": "nope"})) == {
        "Alpha",
        "Bravo",
        "Charlie",
    }


def test_status_counts_follow_the_other_filters(staff_client, staff_user):
    fund_a = FundFactory(name="Fund A")
    fund_b = FundFactory(name="Fund B")
    proposed_grant(fund_a)
    proposed_grant(fund_a)
    approved_grant(fund_a, staff_user)
    proposed_grant(fund_b)

    response = staff_client.get(
        reverse("donations:grant-list"), {"fund": fund_a.pk, "status": "approved"}
    )

    counts = {count.code: count.count for count in response.context["counts"]}
    assert counts["proposed"] == 2
    assert counts["approved"] == 1
    assert counts[""] == 3
    assert 'id="status-tab-approved" aria-current="page"' in content(response)


def test_pipeline_filters_fold_until_one_other_than_the_status_narrows_it(
    staff_client, staff_user, fund
):
    """On a phone the folded filters let the grants come first; the status tabs' own filter
    leaves them folded, another one opens them and the summary counts both."""
    grant_list = reverse("donations:grant-list")
    folded = '<details class="filters-fold filters-fold--wide-open">'
    unfolded = '<details class="filters-fold filters-fold--wide-open" open>'

    html = content(staff_client.get(grant_list))
    assert folded in html
    assert "<summary>Filters</summary>" in html

    html = content(staff_client.get(grant_list, {"status": "approved"}))
    assert folded in html
    assert "Filters (1 active)" in html

    html = content(staff_client.get(grant_list, {"status": "approved", "fund": fund.pk}))
    assert unfolded in html
    assert "Filters (2 active)" in html


def test_pipeline_rows_name_their_columns_for_the_phone_cards(staff_client, staff_user, fund):
    approved_grant(fund, staff_user)
    html = content(staff_client.get(reverse("donations:grant-list")))
    for label in ("In the name of", "Fund", "Amount", "Status"):
        assert f'<span class="cell-label">{label}</span>' in html


def test_pipeline_htmx_filter_answers_the_pipeline_fragment_only(staff_client, fund):
    proposed_grant(fund, nonprofit=verified_nonprofit(legal_name="Alpha"))
    response = staff_client.get(
        reverse("donations:grant-list"), {"status": "proposed"}, headers=htmx("pipeline")
    )
    html = content(response)
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="pipeline"')
    assert "Alpha" in html
    assert "HX-Request" in response["Vary"]


def test_status_tabs_and_budget_refetch_as_fragments(staff_client, fund, staff_user):
    approved_grant(fund, staff_user)
    tabs = content(staff_client.get(reverse("donations:grant-list"), headers=htmx("status-tabs")))
    budget = content(staff_client.get(reverse("donations:grant-list"), headers=htmx("budget")))
    assert tabs.lstrip().startswith('<nav id="status-tabs"')
    assert 'data-hx-trigger="grantsChanged from:body"' in tabs
    assert "<table" not in tabs
    assert budget.lstrip().startswith('<section id="budget"')
    assert "$75,000.00" in budget  # 100,000 - 25,000 committed


def test_pipeline_paginates_by_fifty(staff_client, fund):
    for _ in range(51):
        GrantFactory(fund=fund, amount=Decimal("1.00"))
    first = staff_client.get(reverse("donations:grant-list"))
    second = staff_client.get(reverse("donations:grant-list"), {"page": 2})
    assert len(first.context["page_obj"].object_list) == 50
    assert len(second.context["page_obj"].object_list) == 1


def count_queries(client, url, **kwargs) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **kwargs)
    assert response.status_code == 200
    return len(queries)


def make_grants(n: int, staff, cohort=None, proposer=None) -> None:
    fund = FundFactory(total=Decimal("10000000.00"))
    cohort = cohort or CohortFactory()
    for i in range(n):
        creator = EnrolmentFactory(cohort=cohort).creator if i % 2 else None
        grant = proposed_grant(fund, creator=creator, proposed_by=proposer)
        if i % 3 == 0:
            grant_approve(grant=grant, actor=staff)
    grants_schedule(grants=fund.grants.filter(status="approved")[:3], actor=staff)


def test_pipeline_queries_do_not_grow_with_the_rows(staff_client, staff_user, proposer_user):
    url = reverse("donations:grant-list")
    cohort = CohortFactory()
    filtered = {"q": "Nonprofit", "cohort": str(cohort.pk)}
    make_grants(5, staff_user, cohort, proposer=proposer_user)
    few = count_queries(staff_client, url)
    few_filtered = count_queries(staff_client, url, data=filtered)
    make_grants(55, staff_user, cohort, proposer=proposer_user)
    many = count_queries(staff_client, url)
    many_filtered = count_queries(staff_client, url, data=filtered)
    assert len(staff_client.get(url, filtered).context["page_obj"].object_list) > 20
    assert few == many
    assert few_filtered == many_filtered
    # Session, user, funds, cohorts, countries, status counts (the paginator's count is the
    # shown tab's), the staff navigation's badges, the page of grants, who proposed them and
    # who approved them.
    assert many == 10


def test_nonprofits_page_queries_do_not_grow_with_the_rows(staff_client, fund):
    url = reverse("donations:nonprofit-list")
    for _ in range(5):
        proposed_grant(fund)
    few = count_queries(staff_client, url)
    for _ in range(55):
        proposed_grant(fund)
    assert count_queries(staff_client, url) == few


def test_funds_page_queries_do_not_grow_with_funds_or_grants(staff_client, staff_user):
    url = reverse("donations:fund-list")
    make_grants(5, staff_user)
    few = count_queries(staff_client, url)
    for _ in range(5):
        make_grants(12, staff_user)
    assert count_queries(staff_client, url) == few


def test_batches_page_queries_do_not_grow_with_batches(staff_client, staff_user):
    url = reverse("donations:batch-list")
    make_grants(5, staff_user)
    few = count_queries(staff_client, url)
    for _ in range(5):
        make_grants(6, staff_user)
    assert DisbursementBatch.objects.count() == 6
    assert count_queries(staff_client, url) == few


# --- Row actions -------------------------------------------------------------------------------


def test_approve_with_htmx_answers_the_updated_row_and_a_grants_changed_event(staff_client, fund):
    grant = proposed_grant(fund)
    next_url = reverse("donations:grant-list") + "?status=proposed"

    response = staff_client.post(
        reverse("donations:grant-approve", args=[grant.pk]),
        {"next": next_url},
        headers=htmx(f"grant-{grant.pk}"),
    )

    html = content(response)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="grant-{grant.pk}"')
    assert "<html" not in html
    assert "badge--approved" in html
    # Its payment goes through the review; the way back is the page it came from.
    review = reverse("donations:grants-review")
    assert f"{review}?grants={grant.pk}&next={quote(next_url, safe='')}" in html.replace(
        "&amp;", "&"
    )
    assert 'data-hx-swap-oob="innerHTML">The grant to' in html
    assert response["HX-Trigger"] == '{"grantsChanged": {}}'
    assert status_of(grant) == Grant.Status.APPROVED
    fund.refresh_from_db()
    assert fund.committed == AMOUNT


def test_approve_without_javascript_redirects_back_with_the_query_and_a_message(staff_client, fund):
    grant = proposed_grant(fund)
    back = reverse("donations:grant-list") + "?status=proposed&q=a"

    response = staff_client.post(
        reverse("donations:grant-approve", args=[grant.pk]), {"next": back}
    )

    assert response.status_code == 302
    assert response.url == back
    assert status_of(grant) == Grant.Status.APPROVED
    page = staff_client.get(response.url)
    assert "is approved" in content(page)


def test_a_next_url_off_the_site_is_ignored(staff_client, fund):
    grant = proposed_grant(fund)
    response = staff_client.post(
        reverse("donations:grant-approve", args=[grant.pk]), {"next": "https://evil.example/"}
    )
    assert response.url == reverse("donations:grant-list")


def test_approving_for_an_unverified_nonprofit_shows_the_refusal_in_the_row(staff_client, fund):
    grant = GrantFactory(fund=fund, nonprofit=NonprofitFactory(legal_name="Unvetted"))

    response = staff_client.post(
        reverse("donations:grant-approve", args=[grant.pk]), headers=htmx(f"grant-{grant.pk}")
    )

    html = content(response)
    assert response.status_code == 422  # base.html's htmx config swaps it
    assert html.lstrip().startswith(f'<tr id="grant-{grant.pk}" class="row--invalid"')
    assert 'role="alert"' in html
    assert "Unvetted is not verified yet" in html
    assert "HX-Trigger" not in response
    assert status_of(grant) == Grant.Status.PROPOSED
    fund.refresh_from_db()
    assert fund.committed == 0


def test_approving_without_payout_details_shows_the_refusal_in_the_row(
    staff_client, fund, staff_user
):
    nonprofit = nonprofit_verify(
        nonprofit=NonprofitFactory(legal_name="No Bank", payout_reference=""), actor=staff_user
    )
    grant = GrantFactory(fund=fund, nonprofit=nonprofit)

    response = staff_client.post(
        reverse("donations:grant-approve", args=[grant.pk]), headers=htmx(f"grant-{grant.pk}")
    )

    assert response.status_code == 422
    assert 'role="alert"' in content(response)
    assert "No Bank has no payout reference yet" in content(response)
    assert status_of(grant) == Grant.Status.PROPOSED


def test_approving_over_budget_shows_what_remains_in_the_row_and_commits_nothing(
    staff_client, fund, staff_user
):
    approved_grant(fund, staff_user, amount=Decimal("90000.00"))
    grant = proposed_grant(fund, amount=Decimal("20000.00"))

    response = staff_client.post(
        reverse("donations:grant-approve", args=[grant.pk]), headers=htmx(f"grant-{grant.pk}")
    )

    assert "Not enough left in Change Makers Fund: USD 10,000.00 remaining" in content(response)
    assert status_of(grant) == Grant.Status.PROPOSED
    fund.refresh_from_db()
    assert fund.committed == Decimal("90000.00")


def test_a_refusal_without_javascript_redirects_with_an_error_message(staff_client, fund):
    grant = GrantFactory(fund=fund, nonprofit=NonprofitFactory(legal_name="Unvetted"))
    response = staff_client.post(reverse("donations:grant-approve", args=[grant.pk]), follow=True)
    assert "Unvetted is not verified yet" in content(response)
    assert status_of(grant) == Grant.Status.PROPOSED


def test_cancel_needs_a_reason_and_says_so_in_the_row(staff_client, fund, staff_user):
    grant = approved_grant(fund, staff_user)

    response = staff_client.post(
        reverse("donations:grant-cancel", args=[grant.pk]),
        {"reason": "  "},
        headers=htmx(f"grant-{grant.pk}"),
    )

    assert "This field is required." in content(response)
    assert status_of(grant) == Grant.Status.APPROVED


def test_cancel_with_a_reason_releases_the_money_and_shows_the_reason(
    staff_client, fund, staff_user
):
    grant = approved_grant(fund, staff_user)

    response = staff_client.post(
        reverse("donations:grant-cancel", args=[grant.pk]),
        {"reason": "Nominated twice"},
        headers=htmx(f"grant-{grant.pk}"),
    )

    html = content(response)
    assert "badge--cancelled" in html
    assert "Nominated twice" in html
    assert status_of(grant) == Grant.Status.CANCELLED
    fund.refresh_from_db()
    assert fund.committed == 0


def test_retry_pays_a_failed_grant(
    staff_client, fund, staff_user, django_capture_on_commit_callbacks
):
    grant = approved_grant(
        fund, staff_user, nonprofit=verified_nonprofit(payout_reference="sandbox-fail")
    )
    with django_capture_on_commit_callbacks(execute=True):
        grants_schedule(grants=[grant], actor=staff_user)
    assert status_of(grant) == Grant.Status.FAILED
    payee_changed(grant, "acct-new-bank")

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("donations:grant-retry", args=[grant.pk]), headers=htmx(f"grant-{grant.pk}")
        )

    assert response.status_code == 200
    assert response["HX-Trigger"] == '{"grantsChanged": {}}'
    assert status_of(grant) == Grant.Status.DISBURSED
    fund.refresh_from_db()
    assert fund.disbursed == AMOUNT


def test_an_action_from_the_detail_page_answers_the_detail_panel(staff_client, fund):
    grant = proposed_grant(fund)
    response = staff_client.post(
        reverse("donations:grant-approve", args=[grant.pk]), headers=htmx("grant-detail")
    )
    html = content(response)
    assert html.lstrip().startswith('<div id="grant-detail"')
    assert "History" in html
    assert status_of(grant) == Grant.Status.APPROVED


def test_an_unknown_grant_is_not_found(staff_client):
    assert staff_client.post(reverse("donations:grant-approve", args=[999])).status_code == 404
    assert staff_client.get(reverse("donations:grant-detail", args=[999])).status_code == 404


def test_actions_refuse_get(staff_client, fund):
    grant = proposed_grant(fund)
    response = staff_client.get(reverse("donations:grant-approve", args=[grant.pk]))
    assert response.status_code == 405
    assert status_of(grant) == Grant.Status.PROPOSED


# --- Scheduling a batch and watching it --------------------------------------------------------


def reviewed(*grants: Grant) -> dict:
    """What the review page's "Pay" form posts for these grants, as they are now."""
    fresh = Grant.objects.filter(pk__in=[grant.pk for grant in grants])
    return {"grants": [grant.pk for grant in grants], "expected": grants_digest(fresh)}


def test_schedule_selected_creates_a_batch_pays_it_and_goes_to_its_page(
    staff_client, fund, staff_user, django_capture_on_commit_callbacks
):
    first = approved_grant(fund, staff_user)
    second = approved_grant(fund, staff_user)
    left_out = approved_grant(fund, staff_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("donations:grants-schedule"), reviewed(first, second))

    batch = DisbursementBatch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("donations:batch-detail", args=[batch.pk])
    assert batch.size == 2
    assert status_of(first) == status_of(second) == Grant.Status.DISBURSED
    assert status_of(left_out) == Grant.Status.APPROVED
    fund.refresh_from_db()
    assert fund.disbursed == 2 * AMOUNT
    page = content(staff_client.get(response.url))
    assert "100% done" in page
    assert "2 grants scheduled for payment" in page


def test_schedule_without_its_review_shows_the_review_and_pays_nothing(
    staff_client, fund, staff_user
):
    grant = approved_grant(fund, staff_user)
    response = staff_client.post(reverse("donations:grants-schedule"), {"grants": [grant.pk]})
    assert response.status_code == 200
    assert "Review the payment" in content(response)
    assert "Pay 1 grant" in content(response)
    assert not DisbursementBatch.objects.exists()
    assert status_of(grant) == Grant.Status.APPROVED


def test_schedule_selected_with_nothing_approved_says_so(staff_client, fund):
    grant = proposed_grant(fund)
    url = reverse("donations:grants-schedule")

    page = staff_client.post(url, {"grants": [grant.pk], "expected": "0" * 64})

    assert page.status_code == 422
    assert "None of these grants is approved" in content(page)
    assert not DisbursementBatch.objects.exists()


def test_batch_progress_polls_while_payments_are_pending_and_stops_when_done(
    staff_client, fund, staff_user, django_capture_on_commit_callbacks
):
    grants = [approved_grant(fund, staff_user) for _ in range(2)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch = grants_schedule(grants=grants, actor=staff_user)
    url = reverse("donations:batch-detail", args=[batch.pk])

    pending = staff_client.get(url, headers=htmx("batch-progress"))
    assert pending.status_code == 200
    assert 'data-hx-trigger="every 1s"' in content(pending)
    assert "0% done: 0 of 2 payments finished" in content(pending)
    assert "<html" not in content(pending)
    full_page = content(staff_client.get(url))
    assert 'data-hx-trigger="every 1s"' in full_page
    assert ">Refresh</a>" in full_page

    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()

    done = staff_client.get(url, headers=htmx("batch-progress"))
    assert done.status_code == 286
    assert "data-hx-trigger" not in content(done)
    assert "100% done: all 2 payments finished" in content(done)
    assert 'id="count-succeeded">2<' in content(done)


def test_batch_page_lists_failed_payments_with_their_error(
    staff_client, fund, staff_user, django_capture_on_commit_callbacks
):
    good = approved_grant(fund, staff_user)
    bad = approved_grant(
        fund,
        staff_user,
        nonprofit=verified_nonprofit(
            legal_name="Closed Account Org", payout_reference="sandbox-fail"
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        batch = grants_schedule(grants=[good, bad], actor=staff_user)

    html = content(staff_client.get(reverse("donations:batch-detail", args=[batch.pk])))

    assert "Closed Account Org" in html
    assert "payee&#x27;s account is closed" in html
    assert 'id="count-failed">1<' in html
    assert 'value="2"' in html  # the <progress> is full: both are finished


def test_batch_list_shows_each_batch_with_its_counts(staff_client, fund, staff_user):
    grant = approved_grant(fund, staff_user)
    batch = grants_schedule(grants=[grant], actor=staff_user)
    html = content(staff_client.get(reverse("donations:batch-list")))
    assert reverse("donations:batch-detail", args=[batch.pk]) in html
    assert staff_user.username in html


# --- Grant detail ------------------------------------------------------------------------------


def test_grant_detail_shows_its_payment_and_its_history_in_order(
    staff_client, fund, staff_user, django_capture_on_commit_callbacks
):
    grant = approved_grant(fund, staff_user, purpose="Reading kits")
    with django_capture_on_commit_callbacks(execute=True):
        grants_schedule(grants=[grant], actor=staff_user)
    disbursement = Disbursement.objects.get(grant=grant)

    response = staff_client.get(reverse("donations:grant-detail", args=[grant.pk]))

    html = content(response)
    assert disbursement.provider_reference in html
    assert disbursement.idempotency_key in html
    assert "Reading kits" in html
    history = response.context["history"]
    times = [event.occurred_at for event in history]
    assert times == sorted(times)
    assert [(e.is_payment, e.action) for e in history][:3] == [
        (False, "approved"),
        (False, "scheduled"),
        (True, "created"),
    ]
    grant_events = AuditEvent.objects.for_object(grant).count()
    payment_events = AuditEvent.objects.for_object(disbursement).count()
    assert len(history) == grant_events + payment_events
    assert "Payment: Paid" in html
    assert "Scheduled for payment → " not in html  # states are labels, actions are verbs
    assert "Approved → Scheduled" in html


# --- Funds -------------------------------------------------------------------------------------


def test_funds_page_shows_total_committed_disbursed_remaining_and_counts(
    staff_client, fund, staff_user, django_capture_on_commit_callbacks
):
    paid = approved_grant(fund, staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        grants_schedule(grants=[paid], actor=staff_user)
    approved_grant(fund, staff_user, amount=Decimal("30000.00"))
    proposed_grant(fund)

    response = staff_client.get(reverse("donations:fund-list"))

    html = content(response)
    assert "$100,000.00" in html  # total
    assert "$55,000.00" in html  # committed
    assert "$25,000.00" in html  # disbursed
    assert "$45,000.00" in html  # remaining
    row = response.context["rows"][0]
    counts = dict(zip([code for code, _ in Grant.Status.choices], row["counts"], strict=True))
    assert counts == {
        "proposed": 1,
        "approved": 1,
        "scheduled": 0,
        "processing": 0,
        "disbursed": 1,
        "failed": 0,
        "cancelled": 0,
        "unknown": 0,
        "reversed": 0,
    }
    assert 'max="100000.00" value="55000.00"' in html


def test_an_overspent_fund_explains_itself_and_staff_raise_its_total(staff_client):
    fund = FundFactory(
        name="Late Fund",
        total=Decimal("1000.00"),
        committed=Decimal("1250.00"),
        overspent=Decimal("250.00"),
    )
    url = reverse("donations:fund-overspend-resolve", args=[fund.pk])

    html = content(staff_client.get(reverse("donations:fund-list")))
    assert "This fund is overspent by USD 250.00" in html
    assert f'action="{url}"' in html

    refused = staff_client.post(url, {"note": "  "})
    assert refused.status_code == 422
    assert "This fund is overspent" in refused.content.decode()

    response = staff_client.post(url, {"note": "Covered by the reserve"})
    assert response.status_code == 302
    fund.refresh_from_db()
    assert (fund.total, fund.overspent, fund.committed) == (Decimal("1250.00"), 0, fund.total)
    assert "This fund is overspent" not in content(staff_client.get(reverse("donations:fund-list")))


def test_staff_record_the_providers_answer_on_the_grant_page(staff_client, fund):
    grant = GrantFactory(fund=fund, amount=Decimal("500.00"), status=Grant.Status.UNKNOWN)
    Fund.objects.filter(pk=fund.pk).update(committed=Decimal("500.00"))
    DisbursementFactory(grant=grant, status="unknown", amount=Decimal("500.00"), recheck_at=None)
    detail = reverse("donations:grant-detail", args=[grant.pk])
    url = reverse("donations:grant-outcome-record", args=[grant.pk])

    html = content(staff_client.get(detail))
    assert "no longer asked automatically" in html
    assert f'action="{url}"' in html

    refused = staff_client.post(
        url, {"outcome": "paid", "note": "Statement"}, headers={"HX-Request": "true"}
    )
    assert refused.status_code == 422  # no reference
    assert "reference" in refused.content.decode()

    staff_client.post(url, {"outcome": "not_paid", "note": "Phoned them", "next": detail})
    grant.refresh_from_db()
    assert grant.status == Grant.Status.FAILED
    fund.refresh_from_db()
    assert fund.committed == 0


# --- Proposing a grant -------------------------------------------------------------------------


def test_propose_a_grant_creates_it_proposed_and_returns_to_the_pipeline(
    staff_client, fund, staff_user
):
    nonprofit = NonprofitFactory(legal_name="Pending Org")  # pending may be proposed to
    creator = CreatorFactory()

    response = staff_client.post(
        reverse("donations:grant-create"),
        {
            "fund": fund.pk,
            "nonprofit": nonprofit.pk,
            "creator": creator.pk,
            "amount": "25000.00",
            "purpose": "Donation",
        },
    )

    assert response.status_code == 302
    assert response.url == reverse("donations:grant-list")
    grant = Grant.objects.get()
    assert (grant.status, grant.amount, grant.creator, grant.nonprofit) == (
        Grant.Status.PROPOSED,
        AMOUNT,
        creator,
        nonprofit,
    )
    assert AuditEvent.objects.for_object(grant).get().actor == staff_user


def test_propose_refuses_a_rejected_nonprofit_and_a_bad_amount(staff_client, fund):
    rejected = NonprofitFactory(
        verification_status=Nonprofit.Verification.REJECTED, rejection_reason="Fake"
    )
    response = staff_client.post(
        reverse("donations:grant-create"),
        {"fund": fund.pk, "nonprofit": rejected.pk, "amount": "0"},
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert set(form.errors) == {"nonprofit", "amount"}
    assert not Grant.objects.exists()


def test_propose_form_prefills_the_nonprofit_from_the_vetting_page(staff_client):
    nonprofit = verified_nonprofit()
    response = staff_client.get(reverse("donations:grant-create"), {"nonprofit": nonprofit.pk})
    assert response.context["form"]["nonprofit"].value() == nonprofit.pk


def test_propose_form_offers_the_only_fund_and_no_default_among_several(staff_client, fund):
    response = staff_client.get(reverse("donations:grant-create"))
    assert response.context["form"]["fund"].value() == fund.pk
    FundFactory()
    response = staff_client.get(reverse("donations:grant-create"))
    assert response.context["form"]["fund"].value() is None


def test_service_errors_land_on_the_named_field_or_above_the_form(fund):
    from django.core.exceptions import ValidationError

    form = GrantProposeForm(data={})
    form.is_valid()
    form_refusal(form, ValidationError({"amount": "Too much.", "currency": "Wrong currency."}))
    form_refusal(form, ValidationError("Refused."))
    assert "Too much." in form.errors["amount"]
    assert form.non_field_errors() == ["Wrong currency.", "Refused."]


# --- Vetting nonprofits ------------------------------------------------------------------------


def test_nonprofits_list_pending_first_and_filters_by_status_and_search(staff_client):
    verified_nonprofit(legal_name="Alpha Verified")
    NonprofitFactory(legal_name="Zulu Pending", registration_number="ZP-1")
    NonprofitFactory(
        legal_name="Bravo Rejected",
        verification_status=Nonprofit.Verification.REJECTED,
        rejection_reason="Fake",
    )
    url = reverse("donations:nonprofit-list")

    def listed(**params):
        response = staff_client.get(url, params)
        return [n.legal_name for n in response.context["page_obj"].object_list]

    assert listed() == ["Zulu Pending", "Alpha Verified", "Bravo Rejected"]
    assert listed(status="rejected") == ["Bravo Rejected"]
    assert listed(q="zp-1") == ["Zulu Pending"]
    fragment = staff_client.get(url, {"status": "pending"}, headers=htmx("results"))
    assert content(fragment).lstrip().startswith('<section id="results"')


def test_verify_with_htmx_answers_the_updated_row(staff_client):
    nonprofit = NonprofitFactory()
    response = staff_client.post(
        reverse("donations:nonprofit-verify", args=[nonprofit.pk]),
        headers=htmx(f"nonprofit-{nonprofit.pk}"),
    )
    html = content(response)
    assert html.lstrip().startswith(f'<tr id="nonprofit-{nonprofit.pk}"')
    assert "badge--verified" in html
    assert ">Renew verification</button>" in html  # renews the verification from now
    assert "nonprofitsChanged" in json.loads(response["HX-Trigger"])
    nonprofit.refresh_from_db()
    assert nonprofit.verification_status == Nonprofit.Verification.VERIFIED


def test_the_waiting_for_review_count_is_re_fetched_on_its_own(staff_client):
    NonprofitFactory.create_batch(2)
    url = reverse("donations:nonprofit-list")
    page = content(staff_client.get(url))
    assert 'data-hx-trigger="nonprofitsChanged from:body"' in page
    note = content(staff_client.get(url, headers=htmx("pending-note")))
    assert note.lstrip().startswith('<span id="pending-note"')
    assert "(2 waiting for review)" in " ".join(note.split())


def test_reject_with_a_reason_and_without_javascript(staff_client):
    nonprofit = NonprofitFactory()
    response = staff_client.post(
        reverse("donations:nonprofit-reject", args=[nonprofit.pk]),
        {"reason": "Not a registered charity", "next": reverse("donations:nonprofit-list")},
    )
    assert response.status_code == 302
    nonprofit.refresh_from_db()
    assert nonprofit.verification_status == Nonprofit.Verification.REJECTED
    assert nonprofit.rejection_reason == "Not a registered charity"


def test_rejecting_a_nonprofit_with_committed_grants_holds_them(staff_client, fund, staff_user):
    grant = approved_grant(fund, staff_user)
    nonprofit = grant.nonprofit

    response = staff_client.post(
        reverse("donations:nonprofit-reject", args=[nonprofit.pk]),
        {"reason": "Changed our minds"},
        headers=htmx(f"nonprofit-{nonprofit.pk}"),
    )

    assert response.status_code == 200
    nonprofit.refresh_from_db()
    assert nonprofit.verification_status == Nonprofit.Verification.REJECTED
    grant.refresh_from_db()
    assert grant.status == Grant.Status.APPROVED
    assert grant.is_held
    assert "Changed our minds" in grant.hold_reason


def test_reject_without_a_reason_is_refused_in_the_row(staff_client):
    nonprofit = NonprofitFactory()
    response = staff_client.post(
        reverse("donations:nonprofit-reject", args=[nonprofit.pk]),
        {"reason": ""},
        headers=htmx(f"nonprofit-{nonprofit.pk}"),
    )
    assert response.status_code == 422
    assert "This field is required." in content(response)
    nonprofit.refresh_from_db()
    assert nonprofit.verification_status == Nonprofit.Verification.PENDING


NEW_NONPROFIT = {
    "legal_name": "Code Nairobi",
    "registration_number": "KE-NGO-1",
    "country": "KE",
    "contact_email": "grants@code.example",
    "website": "",
    "reach": "local",
    "payout_reference": "",
}


def test_add_a_nonprofit_creates_it_pending(staff_client, staff_user):
    response = staff_client.post(reverse("donations:nonprofit-create"), NEW_NONPROFIT)
    assert response.status_code == 302
    nonprofit = Nonprofit.objects.get()
    assert nonprofit.verification_status == Nonprofit.Verification.PENDING
    assert AuditEvent.objects.for_object(nonprofit).get().actor == staff_user


def test_adding_a_duplicate_nonprofit_shows_the_error_on_the_form(staff_client):
    NonprofitFactory(registration_number="KE-NGO-1", country="KE")
    response = staff_client.post(reverse("donations:nonprofit-create"), NEW_NONPROFIT)
    assert response.status_code == 422
    assert "already registered in this country" in content(response)
    assert response.context["form"]["legal_name"].value() == "Code Nairobi"
    assert Nonprofit.objects.count() == 1


def test_schedule_selected_with_nothing_ticked_asks_for_a_tick(staff_client):
    url = reverse("donations:grants-schedule")
    response = staff_client.post(url, {"grants": ["²", "x"], "expected": "0" * 64})
    assert response.status_code == 200
    assert "Tick at least one approved grant." in content(response)
    assert not DisbursementBatch.objects.exists()


@pytest.mark.parametrize(
    ("query", "expected"),
    [({}, 7), ({"status": "approved"}, 3), ({"status": "held"}, 1), ({"q": "Wells"}, 2)],
)
def test_the_pipeline_counts_the_grants_it_pages(staff_client, staff_user, query, expected):
    fund = FundFactory(total=Decimal("10000000.00"))
    for i in range(7):
        grant = proposed_grant(fund, purpose="Wells" if i < 2 else "Books")
        if i % 2:
            approved = grant_approve(grant=grant, actor=staff_user)
    Grant.objects.filter(pk=approved.pk).update(held_at=approved.created_at, hold_reason="Payee")
    response = staff_client.get(reverse("donations:grant-list"), query)
    page_obj = response.context["page_obj"]
    assert page_obj.paginator.count == len(page_obj.object_list) == expected
