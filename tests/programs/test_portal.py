"""The creator's portal: home, milestone pages, progress updates (with attachments), taking up
a place. Only the creator's own objects: anyone else's are a 404, never data."""

import pytest
from django.urls import reverse

from changemakers.core.models import AuditEvent
from programs.models import Enrolment, Milestone, ProgressUpdate
from programs.services import enrolment_invite, progress_update_submit
from tests.factories import CohortFactory
from tests.uploads import big_file, html_disguised_as_png, image_file, jpeg_with_gps, pdf_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

HTMX = {"HX-Request": "true"}


@pytest.fixture
def creator_client(client, creator_user):
    client.force_login(creator_user)
    return client


def test_portal_home_shows_cohort_mission_and_milestone_timeline(creator_client, enrolment):
    response = creator_client.get(reverse("programs:portal"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Cohort T" in content
    assert enrolment.mission in content
    for milestone in enrolment.milestones.all():
        assert milestone.get_portal_url() in content
    assert reverse("portal-donations:nominate") in content


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_portal_pages_queries_do_not_grow_with_milestones_and_updates(
    creator_client, creator_user, enrolment, staff_user
):
    import datetime

    from programs.services import milestone_add

    home = reverse("programs:portal")
    first = enrolment.milestones.order_by("due_date").first()
    milestone_page = reverse("programs:portal-milestone", kwargs={"pk": first.pk})
    progress_update_submit(milestone=first, author=creator_user, body="First.")
    few = (_queries(creator_client, home), _queries(creator_client, milestone_page))

    for day in range(20):
        milestone_add(
            enrolment=enrolment,
            title=f"Extra {day}",
            due_date=datetime.date(2026, 10, 1) + datetime.timedelta(days=day),
            actor=staff_user,
        )
    for number in range(10):
        ProgressUpdate.objects.create(milestone=first, author=creator_user, body=f"More {number}.")
    many = (_queries(creator_client, home), _queries(creator_client, milestone_page))

    assert few == many
    assert many[0] <= 12


def test_an_invited_creator_takes_up_their_place_and_gets_milestones(
    creator_client, creator_user, staff_user
):
    cohort = CohortFactory(name="Cohort Next")
    from programs.models import MilestonePlanItem

    MilestonePlanItem.objects.create(cohort=cohort, title="Kickoff", offset_days=14)
    enrolment = enrolment_invite(cohort=cohort, creator=creator_user.creator, actor=staff_user)
    home = creator_client.get(reverse("programs:portal")).content.decode()
    assert "Take up my place" in home

    url = reverse("programs:portal-enrolment-accept", kwargs={"pk": enrolment.pk})
    assert creator_client.get(url).status_code == 405
    response = creator_client.post(url)

    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE
    assert list(enrolment.milestones.values_list("title", flat=True)) == ["Kickoff"]
    assert AuditEvent.objects.for_object(enrolment).last().actor == creator_user


def test_submit_an_update_without_javascript(creator_client, enrolment, creator_user):
    kickoff = enrolment.milestones.get(title="Kickoff")
    response = creator_client.post(
        kickoff.get_portal_url(),
        {"body": "Kickoff call done.", "link": "example.org/video", "attachment": pdf_file()},
    )
    assert response.status_code == 302
    assert response.url == kickoff.get_portal_url()
    kickoff.refresh_from_db()
    assert kickoff.status == Milestone.Status.SUBMITTED
    update = kickoff.updates.get()
    assert (update.author, update.body, update.link) == (
        creator_user,
        "Kickoff call done.",
        "https://example.org/video",
    )
    assert update.attachment.name.startswith("programs/attachments/")
    assert update.attachment.name.endswith(".pdf")
    assert "report" not in update.attachment.name  # the uploaded name is never kept
    page = creator_client.get(kickoff.get_portal_url()).content.decode()
    assert "Your update is with the program team for review." in page


def test_submit_an_update_with_htmx_answers_with_the_partial(creator_client, enrolment):
    kickoff = enrolment.milestones.get(title="Kickoff")
    response = creator_client.post(kickoff.get_portal_url(), {"body": "Done."}, headers=HTMX)
    assert response.status_code == 200
    assert "HX-Trigger" not in response  # the partial is all the page shows of it
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="milestone-body">')
    assert "Your update is sent." in content
    kickoff.refresh_from_db()
    assert kickoff.status == Milestone.Status.SUBMITTED


def test_an_empty_update_is_refused_with_the_form_errors(creator_client, enrolment):
    kickoff = enrolment.milestones.get(title="Kickoff")
    response = creator_client.post(kickoff.get_portal_url(), {"body": ""}, headers=HTMX)
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    kickoff.refresh_from_db()
    assert kickoff.status == Milestone.Status.PENDING


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: html_disguised_as_png("shot.png"), "Attach a PDF or a JPEG, PNG or WebP image."),
        (lambda: image_file("anim.gif", image_format="GIF"), "Attach a PDF or a JPEG"),
        (lambda: big_file("huge.pdf", 5.5, "application/pdf"), "the limit is 5.0"),
        (lambda: pdf_file(extra_bytes=5 * 1024 * 1024), "the limit is 5.0"),
    ],
)
def test_attachments_are_checked_by_content_and_size(creator_client, enrolment, upload, message):
    kickoff = enrolment.milestones.get(title="Kickoff")
    response = creator_client.post(
        kickoff.get_portal_url(), {"body": "See attached.", "attachment": upload()}
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ProgressUpdate.objects.exists()


def test_an_image_attachment_is_accepted(creator_client, enrolment):
    kickoff = enrolment.milestones.get(title="Kickoff")
    upload = image_file("shot.jpeg", image_format="JPEG")
    creator_client.post(kickoff.get_portal_url(), {"body": "Photo.", "attachment": upload})
    assert kickoff.updates.get().attachment.name.endswith(".jpg")


def test_an_image_attachment_is_stored_without_its_exif_location(creator_client, enrolment):
    kickoff = enrolment.milestones.get(title="Kickoff")
    creator_client.post(
        kickoff.get_portal_url(), {"body": "On site.", "attachment": jpeg_with_gps(size=(80, 40))}
    )
    attachment = kickoff.updates.get().attachment
    with attachment.open("rb") as stored:
        content = stored.read()
    assert content.startswith(b"\xff\xd8")  # still a JPEG
    assert b"Exif" not in content
    assert b"PhoneMaker" not in content


def test_a_pdf_attachment_is_stored_byte_for_byte(creator_client, enrolment):
    kickoff = enrolment.milestones.get(title="Kickoff")
    upload = pdf_file()
    original = upload.read()
    upload.seek(0)
    creator_client.post(kickoff.get_portal_url(), {"body": "Report.", "attachment": upload})
    with kickoff.updates.get().attachment.open("rb") as stored:
        assert stored.read() == original


def test_attachment_download_is_for_its_creator_and_staff_only(
    client, enrolment, creator_user, other_creator_user, staff_user, nonprofit_user
):
    kickoff = enrolment.milestones.get(title="Kickoff")
    update = progress_update_submit(
        milestone=kickoff,
        author=creator_user,
        body="Report",
        attachment=_checked(pdf_file()),
    )
    url = reverse("programs:update-attachment", kwargs={"pk": update.pk})

    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous.url.startswith(reverse("login"))
    for outsider in (other_creator_user, nonprofit_user):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    for insider in (creator_user, staff_user):
        client.force_login(insider)
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert b"".join(response.streaming_content).startswith(b"%PDF-")


def _checked(upload):
    from changemakers.core.uploads import attachment_check, rename_checked

    return rename_checked(upload, attachment_check(upload, max_bytes=5 * 1024 * 1024))


# --- Another creator's objects, and anonymous visitors --------------------------------------


def test_another_creators_milestone_is_a_404_and_reveals_nothing(
    creator_client, enrolment, other_enrolment
):
    theirs = other_enrolment.milestones.get(title="Kickoff")
    theirs_url = theirs.get_portal_url()

    assert creator_client.get(theirs_url).status_code == 404
    response = creator_client.post(theirs_url, {"body": "Hijack"})
    assert response.status_code == 404
    assert other_enrolment.creator.display_name not in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.status == Milestone.Status.PENDING
    assert not theirs.updates.exists()


def test_another_creators_enrolment_cannot_be_taken_up(
    creator_client, other_creator_user, staff_user
):
    cohort = CohortFactory(name="Someone else's")
    theirs = enrolment_invite(cohort=cohort, creator=other_creator_user.creator, actor=staff_user)
    url = reverse("programs:portal-enrolment-accept", kwargs={"pk": theirs.pk})
    assert creator_client.post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Enrolment.Status.INVITED


def portal_urls(enrolment):
    milestone = enrolment.milestones.first()
    return [
        ("get", reverse("programs:portal")),
        ("get", milestone.get_portal_url()),
        ("post", milestone.get_portal_url()),
        ("post", reverse("programs:portal-enrolment-accept", kwargs={"pk": enrolment.pk})),
    ]


def test_anonymous_visitors_are_sent_to_sign_in(client, enrolment):
    for method, url in portal_urls(enrolment):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url


@pytest.mark.parametrize("who", ["staff_user", "nonprofit_user"])
def test_the_portal_is_for_creators_only(client, enrolment, who, request):
    client.force_login(request.getfixturevalue(who))
    for method, url in portal_urls(enrolment):
        assert getattr(client, method)(url).status_code == 403, url


def test_a_withdrawn_creator_cannot_submit(creator_client, enrolment, staff_user):
    from programs.services import enrolment_withdraw

    enrolment_withdraw(enrolment=enrolment, actor=staff_user)
    kickoff = enrolment.milestones.get(title="Kickoff")
    response = creator_client.post(kickoff.get_portal_url(), {"body": "Late."})
    assert response.status_code == 422
    assert "only while the place in the cohort is active" in response.content.decode()
    assert not kickoff.updates.exists()


def test_a_refused_update_leaves_no_file_behind(creator_user, enrolment, staff_user, media_root):
    from django.core.exceptions import ValidationError

    from programs.services import milestone_approve

    kickoff = enrolment.milestones.get(title="Kickoff")
    progress_update_submit(milestone=kickoff, author=creator_user, body="Done.")
    milestone_approve(milestone=kickoff, actor=staff_user)
    with pytest.raises(ValidationError, match="cannot go from"):
        progress_update_submit(
            milestone=kickoff, author=creator_user, body="More.", attachment=_checked(pdf_file())
        )
    stored = list((media_root / "programs" / "attachments").glob("*"))
    assert stored == []
