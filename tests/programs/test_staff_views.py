"""Staff pages: cohorts (list, create with a plan, progress grid, invitations, enrolment
moves), milestone reviews and applications. Staff only; htmx and plain posts both work."""

import datetime
import json
import re

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from changemakers.core.models import AuditEvent
from creators.models import Creator, CreatorInvitation
from programs.models import Application, Cohort, Enrolment, Milestone
from programs.services import (
    application_submit,
    enrolment_activate,
    enrolment_invite,
    progress_update_submit,
)
from tests.factories import (
    CohortFactory,
    CreatorFactory,
    EnrolmentFactory,
    MilestoneFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


# --- Who may see the staff pages -------------------------------------------------------------


def staff_urls(cohort, milestone, application):
    return [
        ("get", reverse("programs:cohort-list")),
        ("get", reverse("programs:cohort-create")),
        ("get", reverse("programs:cohort-detail", kwargs={"pk": cohort.pk})),
        (
            "post",
            reverse("programs:cohort-transition", kwargs={"pk": cohort.pk, "action": "start"}),
        ),
        ("post", reverse("programs:cohort-invite", kwargs={"pk": cohort.pk})),
        ("post", reverse("programs:cohort-invite-new", kwargs={"pk": cohort.pk})),
        (
            "post",
            reverse(
                "programs:enrolment-transition",
                kwargs={"pk": milestone.enrolment_id, "action": "withdraw"},
            ),
        ),
        ("get", reverse("programs:review-list")),
        ("get", reverse("programs:milestone-review", kwargs={"pk": milestone.pk})),
        ("post", reverse("programs:milestone-review", kwargs={"pk": milestone.pk})),
        ("get", reverse("programs:application-list")),
        ("get", reverse("programs:application-detail", kwargs={"pk": application.pk})),
    ]


@pytest.fixture
def staff_targets(enrolment):
    application = application_submit(
        display_name="Ada",
        handle="ada.makes",
        email="ada@example.org",
        country="NG",
        causes=["education"],
        channel_url="https://example.org/ada",
        mission="Teach.",
    )
    return enrolment.cohort, enrolment.milestones.first(), application


def test_anonymous_visitors_are_sent_to_sign_in(client, staff_targets):
    for method, url in staff_urls(*staff_targets):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url


@pytest.mark.parametrize("who", ["creator_user", "nonprofit_user"])
def test_creators_and_nonprofits_are_refused(client, staff_targets, who, request):
    client.force_login(request.getfixturevalue(who))
    for method, url in staff_urls(*staff_targets):
        response = getattr(client, method)(url)
        assert response.status_code == 403, url
    cohort, milestone, _application = staff_targets
    assert Enrolment.objects.get(pk=milestone.enrolment_id).status == "active"
    assert Cohort.objects.get(pk=cohort.pk).status == "planning"


# --- Cohorts ---------------------------------------------------------------------------------


def test_cohort_list_shows_places_taken(staff_client, enrolment):
    response = staff_client.get(reverse("programs:cohort-list"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Cohort T" in content
    assert "1 / 10" in content


def test_create_a_cohort_with_its_milestone_plan(staff_client, staff_user):
    form = staff_client.get(reverse("programs:cohort-create"))
    assert 'value="Kickoff"' in form.content.decode()  # the default plan, ready to edit

    data = {
        "name": "Cohort 2 — spring 2027",
        "start_date": "2027-03-15",
        "capacity": "8",
        "description": "",
        "plan-TOTAL_FORMS": "3",
        "plan-INITIAL_FORMS": "0",
        "plan-0-title": "Kickoff",
        "plan-0-offset_days": "7",
        "plan-1-title": "Final report",
        "plan-1-offset_days": "180",
        "plan-2-title": "",
        "plan-2-offset_days": "",
    }
    response = staff_client.post(reverse("programs:cohort-create"), data)

    cohort = Cohort.objects.get(name="Cohort 2 — spring 2027")
    assert response.status_code == 302
    assert response.url == reverse("programs:cohort-detail", kwargs={"pk": cohort.pk})
    assert cohort.end_date == datetime.date(2027, 9, 15)
    assert cohort.capacity == 8
    assert list(cohort.plan_items.values_list("title", "offset_days")) == [
        ("Kickoff", 7),
        ("Final report", 180),
    ]
    assert AuditEvent.objects.for_object(cohort).get().actor == staff_user


def test_a_plan_step_past_six_months_is_refused_on_the_form(staff_client):
    data = {
        "name": "Too long",
        "start_date": "2027-03-15",
        "capacity": "10",
        "plan-TOTAL_FORMS": "1",
        "plan-INITIAL_FORMS": "0",
        "plan-0-title": "Encore",
        "plan-0-offset_days": "400",
    }
    response = staff_client.post(reverse("programs:cohort-create"), data)
    assert response.status_code == 422
    assert "Ensure this value is less than or equal to 186" in response.content.decode()
    assert not Cohort.objects.filter(name="Too long").exists()


def _cohort_with_creators(staff_user, count: int) -> Cohort:
    cohort = CohortFactory(capacity=10)
    from programs.models import MilestonePlanItem

    for title, days in (("Kickoff", 14), ("Month 2", 60), ("Final", 175)):
        MilestonePlanItem.objects.create(cohort=cohort, title=title, offset_days=days)
    for _index in range(count):
        creator = CreatorFactory(user=UserFactory())
        enrolment = enrolment_invite(cohort=cohort, creator=creator, actor=staff_user)
        enrolment_activate(enrolment=enrolment, actor=staff_user)
    return cohort


def test_progress_grid_queries_do_not_grow_with_creators(staff_client, staff_user):
    small = _cohort_with_creators(staff_user, 3)
    large = _cohort_with_creators(staff_user, 10)

    counts = []
    for cohort in (small, large):
        with CaptureQueriesContext(connection) as queries:
            response = staff_client.get(reverse("programs:cohort-detail", kwargs={"pk": cohort.pk}))
        assert response.status_code == 200
        counts.append(len(queries))
        assert len(response.context["progress"].rows) == cohort.enrolments.count()
    assert counts[0] == counts[1], counts


@time_machine.travel(datetime.datetime(2026, 10, 1, 12, tzinfo=datetime.UTC), tick=False)
def test_progress_grid_highlights_overdue_milestones(staff_client, enrolment, other_enrolment):
    # Kickoff is due 15 Sept: overdue on 1 Oct unless submitted.
    other_kickoff = other_enrolment.milestones.get(title="Kickoff")
    progress_update_submit(
        milestone=other_kickoff, author=other_kickoff.enrolment.creator.user, body="Done."
    )

    response = staff_client.get(
        reverse("programs:cohort-detail", kwargs={"pk": enrolment.cohort_id})
    )

    progress = response.context["progress"]
    assert progress.columns == ["Kickoff", "Month 2 check-in", "Month 4 check-in", "Final report"]
    rows = {row.enrolment.pk: row for row in progress.rows}
    assert [cell.overdue for cell in rows[enrolment.pk].cells] == [True, False, False, False]
    # Submitted on time-ish: no longer open, so not overdue.
    assert [cell.overdue for cell in rows[other_enrolment.pk].cells] == [False] * 4
    assert progress.overdue == 1
    content = response.content.decode()
    assert content.count("progress-cell--overdue") == 1
    assert "1 milestone overdue" in content


def test_the_grid_alone_is_served_to_htmx(staff_client, enrolment):
    url = reverse("programs:cohort-detail", kwargs={"pk": enrolment.cohort_id})
    response = staff_client.get(url, headers=HTMX)
    content = response.content.decode()
    assert content.lstrip().startswith('<section id="progress"')
    assert "<html" not in content
    assert "HX-Request" in response["Vary"]


def test_invite_a_new_creator_by_email(
    staff_client, cohort, staff_user, django_capture_on_commit_callbacks
):
    url = reverse("programs:cohort-invite-new", kwargs={"pk": cohort.pk})
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            url,
            {
                "display_name": "Ngozi Eze",
                "handle": "@ngozi.speaks",
                "email": "ngozi@example.org",
                "country": "NG",
                "causes": ["advocacy"],
                "mission": "Speak up.",
                "note": "Welcome aboard!",
            },
        )
    assert response.status_code == 302
    creator = Creator.objects.get(handle="ngozi.speaks")
    enrolment = Enrolment.objects.get(cohort=cohort, creator=creator)
    assert enrolment.status == Enrolment.Status.INVITED
    assert creator.user.email == "ngozi@example.org"
    assert not creator.user.has_usable_password()
    invitation = CreatorInvitation.objects.get(creator=creator)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ngozi@example.org"]
    assert "Welcome aboard!" in mail.outbox[0].body
    assert f"/accounts/invitation/{invitation.pk}/" in mail.outbox[0].body


def test_invite_into_a_full_cohort_is_refused_clearly_and_nothing_is_created(
    staff_client, staff_user, django_capture_on_commit_callbacks
):
    cohort = CohortFactory(capacity=1)
    enrolment_invite(cohort=cohort, creator=CreatorFactory(), actor=staff_user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(
            reverse("programs:cohort-invite-new", kwargs={"pk": cohort.pk}),
            {
                "display_name": "Late",
                "handle": "late.one",
                "email": "late@example.org",
                "country": "GB",
                "causes": ["health"],
            },
            headers=HTMX,
        )
    assert callbacks == []
    assert response.status_code == 422
    assert "is full: all 1 places are taken." in response.content.decode()
    assert not Creator.objects.filter(handle="late.one").exists()
    assert mail.outbox == []


def test_invite_an_existing_creator_with_htmx_refreshes_the_grid(staff_client, cohort):
    creator = CreatorFactory(user=UserFactory())  # has a password already: no invitation email
    response = staff_client.post(
        reverse("programs:cohort-invite", kwargs={"pk": cohort.pk}),
        {"creator": creator.pk, "email": "", "mission": "Plant trees."},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"cohortChanged": {}}
    assert "is invited to Cohort T" in response.content.decode()
    assert Enrolment.objects.get(cohort=cohort, creator=creator).mission == "Plant trees."
    assert mail.outbox == []


def test_invite_an_existing_creator_without_an_account_needs_an_email(staff_client, cohort):
    creator = CreatorFactory()
    response = staff_client.post(
        reverse("programs:cohort-invite", kwargs={"pk": cohort.pk}), {"creator": creator.pk}
    )
    assert response.status_code == 422
    assert "has no portal account yet" in response.content.decode()
    assert not Enrolment.objects.filter(creator=creator).exists()


def test_activating_a_creator_active_elsewhere_is_refused_with_a_clear_message(
    staff_client, enrolment, staff_user
):
    later = CohortFactory(name="Cohort Later", start_date=datetime.date(2027, 3, 1))
    second = enrolment_invite(cohort=later, creator=enrolment.creator, actor=staff_user)
    url = reverse("programs:enrolment-transition", kwargs={"pk": second.pk, "action": "activate"})

    response = staff_client.post(url, headers=HTMX)

    assert response.status_code == 422
    assert "is already active in Cohort T" in response.content.decode()
    assert "HX-Trigger" not in response
    second.refresh_from_db()
    assert second.status == Enrolment.Status.INVITED


@pytest.mark.parametrize(
    ("action", "status"), [("complete", "completed"), ("withdraw", "withdrawn")]
)
def test_complete_or_withdraw_without_javascript(
    staff_client, enrolment, staff_user, action, status
):
    url = reverse("programs:enrolment-transition", kwargs={"pk": enrolment.pk, "action": action})
    response = staff_client.post(url, {"reason": "Moving abroad"})
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.status == status
    event = AuditEvent.objects.for_object(enrolment).last()
    assert (event.actor, event.from_state, event.to_state) == (staff_user, "active", status)


def test_withdraw_with_htmx_answers_with_an_event(staff_client, enrolment):
    url = reverse(
        "programs:enrolment-transition", kwargs={"pk": enrolment.pk, "action": "withdraw"}
    )
    response = staff_client.post(url, headers=HTMX)
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"cohortChanged": {}}
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.WITHDRAWN


def test_start_and_complete_a_cohort(staff_client, cohort, staff_user):
    start = reverse("programs:cohort-transition", kwargs={"pk": cohort.pk, "action": "start"})
    assert staff_client.post(start).status_code == 302
    cohort.refresh_from_db()
    assert cohort.status == Cohort.Status.ACTIVE
    bogus = reverse("programs:cohort-transition", kwargs={"pk": cohort.pk, "action": "delete"})
    assert staff_client.post(bogus).status_code == 404


# --- Milestone reviews -----------------------------------------------------------------------


@pytest.fixture
def submitted(enrolment, creator_user):
    kickoff = enrolment.milestones.get(title="Kickoff")
    progress_update_submit(milestone=kickoff, author=creator_user, body="Kickoff call done.")
    return Milestone.objects.get(pk=kickoff.pk)


def test_review_queue_lists_submitted_milestones(staff_client, submitted):
    response = staff_client.get(reverse("programs:review-list"))
    assert list(response.context["milestones"]) == [submitted]
    assert submitted.get_review_url() in response.content.decode()


def test_review_queue_queries_do_not_grow(staff_client, staff_user, submitted):
    with CaptureQueriesContext(connection) as one:
        staff_client.get(reverse("programs:review-list"))
    cohort = _cohort_with_creators(staff_user, 5)
    for enrolment in cohort.enrolments.all():
        milestone = enrolment.milestones.first()
        progress_update_submit(milestone=milestone, author=staff_user, body="Done.")
    with CaptureQueriesContext(connection) as six:
        response = staff_client.get(reverse("programs:review-list"))
    assert len(response.context["milestones"]) == 6
    assert len(one) == len(six)


def test_request_changes_emails_the_creator_who_sees_the_feedback(
    staff_client, submitted, staff_user, creator_user, client, django_capture_on_commit_callbacks
):
    url = reverse("programs:milestone-review", kwargs={"pk": submitted.pk})
    empty = staff_client.post(url, {"decision": "request_changes", "feedback": " "})
    assert empty.status_code == 422
    assert "Say what should change" in empty.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            url, {"decision": "request_changes", "feedback": "Add the view figures."}
        )

    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Milestone.Status.CHANGES_REQUESTED
    assert [m.to for m in mail.outbox] == [[creator_user.email]]
    assert "Add the view figures." in mail.outbox[0].body
    assert submitted.get_portal_url() in mail.outbox[0].body
    event = AuditEvent.objects.for_object(submitted).last()
    assert (event.actor, event.to_state, event.note) == (
        staff_user,
        "changes_requested",
        "Add the view figures.",
    )
    client.force_login(creator_user)
    portal = client.get(submitted.get_portal_url()).content.decode()
    assert "Add the view figures." in portal


def test_approve_with_htmx_goes_on_to_the_queue(
    staff_client, submitted, creator_user, django_capture_on_commit_callbacks
):
    url = reverse("programs:milestone-review", kwargs={"pk": submitted.pk})
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            url, {"decision": "approve", "feedback": "Great"}, headers=HTMX
        )
    assert response.status_code == 200
    # Nothing else waits: back to the queue, all caught up.
    assert response["HX-Redirect"] == reverse("programs:review-list")
    submitted.refresh_from_db()
    assert submitted.status == Milestone.Status.APPROVED
    # A second click changes nothing and emails nothing more.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = staff_client.post(url, {"decision": "approve", "feedback": "Great"})
    assert callbacks == []
    assert again.status_code == 302
    assert len(mail.outbox) == 1
    assert "is approved" in mail.outbox[0].subject


