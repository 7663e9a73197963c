"""Personal data on request: export and erasure of one creator, four eyes, the audit rows, and
the retention purge."""

import datetime
import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from changemakers.backoffice import personal_data as services
from changemakers.backoffice.models import PersonalDataRequest, RetentionRun
from changemakers.backoffice.retention import retention_purge
from changemakers.core.models import AuditEvent, OutboxEvent, Preferences
from changemakers.core.roles import StaffRole
from changemakers.webhooks.models import Delivery, Endpoint
from changemakers.webhooks.services import events_fan_out
from creators.models import Creator, CreatorInvitation, ListEntry, ProfileConsent, PublicField
from creators.services import creator_create, creator_invitation_send, list_publish
from creators.services.consent import creator_consent_confirm
from donations.models import Grant
from programs.models import Application, ImpactIndicator, ImpactValue, TikTokVideo
from programs.services import (
    application_decline,
    application_submit,
    cohort_create,
    enrolment_activate,
    enrolment_invite,
    progress_update_submit,
)
from tests.factories import (
    PASSWORD,
    ChangeMakersListFactory,
    GrantFactory,
    ListEntryFactory,
    StaffFactory,
    UserFactory,
)
from tests.uploads import image_file

pytestmark = pytest.mark.django_db

PM = [StaffRole.PROGRAM_MANAGER]
PERSON_NAME = "Joel Bervell"
PERSON_HANDLE = "joelbervell"
PERSON_EMAIL = "joel@example.org"


@pytest.fixture
def asker(db):
    return StaffFactory(roles=PM, username="asker@example.org")


@pytest.fixture
def approver(db):
    return StaffFactory(roles=PM, username="approver@example.org")


def _person(staff, *, name, handle, email, start):
    """A creator with everything the program can hold about them: an account with its
    preferences, a photo, a link, an invitation, consent answers, a published list entry, a
    place with an update, an attachment, a TikTok video and an impact figure, a declined
    application, a paid grant in their name, and the milestone's event delivered to a
    partner."""
    creator = creator_create(
        display_name=name,
        handle=handle,
        country="GH",
        causes=["health"],
        bio=f"I am {name}.",
        links=[("Channel", f"https://video.example/{handle}")],
        actor=staff,
    )
    creator.photo.save("photo.png", image_file(), save=True)
    # They agreed to appear showing everything (the consent page's answer, set directly).
    Creator.objects.filter(pk=creator.pk).update(
        consent=Creator.Consent.AGREED,
        public_fields=list(PublicField.values),
        consent_at=timezone.now(),
    )
    creator_invitation_send(creator=creator, email=email, actor=staff, note="Welcome!")
    creator.refresh_from_db()
    # Then they narrowed it on the consent page (a second version, recorded by them).
    creator_consent_confirm(
        creator=creator, actor=creator.user, public_fields=[PublicField.PHOTO, PublicField.BIO]
    )
    Creator.objects.filter(pk=creator.pk).update(consent_reminded_at=timezone.now())
    Preferences.objects.update_or_create(user=creator.user, defaults={"time_zone": "Africa/Accra"})
    creator.refresh_from_db()
    edition = ChangeMakersListFactory(year=start.year)
    ListEntryFactory(change_makers_list=edition, creator=creator, position=1, citation=name)
    list_publish(change_makers_list=edition, actor=staff)
    cohort = cohort_create(name=f"Cohort {start.year}", start_date=start, actor=staff)
    enrolment = enrolment_activate(
        enrolment=enrolment_invite(cohort=cohort, creator=creator, actor=staff),
        actor=creator.user,
    )
    milestone = enrolment.milestones.first()
    update = progress_update_submit(
        milestone=milestone,
        author=creator.user,
        body=f"{name} filmed the first video.",
        link="https://video.example/1",
        attachment=ContentFile(b"%PDF-1.4 report", name="report.pdf"),
        impact={
            ImpactIndicator.objects.get_or_create(name="Views", unit="views")[0]: Decimal("1200")
        },
    )
    video = TikTokVideo.objects.create(
        update=update,
        url=f"https://www.tiktok.com/@{handle}/video/7300000000000000001",
        video_id="7300000000000000001",
        status=TikTokVideo.Status.READY,
        title=f"{name} on fevers",
        author_name=name,
        author_url=f"https://www.tiktok.com/@{handle}",
    )
    video.thumbnail.save("thumbnail.png", image_file("thumbnail.png"), save=True)
    # The milestone's submission went to a partner (the delivery's body keeps its data).
    Endpoint.objects.get_or_create(
        name="Partner", url="https://partner.example/hooks", events=["milestone.submitted"]
    )
    events_fan_out(event_ids=list(OutboxEvent.objects.unhandled().values_list("pk", flat=True)))
    application = application_submit(
        display_name=name,
        handle=handle,
        email=email,
        country="GH",
        causes=["health"],
        channel_url=f"https://video.example/{handle}",
        mission="Health for all.",
    )
    application_decline(application=application, message=f"Sorry {name}.", actor=staff)
    grant = GrantFactory(
        creator=creator,
        status=Grant.Status.DISBURSED,
        amount=Decimal("25000.00"),
        purpose=f"Donation in the name of {name}",
    )
    return creator, update, application, grant


