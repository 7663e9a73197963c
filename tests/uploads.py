"""In-memory files for upload tests: real images made by Pillow, and impostors."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_file(name: str = "photo.png", *, image_format: str = "PNG", size=(64, 64)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (11, 93, 91)).save(buffer, format=image_format)
    content_type = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}.get(
        image_format, "application/octet-stream"
    )
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


def jpeg_with_gps(name: str = "photo.jpg", *, size=(80, 40), orientation: int = 6):
    """A JPEG as a phone takes it: GPS coordinates and a camera in its EXIF, and stored
    sideways with an orientation tag saying how to turn it."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = orientation  # Orientation: 6 = turn 90 degrees clockwise to view
    exif[0x8825] = {  # GPSInfo
        1: "N",
        2: (51.0, 30.0, 12.5),
        3: "W",
        4: (0.0, 7.0, 39.0),
    }
    buffer = io.BytesIO()
    Image.new("RGB", size, (11, 93, 91)).save(buffer, format="JPEG", exif=exif)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def html_disguised_as_png(name: str = "photo.png"):
    return SimpleUploadedFile(
        name, b"<html><script>alert(1)</script></html>", content_type="image/png"
    )


def pdf_file(name: str = "report.pdf", *, extra_bytes: int = 0):
    body = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * extra_bytes + b"\n%%EOF\n"
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def big_file(name: str, megabytes: float, content_type: str):
    return SimpleUploadedFile(name, b"\0" * int(megabytes * 1024 * 1024), content_type=content_type)