def test_review_email_is_in_the_creators_language(
    staff_client, submitted, creator_user, django_capture_on_commit_callbacks
):
    Creator.objects.filter(pk=creator_user.creator.pk).update(language="fr")
    url = reverse("programs:milestone-review", kwargs={"pk": submitted.pk})
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(url, {"decision": "request_changes", "feedback": "Ajoutez les chiffres."})
    assert len(mail.outbox) == 1
    # The default plan's titles are stamped in every language: the French creator reads theirs.
    assert mail.outbox[0].subject == "Modifications demandées pour « Lancement »"
    assert "Bonjour" in mail.outbox[0].body


# --- Applications ----------------------------------------------------------------------------


@pytest.fixture
def application(cohort):
    return application_submit(
        cohort=cohort,
        display_name="Amara Diallo",
        handle="amara.sahel",
        email="amara@example.org",
        country="SN",
        causes=["environment"],
        channel_url="https://example.org/amara",
        mission="Green the Sahel, one video at a time.",
        language="fr",
    )


def test_the_public_application_form_works_without_an_account(client, cohort):
    page = client.get(reverse("programs:apply"))
    assert page.status_code == 200
    assert "Cohort T" in page.content.decode()
    response = client.post(
        reverse("programs:apply"),
        {
            "display_name": "Lucas Silva",
            "handle": "@lucas.favela",
            "email": "lucas@example.org",
            "country": "BR",
            "causes": ["poverty"],
            "channel_url": "https://example.org/lucas",
            "follower_count": "12000",
            "mission": "Tell the stories of my neighbourhood.",
            "cohort": cohort.pk,
            "language": "en",
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("programs:apply-done")
    application = Application.objects.get(handle="lucas.favela")
    assert application.status == Application.Status.PENDING
    assert application.cohort == cohort


def test_the_application_form_refuses_a_bad_handle(client):
    response = client.post(reverse("programs:apply"), {"handle": "not a handle!"})
    assert response.status_code == 422
    assert "A handle is 2 to 30 letters" in response.content.decode()
    assert not Application.objects.exists()


def test_accepting_an_application_creates_the_creator_place_and_invitation(
    staff_client, application, cohort, staff_user, django_capture_on_commit_callbacks
):
    url = reverse("programs:application-detail", kwargs={"pk": application.pk})
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"decision": "accept", "cohort": cohort.pk})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.ACCEPTED
    creator = application.creator
    assert creator.handle == "amara.sahel"
    assert creator.language == "fr"
    assert Enrolment.objects.get(creator=creator, cohort=cohort).status == "invited"
    assert [m.to for m in mail.outbox] == [["amara@example.org"]]
    assert mail.outbox[0].subject == "Votre espace Change Makers est prêt"
    assert AuditEvent.objects.for_object(application).last().action == "accepted"