@pytest.fixture
def person(media_root, staff_user):
    return _person(
        staff_user,
        name=PERSON_NAME,
        handle=PERSON_HANDLE,
        email=PERSON_EMAIL,
        start=datetime.date(2026, 3, 1),
    )


@pytest.fixture
def someone_else(person, staff_user):
    return _person(
        staff_user,
        name="Kara Lewis",
        handle="karaxlewis",
        email="kara@example.org",
        start=datetime.date(2027, 3, 1),
    )


def _approved(kind, creator, asker, approver, **kwargs):
    request = services.data_request_create(
        creator=creator, kind=kind, reason="Asked by email on 12 March", actor=asker
    )
    return services.data_request_approve(request=request, actor=approver)


# --- Four eyes and permissions ----------------------------------------------------------------


def test_the_requester_cannot_approve_their_own_request(person, asker):
    creator = person[0]
    request = services.data_request_create(
        creator=creator, kind="export", reason="Asked", actor=asker
    )
    with pytest.raises(ValidationError) as refused:
        services.data_request_approve(request=request, actor=asker)
    assert refused.value.code == "approver_is_requester"
    request.refresh_from_db()
    assert request.status == PersonalDataRequest.Status.PENDING


@pytest.mark.parametrize(
    "roles", [[StaffRole.AUDITOR], [StaffRole.FINANCE_APPROVER], [StaffRole.NONPROFIT_VETTER]]
)
def test_other_staff_roles_can_neither_ask_nor_approve(person, asker, roles):
    creator = person[0]
    other = StaffFactory(roles=roles)
    with pytest.raises(ValidationError):
        services.data_request_create(creator=creator, kind="export", reason="x", actor=other)
    request = services.data_request_create(creator=creator, kind="erasure", reason="x", actor=asker)
    with pytest.raises(ValidationError):
        services.data_request_approve(request=request, actor=other)
    assert Creator.objects.get(pk=creator.pk).erased_at is None


def test_rejecting_needs_a_reason_and_is_audited(person, asker, approver):
    request = services.data_request_create(
        creator=person[0], kind="erasure", reason="x", actor=asker
    )
    with pytest.raises(ValidationError):
        services.data_request_reject(request=request, reason=" ", actor=approver)
    services.data_request_reject(request=request, reason="Not them", actor=approver)
    request.refresh_from_db()
    assert request.status == PersonalDataRequest.Status.REJECTED
    assert Creator.objects.get(pk=person[0].pk).erased_at is None
    actions = list(AuditEvent.objects.for_object(request).values_list("action", flat=True))
    assert actions == ["requested", "rejected"]


# --- Export -----------------------------------------------------------------------------------


def _zip(request: PersonalDataRequest) -> zipfile.ZipFile:
    request.refresh_from_db()
    with request.archive.open("rb") as stored:
        return zipfile.ZipFile(io.BytesIO(stored.read()))


