"""One way to turn a template into a PDF download, for every app's printed documents.

WeasyPrint lays out the HTML with the template's print stylesheet (`pdf_layout`). It never
reaches the network: every URL a document names (a stylesheet, an image, a font, even one
inside an SVG) is looked up by `static_file_path`, which finds our own static files on disk
and refuses everything else. A document that names a foreign URL is still made, without that
resource.
"""

import posixpath
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header

# The documents' base URL. `.invalid` never resolves (RFC 2606): a relative URL in a document
# becomes one under it, and only the fetcher below gives it a meaning.
RESOURCE_ORIGIN = "https://static.changemakers.invalid"
# What a document may load: stylesheets, images and fonts. Never HTML or script.
RESOURCE_TYPES = {
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
}


class ResourceRefused(ValueError):
    """A URL a document named that is not one of our static files. WeasyPrint logs it and
    goes on without the resource."""


def _static_name(url: str) -> str:
    """The static file's name that `url` stands for, or ResourceRefused."""
    parts = urlsplit(url)
    origin = urlsplit(RESOURCE_ORIGIN)
    if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
        raise ResourceRefused(f"not one of our static files: {url[:200]}")
    prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    path = unquote(parts.path)
    if not path.startswith(prefix) or "\\" in path or "\x00" in path:
        raise ResourceRefused(f"not under {prefix}: {url[:200]}")
    name = posixpath.normpath(path.removeprefix(prefix))
    if name.startswith(("/", "..")) or name == ".":
        raise ResourceRefused(f"outside the static files: {url[:200]}")
    if posixpath.splitext(name)[1].lower() not in RESOURCE_TYPES:
        raise ResourceRefused(f"not a stylesheet, image or font: {url[:200]}")
    return name


def static_file_path(url: str) -> Path:
    """The file on disk that `url` (under `RESOURCE_ORIGIN` + STATIC_URL) names: the source
    file the static files finders find, else the collected copy (in production its name
    carries the manifest's hash). ResourceRefused for anything else."""
    name = _static_name(url)
    found = finders.find(name)
    if not found and staticfiles_storage.exists(name):
        found = staticfiles_storage.path(name)
    if not found:
        raise ResourceRefused(f"no such static file: {name}")
    return Path(found)


def pdf_render(template: str, context: dict, request: HttpRequest | None = None) -> bytes:
    """The PDF of `template` rendered with `context`, in the active language."""
    # WeasyPrint takes seconds to import: only the processes that make a PDF pay for it.
    from .pdf_layout import html_to_pdf

    return html_to_pdf(render_to_string(template, context, request=request))


def pdf_response(pdf: bytes, *, filename: str) -> HttpResponse:
    """`pdf` as a download named `filename`, kept by no cache on the way."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response
