"""The staff dashboard: who may see it, what each section shows, filters applied in place,
charts drawn from grouped sums, and a query count that does not grow with the data."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from changemakers.backoffice.staff_views import chart_currency
from changemakers.core.audit import audit_record, audit_record_many
from creators.models import Cause
from donations.models import Disbursement, Fund, Grant
from programs.models import Enrolment, Milestone
from tests.factories import (
    CohortFactory,
    CreatorFactory,
    DisbursementFactory,
    EnrolmentFactory,
    FundFactory,
    GrantFactory,
    MilestoneFactory,
    NonprofitFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 20, 12, tzinfo=datetime.UTC)
TODAY = NOW.date()
HTMX_BODY = {"HX-Request": "true", "HX-Target": "dashboard-body"}
URL = "/staff/"


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def section(page: str, name: str) -> str:
    """The HTML of one dashboard section, by its id."""
    match = re.search(rf'<section id="dashboard-{name}".*?</section>', page, re.S)
    assert match, name
    return match.group(0)


NEW = object()


def paid(fund, *, amount="1000.00", when=NOW, creator=NEW, nonprofit=None, **kwargs) -> Grant:
    """A paid grant; `creator=None` for a program grant, a new creator when not given."""
    return GrantFactory(
        fund=fund,
        amount=Decimal(amount),
        status=Grant.Status.DISBURSED,
        disbursed_at=when,
        creator=CreatorFactory() if creator is NEW else creator,
        nonprofit=nonprofit or NonprofitFactory(),
        **kwargs,
    )


# --- Who may see it ------------------------------------------------------------------------------


def test_the_dashboard_is_the_staff_home(staff_client):
    assert reverse("backoffice:dashboard") == URL
    page = html(staff_client.get(URL))
    assert "<h1>Program dashboard</h1>" in page
    assert f'<a href="{URL}" aria-current="page">Dashboard</a>' in page


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={URL}"


@pytest.mark.parametrize("who", ["creator_user", "nonprofit_user"])
def test_creators_and_nonprofit_contacts_are_refused(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403
    assert client.get(URL, headers=HTMX_BODY).status_code == 403


def test_the_dashboard_answers_get_only(staff_client):
    assert staff_client.post(URL).status_code == 405


# --- Sections ------------------------------------------------------------------------------------


def test_budget_totals_are_per_currency_never_summed_across_currencies(staff_client):
    FundFactory(name="Dollars A", currency="USD", total=Decimal("1000.00"))
    FundFactory(name="Dollars B", currency="USD", total=Decimal("500.00"), committed=Decimal(10))
    FundFactory(name="Euros", currency="EUR", total=Decimal("2000.00"))

    budgets = section(html(staff_client.get(URL)), "budgets")

    totals = budgets[budgets.index('id="budget-totals"') :]
    assert totals.count("<tr ") == 2
    usd = totals[totals.index('id="budget-total-USD"') :]
    assert "All funds in USD" in usd
    assert "$1,500.00" in usd.split("</tr>")[0]
    assert "$1,490.00" in usd.split("</tr>")[0]  # remaining
    eur = totals[totals.index('id="budget-total-EUR"') :].split("</tr>")[0]
    assert "€2,000.00" in eur
    assert "3,500" not in budgets  # USD and EUR never added up


def test_one_fund_needs_no_totals(staff_client):
    FundFactory(name="Only", currency="USD")
    assert 'id="budget-totals"' not in section(html(staff_client.get(URL)), "budgets")


def test_budgets_show_each_funds_total_committed_disbursed_and_remaining(staff_client):
    FundFactory(
        name="Change Makers Fund",
        total=Decimal("1000000.00"),
        committed=Decimal("150000.00"),
        disbursed=Decimal("50000.00"),
    )
    budgets = section(html(staff_client.get(URL)), "budgets")
    assert "Change Makers Fund" in budgets
    for figure in ("$1,000,000.00", "$150,000.00", "$50,000.00", "$850,000.00"):
        assert figure in budgets
    assert 'max="1000000.00" value="150000.00"' in budgets


def test_grants_needing_action_are_counted_and_link_to_the_filtered_pipeline(staff_client):
    fund = FundFactory()
    other = FundFactory()
    GrantFactory.create_batch(2, fund=fund)
    GrantFactory(fund=fund, status=Grant.Status.APPROVED)
    GrantFactory(fund=fund, status=Grant.Status.FAILED)
    GrantFactory(fund=fund, status=Grant.Status.DISBURSED)
    GrantFactory(fund=other)

    page = section(html(staff_client.get(URL)), "needs-action")
    assert re.search(r'id="needs-proposed"[^>]*><span class="dashboard__count">3</span>', page)
    assert re.search(r'id="needs-approved"[^>]*><span class="dashboard__count">1</span>', page)
    assert re.search(r'id="needs-failed"[^>]*><span class="dashboard__count">1</span>', page)

    page = section(html(staff_client.get(URL, {"fund": fund.pk})), "needs-action")
    assert re.search(r'id="needs-proposed"[^>]*><span class="dashboard__count">2</span>', page)
    assert f'href="/staff/grants/?status=proposed&amp;fund={fund.pk}"' in page


def test_the_oldest_grants_waiting_come_first(staff_client):
    fund = FundFactory()
    with time_machine.travel(NOW - datetime.timedelta(days=30), tick=False):
        oldest = GrantFactory(fund=fund, nonprofit=NonprofitFactory(legal_name="Waiting Long"))
    GrantFactory(fund=fund, nonprofit=NonprofitFactory(legal_name="Just Came"))
    page = section(html(staff_client.get(URL)), "needs-action")
    assert page.index("Waiting Long") < page.index("Just Came")
    assert reverse("donations:grant-detail", args=[oldest.pk]) in page


def test_overdue_milestones_are_counted_and_link_to_the_cohort_grid(staff_client):
    cohort = CohortFactory(name="Autumn", start_date=datetime.date(2026, 9, 1))
    late = EnrolmentFactory(
        cohort=cohort, status=Enrolment.Status.ACTIVE, creator=CreatorFactory(display_name="Ada")
    )
    MilestoneFactory(enrolment=late, title="Kickoff", due_date=datetime.date(2026, 9, 15))
    MilestoneFactory(enrolment=late, title="Later", due_date=datetime.date(2026, 12, 1))
    MilestoneFactory(
        enrolment=late,
        title="Done",
        due_date=datetime.date(2026, 9, 10),
        status=Milestone.Status.APPROVED,
    )
    withdrawn = EnrolmentFactory(cohort=cohort, status=Enrolment.Status.WITHDRAWN)
    MilestoneFactory(enrolment=withdrawn, due_date=datetime.date(2026, 9, 15))
    other_cohort = CohortFactory(start_date=datetime.date(2026, 9, 1))
    MilestoneFactory(
        enrolment=EnrolmentFactory(cohort=other_cohort, status=Enrolment.Status.ACTIVE),
        due_date=datetime.date(2026, 10, 1),
    )

    page = section(html(staff_client.get(URL)), "overdue")
    assert "2 milestones overdue on" in page
    assert f'href="/staff/cohorts/{cohort.pk}/#enrolment-{late.pk}">Ada</a>' in page
    assert "Kickoff" in page
    assert "Later" not in page

    page = section(html(staff_client.get(URL, {"cohort": cohort.pk})), "overdue")
    assert "1 milestone overdue on" in page


def test_payment_failures_show_the_last_error_most_recently_tried_first(staff_client):
    fund = FundFactory()

    def payment(name, status, grant_status, *, days_ago, attempts=3, error=""):
        with time_machine.travel(NOW - datetime.timedelta(days=days_ago), tick=False):
            grant = GrantFactory(
                fund=fund, status=grant_status, nonprofit=NonprofitFactory(legal_name=name)
            )
            DisbursementFactory(
                grant=grant,
                status=status,
                attempts=attempts,
                last_error=error,
                provider_reference="SBX-1" if status == "succeeded" else "",
            )

    payment("Old Fail", "failed", "failed", days_ago=5, error="Account closed")
    payment("New Fail", "failed", "failed", days_ago=1, error="IBAN refused")
    payment("Retrying Org", "processing", "processing", days_ago=2, attempts=1, error="Timeout")
    payment("First Try Org", "processing", "processing", days_ago=0, attempts=1)
    payment("Paid Org", "succeeded", "disbursed", days_ago=0, attempts=2, error="Timeout")

    page = section(html(staff_client.get(URL)), "failures")
    assert page.index("New Fail") < page.index("Retrying Org") < page.index("Old Fail")
    assert "Account closed" in page
    assert "IBAN refused" in page
    assert "Timeout" in page
    assert "3 attempts" in page
    assert "1 attempt<" in page
    assert "First Try Org" not in page
    assert "Paid Org" not in page


def test_an_overspent_fund_is_shown_for_staff_to_resolve(staff_client):
    fund = FundFactory(
        name="Late Fund",
        total=Decimal("1000.00"),
        committed=Decimal("1250.00"),
        overspent=Decimal("250.00"),
    )
    FundFactory(name="Fine Fund")

    page = html(staff_client.get(URL))

    settle = section(page, "settle")
    assert "Late Fund" in settle
    assert "overspent by USD 250.00" in settle
    assert "Fine Fund" not in settle
    assert "Raise the fund" in settle
    assert "Overspent by USD 250.00" in section(page, "budgets")
    assert f"#fund-{fund.pk}-title" in settle


def test_payments_of_unknown_outcome_are_counted_and_flagged_ones_listed(staff_client):
    fund = FundFactory()

    def unknown(name, *, recheck_at, **kwargs):
        grant = GrantFactory(
            fund=fund,
            status=Grant.Status.UNKNOWN,
            status_reason="Gave up after 6 attempts",
            nonprofit=NonprofitFactory(legal_name=name),
            **kwargs,
        )
        DisbursementFactory(grant=grant, status="unknown", recheck_at=recheck_at)
        return grant

    unknown("Asked Again Org", recheck_at=NOW)
    unknown("Past Horizon Org", recheck_at=None)
    unknown("Odd Amount Org", recheck_at=None, held_at=NOW, hold_reason="Reported EUR 5.00")

    settle = section(html(staff_client.get(URL)), "settle")

    assert "2 payments need staff" in settle
    assert "Past Horizon Org" in settle
    assert "Odd Amount Org" in settle
    assert "Reported EUR 5.00" in settle
    assert "Asked Again Org" not in settle
    assert "1 payment whose outcome is unknown is being asked about again" in settle


def test_nothing_to_settle_shows_no_section(staff_client):
    FundFactory()
    assert 'id="dashboard-settle"' not in html(staff_client.get(URL))


def test_recent_audit_events_say_who_what_and_link_to_the_object(staff_client, staff_user):
    grant = GrantFactory(nonprofit=NonprofitFactory(legal_name="Audited Org"))
    audit_record(
        actor=staff_user,
        obj=grant,
        action="approved",
        from_state="proposed",
        to_state="approved",
    )
    nonprofit = NonprofitFactory(legal_name="Vetted Org")
    audit_record(
        actor=None,
        obj=nonprofit,
        action="verified",
        from_state="pending",
        to_state="verified",
    )
    page = section(html(staff_client.get(URL)), "events")
    assert f'href="{reverse("donations:grant-detail", args=[grant.pk])}"' in page
    assert "Approved: Proposed → Approved" in page
    assert "staff@example.org" in page
    # No staff page of its own: its admin page.
    assert f'href="/admin/donations/nonprofit/{nonprofit.pk}/change/"' in page
    assert "Verified: Pending review → Verified" in page
    assert "System" in page
    assert page.index("Vetted Org") < page.index("Audited Org")  # newest first


# --- Charts --------------------------------------------------------------------------------------


def test_charts_sum_money_disbursed_per_month_country_and_cause(staff_client):
    fund = FundFactory()
    kenya = CreatorFactory(country="KE", causes=[Cause.HEALTH, Cause.EDUCATION])
    spain = CreatorFactory(country="ES", causes=[Cause.ENVIRONMENT])
    paid(fund, amount="25000.00", creator=kenya, when=NOW)
    paid(fund, amount="5000.00", creator=spain, when=NOW - datetime.timedelta(days=40))
    paid(fund, amount="100000.00", creator=None, when=NOW - datetime.timedelta(days=40))
    GrantFactory(fund=fund, amount=Decimal("999.00"), status=Grant.Status.APPROVED)
    paid(fund, amount="7.00", when=datetime.datetime(2024, 1, 5, tzinfo=datetime.UTC))

    page = html(staff_client.get(URL))
    charts = section(page, "charts")

    assert "USD 130,000.00 paid out since Dec. 1, 2025." in charts
    assert charts.count('<rect class="chart__bar"') == 12 + 3 + 3  # months, countries, causes
    assert '<th scope="row">November 2026</th><td class="num">USD 25,000.00</td>' in charts
    assert '<th scope="row">October 2026</th><td class="num">USD 105,000.00</td>' in charts
    assert '<th scope="row">September 2026</th><td class="num">USD 0.00</td>' in charts
    assert '<th scope="row">Kenya</th><td class="num">USD 25,000.00</td>' in charts
    assert '<th scope="row">Spain</th><td class="num">USD 5,000.00</td>' in charts
    assert '<th scope="row">Program grants</th><td class="num">USD 100,000.00</td>' in charts
    # The main cause is the first the creator lists.
    assert '<th scope="row">Health</th><td class="num">USD 25,000.00</td>' in charts
    assert '<th scope="row">Education</th>' not in charts
    assert 'role="img" aria-labelledby="chart-month-title"' in charts

    everything = section(html(staff_client.get(URL, {"period": "all"})), "charts")
    assert "USD 130,007.00 paid out in all." in everything
    assert '<th scope="row">January 2024</th><td class="num">USD 7.00</td>' in everything

    recent = section(html(staff_client.get(URL, {"period": "30d"})), "charts")
    assert "USD 25,000.00 paid out since Oct. 22, 2026." in recent


def test_dates_override_the_preset_period(staff_client):
    fund = FundFactory()
    paid(fund, amount="10.00", when=datetime.datetime(2025, 3, 10, tzinfo=datetime.UTC))
    paid(fund, amount="20.00", when=datetime.datetime(2025, 5, 10, tzinfo=datetime.UTC))
    charts = section(
        html(
            staff_client.get(URL, {"period": "30d", "since": "2025-03-01", "until": "2025-04-30"})
        ),
        "charts",
    )
    assert "USD 10.00 paid out from March 1, 2025 to April 30, 2025." in charts
    assert charts.count('<rect class="chart__bar"') == 2 + 1 + 1

    charts = section(html(staff_client.get(URL, {"until": "2025-04-30"})), "charts")
    assert "USD 10.00 paid out until April 30, 2025." in charts

    # A date out of any program's range is ignored: the preset applies.
    charts = section(html(staff_client.get(URL, {"since": "0001-01-01"})), "charts")
    assert "USD 0.00 paid out since Dec. 1, 2025." in charts
    assert charts.count('<rect class="chart__bar"') == 12


def test_the_top_countries_are_drawn_and_the_rest_added_up_as_other(staff_client):
    fund = FundFactory()
    codes = ["KE", "NG", "GB", "ES", "SG", "EG", "PH", "CA", "US", "FR"]
    for rank, code in enumerate(codes):
        paid(fund, amount=str(1000 - rank), creator=CreatorFactory(country=code))
    charts = section(html(staff_client.get(URL)), "charts")
    assert '<th scope="row">Other countries</th><td class="num">USD 1,983.00</td>' in charts
    assert "United States" not in charts
    assert '<th scope="row">Canada</th>' in charts


def test_charts_are_in_one_currency_and_name_the_ones_left_out(staff_client):
    dollars = FundFactory(currency="USD", total=Decimal("1000000.00"))
    euros = FundFactory(currency="EUR", total=Decimal("50000.00"))
    paid(dollars, amount="300.00")
    paid(euros, amount="40.00")
    charts = section(html(staff_client.get(URL)), "charts")
    assert "USD 300.00 paid out" in charts
    assert "money paid in EUR is left out" in charts
    charts = section(html(staff_client.get(URL, {"fund": euros.pk})), "charts")
    assert "EUR 40.00 paid out" in charts
    assert "left out" not in charts


def test_chart_currency_is_the_chosen_funds_else_the_largest_else_the_programs(settings):
    usd = Fund(pk=1, currency="USD", total=Decimal("10"))
    eur = Fund(pk=2, currency="EUR", total=Decimal("6"))
    eur2 = Fund(pk=3, currency="EUR", total=Decimal("6"))
    assert chart_currency([usd, eur, eur2], None) == "EUR"
    assert chart_currency([usd, eur, eur2], 1) == "USD"
    settings.PROGRAM_CURRENCY = "GBP"
    assert chart_currency([], None) == "GBP"


def test_filters_narrow_the_charts_by_fund_cohort_and_nonprofit_country(staff_client):
    fund, other_fund = FundFactory(), FundFactory()
    cohort = CohortFactory()
    enrolled = EnrolmentFactory(cohort=cohort).creator
    paid(fund, amount="1.00", creator=enrolled, nonprofit=NonprofitFactory(country="KE"))
    paid(fund, amount="20.00", nonprofit=NonprofitFactory(country="GB"))
    paid(other_fund, amount="300.00", nonprofit=NonprofitFactory(country="KE"))

    def total(**query) -> str:
        charts = section(html(staff_client.get(URL, query)), "charts")
        return re.search(r"USD ([\d,.]+) paid out", charts).group(1)

    assert total() == "321.00"
    assert total(fund=fund.pk) == "21.00"
    assert total(cohort=cohort.pk) == "1.00"
    assert total(country="KE") == "301.00"
    assert total(country="KE", fund=fund.pk) == "1.00"
    assert total(fund="999999", period="nope", since="not a date") == "321.00"


# --- In place, with or without JavaScript --------------------------------------------------------


def test_the_filter_form_works_without_javascript_and_swaps_the_body_with_htmx(staff_client):
    page = html(staff_client.get(URL))
    assert '<form id="dashboard-filters" class="filters" method="get" action="/staff/"' in page
    assert 'data-hx-get="/staff/" data-hx-target="#dashboard-body" data-hx-swap="outerHTML"' in page
    assert 'data-hx-push-url="true"' in page

    assert '<div id="dashboard-status" class="visually-hidden" role="status"' in page
    assert "Dashboard updated" not in page

    GrantFactory()
    fragment = html(staff_client.get(URL, {"period": "90d"}, headers=HTMX_BODY))
    assert fragment.lstrip().startswith(
        '<div id="dashboard-status" data-hx-swap-oob="innerHTML">'
        "Dashboard updated: 1 grant needs action.</div>"
    )
    assert '<div id="dashboard-body" class="dashboard">' in fragment
    assert "<h1>" not in fragment
    assert 'id="dashboard-filters"' not in fragment
    response = staff_client.get(URL, headers=HTMX_BODY)
    assert "HX-Request" in response["Vary"]


def test_export_link_carries_the_dashboards_grant_filters(staff_client):
    fund = FundFactory()
    page = html(staff_client.get(URL, {"fund": fund.pk, "country": "", "period": "30d"}))
    assert f'href="/staff/exports/grants.csv?fund={fund.pk}"' in page


# --- Queries -------------------------------------------------------------------------------------


def _world(size: int) -> None:
    """`size` grants in every state across two funds and cohorts, as many milestones, and
    audit events: what the dashboard reads, at scale."""
    funds = [FundFactory(), FundFactory()]
    cohorts = [CohortFactory(start_date=datetime.date(2026, 1, 5)) for _ in range(2)]
    nonprofits = [NonprofitFactory(country=code) for code in ("KE", "GB", "NG")]
    creators = CreatorFactory.create_batch(max(3, size // 10), causes=[Cause.HEALTH])
    enrolments = [
        EnrolmentFactory(cohort=cohorts[index % 2], creator=creator, status="active")
        for index, creator in enumerate(creators)
    ]
    statuses = list(Grant.Status.values)
    grants = [
        Grant(
            fund=funds[index % 2],
            nonprofit=nonprofits[index % 3],
            creator=creators[index] if index < len(creators) else None,
            amount=Decimal("10.00"),
            currency="USD",
            status=statuses[index % len(statuses)],
            disbursed_at=NOW - datetime.timedelta(days=index % 400),
            purpose=f"Grant {index}",
        )
        for index in range(size)
    ]
    Grant.objects.bulk_create(grants)
    failed = Grant.objects.filter(status=Grant.Status.FAILED)
    Disbursement.objects.bulk_create(
        Disbursement(
            grant=grant,
            idempotency_key=str(grant.idempotency_key),
            provider="sandbox",
            amount=grant.amount,
            status=Disbursement.Status.FAILED,
            last_error="Refused",
            completed_at=NOW,
        )
        for grant in failed
    )
    Milestone.objects.bulk_create(
        Milestone(
            enrolment=enrolments[index % len(enrolments)],
            title=f"Milestone {index}",
            due_date=datetime.date(2026, 2, 1) + datetime.timedelta(days=index % 200),
        )
        for index in range(size)
    )
    audit_record_many(actor=None, objs=list(Grant.objects.all()), action="proposed")


@pytest.mark.parametrize("size", [10, 1000])
def test_query_count_does_not_grow_with_grants_milestones_and_events(
    staff_client, django_assert_num_queries, size
):
    _world(size)
    cohort = CohortFactory()
    # Session, user, funds, cohorts, countries, three chart sums, two needs-action reads,
    # the failures, six reads of money to settle (counts, overspent funds, held batches,
    # payout failures, and the world's unknown outcomes and reversed grants to list), two
    # overdue reads, the audit events, the impact figures' grouped sum and indicators, the
    # webhook endpoints switched off; on a whole page, the work queues (Today and the staff
    # navigation's badges share one query). The htmx body has neither.
    with django_assert_num_queries(24):
        html(staff_client.get(URL))
    with django_assert_num_queries(24):
        html(staff_client.get(URL, {"cohort": cohort.pk, "country": "KE", "period": "all"}))
    with django_assert_num_queries(23):
        html(staff_client.get(URL, headers=HTMX_BODY))
