"""Changing language with a GET, for readers who are not signed in.

Django's `set_language` takes only a POST, and a POST form needs a CSRF token: a page holding
one is one reader's and cannot be kept whole by the cache or a CDN (core/whole_page.py). A
reader who is not signed in changes language with this GET instead: it sets the language
cookie and sends them back to the page they were reading. Signed-in people, whose pages are theirs
anyway, keep Django's POST form.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import check_for_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .redirects import safe_next_path


@require_GET
@never_cache
def language_switch(request: HttpRequest) -> HttpResponse:
    response = HttpResponseRedirect(safe_next_path(request, default="/"))
    language = request.GET.get("language", "")
    if check_for_language(language) and language in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response