def test_an_approved_export_is_built_with_every_area_and_the_files(
    person, someone_else, asker, approver, django_capture_on_commit_callbacks
):
    creator, update, _application, _grant = person
    with django_capture_on_commit_callbacks(execute=True):
        request = _approved("export", creator, asker, approver)
    request.refresh_from_db()
    assert request.status == PersonalDataRequest.Status.DONE
    assert request.archive_expires_at > timezone.now() + datetime.timedelta(days=6)
    archive = _zip(request)
    names = set(archive.namelist())
    assert {"README.txt", "creators.json", "programs.json", "donations.json", "audit.json"} <= (
        names
    )
    assert "files/photo.png" in names
    assert "TikTok" in archive.read("README.txt").decode()  # it says what files/ holds
    assert f"files/attachments/{update.pk}-" in " ".join(names)
    attachment = next(name for name in names if name.startswith("files/attachments/"))
    assert archive.read(attachment) == b"%PDF-1.4 report"
    profile = json.loads(archive.read("creators.json"))
    assert profile["profile"]["handle"] == PERSON_HANDLE
    assert profile["account"]["email"] == PERSON_EMAIL
    assert profile["list_entries"][0]["citation"] == PERSON_NAME
    assert profile["account"]["preferences"]["time_zone"] == "Africa/Accra"
    consent = profile["consent"]
    assert (consent["answer"], consent["public_fields"]) == ("agreed", ["photo", "bio"])
    assert consent["answered_at"]
    assert consent["reminded_at"]
    assert [(answer["version"], answer["by_them"]) for answer in consent["history"]] == [(1, True)]
    programs = json.loads(archive.read("programs.json"))
    assert set(programs) == {"enrolments", "milestones", "updates", "impact", "applications"}
    assert programs["updates"][0]["body"] == f"{PERSON_NAME} filmed the first video."
    (video,) = programs["updates"][0]["tiktok_videos"]
    assert (video["title"], video["author_name"]) == (f"{PERSON_NAME} on fevers", PERSON_NAME)
    assert video["thumbnail"].startswith("files/tiktok/")
    assert archive.read(video["thumbnail"]).startswith(b"\x89PNG")
    assert [(value["indicator"], value["value"]) for value in programs["impact"]] == [
        ("Views", "1200.00")
    ]
    assert programs["applications"][0]["email"] == PERSON_EMAIL
    grants = json.loads(archive.read("donations.json"))["grants"]
    assert [grant["amount"] for grant in grants] == ["25000.00"]
    events = json.loads(archive.read("audit.json"))["events"]
    assert events
    assert any(event["by_them"] for event in events)
    # Nothing of the other person.
    everything = b"".join(archive.read(name) for name in names)
    assert b"Kara" not in everything
    assert b"karaxlewis" not in everything
    actions = list(AuditEvent.objects.for_object(request).values_list("action", flat=True))
    assert actions == ["requested", "approved", "exported"]


