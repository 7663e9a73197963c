"""How the API answers, whatever the resource: every resource's list and detail, the pages'
filters, cursor paging (a tampered cursor is a 400), ETags (304), problem details for every
error, the rate limit per token (429 with Retry-After), and a valid OpenAPI 3 schema."""

import json

import pytest
import yaml
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from changemakers.api.models import ApiToken
from creators.models import ChangeMakersList
from donations.models import Grant
from tests.factories import (
    ChangeMakersListFactory,
    CohortFactory,
    CreatorFactory,
    EnrolmentFactory,
    FundFactory,
    GrantFactory,
    ListEntryFactory,
    MilestoneFactory,
    NonprofitFactory,
)

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def program():
    creator = CreatorFactory(handle="joelbervell", display_name="Joel Bervell", country="US")
    other = CreatorFactory(handle="karaxlewis", country="GB", causes=["arts"])
    edition = ChangeMakersListFactory(year=2026)
    ListEntryFactory(change_makers_list=edition, creator=creator, position=1, country="US")
    ListEntryFactory(change_makers_list=edition, creator=other, position=2, country="GB")
    cohort = CohortFactory()
    enrolment = EnrolmentFactory(cohort=cohort, creator=creator)
    MilestoneFactory(enrolment=enrolment)
    kenyan = NonprofitFactory(country="KE", payout_reference="acct-secret-9876")
    fund = FundFactory()
    grants = [GrantFactory(fund=fund, nonprofit=kenyan, creator=creator)]
    grants += [GrantFactory(fund=fund, creator=None, status="approved") for _ in range(4)]
    return {"creator": creator, "cohort": cohort, "fund": fund, "grants": grants}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/creators/",
        "/api/v1/lists/",
        "/api/v1/lists/2026/entries/",
        "/api/v1/cohorts/",
        "/api/v1/enrolments/",
        "/api/v1/milestones/",
        "/api/v1/nonprofits/",
        "/api/v1/funds/",
        "/api/v1/grants/",
    ],
)
def test_every_resource_lists_and_shows_its_rows(reader, program, path):
    response = reader.get(path)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert rows
    if path.endswith("entries/"):
        return  # entries have no page of their own
    detail = reader.get(f"{path}{rows[0].get('year') or rows[0]['id']}/")
    assert detail.status_code == 200
    assert detail.json()["id"] == rows[0]["id"]


def test_nonprofits_are_shown_without_their_payout_details(reader, program):
    body = json.dumps(reader.get("/api/v1/nonprofits/").json())
    assert "acct-secret-9876" not in body
    assert "payout" not in body
    assert "acct-secret" not in json.dumps(reader.get("/api/v1/grants/").json())


def test_a_grant_shows_its_timeline(reader, program):
    grant = program["grants"][0]
    timeline = reader.get(f"/api/v1/grants/{grant.pk}/").json()["timeline"]
    assert [step["step"] for step in timeline][:2] == ["proposed", "approved"]
    assert timeline[0]["current"] is True


def test_the_grant_filters_are_the_pipelines(reader, program):
    def ids(query):
        response = reader.get(f"/api/v1/grants/?{query}")
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    first = program["grants"][0]
    assert ids("country=KE") == {first.pk}
    assert ids("q=@joelbervell") == {first.pk}
    assert ids("status=approved") == {grant.pk for grant in program["grants"][1:]}
    assert ids(f"fund={program['fund'].pk}&status=proposed") == {first.pk}
    assert ids("status=held") == set()


def test_the_other_filters(reader, program):
    def count(path):
        return len(reader.get(path).json()["results"])

    assert count("/api/v1/creators/?country=GB") == 1
    assert count("/api/v1/creators/?cause=arts") == 1
    assert count("/api/v1/lists/2026/entries/?q=kara") == 1
    assert count(f"/api/v1/enrolments/?cohort={program['cohort'].pk}") == 1
    mine = f"/api/v1/milestones/?creator={program['creator'].pk}"
    assert count(mine) == 1
    assert count(f"{mine}&overdue=true") + count(f"{mine}&overdue=false") == 1
    assert count("/api/v1/lists/?status=published") == 0
    assert count("/api/v1/nonprofits/?q=nobody-at-all") == 0