def test_declining_needs_a_message_and_emails_it(
    staff_client, application, django_capture_on_commit_callbacks
):
    url = reverse("programs:application-detail", kwargs={"pk": application.pk})
    empty = staff_client.post(url, {"decision": "decline", "message": ""})
    assert empty.status_code == 422
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            url, {"decision": "decline", "message": "Nous cherchons plus d'abonnés."}
        )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.DECLINED
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["amara@example.org"]
    assert "Nous cherchons plus d'abonnés." in mail.outbox[0].body
    assert re.search(r"Bonjour Amara Diallo", mail.outbox[0].body)


@time_machine.travel(datetime.datetime(2026, 10, 1, 12, tzinfo=datetime.UTC), tick=False)
def test_the_cohort_page_in_french_counts_overdue_milestones(
    staff_client, enrolment, other_enrolment, settings
):
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    url = reverse("programs:cohort-detail", kwargs={"pk": enrolment.cohort_id})
    content = staff_client.get(url).content.decode()
    assert "2 étapes en retard au 1 octobre 2026." in content
    assert "Avancement des étapes" in content


def test_inviting_a_creator_active_in_an_overlapping_cohort_is_refused(staff_client, enrolment):
    overlapping = CohortFactory(name="Cohort Overlap", start_date=datetime.date(2026, 12, 1))
    response = staff_client.post(
        reverse("programs:cohort-invite", kwargs={"pk": overlapping.pk}),
        {"creator": enrolment.creator_id},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert (
        "is active in Cohort T until March 1, 2027, which overlaps this cohort"
        in response.content.decode()
    )
    assert not Enrolment.objects.filter(cohort=overlapping).exists()


def test_an_application_never_takes_over_an_existing_creator(
    staff_client, cohort, django_capture_on_commit_callbacks
):
    existing = CreatorFactory(handle="famous.one")
    application = application_submit(
        display_name="Impostor",
        handle="famous.one",
        email="impostor@example.org",
        country="GB",
        causes=["arts"],
        channel_url="https://example.org/impostor",
        mission="Take over.",
    )
    url = reverse("programs:application-detail", kwargs={"pk": application.pk})
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"decision": "accept", "cohort": cohort.pk})
    assert response.status_code == 422
    assert "Another creator already has this handle." in response.content.decode()
    existing.refresh_from_db()
    assert existing.user is None
    application.refresh_from_db()
    assert application.status == Application.Status.PENDING
    assert mail.outbox == []


