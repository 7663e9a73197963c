"""Staff CSV exports: streamed, staff only, row for row what the database holds, with the
staff pages' filters applied, spreadsheet formulas made inert, and a query count that does not
grow with the rows."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from changemakers.core.csv_stream import csv_cell
from creators.models import Cause, ChangeMakersList, Creator, ListEntry
from donations.models import Disbursement, Grant
from programs.models import Enrolment, Milestone
from tests.factories import (
    ChangeMakersListFactory,
    CohortFactory,
    CreatorFactory,
    DisbursementFactory,
    EnrolmentFactory,
    FundFactory,
    GrantFactory,
    ListEntryFactory,
    MilestoneFactory,
    NonprofitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 20, 12, tzinfo=datetime.UTC)
EXPORTS = ["export-creators", "export-milestones", "export-grants", "export-list-entries"]


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def read_csv(response) -> list[dict[str, str]]:
    """The streamed body parsed as CSV, one dict per row keyed by the header."""
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def download(client, name: str, query: dict | None = None) -> list[dict[str, str]]:
    return read_csv(client.get(reverse(f"backoffice:{name}"), query or {}))


# --- Who may download ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*EXPORTS, "export-list"])
def test_anonymous_is_sent_to_sign_in(client, name):
    url = reverse(f"backoffice:{name}")
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("who", ["creator_user", "nonprofit_user", "member"])
@pytest.mark.parametrize("name", [*EXPORTS, "export-list"])
def test_creators_nonprofit_contacts_and_members_are_refused(client, request, who, name):
    user = UserFactory() if who == "member" else request.getfixturevalue(who)
    client.force_login(user)
    assert client.get(reverse(f"backoffice:{name}")).status_code == 403


@pytest.mark.parametrize("name", EXPORTS)
def test_exports_answer_get_only(staff_client, name):
    assert staff_client.post(reverse(f"backoffice:{name}")).status_code == 405


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("export-creators", "creators"),
        ("export-milestones", "milestones"),
        ("export-grants", "grants"),
        ("export-list-entries", "list-entries"),
    ],
)
def test_each_export_is_a_streamed_attachment_named_after_its_kind_and_day(
    staff_client, name, kind
):
    response = staff_client.get(reverse(f"backoffice:{name}"))
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="changemakers-{kind}-2026-11-20.csv"'
    )
    assert "no-store" in response["Cache-Control"]
    assert read_csv(response) == []  # a header and no row


# --- Grants and disbursements --------------------------------------------------------------------


def test_grant_export_matches_the_grants_and_their_payments(staff_client):
    fund = FundFactory(name="Main Fund")
    creator = CreatorFactory(handle="joelbervell", display_name="Joel Bervell")
    paid = GrantFactory(
        fund=fund,
        creator=creator,
        nonprofit=NonprofitFactory(legal_name="Open Medicine", country="US"),
        amount=Decimal("25000.00"),
        status=Grant.Status.DISBURSED,
        approved_at=NOW - datetime.timedelta(days=3),
        disbursed_at=NOW,
        purpose="Donation",
    )
    DisbursementFactory(
        grant=paid,
        status=Disbursement.Status.SUCCEEDED,
        provider_reference="SBX-123",
        attempts=2,  # the first timed out: a paid payment keeps no last error
    )
    program = GrantFactory(fund=fund, creator=None, amount=Decimal("100.50"))

    rows = download(staff_client, "export-grants")

    assert [int(row["Grant"]) for row in rows] == [program.pk, paid.pk]  # newest first
    assert rows[1] == {
        "Grant": str(paid.pk),
        "Proposed at": "2026-11-20T12:00:00+00:00",
        "Fund": "Main Fund",
        "Nonprofit": "Open Medicine",
        "Nonprofit country": "US",
        "Creator handle": "joelbervell",
        "In the name of": "Joel Bervell",
        "Amount": "25000.00",
        "Currency": "USD",
        "Status": "disbursed",
        "Purpose": "Donation",
        "Reason": "",
        "Approved at": "2026-11-17T12:00:00+00:00",
        "Scheduled at": "2026-11-20T12:00:00+00:00",
        "Disbursed at": "2026-11-20T12:00:00+00:00",
        "Provider": "sandbox",
        "Provider reference": "SBX-123",
        "Payment status": "succeeded",
        "Attempts": "2",
        "Last error": "",
    }
    assert rows[0]["In the name of"] == ""
    assert rows[0]["Amount"] == "100.50"
    assert rows[0]["Provider"] == rows[0]["Attempts"] == rows[0]["Scheduled at"] == ""


def test_grant_export_takes_the_pipelines_filters(staff_client):
    fund_a, fund_b = FundFactory(), FundFactory()
    cohort = CohortFactory()
    enrolled = EnrolmentFactory(cohort=cohort).creator
    alpha = GrantFactory(
        fund=fund_a, creator=enrolled, nonprofit=NonprofitFactory(legal_name="Alpha", country="KE")
    )
    bravo = GrantFactory(
        fund=fund_a,
        status=Grant.Status.APPROVED,
        purpose="Reading kits",
        nonprofit=NonprofitFactory(legal_name="Bravo", country="GB"),
    )
    charlie = GrantFactory(fund=fund_b, nonprofit=NonprofitFactory(legal_name="Charlie"))

    def exported(**query) -> set[int]:
        return {int(row["Grant"]) for row in download(staff_client, "export-grants", query)}

    assert exported() == {alpha.pk, bravo.pk, charlie.pk}
    assert exported(fund=fund_b.pk) == {charlie.pk}
    assert exported(cohort=cohort.pk) == {alpha.pk}
    assert exported(country="KE") == {alpha.pk}
    assert exported(status="approved") == {bravo.pk}
    assert exported(q="reading") == {bravo.pk}
    # A filter that is not valid never exports every row as if unfiltered: the exports page
    # answers instead, with the field's error.
    refused = staff_client.get(reverse("backoffice:export-grants"), {"fund": "999999"})
    assert refused.status_code == 400
    assert "text/csv" not in refused["Content-Type"]
    assert "Select a valid choice" in refused.content.decode()


def test_the_pipeline_links_its_export_with_its_filters(staff_client):
    fund = FundFactory()
    page = staff_client.get(reverse("donations:grant-list"), {"fund": fund.pk, "status": "failed"})
    assert (
        f'href="/staff/exports/grants.csv?fund={fund.pk}&amp;status=failed" download'
        in page.content.decode()
    )


# --- Creators ------------------------------------------------------------------------------------


def test_creator_export_matches_the_creators_with_their_current_cohort(staff_client):
    old = CohortFactory(name="Spring", start_date=datetime.date(2026, 3, 1))
    current = CohortFactory(name="Autumn", start_date=datetime.date(2026, 9, 1))
    kara = CreatorFactory(
        handle="karaxlewis",
        display_name="Kara Lewis",
        country="US",
        causes=[Cause.ARTS, Cause.EQUALITY],
        follower_count=640_000,
        user=UserFactory(),
    )
    EnrolmentFactory(cohort=old, creator=kara, status=Enrolment.Status.COMPLETED)
    EnrolmentFactory(cohort=current, creator=kara, status=Enrolment.Status.ACTIVE)
    alone = CreatorFactory(display_name="Zed Alone", country="KE")

    rows = download(staff_client, "export-creators")

    assert rows == [
        {
            "Creator": str(kara.pk),
            "Handle": "karaxlewis",
            "Name": "Kara Lewis",
            "Country": "US",
            "Causes": "Arts and culture; Equality and inclusion",
            "Followers": "640000",
            "Current cohort": "Autumn",
            "Place": "active",
            "Portal account": "yes",
            "Added at": "2026-11-20T12:00:00+00:00",
        },
        {
            "Creator": str(alone.pk),
            "Handle": alone.handle,
            "Name": "Zed Alone",
            "Country": "KE",
            "Causes": "Education",
            "Followers": "125000",
            "Current cohort": "",
            "Place": "",
            "Portal account": "no",
            "Added at": "2026-11-20T12:00:00+00:00",
        },
    ]


def test_creator_export_takes_country_cause_and_cohort(staff_client):
    cohort = CohortFactory()
    kenyan = CreatorFactory(country="KE", causes=[Cause.HEALTH])
    british = CreatorFactory(country="GB", causes=[Cause.EDUCATION, Cause.HEALTH])
    EnrolmentFactory(cohort=cohort, creator=british)
    CreatorFactory(country="GB", causes=[Cause.ARTS])

    def exported(**query) -> set[int]:
        return {int(row["Creator"]) for row in download(staff_client, "export-creators", query)}

    assert exported(country="KE") == {kenyan.pk}
    assert exported(cause="health") == {kenyan.pk, british.pk}
    assert exported(cohort=cohort.pk) == {british.pk}
    assert exported(country="GB", cause="health") == {british.pk}


# --- Enrolments and milestones -------------------------------------------------------------------


def test_milestone_export_has_one_row_per_milestone_with_its_place(staff_client):
    cohort = CohortFactory(name="Autumn", start_date=datetime.date(2026, 9, 1))
    enrolment = EnrolmentFactory(
        cohort=cohort,
        status=Enrolment.Status.ACTIVE,
        creator=CreatorFactory(handle="ada", display_name="Ada", country="NG"),
    )
    late = MilestoneFactory(
        enrolment=enrolment, title="Kickoff", due_date=datetime.date(2026, 9, 15)
    )
    later = MilestoneFactory(enrolment=enrolment, title="Final", due_date=datetime.date(2027, 2, 1))

    rows = download(staff_client, "export-milestones")

    assert rows == [
        {
            "Milestone": str(late.pk),
            "Cohort": "Autumn",
            "Enrolment": str(enrolment.pk),
            "Place": "active",
            "Handle": "ada",
            "Creator": "Ada",
            "Country": "NG",
            "Title": "Kickoff",
            "Due date": "2026-09-15",
            "Status": "pending",
            "Overdue": "yes",
            "Progress updates": "0",
        },
        {
            "Milestone": str(later.pk),
            "Cohort": "Autumn",
            "Enrolment": str(enrolment.pk),
            "Place": "active",
            "Handle": "ada",
            "Creator": "Ada",
            "Country": "NG",
            "Title": "Final",
            "Due date": "2027-02-01",
            "Status": "pending",
            "Overdue": "no",
            "Progress updates": "0",
        },
    ]


def test_milestone_export_takes_cohort_status_and_overdue(staff_client):
    cohort, other = CohortFactory(), CohortFactory()
    active = EnrolmentFactory(cohort=cohort, status=Enrolment.Status.ACTIVE)
    late = MilestoneFactory(enrolment=active, due_date=datetime.date(2026, 9, 15))
    done = MilestoneFactory(
        enrolment=active, due_date=datetime.date(2026, 9, 1), status=Milestone.Status.APPROVED
    )
    withdrawn = EnrolmentFactory(cohort=cohort, status=Enrolment.Status.WITHDRAWN)
    MilestoneFactory(enrolment=withdrawn, due_date=datetime.date(2026, 9, 15))
    elsewhere = MilestoneFactory(
        enrolment=EnrolmentFactory(cohort=other, status=Enrolment.Status.ACTIVE),
        due_date=datetime.date(2026, 10, 1),
    )

    def exported(**query) -> set[int]:
        rows = download(staff_client, "export-milestones", query)
        return {int(row["Milestone"]) for row in rows}

    assert len(exported()) == 4
    assert exported(cohort=other.pk) == {elsewhere.pk}
    assert exported(status="approved") == {done.pk}
    assert exported(overdue="on") == {late.pk, elsewhere.pk}
    assert exported(overdue="on", cohort=cohort.pk) == {late.pk}


def test_the_cohort_page_links_its_milestone_export(staff_client):
    cohort = CohortFactory()
    page = staff_client.get(reverse("programs:cohort-detail", args=[cohort.pk]))
    assert f'href="/staff/exports/milestones.csv?cohort={cohort.pk}" download' in (
        page.content.decode()
    )


# --- List entries --------------------------------------------------------------------------------


def test_list_entry_export_matches_every_years_entries(staff_client):
    published = ChangeMakersListFactory(
        year=2025, status=ChangeMakersList.Status.PUBLISHED, published_at=NOW
    )
    draft = ChangeMakersListFactory(year=2026)
    first = ListEntryFactory(
        change_makers_list=published,
        position=1,
        creator=CreatorFactory(handle="elivirkina", display_name="Eli Virkina", country="US"),
        cause=Cause.ENVIRONMENT,
        citation="Climate science you want to watch.",
    )
    ListEntryFactory(change_makers_list=draft, position=1)

    rows = download(staff_client, "export-list-entries")

    assert [(row["Year"], row["List status"]) for row in rows] == [
        ("2026", "draft"),
        ("2025", "published"),
    ]
    assert rows[1] == {
        "Year": "2025",
        "List status": "published",
        "Position": "1",
        "Handle": "elivirkina",
        "Name": "Eli Virkina",
        "Country": "US",
        "Cause": "environment",
        "Citation": first.citation,
        "Consent": "agreed",
        "Shown publicly": "yes",
    }


def test_list_entry_export_takes_year_country_cause_and_search(staff_client):
    year = ChangeMakersListFactory(year=2025)
    kenya = ListEntryFactory(
        change_makers_list=year,
        country="KE",
        cause=Cause.HEALTH,
        creator=CreatorFactory(display_name="Achieng Atieno"),
    )
    spain = ListEntryFactory(change_makers_list=year, country="ES", cause=Cause.EDUCATION)
    later = ListEntryFactory(
        change_makers_list=ChangeMakersListFactory(year=2026), country="KE", cause=Cause.ARTS
    )

    def exported(**query) -> set[tuple[str, str]]:
        rows = download(staff_client, "export-list-entries", query)
        return {(row["Year"], row["Handle"]) for row in rows}

    assert exported(year=2025) == {("2025", kenya.creator.handle), ("2025", spain.creator.handle)}
    assert exported(country="KE") == {
        ("2025", kenya.creator.handle),
        ("2026", later.creator.handle),
    }
    assert exported(cause="education") == {("2025", spain.creator.handle)}
    assert exported(q="achieng") == {("2025", kenya.creator.handle)}
    refused = staff_client.get(reverse("backoffice:export-list-entries"), {"year": 1999})
    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()


# --- CSV injection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1234", "'+1234"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rReturn", "'\rReturn"),
        ("Plain text", "Plain text"),
        (Decimal("25000.00"), "25000.00"),
        (-5, "-5"),
        (None, ""),
        (True, "yes"),
        (datetime.date(2026, 1, 2), "2026-01-02"),
    ],
)
def test_cells_are_written_so_spreadsheets_do_not_run_them(value, cell):
    assert csv_cell(value) == cell


def test_formula_text_in_the_data_arrives_inert(staff_client):
    ListEntryFactory(
        creator=CreatorFactory(display_name="=cmd|' /C calc'!A0"), citation="@SUM(1+1)"
    )
    GrantFactory(purpose="+danger", status_reason="-1")
    [entry] = download(staff_client, "export-list-entries")
    assert entry["Name"] == "'=cmd|' /C calc'!A0"
    assert entry["Citation"] == "'@SUM(1+1)"
    [grant] = download(staff_client, "export-grants")
    assert grant["Purpose"] == "'+danger"
    assert grant["Reason"] == "'-1"


# --- Queries -------------------------------------------------------------------------------------


def _many(size: int) -> None:
    """`size` creators, each with a place, a milestone, a list entry and a grant (every other
    one paid through a disbursement), written in bulk."""
    cohort = CohortFactory()
    fund = FundFactory()
    nonprofit = NonprofitFactory()
    book = ChangeMakersListFactory(year=2025)
    creators = Creator.objects.bulk_create(
        Creator(display_name=f"Creator {i}", handle=f"bulk_{i}", country="KE", causes=["health"])
        for i in range(size)
    )
    enrolments = Enrolment.objects.bulk_create(
        Enrolment(cohort=cohort, creator=creator, status="active") for creator in creators
    )
    Milestone.objects.bulk_create(
        Milestone(enrolment=enrolment, title="Kickoff", due_date=cohort.start_date)
        for enrolment in enrolments
    )
    ListEntry.objects.bulk_create(
        ListEntry(
            change_makers_list=book,
            creator=creator,
            country="KE",
            cause="health",
            citation="Bulk",
            position=i + 1,
        )
        for i, creator in enumerate(creators)
    )
    grants = Grant.objects.bulk_create(
        Grant(fund=fund, nonprofit=nonprofit, creator=creator, amount=Decimal("1.00"))
        for creator in creators
    )
    Disbursement.objects.bulk_create(
        Disbursement(
            grant=grant,
            idempotency_key=str(grant.idempotency_key),
            provider="sandbox",
            amount=grant.amount,
        )
        for grant in grants[::2]
    )


# Session and user, then the filter form's choices, then the rows in one chunked read.
QUERIES = {
    "export-grants": 2 + 3 + 1,
    "export-creators": 2 + 2 + 2 + 1,  # + the impact indicators and each creator's totals
    "export-milestones": 2 + 1 + 1,
    "export-list-entries": 2 + 2 + 1,
}


@pytest.mark.parametrize("size", [10, 1000])
@pytest.mark.parametrize("name", EXPORTS)
def test_export_query_count_does_not_grow_with_rows(
    staff_client, django_assert_num_queries, size, name
):
    _many(size)
    with django_assert_num_queries(QUERIES[name]):
        rows = download(staff_client, name)
    assert len(rows) == size


def test_the_exports_page_offers_every_export_with_its_filters(staff_client):
    page = staff_client.get(reverse("backoffice:export-list")).content.decode()
    for name in EXPORTS:
        assert f'action="{reverse(f"backoffice:{name}")}"' in page
    assert 'id="grants_status"' in page
    assert 'id="milestones_overdue"' in page
    assert 'id="creators_cause"' in page
    assert 'id="entries_year"' in page
