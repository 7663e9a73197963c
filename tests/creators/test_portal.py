"""The creator's own profile page (htmx and plain posts, photo limits), the public photo, and
the single-use, expiring invitation link."""

import datetime
import io
import re

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse
from PIL import Image

from changemakers.core.models import AuditEvent
from creators.models import Creator, CreatorInvitation
from creators.services import (
    creator_invitation_accept,
    creator_invitation_send,
    invitation_path,
    invitation_token,
)
from tests.factories import PASSWORD, CreatorFactory, UserFactory
from tests.uploads import big_file, html_disguised_as_png, image_file, jpeg_with_gps

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

HTMX = {"HX-Request": "true"}
PROFILE_URL = "/portal/profile/"


def profile_data(**overrides) -> dict:
    data = {
        "display_name": "Achieng Otieno",
        "handle": "@achieng.health",
        "country": "KE",
        "causes": ["health", "education"],
        "bio": "Nurse on camera.",
        "language": "fr",
        "links-TOTAL_FORMS": "5",
        "links-INITIAL_FORMS": "0",
        "links-MIN_NUM_FORMS": "0",
        "links-MAX_NUM_FORMS": "5",
        "links-0-label": "TikTok",
        "links-0-url": "https://www.tiktok.com/@achieng.health",
    }
    return data | overrides


@pytest.fixture
def creator_client(client, creator_user):
    client.force_login(creator_user)
    return client


def test_profile_page_is_prefilled(creator_client, creator_user):
    response = creator_client.get(reverse("creators:profile-edit"))
    assert reverse("creators:profile-edit") == PROFILE_URL
    assert response.status_code == 200
    assert response.context["form"].initial["handle"] == creator_user.creator.handle


def test_profile_saves_without_javascript(creator_client, creator_user):
    response = creator_client.post(PROFILE_URL, profile_data())
    assert response.status_code == 302
    creator = Creator.objects.get(pk=creator_user.creator.pk)
    assert (creator.display_name, creator.handle, creator.country.code, creator.language) == (
        "Achieng Otieno",
        "achieng.health",
        "KE",
        "fr",
    )
    assert creator.causes == ["health", "education"]
    assert list(creator.links.values_list("label", "url")) == [
        ("TikTok", "https://www.tiktok.com/@achieng.health")
    ]
    event = AuditEvent.objects.for_object(creator).last()
    assert (event.action, event.actor) == ("updated", creator_user)


def test_profile_saves_with_htmx_and_answers_with_the_form(creator_client):
    response = creator_client.post(PROFILE_URL, profile_data(), headers=HTMX)
    assert response.status_code == 200
    assert "HX-Trigger" not in response  # the form is all the page shows of the profile
    content = response.content.decode()
    assert content.lstrip().startswith('<form id="profile-form"')
    # "Saved" beside the button, focused so a screen reader reads it.
    saved = re.search(r'<div class="form-actions">.*?</div>', content, re.S)[0]
    assert 'id="profile-saved"' in saved
    assert ">Saved</p>" in saved
    assert "autofocus" in saved


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"handle": "no spaces allowed"}, "A handle is 2 to 30 letters"),
        ({"causes": ["knitting"]}, "Select a valid choice"),
        ({"links-0-url": ""}, "Give a link both a label and an address"),
        (
            {"links-TOTAL_FORMS": "6", "links-5-label": "x", "links-5-url": "https://x.example"},
            "Please submit at most 5 forms.",
        ),
    ],
)
def test_profile_refuses_bad_values(creator_client, creator_user, overrides, message):
    response = creator_client.post(PROFILE_URL, profile_data(**overrides), headers=HTMX)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Creator.objects.get(pk=creator_user.creator.pk).bio == "Teaching on camera."


def test_a_handle_taken_by_another_creator_is_refused(creator_client, creator_user):
    CreatorFactory(handle="Taken.Handle")
    response = creator_client.post(PROFILE_URL, profile_data(handle="taken.handle"))
    assert response.status_code == 422
    assert "Another creator already has this handle." in response.content.decode()
    assert Creator.objects.get(pk=creator_user.creator.pk).handle != "taken.handle"


def test_a_photo_is_stored_under_a_random_name_and_served_as_an_image(
    creator_client, creator_user, client
):
    creator_client.post(
        PROFILE_URL, profile_data(photo=image_file("../../evil name.webp", image_format="WEBP"))
    )
    creator = Creator.objects.get(pk=creator_user.creator.pk)
    assert re.fullmatch(r"creators/photos/[0-9a-f]{32}\.webp", creator.photo.name)

    client.logout()
    response = client.get(creator.get_photo_url())
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Content-Disposition"].startswith("inline;")
    assert creator.get_photo_url() in client.get(creator.get_absolute_url()).content.decode()


