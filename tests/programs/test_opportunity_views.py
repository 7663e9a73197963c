"""The opportunity pages: staff create, publish, cancel, export and mark attendance (htmx and
plain posts); creators and nonprofit contacts see what is meant for them and sign up or
withdraw in their portal. Queries stay flat as the rows grow."""

import csv
import datetime
import io

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from changemakers.core.roles import StaffRole
from programs.models import Opportunity, OpportunitySignup
from programs.services import opportunity_signup
from tests.factories import CreatorFactory, StaffFactory, UserFactory
from tests.programs.opportunities import make_opportunity, program_manager

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(db):
    return program_manager()


def sign_up(opportunity, user, **kwargs):
    return opportunity_signup(opportunity=opportunity, person=user, actor=user, **kwargs)


def form_data(**changes) -> dict:
    starts = timezone.localtime(timezone.now() + datetime.timedelta(days=14))
    return {
        "title_en": "Mentoring with a producer",
        "title_fr": "Mentorat avec une productrice",
        "description_en": "One hour, one to one.",
        "kind": "mentoring",
        "audience": "creators",
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "place": "",
        "link": "https://meet.example/mentoring",
        "capacity": "4",
        "signups_close_on": (starts - datetime.timedelta(days=1)).date().isoformat(),
        **changes,
    }


# --- Staff -----------------------------------------------------------------------------------


def test_a_program_manager_creates_and_publishes_from_the_pages(client, manager):
    client.force_login(manager)
    assert client.get(reverse("programs:opportunity-create")).status_code == 200
    response = client.post(reverse("programs:opportunity-create"), form_data())
    opportunity = Opportunity.objects.get()
    assert response.status_code == 302
    assert response["Location"] == opportunity.get_staff_url()
    assert opportunity.status == Opportunity.Status.DRAFT
    assert opportunity.title_fr == "Mentorat avec une productrice"
    assert opportunity.title_es is None
    client.post(reverse("programs:opportunity-publish", args=[opportunity.pk]))
    opportunity.refresh_from_db()
    assert opportunity.status == Opportunity.Status.PUBLISHED


def test_the_form_refuses_what_the_service_refuses(client, manager):
    client.force_login(manager)
    response = client.post(reverse("programs:opportunity-create"), form_data(link=""))
    assert response.status_code == 422
    assert "Give a place, a link, or both." in response.content.decode()
    past = form_data(starts_at="2020-01-01T10:00", signups_close_on="2019-12-31")
    response = client.post(reverse("programs:opportunity-create"), past)
    assert response.status_code == 422
    assert "Choose a date and time in the future." in response.content.decode()
    assert not Opportunity.objects.exists()


def test_editing_keeps_every_language(client, manager):
    opportunity = make_opportunity(manager)
    client.force_login(manager)
    page = client.get(reverse("programs:opportunity-edit", args=[opportunity.pk]))
    assert "Raconter pour agir" in page.content.decode()
    data = form_data(title_en="Storytelling, part two", title_fr="Raconter, la suite")
    response = client.post(reverse("programs:opportunity-edit", args=[opportunity.pk]), data)
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert (opportunity.title_en, opportunity.title_fr) == (
        "Storytelling, part two",
        "Raconter, la suite",
    )


def test_cancelling_from_the_page_needs_a_reason_and_emails(
    client, manager, creator_user, django_capture_on_commit_callbacks
):
    opportunity = make_opportunity(manager)
    sign_up(opportunity, creator_user)
    client.force_login(manager)
    url = reverse("programs:opportunity-cancel", args=[opportunity.pk])
    assert client.post(url, {"reason": ""}).status_code == 422
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "The venue closed."})
    assert response.status_code == 302
    assert Opportunity.objects.get(pk=opportunity.pk).status == Opportunity.Status.CANCELLED
    assert [message.to for message in mail.outbox] == [[creator_user.email]]


