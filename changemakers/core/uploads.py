"""Uploaded files: checked by content (never by the name or the browser's content type),
stored under MEDIA_ROOT with random names, and served only through views that set the type
we checked, `nosniff` and a sandboxing CSP, so an upload can never run as a page of ours.

`creators` is the bottom of the app graph, so `programs` uses these helpers too.
"""

import io
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db.models.fields.files import FieldFile
from django.http import FileResponse
from django.template.defaultfilters import filesizeformat
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow format name -> (extension we store, content type we serve).
IMAGE_TYPES = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
PDF_TYPE = ("pdf", "application/pdf")
CONTENT_TYPES = {ext: content_type for ext, content_type in [*IMAGE_TYPES.values(), PDF_TYPE]}
# Refuse images that would take a lot of memory to decode (a decompression bomb).
MAX_IMAGE_PIXELS = 40_000_000


@dataclass(frozen=True)
class CheckedUpload:
    extension: str
    content_type: str


def _check_size(upload: UploadedFile, max_bytes: int) -> None:
    if upload.size is not None and upload.size > max_bytes:
        raise ValidationError(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(max_bytes)},
            code="file_too_large",
        )


def _image_type(upload: UploadedFile) -> CheckedUpload | None:
    """The image's real type if Pillow can read and verify it as one we accept, else None."""
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            image_format = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    finally:
        upload.seek(0)
    if image_format not in IMAGE_TYPES or width * height > MAX_IMAGE_PIXELS:
        return None
    return CheckedUpload(*IMAGE_TYPES[image_format])


def image_check(upload: UploadedFile, *, max_bytes: int) -> CheckedUpload:
    """A JPEG, PNG or WebP image no bigger than `max_bytes`, or a ValidationError."""
    _check_size(upload, max_bytes)
    checked = _image_type(upload)
    if checked is None:
        raise ValidationError(_("Upload a JPEG, PNG or WebP image."), code="invalid_image_type")
    return checked


# What each format is written back with: close to the original's quality, nothing else.
_REENCODE_OPTIONS = {
    "JPEG": {"quality": 90},
    "PNG": {"optimize": True},
    "WEBP": {"quality": 90},
}


def image_without_metadata(upload: UploadedFile, checked: CheckedUpload) -> UploadedFile:
    """The checked image written anew in its own format, keeping only its pixels: a phone's
    photo carries where it was taken (EXIF GPS), the camera and more, which a public photo
    must not give away. The EXIF orientation is applied first, so the picture stays upright;
    the colour profile is kept, as it changes how the pixels look. Call after `image_check`,
    which refused anything too big to decode."""
    upload.seek(0)
    with Image.open(upload) as original:
        image_format = original.format
        icc_profile = original.info.get("icc_profile")
        # Only the first frame: a photo is a still picture.
        image = ImageOps.exif_transpose(original)
    options = dict(_REENCODE_OPTIONS[image_format])
    if icc_profile:
        options["icc_profile"] = icc_profile
    if image_format == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    # Pillow writes EXIF, XMP and comments only when asked to: none are passed here.
    image.save(buffer, format=image_format, **options)
    upload.seek(0)
    return SimpleUploadedFile(
        f"upload.{checked.extension}", buffer.getvalue(), content_type=checked.content_type
    )


def attachment_check(upload: UploadedFile, *, max_bytes: int) -> CheckedUpload:
    """A PDF or a JPEG, PNG or WebP image no bigger than `max_bytes`, or a ValidationError."""
    _check_size(upload, max_bytes)
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if head == b"%PDF-":
        return CheckedUpload(*PDF_TYPE)
    checked = _image_type(upload)
    if checked is None:
        raise ValidationError(
            _("Attach a PDF or a JPEG, PNG or WebP image."), code="invalid_attachment_type"
        )
    return checked


def rename_checked(upload: UploadedFile, checked: CheckedUpload) -> UploadedFile:
    """Name the file after its checked type; `RandomName` keeps only that extension."""
    upload.name = f"upload.{checked.extension}"
    return upload


@deconstructible
class RandomName:
    """`upload_to`: `<folder>/<random>.<ext>`, with the extension the content check chose.
    The name the person uploaded is never used: it could carry a path or a script type."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def __call__(self, instance, filename: str) -> str:
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if extension not in CONTENT_TYPES:
            extension = "bin"
        return f"{self.folder}/{uuid.uuid4().hex}.{extension}"

    def __eq__(self, other) -> bool:
        return isinstance(other, RandomName) and other.folder == self.folder


def upload_response(field_file: FieldFile, *, download_name: str, as_attachment: bool):
    """Serve a stored upload with the type its checked extension says, never as HTML."""
    extension = field_file.name.rsplit(".", 1)[-1].lower()
    if extension not in CONTENT_TYPES:  # not a type we checked: opaque bytes, never a .html
        extension = "bin"
    content_type = CONTENT_TYPES.get(extension, "application/octet-stream")
    response = FileResponse(
        field_file.open("rb"),
        as_attachment=as_attachment or content_type == "application/octet-stream",
        filename=f"{download_name}.{extension}",
        content_type=content_type,
    )
    # An upload is data, not a page: no script, no plugins, a unique origin if opened.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