def test_cohort_and_application_lists_queries_do_not_grow(staff_client, staff_user):
    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(url).status_code == 200
        return len(queries)

    def apply(number):
        application_submit(
            cohort=CohortFactory(),
            display_name=f"Applicant {number}",
            handle=f"applicant_{number}",
            email=f"a{number}@example.org",
            country="KE",
            causes=["health"],
            channel_url="https://example.org/a",
            mission="Help.",
        )

    _cohort_with_creators(staff_user, 2)
    apply(0)
    few = (count(reverse("programs:cohort-list")), count(reverse("programs:application-list")))
    for number in range(1, 8):
        _cohort_with_creators(staff_user, 1)
        apply(number)
    many = (count(reverse("programs:cohort-list")), count(reverse("programs:application-list")))
    assert few == many


@time_machine.travel(datetime.datetime(2026, 10, 1, 12, tzinfo=datetime.UTC), tick=False)
def test_a_withdrawn_place_is_not_counted_overdue(staff_client, enrolment, staff_user):
    from programs.services import enrolment_withdraw

    url = reverse("programs:cohort-detail", kwargs={"pk": enrolment.cohort_id})
    assert staff_client.get(url).context["progress"].overdue == 1
    enrolment_withdraw(enrolment=enrolment, actor=staff_user)
    assert staff_client.get(url).context["progress"].overdue == 0


