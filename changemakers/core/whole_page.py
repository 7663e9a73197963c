"""Public pages served whole from the cache, and kept by browsers and CDNs until they change.

The public reads the same pages (home, a year's list and its filters, a creator's page, the
program page, the nonprofits'), and on the day a list is announced a crowd reads them. An
anonymous reader's page is the same for every anonymous reader in one language, so it is kept
whole in the "pages" cache (core/page_cache.py), keyed on:

- the data version, which every audited change bumps when it commits: what staff publish is on
  the next request, in every web process;
- the language, the host, the path, whether htmx asks for the fragment, and the query string,
  but only when each of its parameters is one the view names and its value one that parameter
  allows (a country code, a cause, a page number). Any other query (a free-text search, an
  unknown parameter) is computed afresh and not kept, so no query string can fill the cache.

Such a page carries nothing of one visitor: no CSRF token (`request.whole_page` tells
base.html to leave it out; anonymous readers change language with a GET, see
`core/language.py`), no cookie. A signed-in reader, or one with a message waiting to be
shown, gets the page as every other page (private, never kept); a response that sets a cookie
is not kept.

Every public page, kept or not, is sent with `Cache-Control: public, no-cache` (a browser or
CDN may keep it, and asks again before using it), an `ETag` (a digest of the page) and a
`Last-Modified`; a conditional request for a page unchanged gets `304 Not Modified`.

A signed-in person's key pages (their portal, the staff dashboard and pipeline, a nonprofit's
grants) are theirs alone, and they read them again and again between two changes of the data.
`personal_page` keeps such a page whole too, but only for its reader (see there): never sent to
a CDN, never served to anyone else.
"""

import hashlib
import logging
import re
import time
from collections.abc import Callable, Mapping
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.cache.backends.dummy import DummyCache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from . import page_cache
from .context_processors import staff_access

logger = logging.getLogger(__name__)

type Allowed = Callable[[str], bool]
# The headers a kept page is sent with again (the middleware adds its own each time).
KEPT_HEADERS = ("Content-Type", "Content-Language", "Vary")


def country_code(value: str) -> bool:
    return len(value) == 2 and value.isascii() and value.isalpha() and value.isupper()


def page_number(value: str) -> bool:
    return value.isdigit() and 1 <= int(value) <= 1000


def row_id(value: str) -> bool:
    """A primary key (a fund, a cohort)."""
    return value.isdigit() and len(value) <= 12


def one_of(*values: str) -> Allowed:
    return frozenset(values).__contains__


def _query_key(request: HttpRequest, params: Mapping[str, Allowed]) -> str | None:
    """The query string as part of the key, or None when it is not one of the bounded set. An
    empty parameter is no filter (the list's form sends `q=` with every change): left out."""
    parts = []
    for name in sorted(request.GET):
        values = [value for value in request.GET.getlist(name) if value]
        if not values:
            continue
        allowed = params.get(name)
        if allowed is None or len(values) != 1 or not allowed(values[0]):
            return None
        parts.append(f"{name}={values[0]}")
    return "&".join(parts)


def _anonymous_reader(request: HttpRequest) -> bool:
    """Whether this request reads a public page as anyone would: a GET by someone not signed
    in, with no message waiting for them (after a form, say: it is theirs alone)."""
    if request.method != "GET" or request.user.is_authenticated:  # the views take GET only
        return False
    return not len(messages.get_messages(request))


def _key(request: HttpRequest, name: str, query: str, *reader: str, prefix: str = "whole") -> str:
    parts = "\x1f".join(
        (
            name,
            translation.get_language() or "",
            request.get_host(),
            request.path,
            request.headers.get("HX-Request", ""),
            request.headers.get("HX-Target", ""),
            # htmx asks for the whole page again when its history cache misses.
            request.headers.get("HX-History-Restore-Request", ""),
            query,
            *reader,
        )
    )
    digest = hashlib.sha256(parts.encode()).hexdigest()[:40]
    return f"{prefix}:{page_cache.data_version()}:{digest}"


def _finish(request: HttpRequest, response: HttpResponse, etag: str, modified: float):
    """The public caching headers, and a 304 when the reader has this page already."""
    response["ETag"] = etag
    response["Last-Modified"] = http_date(modified)
    patch_cache_control(response, public=True, no_cache=True)
    return get_conditional_response(
        request, etag=etag, last_modified=int(modified), response=response
    )


def _etag(content: bytes) -> str:
    return f'"{hashlib.sha256(content).hexdigest()[:32]}"'


