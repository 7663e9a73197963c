"""A request announcing a body over DJANGO_MAX_REQUEST_BYTES is refused with 413 before any
of it is read; uploads within the limits still go through."""

import io

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory, override_settings
from django.utils import translation
from PIL import Image

from changemakers.core.request_size import RequestSizeLimitMiddleware
from creators.forms import PHOTO_MAX_BYTES
from programs.forms import ATTACHMENT_MAX_BYTES
from tests.creators.test_portal import PROFILE_URL, profile_data

pytestmark = pytest.mark.django_db

TOO_BIG = str(settings.MAX_REQUEST_BYTES + 1)


def test_the_default_cap_leaves_room_for_the_largest_upload_and_its_form():
    largest = max(ATTACHMENT_MAX_BYTES, PHOTO_MAX_BYTES)
    assert largest < settings.MAX_REQUEST_BYTES <= largest + 2 * 1024 * 1024


def test_a_body_announced_over_the_cap_is_refused_with_the_sites_page(client):
    response = client.post("/apply/", {"name": "x"}, CONTENT_LENGTH=TOO_BIG)

    assert response.status_code == 413
    html = response.content.decode()
    assert "<h1>Too much to send</h1>" in html
    assert "at most 6.0" in html  # the limit, readable
    assert response["Content-Type"].startswith("text/html")


def test_the_refusal_is_translated(client):
    response = client.post(
        "/apply/", {"name": "x"}, CONTENT_LENGTH=TOO_BIG, HTTP_ACCEPT_LANGUAGE="fr"
    )

    assert response.status_code == 413
    assert "<h1>Trop à envoyer</h1>" in response.content.decode()


class _Unreadable(io.RawIOBase):
    def read(self, *args):
        raise AssertionError("the body was read")

    readinto = read


def test_the_body_is_never_read():
    request = RequestFactory().post(
        "/apply/", data=b"", content_type="application/octet-stream", CONTENT_LENGTH=TOO_BIG
    )
    request.user = AnonymousUser()
    request._stream = _Unreadable()
    request.environ["wsgi.input"] = _Unreadable()

    def get_response(request):
        raise AssertionError("the view was reached")

    with translation.override("en"):
        response = RequestSizeLimitMiddleware(get_response)(request)

    assert response.status_code == 413


@override_settings(MAX_REQUEST_BYTES=1024)
def test_the_cap_is_a_setting(client):
    assert client.post("/apply/", {"bio": "x" * 2048}).status_code == 413
    assert client.get("/").status_code == 200  # no body, nothing to refuse


def test_a_garbled_length_is_left_to_django(client):
    assert client.get("/", CONTENT_LENGTH="lots").status_code == 200


def test_a_form_with_an_attachment_at_its_limit_is_let_through(client):
    attachment = SimpleUploadedFile(
        "report.pdf", b"%PDF-1.4\n" + b"0" * (ATTACHMENT_MAX_BYTES - 9), "application/pdf"
    )

    response = client.post("/", {"body": "x" * 5000, "attachment": attachment})

    assert response.status_code == 405  # reached the view, which only answers GET


@pytest.mark.usefixtures("media_root")
def test_a_photo_at_its_limit_still_uploads(client, creator_user):
    client.force_login(creator_user)
    body = io.BytesIO()
    Image.new("RGB", (64, 64), (11, 93, 91)).save(body, format="JPEG")
    padded = body.getvalue() + b"\0" * (PHOTO_MAX_BYTES - len(body.getvalue()))
    photo = SimpleUploadedFile("me.jpg", padded, content_type="image/jpeg")

    response = client.post(PROFILE_URL, profile_data(photo=photo))

    assert response.status_code == 302
    creator_user.creator.refresh_from_db()
    assert creator_user.creator.photo.name.endswith(".jpg")