# --- Review findings: paginated staff lists, a guarded public form ---------------------------


def _submit_application(number: int) -> Application:
    return application_submit(
        display_name=f"Applicant {number}",
        handle=f"applicant_{number}",
        email=f"a{number}@example.org",
        country="KE",
        causes=["health"],
        channel_url="https://example.org/a",
        mission="Help.",
    )


def _add_rows(list_name: str, start: int, stop: int) -> None:
    if list_name == "application-list":
        for number in range(start, stop):
            _submit_application(number)
    elif list_name == "review-list":
        enrolment = EnrolmentFactory()
        for _number in range(start, stop):
            MilestoneFactory(enrolment=enrolment, status="submitted")
    else:
        for _number in range(start, stop):
            CohortFactory()


def _rows(response, list_name: str) -> list:
    key = {"application-list": "applications", "review-list": "milestones"}.get(
        list_name, "cohorts"
    )
    return list(response.context[key])


@pytest.mark.parametrize("list_name", ["application-list", "review-list", "cohort-list"])
def test_staff_lists_are_paginated_with_constant_queries(staff_client, list_name):
    url = reverse(f"programs:{list_name}")

    def queries_for(target):
        with CaptureQueriesContext(connection) as queries:
            response = staff_client.get(target)
        assert response.status_code == 200
        return len(queries), response

    _add_rows(list_name, 0, 3)
    few, response = queries_for(url)
    assert len(_rows(response, list_name)) == 3
    _add_rows(list_name, 3, 60)
    many, response = queries_for(url)
    assert few == many
    assert len(_rows(response, list_name)) == 50
    assert 'rel="next"' in response.content.decode()

    second_queries, second = queries_for(url + "?page=2")
    assert second_queries == many
    assert len(_rows(second, list_name)) == 10
    assert not {r.pk for r in _rows(second, list_name)} & {r.pk for r in _rows(response, list_name)}

    past_the_end = staff_client.get(url + "?page=99")
    assert past_the_end.status_code == 200
    assert past_the_end.context["page_obj"].number == 2
    not_a_number = staff_client.get(url + "?page=abc")
    assert not_a_number.status_code == 200
    assert not_a_number.context["page_obj"].number == 1