def test_attendance_is_marked_by_htmx_or_by_a_plain_post(client, manager, creator_user):
    opportunity = make_opportunity(manager)
    signup = sign_up(opportunity, creator_user)
    client.force_login(manager)
    url = reverse("programs:opportunity-attendance", args=[signup.pk])
    response = client.post(
        url,
        {"attended": "yes", "next": opportunity.get_staff_url()},
        headers={"HX-Request": "true", "HX-Target": f"signup-{signup.pk}"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="signup-{signup.pk}"')
    assert "attendance recorded" in body
    assert OpportunitySignup.objects.get(pk=signup.pk).attended is True
    response = client.post(url, {"attended": "no", "next": "//evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == opportunity.get_staff_url()
    assert OpportunitySignup.objects.get(pk=signup.pk).attended is False


def test_an_auditor_reads_but_cannot_mark_attendance(client, manager, creator_user):
    opportunity = make_opportunity(manager)
    signup = sign_up(opportunity, creator_user)
    client.force_login(StaffFactory(roles=[StaffRole.AUDITOR]))
    assert client.get(opportunity.get_staff_url()).status_code == 200
    url = reverse("programs:opportunity-attendance", args=[signup.pk])
    assert client.post(url, {"attended": "yes"}).status_code == 403
    assert OpportunitySignup.objects.get(pk=signup.pk).attended is None


def test_the_sign_ups_export_as_csv(client, manager, creator_user, nonprofit_user):
    opportunity = make_opportunity(manager)
    sign_up(opportunity, creator_user)
    sign_up(opportunity, nonprofit_user, organisation="=HYPERLINK(evil)")
    client.force_login(manager)
    response = client.get(reverse("programs:opportunity-signups-csv", args=[opportunity.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == [
        "Name",
        "Email",
        "As",
        "Organisation",
        "Status",
        "Signed up at",
        "Attended",
    ]
    assert [row[1] for row in rows[1:]] == [creator_user.email, nonprofit_user.email]
    assert rows[2][3] == "'=HYPERLINK(evil)"  # made inert for spreadsheets
    assert rows[1][4] == "Signed up"


@pytest.mark.parametrize("count", [1, 15])
def test_the_staff_pages_queries_do_not_grow(client, manager, django_assert_max_num_queries, count):
    opportunity = make_opportunity(manager, capacity=20)
    for _ in range(count):
        sign_up(opportunity, CreatorFactory(user=UserFactory()).user)
        make_opportunity(manager)
    client.force_login(manager)
    with django_assert_max_num_queries(9):
        assert client.get(reverse("programs:opportunity-list")).status_code == 200
    with django_assert_max_num_queries(9):
        assert client.get(opportunity.get_staff_url()).status_code == 200


# --- The portals -----------------------------------------------------------------------------


def test_a_creator_signs_up_in_the_portal_and_sees_it_under_my_opportunities(
    client, manager, creator_user
):
    opportunity = make_opportunity(manager, audience=Opportunity.Audience.CREATORS)
    client.force_login(creator_user)
    page = client.get(reverse("programs:portal-opportunity-list")).content.decode()
    assert "Storytelling for impact" in page
    assert "You have not signed up to anything yet." in page
    response = client.post(
        reverse("programs:portal-opportunity-signup", args=[opportunity.pk]), follow=True
    )
    page = response.content.decode()
    assert "You are signed up to" in page
    mine = page[page.index('id="mine-title"') :]
    assert "Storytelling for impact" in mine
    assert "Withdraw" in mine


def test_the_portal_says_clearly_when_it_is_full(client, manager, creator_user, other_creator_user):
    opportunity = make_opportunity(manager, capacity=1)
    client.force_login(creator_user)
    sign_up(opportunity, other_creator_user)
    page = client.get(reverse("programs:portal-opportunity-list")).content.decode()
    assert "This opportunity is full." in page
    # A sign-up sent anyway (a page opened before the last place went) is refused.
    response = client.post(
        reverse("programs:portal-opportunity-signup", args=[opportunity.pk]), follow=True
    )
    assert "This opportunity is full." in response.content.decode()
    assert not OpportunitySignup.objects.filter(user=creator_user).exists()


def test_withdrawing_in_the_portal_frees_the_place(client, manager, creator_user):
    opportunity = make_opportunity(manager, capacity=1)
    sign_up(opportunity, creator_user)
    client.force_login(creator_user)
    client.post(reverse("programs:portal-opportunity-withdraw", args=[opportunity.pk]))
    assert opportunity.signups.current().count() == 0


def test_a_creator_does_not_see_or_reach_an_opportunity_for_nonprofits(
    client, manager, creator_user
):
    opportunity = make_opportunity(
        manager, audience=Opportunity.Audience.NONPROFITS, title_en="Grant writing clinic"
    )
    draft = make_opportunity(manager, publish=False, title_en="Still a draft")
    client.force_login(creator_user)
    page = client.get(reverse("programs:portal-opportunity-list")).content.decode()
    assert "Grant writing clinic" not in page
    assert "Still a draft" not in page
    for hidden in (opportunity, draft):
        url = reverse("programs:portal-opportunity-signup", args=[hidden.pk])
        assert client.post(url).status_code == 404
    assert not OpportunitySignup.objects.exists()


def test_a_creator_cannot_withdraw_someone_else(client, manager, creator_user, other_creator_user):
    opportunity = make_opportunity(manager)
    sign_up(opportunity, other_creator_user)
    client.force_login(creator_user)
    url = reverse("programs:portal-opportunity-withdraw", args=[opportunity.pk])
    assert client.post(url).status_code == 404
    assert opportunity.signups.current().count() == 1


def test_a_nonprofit_contact_signs_up_for_their_organisation(client, manager, nonprofit_user):
    opportunity = make_opportunity(manager, audience=Opportunity.Audience.NONPROFITS)
    creators_only = make_opportunity(
        manager, audience=Opportunity.Audience.CREATORS, title_en="Filming on a phone"
    )
    client.force_login(nonprofit_user)
    page = client.get(reverse("nonprofit:opportunity-list")).content.decode()
    assert "Storytelling for impact" in page
    assert "Filming on a phone" not in page
    client.post(reverse("nonprofit:opportunity-signup", args=[opportunity.pk]))
    signup = OpportunitySignup.objects.get(user=nonprofit_user)
    assert signup.organisation == nonprofit_user.nonprofit_contact.nonprofit.legal_name
    assert signup.role == OpportunitySignup.Role.NONPROFIT
    url = reverse("nonprofit:opportunity-signup", args=[creators_only.pk])
    assert client.post(url).status_code == 404


def test_a_portal_page_is_in_the_readers_language(client, manager, creator_user):
    make_opportunity(manager)
    client.force_login(creator_user)
    client.cookies["django_language"] = "fr"
    page = client.get(reverse("programs:portal-opportunity-list")).content.decode()
    assert "Raconter pour agir" in page


@pytest.mark.parametrize("count", [1, 15])
def test_the_portal_queries_do_not_grow(
    client, manager, creator_user, django_assert_max_num_queries, count
):
    for number in range(count):
        opportunity = make_opportunity(manager)
        if number % 2:
            sign_up(opportunity, creator_user)
    client.force_login(creator_user)
    with django_assert_max_num_queries(7):
        assert client.get(reverse("programs:portal-opportunity-list")).status_code == 200


@pytest.mark.parametrize("name", ["programs:portal-opportunity-list", "nonprofit:opportunity-list"])
def test_staff_and_strangers_do_not_open_the_portal_pages(client, manager, name):
    assert client.get(reverse(name)).status_code == 302  # to the sign-in page
    client.force_login(manager)
    assert client.get(reverse(name)).status_code == 403


def test_the_edit_form_shows_dates_as_the_date_inputs_take_them_in_every_language(client, manager):
    opportunity = make_opportunity(manager)
    client.force_login(manager)
    client.cookies["django_language"] = "fr"
    page = client.get(reverse("programs:opportunity-edit", args=[opportunity.pk]))
    day = opportunity.signups_close_on.isoformat()
    assert f'name="signups_close_on" value="{day}"' in page.content.decode()