@pytest.mark.parametrize(
    "query",
    [
        "status=paid",
        "fund=abc",
        "fund=0",
        f"fund={2**70}",
        "country=XX",
        "page_size=0",
        "page_size=101",
        "page_size=²",
        "cursor=abc",
        "q=" + "x" * 101,
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(reader, program, query):
    response = reader.get(f"/api/v1/grants/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 400
    assert query.split("=")[0] in problem["errors"]
    assert problem["instance"].startswith("/api/v1/grants/?")


def test_paging_through_grants_with_the_cursor(reader, program):
    seen, url = [], "/api/v1/grants/?page_size=2"
    while url:
        response = reader.get(url)
        assert response.status_code == 200
        page = response.json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted((grant.pk for grant in program["grants"]), reverse=True)


def test_a_tampered_cursor_is_a_400(reader, program):
    next_url = reader.get("/api/v1/grants/?page_size=2").json()["next"]
    cursor = next_url.split("cursor=")[1].split("&")[0]
    for bad in (cursor[:-2], cursor[:-1] + ("A" if cursor[-1] != "A" else "B"), "x" + cursor):
        response = reader.get(f"/api/v1/grants/?page_size=2&cursor={bad}")
        assert response.status_code == 400, bad
        assert "cursor" in response.json()["errors"]


def test_an_etag_answers_a_304_until_the_row_changes(reader, program):
    grant = program["grants"][0]
    first = reader.get(f"/api/v1/grants/{grant.pk}/")
    etag = first["ETag"]
    assert etag.startswith('W/"')
    again = reader.get(f"/api/v1/grants/{grant.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert not again.content
    assert again["ETag"] == etag
    listed = reader.get("/api/v1/grants/")
    assert reader.get("/api/v1/grants/", HTTP_IF_NONE_MATCH=listed["ETag"]).status_code == 304
    Grant.objects.filter(pk=grant.pk).update(purpose="Changed")
    changed = reader.get(f"/api/v1/grants/{grant.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_unknown_ids_and_addresses_are_404_problems(reader, program):
    for path in (
        "/api/v1/grants/999999/",
        "/api/v1/grants/abc/",
        f"/api/v1/grants/{2**70}/",
        "/api/v1/lists/99999/",
        "/api/v1/lists/abc/entries/",
        "/api/v1/nowhere/",
    ):
        response = reader.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == PROBLEM


def test_method_and_media_type_errors_are_problems(reader, writer, program):
    grant = program["grants"][0]
    response = writer.delete(f"/api/v1/grants/{grant.pk}/")
    assert response.status_code == 405
    assert response["Content-Type"] == PROBLEM
    response = reader.get("/api/v1/grants/", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response["Content-Type"] == PROBLEM
    response = writer.post("/api/v1/grants/", "<x/>", content_type="application/xml")
    assert response.status_code == 415
    assert response.json()["status"] == 415


def test_each_token_is_rate_limited(reader, settings, superuser):
    settings.API_RATE_LIMIT = 3
    for _ in range(3):
        assert reader.get("/api/v1/funds/").status_code == 200
    refused = reader.get("/api/v1/funds/")
    assert refused.status_code == 429
    assert refused["Content-Type"] == PROBLEM
    assert 1 <= int(refused["Retry-After"]) <= 60
    # Another token has its own count.
    from tests.api.conftest import client_for

    other = client_for(reader.token.integration, superuser, ApiToken.Scope.READ)
    assert other.get("/api/v1/funds/").status_code == 200


def test_the_schema_is_valid_openapi_3_and_public(program):
    response = APIClient().get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert "/api/v1/grants/" in paths
    assert "/api/v1/grants/{id}/approve/" in paths
    assert schema["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    listed = paths["/api/v1/grants/"]["get"]
    assert {"200", "304", "400", "401", "403", "429"} <= set(listed["responses"])
    problem = listed["responses"]["400"]["content"]
    assert "application/problem+json" in problem
    as_json = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert json.loads(as_json.content)["info"]["title"] == "Change Makers API"


def test_the_docs_page_loads_swagger_ui_from_this_site(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "/static/js/api-docs.js" in html
    assert 'data-schema-url="/api/v1/schema/"' in html
    assert "<script>" not in html
    assert "http" not in response["Content-Security-Policy"]


def test_a_published_list_and_draft_are_both_read_by_staff_tokens(reader):
    ChangeMakersListFactory(year=2027, status=ChangeMakersList.Status.DRAFT)
    assert reader.get("/api/v1/lists/2027/").status_code == 200