APPLICATION = {
    "display_name": "Lucas Silva",
    "handle": "lucas.favela",
    "email": "lucas@example.org",
    "country": "BR",
    "causes": ["poverty"],
    "channel_url": "https://example.org/lucas",
    "follower_count": "12000",
    "mission": "Tell the stories of my neighbourhood.",
    "language": "en",
}


@pytest.fixture
def _empty_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.mark.usefixtures("_empty_cache")
def test_the_honeypot_is_hidden_and_a_filled_one_stores_nothing(client):
    page = client.get(reverse("programs:apply")).content.decode()
    honeypot = re.search(r'<div class="honeypot"[^>]*>', page).group(0)
    assert "hidden" in honeypot
    assert 'aria-hidden="true"' in honeypot
    assert 'name="website"' in page

    response = client.post(reverse("programs:apply"), {**APPLICATION, "website": "spam.example"})
    assert response.status_code == 302
    assert response.url == reverse("programs:apply-done")
    assert not Application.objects.exists()

    client.post(reverse("programs:apply"), {**APPLICATION, "website": ""})
    assert Application.objects.get().handle == "lucas.favela"


@pytest.mark.usefixtures("_empty_cache")
def test_the_application_form_takes_five_an_hour_from_one_address(client):
    url = reverse("programs:apply")
    for number in range(5):
        data = {**APPLICATION, "handle": f"applicant_{number}", "email": f"a{number}@x.org"}
        response = client.post(url, data, REMOTE_ADDR="203.0.113.7")
        assert response.status_code == 302
    assert Application.objects.count() == 5

    refused = client.post(
        url, {**APPLICATION, "handle": "one_more", "email": "more@x.org"}, REMOTE_ADDR="203.0.113.7"
    )
    assert refused.status_code == 429
    assert "Please try again in an hour" in refused.content.decode()
    assert Application.objects.count() == 5

    elsewhere = client.post(url, APPLICATION, REMOTE_ADDR="198.51.100.2")
    assert elsewhere.status_code == 302
    assert Application.objects.count() == 6

    with time_machine.travel(datetime.timedelta(hours=1, minutes=1)):
        later = client.post(
            url,
            {**APPLICATION, "handle": "next_hour", "email": "n@x.org"},
            REMOTE_ADDR="203.0.113.7",
        )
    assert later.status_code == 302


