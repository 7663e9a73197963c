"""Where a form sends the browser back to: the `next` it carried, when that is a path on this
site, else a default. The one place the project reads `next`."""

import unicodedata

from django.http import HttpRequest

MAX_NEXT_LENGTH = 2000


def is_site_path(candidate: str) -> bool:
    """A path on this site: it starts with exactly one "/" (not "//" nor "/\\", which browsers
    read as another host), within reason in length, with no control or space characters.

    `url_has_allowed_host_and_scheme()` is not enough on its own: it also allows a bare word
    ("grant-list"), and `redirect()` takes a bare word for a view name (NoReverseMatch, a 500).
    """
    return (
        0 < len(candidate) <= MAX_NEXT_LENGTH
        and candidate.startswith("/")
        and not candidate.startswith(("//", "/\\"))
        and not any(unicodedata.category(char) in {"Cc", "Cf", "Zs"} for char in candidate)
    )


def safe_next_path(request: HttpRequest, default: str) -> str:
    """The `next` of the POST (or else of the query string) if it is a path on this site (the
    page the form came from, kept with its query string), else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    return candidate if is_site_path(candidate) else default
