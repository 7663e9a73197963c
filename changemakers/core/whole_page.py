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
"""

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from . import page_cache

logger = logging.getLogger(__name__)

type Allowed = Callable[[str], bool]
# The headers a kept page is sent with again (the middleware adds its own each time).
KEPT_HEADERS = ("Content-Type", "Content-Language", "Vary")


def country_code(value: str) -> bool:
    return len(value) == 2 and value.isascii() and value.isalpha() and value.isupper()


def page_number(value: str) -> bool:
    return value.isdigit() and 1 <= int(value) <= 1000


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


def _key(request: HttpRequest, name: str, query: str) -> str:
    parts = "\x1f".join(
        (
            name,
            translation.get_language() or "",
            request.get_host(),
            request.path,
            request.headers.get("HX-Request", ""),
            request.headers.get("HX-Target", ""),
            query,
        )
    )
    digest = hashlib.sha256(parts.encode()).hexdigest()[:40]
    return f"whole:{page_cache.data_version()}:{digest}"


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