# --- Resending a portal invitation ---------------------------------------------------------


def test_staff_resend_an_invitation_the_creator_has_not_used(
    staff_client, staff_user, cohort, django_capture_on_commit_callbacks
):
    from creators.services import creator_invitation_send, invitation_for_token, invitation_token

    creator = CreatorFactory()
    first = creator_invitation_send(creator=creator, email="amara@example.org", actor=staff_user)
    enrolment = enrolment_invite(cohort=cohort, creator=creator, actor=staff_user)
    grid = staff_client.get(reverse("programs:cohort-detail", args=[cohort.pk])).content.decode()
    url = reverse("programs:enrolment-invitation-resend", args=[enrolment.pk])
    assert url in grid

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "Invitation sent again to amara@example.org." in response.content.decode()
    assert mail.outbox[-1].to == ["amara@example.org"]
    assert invitation_for_token(pk=first.pk, token=invitation_token(first)) is None
    assert CreatorInvitation.objects.filter(creator=creator).count() == 2


def test_no_invitation_is_resent_to_a_creator_who_signs_in_already(
    staff_client, client, staff_user, cohort, creator_user
):
    enrolment = enrolment_invite(cohort=cohort, creator=creator_user.creator, actor=staff_user)
    url = reverse("programs:enrolment-invitation-resend", args=[enrolment.pk])
    assert (
        url
        not in staff_client.get(
            reverse("programs:cohort-detail", args=[cohort.pk])
        ).content.decode()
    )

    response = staff_client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert not CreatorInvitation.objects.exists()

    client.force_login(creator_user)
    assert client.post(url).status_code == 403


