"""TikTok video links on progress updates: which links are accepted, and the two requests the
preview job makes, TikTok's public oEmbed endpoint (title, author, thumbnail address) and the
thumbnail itself, which we keep and serve ourselves.

Why keep the thumbnail: TikTok's thumbnail addresses are signed and expire within hours, and
an <img> pointing at TikTok's CDN would tell TikTok who reads our pages and need its hosts in
the CSP's img-src. So the job downloads it once, checks it is an image (Pillow, size capped),
writes it anew from its pixels and stores it under MEDIA_ROOT; readers' browsers only ever
talk to us. TikTok's `html` (which loads TikTok's script) is never used.

The endpoint is a setting (`TIKTOK_OEMBED_URL`): tests point it at a stand-in
(tests/standins/tiktok.py). A thumbnail is fetched only over HTTPS from TikTok's CDN hosts
(`TIKTOK_THUMBNAIL_HOSTS`) or from the oEmbed endpoint's own origin (a stand-in's), and
redirects are followed only to those, so an answer cannot make the worker fetch an address of
our network.
"""

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# https://www.tiktok.com/@handle/video/1234567890123456789 (TikTok handles: letters, digits,
# "_" and ".", at most 24; video ids: digits).
VIDEO_PATH = re.compile(r"^/@(?P<handle>[A-Za-z0-9_.]{1,24})/video/(?P<id>[0-9]{1,25})/?$")
VIDEO_HOSTS = {"tiktok.com", "www.tiktok.com", "m.tiktok.com"}
# Short links only say where the video is once fetched (a redirect): refused, with a message.
SHORT_HOSTS = {"vm.tiktok.com", "vt.tiktok.com"}
THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024
OEMBED_MAX_BYTES = 256 * 1024
MAX_LINKS = 5
USER_AGENT = "ChangeMakers-preview/1.0"


@dataclass(frozen=True)
class VideoLink:
    url: str  # canonical: https://www.tiktok.com/@handle/video/<id>, no query
    handle: str
    video_id: str


def video_link_parse(value: str) -> VideoLink:
    """The canonical link of a TikTok video address, or a ValidationError saying what a video
    link looks like. Tracking parameters (`?is_from_webapp=1...`) are dropped."""
    text = value.strip()
    parts = urlsplit(text if "://" in text else f"https://{text}")
    host = (parts.hostname or "").lower()
    if host in SHORT_HOSTS or (host in VIDEO_HOSTS and parts.path.startswith("/t/")):
        raise ValidationError(
            _(
                "“%(link)s” is a short TikTok link. Open the video and copy its full address, "
                "which looks like https://www.tiktok.com/@handle/video/1234567890."
            )
            % {"link": text[:100]},
            code="tiktok_short_link",
        )
    match = VIDEO_PATH.match(parts.path)
    if parts.scheme not in ("http", "https") or host not in VIDEO_HOSTS or match is None:
        raise ValidationError(
            _(
                "“%(link)s” is not a TikTok video link: it should look like "
                "https://www.tiktok.com/@handle/video/1234567890."
            )
            % {"link": text[:100]},
            code="not_tiktok_video",
        )
    handle, video_id = match["handle"], match["id"]
    return VideoLink(
        url=f"https://www.tiktok.com/@{handle}/video/{video_id}", handle=handle, video_id=video_id
    )


def video_link_validator(value: str) -> None:
    video_link_parse(value)


# --- The preview job's requests ----------------------------------------------------------------


class PreviewError(Exception):
    """A preview could not be fetched. `retryable`: worth trying again later (a timeout, a
    refused connection, TikTok busy: 429 or 5xx); otherwise TikTok said no for good (the video
    is unknown, private or removed) or answered something we do not use."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Preview:
    title: str
    author_name: str
    author_url: str
    thumbnail: bytes | None  # the image as downloaded, checked by the caller


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def thumbnail_address_allowed(url: str) -> bool:
    """HTTPS to a TikTok CDN host (a suffix of `TIKTOK_THUMBNAIL_HOSTS`), or the oEmbed
    endpoint's own origin."""
    scheme, host, _port = _origin(url)
    if _origin(url) == _origin(settings.TIKTOK_OEMBED_URL):
        return True
    if scheme != "https" or not host:
        return False
    return any(
        host == suffix or host.endswith("." + suffix) for suffix in settings.TIKTOK_THUMBNAIL_HOSTS
    )


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to an address the thumbnail rule allows."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not thumbnail_address_allowed(newurl):
            raise PreviewError(
                f"redirected to a host we do not fetch: {newurl[:80]}", retryable=False
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_opener = urllib.request.build_opener(_CheckedRedirects)


def _get(url: str, *, max_bytes: int, accept: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": accept})
    try:
        # The scheme is http(s): the endpoint is a setting, thumbnails pass the rule above.
        with _opener.open(request, timeout=settings.TIKTOK_TIMEOUT) as response:  # nosec B310
            body = response.read(max_bytes + 1)
    except urllib.error.HTTPError as error:
        busy = error.code == HTTPStatus.TOO_MANY_REQUESTS or error.code >= 500
        raise PreviewError(
            f"HTTP {error.code} from {urlsplit(url).hostname}", retryable=busy
        ) from None
    except (urllib.error.URLError, OSError) as error:  # refused, reset, DNS, timeout
        reason = getattr(error, "reason", error)
        raise PreviewError(f"{type(error).__name__}: {reason}"[:200], retryable=True) from None
    if len(body) > max_bytes:
        raise PreviewError(f"answer larger than {max_bytes} bytes", retryable=False)
    return body


def _text(data: dict, key: str, limit: int) -> str:
    value = data.get(key)
    return value.strip()[:limit] if isinstance(value, str) else ""


def preview_fetch(video_url: str) -> Preview:
    """Ask the oEmbed endpoint about the video, then download its thumbnail. Raises
    PreviewError. The author's address is kept only if it is on tiktok.com."""
    endpoint = settings.TIKTOK_OEMBED_URL
    body = _get(
        f"{endpoint}?{urlencode({'url': video_url})}",
        max_bytes=OEMBED_MAX_BYTES,
        accept="application/json",
    )
    try:
        data = json.loads(body)
    except ValueError:
        raise PreviewError("the oEmbed answer is not JSON", retryable=True) from None
    if not isinstance(data, dict) or data.get("type") != "video":
        raise PreviewError("the oEmbed answer is not a video", retryable=False)
    author_url = _text(data, "author_url", 200)
    author_host = (urlsplit(author_url).hostname or "").lower()
    if urlsplit(author_url).scheme != "https" or author_host not in VIDEO_HOSTS:
        author_url = ""
    thumbnail_url = _text(data, "thumbnail_url", 2000)
    thumbnail = None
    if thumbnail_url:
        if not thumbnail_address_allowed(thumbnail_url):
            raise PreviewError(
                f"thumbnail on a host we do not fetch: {urlsplit(thumbnail_url).hostname}",
                retryable=False,
            )
        thumbnail = _get(thumbnail_url, max_bytes=THUMBNAIL_MAX_BYTES, accept="image/*")
    return Preview(
        title=_text(data, "title", 300),
        author_name=_text(data, "author_name", 100),
        author_url=author_url,
        thumbnail=thumbnail,
    )