def test_a_photo_is_stored_without_its_exif_location_but_turned_upright(
    creator_client, creator_user
):
    upload = jpeg_with_gps(size=(80, 40))
    with Image.open(io.BytesIO(upload.read())) as original:
        assert original.getexif().get_ifd(0x8825)  # the upload does carry a location
    upload.seek(0)

    creator_client.post(PROFILE_URL, profile_data(photo=upload))

    creator = Creator.objects.get(pk=creator_user.creator.pk)
    assert creator.photo.name.endswith(".jpg")
    with creator.photo.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "JPEG"
        assert not image.getexif()  # no GPS, no camera, no orientation tag
        assert "exif" not in image.info
        assert "xmp" not in image.info
        assert image.size == (40, 80)  # the orientation was applied before it was dropped
    with creator.photo.open("rb") as stored:
        content = stored.read()
    assert b"Exif" not in content
    assert b"PhoneMaker" not in content


def test_replacing_the_photo_deletes_the_old_file(
    creator_client, creator_user, django_capture_on_commit_callbacks
):
    creator_client.post(PROFILE_URL, profile_data(photo=image_file()))
    first = Creator.objects.get(pk=creator_user.creator.pk).photo
    storage, first_name = first.storage, first.name
    assert storage.exists(first_name)
    with django_capture_on_commit_callbacks(execute=True):
        creator_client.post(
            PROFILE_URL, profile_data(photo=image_file("b.jpg", image_format="JPEG"))
        )
    assert not storage.exists(first_name)
    with django_capture_on_commit_callbacks(execute=True):
        creator_client.post(PROFILE_URL, profile_data(remove_photo="on"))
    assert not Creator.objects.get(pk=creator_user.creator.pk).photo


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: html_disguised_as_png(), "Upload a JPEG, PNG or WebP image."),
        (lambda: image_file("a.gif", image_format="GIF"), "Upload a JPEG, PNG or WebP image."),
        (lambda: big_file("huge.png", 2.5, "image/png"), "the limit is 2.0"),
    ],
)
def test_photo_type_and_size_limits(creator_client, creator_user, upload, message):
    response = creator_client.post(PROFILE_URL, profile_data(photo=upload()), headers=HTMX)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Creator.objects.get(pk=creator_user.creator.pk).photo


def test_no_photo_is_a_404(client, creator_user):
    handle = creator_user.creator.handle
    assert (
        client.get(reverse("creators:creator-photo", kwargs={"handle": handle})).status_code == 404
    )


