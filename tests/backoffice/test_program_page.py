"""The public program page: the hub text staff edit (plain text, never HTML) and the live
totals, each counted as the page says, in a fixed number of queries."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from changemakers.backoffice.models import ProgramHub
from changemakers.backoffice.selectors import program_totals
from changemakers.backoffice.services import program_hub_update
from changemakers.core.models import AuditEvent
from creators.models import ChangeMakersList
from programs.models import Enrolment
from tests.factories import (
    ChangeMakersListFactory,
    CreatorFactory,
    EnrolmentFactory,
    FundFactory,
    GrantFactory,
    ListEntryFactory,
    NonprofitFactory,
)

pytestmark = pytest.mark.django_db

URL = "/program/"


def published(year: int) -> ChangeMakersList:
    return ChangeMakersListFactory(
        year=year,
        status=ChangeMakersList.Status.PUBLISHED,
        published_at=dt.datetime(year, 11, 1, tzinfo=dt.UTC),
    )


def test_the_program_page_has_its_url_and_is_in_the_nav_and_on_the_home_page(client):
    assert reverse("hub:program") == URL
    home = client.get("/").content.decode()
    assert f'href="{URL}"' in home
    page = client.get(URL).content.decode()
    assert f'<a href="{URL}" aria-current="page">' in page


def test_totals_follow_the_definitions_on_the_page():
    usd, eur = FundFactory(currency="USD"), FundFactory(currency="EUR")
    paid_np, approved_np, idle_np = NonprofitFactory(), NonprofitFactory(), NonprofitFactory()
    GrantFactory(fund=usd, nonprofit=paid_np, amount=Decimal("25000.00"), status="disbursed")
    GrantFactory(fund=usd, nonprofit=approved_np, amount=Decimal("10000.50"), status="approved")
    GrantFactory(fund=usd, nonprofit=approved_np, amount=Decimal("5000.00"), status="scheduled")
    GrantFactory(fund=eur, nonprofit=paid_np, amount=Decimal("7000.00"), status="processing")
    for status in ("proposed", "cancelled", "failed"):  # not granted
        GrantFactory(fund=usd, nonprofit=idle_np, amount=Decimal("99999.00"), status=status)

    # Creators: on a published list (country that year), or active / completed in a cohort.
    listed = CreatorFactory(country="KE")
    ListEntryFactory(change_makers_list=published(2026), creator=listed, country="GB")
    ListEntryFactory(
        change_makers_list=ChangeMakersListFactory(year=2027), creator=CreatorFactory(country="JP")
    )
    active = EnrolmentFactory(creator=CreatorFactory(country="NG"), status=Enrolment.Status.ACTIVE)
    EnrolmentFactory(creator=active.creator, status=Enrolment.Status.COMPLETED)
    EnrolmentFactory(creator=listed, status=Enrolment.Status.COMPLETED)
    EnrolmentFactory(creator=CreatorFactory(country="BR"), status=Enrolment.Status.INVITED)
    EnrolmentFactory(creator=CreatorFactory(country="IN"), status=Enrolment.Status.WITHDRAWN)

    totals = program_totals()

    assert [(m.currency, m.granted, m.disbursed) for m in totals.money] == [
        ("USD", Decimal("40000.50"), Decimal("25000.00")),
        ("EUR", Decimal("7000.00"), Decimal("0.00")),
    ]
    assert totals.nonprofits == 2
    assert totals.creators == 2  # the listed one (also in a cohort) and the active one
    assert totals.countries == 3  # GB (the entry's), KE (the listed creator's cohort place), NG


def test_the_page_shows_the_totals_in_the_readers_number_format(client):
    GrantFactory(amount=Decimal("1250000.00"), status="disbursed")
    content = client.get(URL).content.decode()
    assert re.search(r"<dt>Disbursed \(USD\)</dt>\s*<dd>1,250,000</dd>", content)
    assert "Nonprofits supported" in content
    client.cookies["django_language"] = "fr"
    assert "<dd>1\u00a0250\u00a0000</dd>" in client.get(URL).content.decode()


def test_an_empty_program_shows_zeroes_and_the_first_text(client):
    content = client.get(URL).content.decode()
    assert "The Change Makers social impact hub" in content
    assert "#ChangeMakers" in content
    assert re.search(r"<dt>Granted</dt>\s*<dd>0</dd>", content)


@pytest.mark.parametrize("count", [3, 60])
def test_the_page_makes_the_same_queries_however_much_data(
    client, django_assert_num_queries, count
):
    cml = published(2026)
    for n in range(count):
        creator = CreatorFactory(country=("KE", "SG", "ES")[n % 3])
        ListEntryFactory(change_makers_list=cml, creator=creator, position=n + 1)
        GrantFactory(creator=creator, status=("approved", "disbursed")[n % 2])
    program_hub_update(actor=None, title="Hub", hashtag="#Hub", introduction="Intro.", body="Body.")
    # hub, money per currency, nonprofits, creators, countries, latest list, the impact
    # figures' grouped sum and their indicators
    with django_assert_num_queries(8):
        response = client.get(URL)
    assert response.status_code == 200


# --- The hub text ----------------------------------------------------------------------------


def test_the_hub_text_is_plain_text_with_paragraphs_never_html(client, staff_user):
    program_hub_update(
        actor=staff_user,
        title="Creators for <good>",
        hashtag="#TikTokStyleForGood",
        introduction="Join us & share.",
        body='First paragraph.\n\n<script>alert("x")</script> second.\nSame paragraph.',
    )
    content = client.get(URL).content.decode()
    assert "<title>Creators for &lt;good&gt; · Change Makers</title>" in content
    assert "#TikTokStyleForGood" in content
    assert "<p>First paragraph.</p>" in content
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; second.<br>Same paragraph." in content
    assert '<script>alert("x")' not in content
    assert '<meta property="og:description" content="Join us &amp; share.">' in content


def test_saving_the_hub_creates_then_updates_one_audited_row(staff_user):
    hub = program_hub_update(
        actor=staff_user, title="One", hashtag="#One", introduction="Intro.", body=""
    )
    same = program_hub_update(
        actor=staff_user, title="One", hashtag="#One", introduction="Intro.", body=""
    )
    hub = program_hub_update(
        actor=staff_user, title="Two", hashtag="#One", introduction="Intro.", body="More."
    )
    assert same.pk == hub.pk == ProgramHub.SINGLETON_ID
    assert ProgramHub.objects.count() == 1
    assert hub.updated_by == staff_user
    assert [(e.action, e.note) for e in AuditEvent.objects.for_object(hub)] == [
        ("created", "title, hashtag, introduction"),
        ("updated", "title, body"),
    ]


def test_a_bad_hashtag_is_refused(staff_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="A hashtag is #"):
        program_hub_update(
            actor=staff_user, title="T", hashtag="no hash", introduction="I.", body=""
        )
    assert not ProgramHub.objects.exists()


def test_staff_edit_the_hub_text_on_their_page(client, staff_user):
    client.force_login(staff_user)
    url = reverse("backoffice:hub-edit")
    form_page = client.get(url).content.decode()
    assert "The Change Makers social impact hub" in form_page  # the first text, to edit
    response = client.post(
        url,
        {
            "title": "The hub",
            "hashtag": "#ChangeMakersForGood",
            "introduction": "Creators for change.",
            "body": "Hello.",
        },
    )
    assert response.status_code == 302
    assert ProgramHub.objects.get().title == "The hub"
    bad = client.post(url, {"title": "", "hashtag": "#x y", "introduction": ""})
    assert bad.status_code == 422
    assert "A hashtag is #" in bad.content.decode()
    assert ProgramHub.objects.get().hashtag == "#ChangeMakersForGood"
    page = client.get(URL).content.decode()
    assert f'href="{url}"' in page  # staff see a link to edit it


def test_the_public_sees_no_edit_link(client, creator_user):
    client.force_login(creator_user)
    assert reverse("backoffice:hub-edit") not in client.get(URL).content.decode()


def test_a_total_with_cents_is_shown_exactly_never_rounded_up(client):
    GrantFactory(amount=Decimal("25000.50"), status="disbursed")
    content = client.get(URL).content.decode()
    assert re.search(r"<dt>Disbursed \(USD\)</dt>\s*<dd>25,000.50</dd>", content)