def test_building_an_export_twice_keeps_the_first_archive(
    person, asker, approver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = _approved("export", person[0], asker, approver)
    request.refresh_from_db()
    first = request.archive.name
    services.data_export_build(request_id=request.pk)
    request.refresh_from_db()
    assert request.archive.name == first
    assert AuditEvent.objects.for_object(request).filter(action="exported").count() == 1


def test_only_the_requester_and_the_approver_download_the_export(
    client, person, asker, approver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = _approved("export", person[0], asker, approver)
    url = reverse("backoffice:personal-data-download", args=[request.pk])
    for who in (asker, approver):
        client.force_login(who)
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        assert zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).testzip() is None
    client.force_login(StaffFactory(roles=PM))
    assert client.get(url).status_code == 404
    client.force_login(StaffFactory(roles=[StaffRole.AUDITOR]))
    assert client.get(url).status_code == 403
    assert AuditEvent.objects.for_object(request).filter(action="downloaded").count() == 2


def test_an_export_past_its_lifetime_is_deleted_by_the_purge(
    person, asker, approver, django_capture_on_commit_callbacks, client
):
    with django_capture_on_commit_callbacks(execute=True):
        request = _approved("export", person[0], asker, approver)
    request.refresh_from_db()
    storage, name = request.archive.storage, request.archive.name
    later = request.archive_expires_at + datetime.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        counts = retention_purge(now=later)
    assert counts["expired_exports"] == 1
    request.refresh_from_db()
    assert request.status == PersonalDataRequest.Status.EXPIRED
    assert not storage.exists(name)
    client.force_login(asker)
    assert (
        client.get(reverse("backoffice:personal-data-download", args=[request.pk])).status_code
        == 404
    )


# --- Erasure ----------------------------------------------------------------------------------


def test_erasure_replaces_the_person_by_a_pseudonym_and_keeps_the_money(
    client, person, someone_else, asker, approver, django_capture_on_commit_callbacks
):
    creator, update, application, grant = person
    photo = (creator.photo.storage, creator.photo.name)
    attachment = (update.attachment.storage, update.attachment.name)
    thumbnail = update.tiktok_videos.get().thumbnail
    thumbnail = (thumbnail.storage, thumbnail.name)
    assert thumbnail[0].exists(thumbnail[1])
    user_id = creator.user_id
    with django_capture_on_commit_callbacks(execute=True):
        request = _approved("erasure", creator, asker, approver)
    assert request.status == PersonalDataRequest.Status.DONE

    creator.refresh_from_db()
    assert creator.erased_at is not None
    assert creator.display_name.startswith("Erased person ")
    assert creator.handle.startswith("erased_")
    assert (creator.bio, creator.photo.name, creator.links.count()) == ("", "", 0)
    assert not ListEntry.objects.filter(creator=creator).exists()
    assert not CreatorInvitation.objects.filter(creator=creator, email=PERSON_EMAIL).exists()
    # Files are gone from storage.
    assert not photo[0].exists(photo[1])
    assert not attachment[0].exists(attachment[1])
    assert not thumbnail[0].exists(thumbnail[1])
    assert not TikTokVideo.objects.filter(update=update).exists()
    # Their consent is unanswered again; its history stays without who recorded it.
    assert (creator.consent, creator.public_fields) == (Creator.Consent.UNANSWERED, [])
    assert (creator.consent_at, creator.consent_reminded_at) == (None, None)
    assert list(
        ProfileConsent.objects.filter(creator=creator).values_list("recorded_by", flat=True)
    ) == [None]
    assert not Preferences.objects.filter(user_id=user_id).exists()
    # Impact figures are the program's: they stay, counted as before.
    assert ImpactValue.objects.get(update=update).value == Decimal("1200")
    update.refresh_from_db()
    assert (update.body, update.link, update.attachment.name) == ("[erased]", "", "")
    application.refresh_from_db()
    assert PERSON_EMAIL not in application.email
    assert application.status == "declined"
    # The money stays, in the pseudonym's name.
    grant.refresh_from_db()
    assert grant.status == Grant.Status.DISBURSED
    assert grant.amount == Decimal("25000.00")
    assert grant.creator_id == creator.pk
    assert PERSON_NAME not in grant.purpose
    assert creator.display_name in grant.purpose
    # The account can no longer sign in.
    user = get_user_model().objects.get(pk=user_id)
    assert not user.is_active
    assert not user.has_usable_password()
    assert user.email == ""
    for username in (PERSON_EMAIL, user.username):
        client.post(reverse("login"), {"username": username, "password": PASSWORD})
        assert "_auth_user_id" not in client.session
    # The audit trail stays, without the person's names.
    trail = AuditEvent.objects.filter(object_repr__icontains="bervell") | AuditEvent.objects.filter(
        note__icontains="bervell"
    )
    assert not trail.exists()
    assert AuditEvent.objects.for_object(creator).filter(action="created").exists()
    # The other person is untouched.
    other = someone_else[0]
    other.refresh_from_db()
    assert other.display_name == "Kara Lewis"
    assert other.erased_at is None
    assert AuditEvent.objects.filter(object_repr__icontains="Kara Lewis").exists()
    # Gone from the public pages.
    client.logout()
    assert client.get(f"/creators/{PERSON_HANDLE}/").status_code == 404
    assert client.get(f"/creators/{creator.handle}/").status_code == 404
    listed = client.get(f"/list/{datetime.date(2026, 3, 1).year}/")
    assert PERSON_NAME not in listed.content.decode()
    assert b"Kara Lewis" in client.get("/list/2027/").content
    actions = list(AuditEvent.objects.for_object(request).values_list("action", flat=True))
    assert actions == ["requested", "approved", "erased"]
    assert PERSON_NAME not in PersonalDataRequest.objects.get(pk=request.pk).reason


def test_erasure_is_refused_while_money_is_on_its_way(person, asker, approver):
    creator, *_ = person
    GrantFactory(creator=creator, status=Grant.Status.APPROVED)
    with pytest.raises(ValidationError) as refused:
        services.data_request_create(creator=creator, kind="erasure", reason="x", actor=asker)
    assert "paid or cancelled first" in " ".join(refused.value.messages)


def test_erasure_rechecks_the_money_when_approved(person, asker, approver):
    creator, *_ = person
    request = services.data_request_create(creator=creator, kind="erasure", reason="x", actor=asker)
    GrantFactory(creator=creator, status=Grant.Status.UNKNOWN)
    with pytest.raises(ValidationError):
        services.data_request_approve(request=request, actor=approver)
    request.refresh_from_db()
    creator.refresh_from_db()
    assert request.status == PersonalDataRequest.Status.PENDING
    assert creator.display_name == PERSON_NAME
    assert creator.erased_at is None


def test_an_erased_person_cannot_be_erased_again(person, asker, approver):
    _approved("erasure", person[0], asker, approver)
    with pytest.raises(ValidationError):
        services.data_request_create(creator=person[0], kind="erasure", reason="again", actor=asker)


@pytest.mark.postgres
def test_the_database_lets_only_a_redaction_rewrite_the_audit_log(person):
    from django.db import IntegrityError, connection, transaction

    from changemakers.core.personal_data import audit_redact

    event = AuditEvent.objects.for_object(person[0]).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(note="rewritten")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('changemakers.audit_redaction', 'on', true)")
        with pytest.raises(IntegrityError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(action="approved")
    assert audit_redact(rows=[person[0]], names=[PERSON_NAME], replacement="X") >= 1
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()


# --- Retention --------------------------------------------------------------------------------


def test_retention_purge_deletes_old_declined_applications_and_expired_links(
    person, settings, staff_user
):
    settings.RETENTION_DECLINED_APPLICATIONS_DAYS = 30
    recent = application_submit(
        display_name="Eli Virkina",
        handle="elivirkina",
        email="eli@example.org",
        country="ES",
        causes=["environment"],
        channel_url="https://video.example/eli",
        mission="Rivers.",
    )
    application_decline(application=recent, message="Not this time.", actor=staff_user)
    old = person[2]
    Application.objects.filter(pk=old.pk).update(
        decided_at=timezone.now() - datetime.timedelta(days=31)
    )
    CreatorInvitation.objects.update(expires_at=timezone.now() - datetime.timedelta(days=1))

    out = io.StringIO()
    call_command("retention_purge", "--dry-run", stdout=out)
    assert "Would delete 1 declined applications" in out.getvalue()
    assert Application.objects.filter(pk=old.pk).exists()
    assert not RetentionRun.objects.exists()

    call_command("retention_purge", stdout=io.StringIO())
    assert not Application.objects.filter(pk=old.pk).exists()
    assert Application.objects.filter(pk=recent.pk).exists()
    assert not CreatorInvitation.objects.exists()
    # Their history stays, without the applicant's names.
    events = AuditEvent.objects.filter(object_id=old.pk, content_type__model="application")
    assert events.exists()
    assert not events.filter(object_repr__icontains="bervell").exists()
    run = RetentionRun.objects.get()
    assert run.counts["declined_applications"] == 1
    assert run.counts["expired_creatorinvitation"] == 1
    assert AuditEvent.objects.for_object(run).get().action == "purged"


def test_retention_purge_clears_expired_sessions(db):
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    store = SessionStore()
    store["x"] = 1
    store.set_expiry(-10)
    store.create()
    live = SessionStore()
    live.create()
    counts = retention_purge()
    assert counts["expired_sessions"] == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


# --- Pages ------------------------------------------------------------------------------------


def test_staff_ask_and_a_colleague_approves_on_the_page(
    client, person, asker, approver, django_capture_on_commit_callbacks
):
    page = reverse("backoffice:personal-data")
    client.force_login(asker)
    response = client.post(
        page, {"handle": "@JoelBervell", "kind": "export", "reason": "Asked by email"}
    )
    assert response.status_code == 302
    request = PersonalDataRequest.objects.get()
    assert request.requested_by == asker
    content = client.get(page).content.decode()
    assert "someone else approves it" in content
    assert (
        client.post(reverse("backoffice:personal-data-approve", args=[request.pk])).status_code
        == 302
    )
    request.refresh_from_db()
    assert request.status == PersonalDataRequest.Status.PENDING

    client.force_login(approver)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("backoffice:personal-data-approve", args=[request.pk]),
            {"next": page},
            headers={"HX-Request": "true", "HX-Target": f"data-request-{request.pk}"},
        )
    assert response.status_code == 200
    assert f'id="data-request-{request.pk}"' in response.content.decode()
    request.refresh_from_db()
    assert request.status == PersonalDataRequest.Status.DONE
    assert "Download the ZIP" in client.get(page).content.decode()


def test_an_unknown_handle_is_refused_on_the_form(client, asker):
    client.force_login(asker)
    response = client.post(
        reverse("backoffice:personal-data"),
        {"handle": "nobody_here", "kind": "erasure", "reason": "x"},
    )
    assert response.status_code == 422
    assert not PersonalDataRequest.objects.exists()


@pytest.mark.parametrize("who", ["anonymous", "creator", "nonprofit", "finance"])
def test_people_without_the_permission_cannot_post_a_request(client, person, who, nonprofit_user):
    users = {
        "anonymous": None,
        "creator": person[0].user,
        "nonprofit": nonprofit_user,
        "finance": StaffFactory(roles=[StaffRole.FINANCE_APPROVER]),
    }
    if users[who] is not None:
        client.force_login(users[who])
    response = client.post(
        reverse("backoffice:personal-data"),
        {"handle": PERSON_HANDLE, "kind": "erasure", "reason": "x"},
    )
    assert response.status_code in (302, 403)
    if who != "anonymous":
        assert response.status_code == 403
    assert not PersonalDataRequest.objects.exists()


def test_the_auditor_reads_the_requests_without_acting(client, person, asker):
    services.data_request_create(creator=person[0], kind="export", reason="x", actor=asker)
    client.force_login(StaffFactory(roles=[StaffRole.AUDITOR]))
    response = client.get(reverse("backoffice:personal-data"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Ask for approval" not in content
    assert "Approve" not in content


def test_staff_accounts_of_someone_else_are_left_alone(person, asker, approver):
    _approved("erasure", person[0], asker, approver)
    for who in (asker, approver):
        who.refresh_from_db()
        assert who.is_active
        assert who.email
    assert UserFactory._meta.model.objects.filter(is_active=False).count() == 1


def test_erasure_takes_the_person_out_of_the_events_and_the_deliveries_bodies(
    person, someone_else, asker, approver, django_capture_on_commit_callbacks
):
    creator, update, _application, _grant = person
    milestone = update.milestone
    event = OutboxEvent.objects.get(type="milestone.submitted", object_id=milestone.pk)
    assert event.data["creator"] == {"handle": PERSON_HANDLE, "name": PERSON_NAME}
    delivery = Delivery.objects.get(event=event)
    assert PERSON_NAME in delivery.payload
    other_milestone = someone_else[1].milestone
    other_delivery = Delivery.objects.get(event__object_id=other_milestone.pk)
    other_payload = other_delivery.payload

    with django_capture_on_commit_callbacks(execute=True):
        request = _approved("erasure", creator, asker, approver)

    creator.refresh_from_db()
    event.refresh_from_db()
    # The handle becomes the pseudonym's handle, the name its name; the rest stays.
    assert event.data["creator"] == {"handle": creator.handle, "name": creator.display_name}
    assert (event.data["id"], event.data["title"]) == (milestone.pk, milestone.title)
    delivery.refresh_from_db()
    body = json.loads(delivery.payload)
    assert body["data"] == event.data
    assert body["type"] == "milestone.submitted"
    assert "bervell" not in delivery.payload.lower()
    # Written as every body is: compact, keys sorted.
    assert delivery.payload == json.dumps(body, separators=(",", ":"), sort_keys=True)
    # The other person's events and deliveries are untouched.
    other_delivery.refresh_from_db()
    assert other_delivery.payload == other_payload
    assert "Kara Lewis" in other_payload
    assert OutboxEvent.objects.filter(data__creator__name="Kara Lewis").exists()
    # The erasure's own audit row says how many were rewritten.
    erased = AuditEvent.objects.for_object(request).get(action="erased")
    assert erased.note.endswith(", 1 events, 1 deliveries")