# --- Withdrawing and completing ask first ------------------------------------------------------


def test_withdrawing_asks_first_and_says_what_it_does(staff_client, enrolment):
    url = reverse(
        "programs:enrolment-transition", kwargs={"pk": enrolment.pk, "action": "withdraw"}
    )
    name, cohort = enrolment.creator.display_name, enrolment.cohort.name

    page = staff_client.get(url)
    fragment = staff_client.get(url, headers={**HTMX, "HX-Target": "confirm-dialog-body"})

    assert page.status_code == fragment.status_code == 200
    for body in (page.content.decode(), fragment.content.decode()):
        assert f"Withdraw {name} from {cohort}?" in body
        assert "no longer reminded of their milestones" in body
        assert "Their donation is not touched" in body
        assert f'action="{url}"' in body
    assert 'data-hx-target="#notice"' in fragment.content.decode()
    assert 'data-hx-target="#notice"' not in page.content.decode()  # a plain post, no JS
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE
    grid = staff_client.get(reverse("programs:cohort-detail", kwargs={"pk": enrolment.cohort_id}))
    assert f'href="{url}"' in grid.content.decode()


def test_only_withdrawing_has_a_confirmation(staff_client, enrolment, cohort):
    activate = reverse(
        "programs:enrolment-transition", kwargs={"pk": enrolment.pk, "action": "complete"}
    )
    start = reverse("programs:cohort-transition", kwargs={"pk": cohort.pk, "action": "start"})
    assert staff_client.get(activate).status_code == 405
    assert staff_client.get(start).status_code == 405


def test_completing_a_cohort_asks_first_with_its_counts(staff_client, cohort, enrolment):
    from programs.services import cohort_start

    cohort_start(cohort=cohort, actor=enrolment.cohort.manager or UserFactory(is_superuser=True))
    url = reverse("programs:cohort-transition", kwargs={"pk": cohort.pk, "action": "complete"})
    body = staff_client.get(url).content.decode()
    assert f"Complete {cohort.name}?" in body
    assert "Its 1 active creator&#x27;s place is completed" in body or (
        "Its 1 active creator's place is completed" in body
    )
    assert "cannot be undone" in body
    cohort.refresh_from_db()
    assert cohort.status == Cohort.Status.ACTIVE
    assert staff_client.post(url).status_code == 302
    cohort.refresh_from_db()
    assert cohort.status == Cohort.Status.COMPLETED


def test_confirmations_are_refused_to_who_may_not_act(client, enrolment):
    from changemakers.core.roles import StaffRole
    from tests.factories import StaffFactory

    client.force_login(StaffFactory(roles=[StaffRole.AUDITOR]))
    url = reverse(
        "programs:enrolment-transition", kwargs={"pk": enrolment.pk, "action": "withdraw"}
    )
    assert client.get(url).status_code == 403