def whole_page(*, params: Mapping[str, Allowed] | None = None):
    """Serve the decorated public view whole from the cache to anonymous readers (see above).
    `params` names the query parameters that keep a page cacheable, each with what values it
    allows; without it, any query string is computed afresh."""
    params = params or {}

    def decorator(view):
        name = f"{view.__module__}.{view.__qualname__}"

        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not _anonymous_reader(request):
                return view(request, *args, **kwargs)  # private, as every other page
            request.whole_page = True  # base.html: no CSRF token, nothing of one reader
            query = _query_key(request, params)
            key = kept = None
            if query is not None:
                try:
                    key = _key(request, name, query)
                    kept = page_cache._pages().get(key)
                except Exception:
                    logger.warning("The pages cache did not answer; %s afresh", request.path)
            if kept is not None:
                content, headers, etag, modified = kept
                response = HttpResponse(content)
                for header, value in headers.items():
                    response[header] = value
                return _finish(request, response, etag, modified)
            response = view(request, *args, **kwargs)
            # A page that set a cookie, or holds a CSRF token (a form), is this reader's.
            personal = response.cookies or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
            if response.status_code != 200 or response.streaming or personal:
                return response
            etag, modified = _etag(response.content), time.time()
            if key is not None:
                headers = {h: response[h] for h in KEPT_HEADERS if response.has_header(h)}
                try:
                    page_cache._pages().set(
                        key,
                        (response.content, headers, etag, modified),
                        timeout=settings.PAGE_CACHE_TIMEOUT,
                    )
                except Exception:
                    logger.warning("The pages cache did not answer; %s not kept", request.path)
            return _finish(request, response, etag, modified)

        return wrapper

    return decorator


# --- A signed-in person's own pages -------------------------------------------------------------

# The CSRF token as base.html and `{% csrf_token %}` write it: one per page (Django's `csrf`
# context processor masks it once a render). Masked tokens are 64 letters and digits.
_TOKEN = re.compile(rb'(?:name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")([A-Za-z0-9]{64})"')
# Anything that could be a token, wherever it stands.
_TOKEN_LIKE = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
# Where a kept page had its token; a byte no HTML page holds.
TOKEN_SLOT = b"\x00csrf-token\x00"


def _reader(request: HttpRequest) -> tuple[str, ...]:
    """Who reads the page, and what else of theirs it shows: the person, their permissions (a
    staff member's tabs and buttons), their time zone and their day (dates and "due in")."""
    user = request.user
    access = staff_access(user) if user.is_staff else ""
    return (
        str(user.pk),
        hashlib.sha256(access.encode()).hexdigest(),
        timezone.get_current_timezone_name(),
        timezone.localdate().isoformat(),
    )


def live(request: HttpRequest) -> None:
    """Say that this request's page shows something read live, not from the program's data (a
    payment provider's balance): `personal_page` does not keep it."""
    request.personal_page_live = True


def _without_token(content: bytes) -> bytes | None:
    """The page with its CSRF token taken out (to be masked afresh for each response), or None
    when it holds anything else that could be one (a second token, one written another way):
    a page this decorator cannot vouch for is not kept."""
    tokens = set(_TOKEN.findall(content))
    if len(tokens) > 1 or not set(_TOKEN_LIKE.findall(content)) <= tokens:
        return None
    return content.replace(tokens.pop(), TOKEN_SLOT) if tokens else content


def personal_page(*, params: Mapping[str, Allowed] | None = None):
    """Keep the decorated signed-in page whole for its reader until the program's data changes.

    Put it under the view's access check (`staff_required`, `creator_required`, ...), which
    runs on every request as before. The page is kept in the pages cache under the data
    version (every audited change retires it), the reader (`_reader`: the person, their
    permissions, their time zone and day), the language, the path, the htmx target and the
    query string when `params` allows it (as `whole_page`), for `PERSONAL_PAGE_TIMEOUT`
    seconds at most. Not kept: a request with a message waiting, a page that sets a cookie or
    changes the session, one that shows something read `live`, anything but a 200.

    A kept page holds no CSRF token: each response gets the reader's own, freshly masked, so
    one of the reader's sessions never gets another's. It is sent as before, with no caching
    headers: a browser or CDN keeps nothing of it.
    """
    params = params or {}

    def decorator(view):
        name = f"{view.__module__}.{view.__qualname__}"

        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            query = _query_key(request, params)
            if (
                request.method != "GET"
                or not request.user.is_authenticated
                or query is None
                or len(messages.get_messages(request))
            ):
                return view(request, *args, **kwargs)
            pages = page_cache._pages()
            if isinstance(pages, DummyCache):  # no cache (the embedded defaults): nothing kept
                return view(request, *args, **kwargs)
            try:
                key = _key(request, name, query, *_reader(request), prefix="personal")
                kept = pages.get(key)
            except Exception:
                logger.warning("The pages cache did not answer; %s afresh", request.path)
                return view(request, *args, **kwargs)
            if kept is not None:
                content, headers = kept
                if TOKEN_SLOT in content:
                    content = content.replace(TOKEN_SLOT, get_token(request).encode())
                response = HttpResponse(content)
                for header, value in headers.items():
                    response[header] = value
                return response
            response = view(request, *args, **kwargs)
            if (
                response.status_code != 200
                or response.streaming
                or response.cookies
                or request.session.modified
                or getattr(request, "personal_page_live", False)
            ):
                return response
            content = _without_token(response.content)
            if content is not None:
                headers = {h: response[h] for h in KEPT_HEADERS if response.has_header(h)}
                try:
                    pages.set(key, (content, headers), timeout=settings.PERSONAL_PAGE_TIMEOUT)
                except Exception:
                    logger.warning("The pages cache did not answer; %s not kept", request.path)
            return response

        return wrapper

    return decorator