def test_profile_page_refuses_anonymous_staff_and_nonprofits(client, staff_user, nonprofit_user):
    response = client.get(PROFILE_URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert client.post(PROFILE_URL, profile_data()).status_code == 302
    for user in (staff_user, nonprofit_user):
        client.force_login(user)
        assert client.get(PROFILE_URL).status_code == 403
        assert client.post(PROFILE_URL, profile_data()).status_code == 403
    assert not Creator.objects.filter(handle="achieng.health").exists()


# --- Invitations ---------------------------------------------------------------------------


@pytest.fixture
def invited(staff_user, django_capture_on_commit_callbacks):
    creator = CreatorFactory(display_name="Eli Virkina", handle="elivirkina")
    with django_capture_on_commit_callbacks(execute=True):
        invitation = creator_invitation_send(
            creator=creator, email="Eli@Example.org", actor=staff_user
        )
    return invitation


def test_inviting_creates_an_account_without_a_password_and_emails_the_link(invited):
    user = invited.creator.user
    assert user.username == "eli@example.org"
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["eli@example.org"]
    assert message.subject == "Your Change Makers portal is ready"
    assert f"http://127.0.0.1:8000{invitation_path(invited)}" in message.body
    assert invitation_token(invited) not in CreatorInvitation.objects.values_list(
        "nonce", flat=True
    )


def test_the_invitation_email_in_french(staff_user, django_capture_on_commit_callbacks):
    creator = CreatorFactory(language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        creator_invitation_send(creator=creator, email="fr@example.org", actor=staff_user)
    assert mail.outbox[0].subject == "Votre espace Change Makers est prêt"
    assert "Bonjour" in mail.outbox[0].body


def test_the_link_sets_a_password_signs_in_and_lands_on_the_portal(client, invited):
    url = invitation_path(invited)
    page = client.get(url)
    assert page.status_code == 200
    assert "Choose a password" in page.content.decode()

    new = "a long and fresh passphrase 7"
    response = client.post(url, {"new_password1": new, "new_password2": new})

    assert response.status_code == 302
    assert response.url == reverse("programs:portal")
    assert int(client.session[SESSION_KEY]) == invited.creator.user.pk
    invited.refresh_from_db()
    assert invited.used_at is not None
    assert invited.creator.user.check_password(new)
    assert AuditEvent.objects.for_object(invited).get().action == "accepted"


def test_the_link_works_only_once(client, invited):
    url = invitation_path(invited)
    new = "a long and fresh passphrase 7"
    client.post(url, {"new_password1": new, "new_password2": new})
    client.logout()

    again = client.get(url)
    assert again.status_code == 410
    assert "This link no longer works" in again.content.decode()
    response = client.post(
        url, {"new_password1": "another pass 99 x", "new_password2": "another pass 99 x"}
    )
    assert response.status_code == 410
    assert "This link no longer works" in response.content.decode()
    assert SESSION_KEY not in client.session
    invited.creator.user.refresh_from_db()
    assert invited.creator.user.check_password(new)


def test_the_service_refuses_a_second_use_even_with_a_stale_copy(invited):
    stale = CreatorInvitation.objects.get(pk=invited.pk)  # read before the first use
    token = invitation_token(invited)
    creator_invitation_accept(invitation=invited, token=token, password="first pass 123 x")
    with pytest.raises(Exception, match="already been used"):
        creator_invitation_accept(invitation=stale, token=token, password="second pass 456 y")


def test_a_weak_password_is_refused(client, invited):
    response = client.post(
        invitation_path(invited), {"new_password1": "123", "new_password2": "123"}
    )
    assert response.status_code == 422
    assert "This password is too short" in response.content.decode()
    invited.refresh_from_db()
    assert invited.used_at is None


def test_a_tampered_or_unknown_link_is_refused(client, invited):
    token = invitation_token(invited)
    other_last = "1" if token.endswith("0") else "0"  # never the token itself
    tampered = reverse(
        "invitation-accept", kwargs={"pk": invited.pk, "token": token[:-1] + other_last}
    )
    unknown = reverse("invitation-accept", kwargs={"pk": invited.pk + 99, "token": token})
    for url in (tampered, unknown):
        response = client.get(url)
        assert response.status_code == 410
        assert "This link no longer works" in response.content.decode()


def test_the_link_expires_after_seven_days(client, invited):
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=7, minutes=1)
    with time_machine.travel(later, tick=False):
        response = client.get(invitation_path(invited))
    assert "This link no longer works" in response.content.decode()


def test_a_new_invitation_replaces_the_old_link(client, invited, staff_user):
    newer = creator_invitation_send(
        creator=invited.creator, email="eli@example.org", actor=staff_user
    )
    assert "This link no longer works" in client.get(invitation_path(invited)).content.decode()
    assert "Choose a password" in client.get(invitation_path(newer)).content.decode()


def test_an_account_with_a_password_is_asked_to_sign_in(client, staff_user):
    creator = CreatorFactory(user=UserFactory())
    invitation = creator_invitation_send(creator=creator, email="x@example.org", actor=staff_user)
    response = client.get(invitation_path(invitation))
    content = response.content.decode()
    assert "You already have a password" in content
    assert "next=%2Fportal%2F" in content
    invitation.refresh_from_db()
    assert invitation.used_at is None
    assert creator.user.check_password(PASSWORD)


def test_an_email_that_signs_in_for_someone_else_is_refused(staff_user, nonprofit_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="already signs in for someone else"):
        creator_invitation_send(
            creator=CreatorFactory(), email=nonprofit_user.username, actor=staff_user
        )


# --- Found in review: corrected addresses, switched-off and deleted accounts ----------------


def test_a_corrected_address_gets_the_new_link_and_the_old_one_stops_working(
    client, invited, staff_user, django_capture_on_commit_callbacks
):
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        again = creator_invitation_send(
            creator=invited.creator, email="eli.virkina@example.org", actor=staff_user
        )

    assert mail.outbox[-1].to == ["eli.virkina@example.org"]
    assert again.creator.user.email == "eli.virkina@example.org"
    assert "no longer works" in client.get(invitation_path(invited)).content.decode()


def test_a_switched_off_account_cannot_be_switched_on_by_an_old_link(client, invited):
    user = invited.creator.user
    user.is_active = False
    user.save()
    new = "a long and fresh passphrase 7"

    response = client.post(invitation_path(invited), {"new_password1": new, "new_password2": new})

    assert "no longer works" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active
    assert not user.has_usable_password()
    assert SESSION_KEY not in client.session


def test_a_link_whose_account_was_deleted_is_a_clear_page_not_an_error(client, invited):
    url = invitation_path(invited)
    invited.creator.user.delete()
    response = client.get(url)
    assert response.status_code == 410
    assert "no longer works" in response.content.decode()
