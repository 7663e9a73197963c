"""Uploads: kept only when their content is a type we accept (never by name or declared type),
refused past their size limit with the sizes said, and never served from our origin as
something a browser would run: the type comes from an allow-list, with `nosniff`, a sandboxing
CSP, and a download for anything but an accepted image. Nothing is served from MEDIA_URL.

Through the real forms of the portal, as creator A of tests/security/world.py; the uploads
land in the world's temporary MEDIA_ROOT."""

import io
import zlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from creators.models import Creator
from programs.models import Milestone, ProgressUpdate
from tests.security.probe import read
from tests.uploads import image_file, pdf_file

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
PROFILE_URL = "/portal/profile/"
SANDBOX = "default-src 'none'; sandbox"
SCRIPT = b"<html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
PHOTO_REFUSED = "Upload a JPEG, PNG or WebP image."
ATTACHMENT_REFUSED = "Attach a PDF or a JPEG, PNG or WebP image."


def upload(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def png_bytes(size=(32, 32), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format="PNG")
    return buffer.getvalue()


def huge_png(side: int) -> bytes:
    """A valid PNG of side x side pixels, 1-bit, in a few kilobytes (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = side.to_bytes(4, "big") * 2 + bytes([1, 0, 0, 0, 0])  # 1-bit grey
    rows = zlib.compress(b"\0" * (1 + side // 8) * side)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


IMPOSTORS = {
    "html named .png": lambda: upload("me.png", SCRIPT, "image/png"),
    "svg named .png": lambda: upload("me.png", SVG, "image/png"),
    "svg as svg": lambda: upload("me.svg", SVG, "image/svg+xml"),
    "html as html": lambda: upload("me.html", SCRIPT, "text/html"),
    "a gif": lambda: image_file("me.gif", image_format="GIF"),
    "a bmp named .jpg": lambda: image_file("me.jpg", image_format="BMP"),
    "a png cut short": lambda: upload("me.png", png_bytes()[:40], "image/png"),
    # Over our limit of 40 million pixels, and over twice Pillow's own (it refuses those).
    "7000 x 7000 pixels": lambda: upload("me.png", huge_png(7_000), "image/png"),
    "15000 x 15000 pixels": lambda: upload("me.png", huge_png(15_000), "image/png"),
}


def profile_data(world, photo) -> dict:
    creator = world.creator_a
    return {
        "display_name": creator.display_name,
        "handle": creator.handle,
        "country": creator.country.code,
        "causes": creator.causes,
        "bio": creator.bio,
        "language": "en",
        "links-TOTAL_FORMS": "0",
        "links-INITIAL_FORMS": "0",
        "links-MIN_NUM_FORMS": "0",
        "links-MAX_NUM_FORMS": "5",
        "photo": photo,
    }


def open_milestone(world) -> Milestone:
    return world.enrolment_a.milestones.filter(status=Milestone.Status.PENDING).first()


@pytest.mark.parametrize("impostor", IMPOSTORS.values(), ids=IMPOSTORS.keys())
def test_a_photo_is_kept_only_when_its_content_is_an_accepted_image(world, impostor):
    before = Creator.objects.get(pk=world.creator_a.pk).photo.name
    client = world.client("creator_a")
    response = client.post(PROFILE_URL, profile_data(world, impostor()), headers=HTMX)
    assert response.status_code == 422
    assert PHOTO_REFUSED in response.content.decode()
    assert Creator.objects.get(pk=world.creator_a.pk).photo.name == before


@pytest.mark.parametrize(
    "impostor",
    [*IMPOSTORS.values(), lambda: upload("report.pdf", b" %PDF-" + SCRIPT, "application/pdf")],
    ids=[*IMPOSTORS.keys(), "pdf header not first"],
)
def test_an_attachment_is_kept_only_when_its_content_is_a_pdf_or_an_accepted_image(world, impostor):
    milestone = open_milestone(world)
    client = world.client("creator_a")
    response = client.post(
        f"/portal/milestones/{milestone.pk}/",
        {"body": "See attached.", "attachment": impostor()},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert ATTACHMENT_REFUSED in response.content.decode()
    assert not ProgressUpdate.objects.filter(milestone=milestone).exists()


def test_too_large_uploads_are_refused_saying_the_size_and_the_limit(world):
    client = world.client("creator_a")
    photo = upload("me.png", png_bytes() + b"\0" * int(2.5 * 1024 * 1024), "image/png")
    response = client.post(PROFILE_URL, profile_data(world, photo), headers=HTMX)
    assert response.status_code == 422
    assert "The file is 2.5\xa0MB; the limit is 2.0\xa0MB." in response.content.decode()

    milestone = open_milestone(world)
    attachment = pdf_file(extra_bytes=int(5.5 * 1024 * 1024))
    response = client.post(
        f"/portal/milestones/{milestone.pk}/", {"body": "Big.", "attachment": attachment}
    )
    assert response.status_code == 422
    assert "The file is 5.5\xa0MB; the limit is 5.0\xa0MB." in response.content.decode()

    # Past the request cap, the body is not even read: the site's 413 page answers.
    attachment = pdf_file(extra_bytes=7 * 1024 * 1024)
    response = client.post(
        f"/portal/milestones/{milestone.pk}/", {"body": "Big.", "attachment": attachment}
    )
    assert response.status_code == 413
    assert "Too much to send" in response.content.decode()
    assert not ProgressUpdate.objects.filter(milestone=milestone).exists()


def served_safely(response, content_type: str, *, download: bool) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == SANDBOX
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;" if download else "inline;"), disposition


def test_an_image_with_a_page_inside_is_kept_as_an_image_and_served_as_one(world):
    """A real PNG with a page appended is a PNG to Pillow: it is stored and served as
    image/png, written anew from its pixels, so what was appended is not even kept."""
    client = world.client("creator_a")
    polyglot = upload("me.html", png_bytes() + SCRIPT, "text/html")
    response = client.post(PROFILE_URL, profile_data(world, polyglot))
    assert response.status_code == 302
    creator = Creator.objects.get(pk=world.creator_a.pk)
    assert creator.photo.name.endswith(".png")

    for role in ("anonymous", "creator_b"):
        photo = world.client(role).get(creator.get_photo_url())
        served_safely(photo, "image/png", download=False)
        assert SCRIPT not in read(photo)


def test_a_pdf_with_a_page_inside_is_only_ever_downloaded(world):
    milestone = open_milestone(world)
    client = world.client("creator_a")
    polyglot = upload("notes.html", b"%PDF-1.4\n" + SCRIPT, "text/html")
    response = client.post(
        f"/portal/milestones/{milestone.pk}/", {"body": "Notes.", "attachment": polyglot}
    )
    assert response.status_code == 302
    update = ProgressUpdate.objects.get(milestone=milestone)
    assert update.attachment.name.endswith(".pdf")

    for role in ("creator_a", "staff"):
        served = world.client(role).get(f"/updates/{update.pk}/attachment/")
        served_safely(served, "application/pdf", download=True)
        read(served)


@pytest.mark.parametrize("stored", ["page.html", "page.htm", "drawing.svg", "blob.bin", "x"])
def test_a_stored_file_of_any_other_type_is_served_as_an_opaque_download(world, stored):
    """Whatever name a stored file has (one put there by hand, an old upload), the app answers
    it only as one of its own types, else as a download of unknown bytes: never as HTML or SVG."""
    content = ContentFile(SVG if "svg" in stored else SCRIPT)
    name = default_storage.save(f"creators/photos/{stored}", content)  # no upload_to renaming
    Creator.objects.filter(pk=world.creator_a.pk).update(photo=name)
    creator = Creator.objects.get(pk=world.creator_a.pk)
    assert creator.photo.name.endswith(stored)
    served = world.client("anonymous").get(creator.get_photo_url())
    served_safely(served, "application/octet-stream", download=True)
    # Saved from the browser, it is not a page either.
    assert served["Content-Disposition"] == 'attachment; filename="ayana.teaches.bin"'
    read(served)


def test_nothing_is_served_straight_from_the_media_folder(world, settings):
    stored = Creator.objects.get(pk=world.creator_a.pk).photo.name
    assert stored
    for role in ("anonymous", "creator_a", "staff"):
        response = world.client(role).get(f"/{settings.MEDIA_URL}{stored}")
        assert response.status_code == 404, role
