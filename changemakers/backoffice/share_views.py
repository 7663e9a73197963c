"""The share images (changemakers/backoffice/sharing.py), mounted at /share/: a creator's and a
nonprofit's for their public pages, the program's for every other page.

An image exists exactly when its page does, and shows only what that page shows: a creator's
when they are not erased and have confirmed what the public sees (country and causes only if
they show them), a nonprofit's when it is verified and paid (`supported`). Anything else is a
404, like an unknown handle.

The language comes from `?lang=` (the page that links the image says which), so one address
is always the same image, which browsers and proxies may keep (`Cache-Control: public`) and
ask again about with its ETag (304 when unchanged).
"""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_cache_control
from django.utils.http import parse_etags
from django.views.decorators.http import require_GET

from creators.models import Creator, handle_validator
from creators.selectors import creator_public_entries
from donations.public_selectors import supported_nonprofit

from . import sharing


def _answer(request: HttpRequest, card: sharing.Card) -> HttpResponse:
    etags = parse_etags(request.headers.get("If-None-Match", ""))
    if card.etag in etags or "*" in etags:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(sharing.card_png(card), content_type="image/png")
    response["ETag"] = card.etag
    response["Content-Language"] = card.language
    patch_cache_control(response, public=True, max_age=settings.SHARE_IMAGE_MAX_AGE)
    return response


def _language(request: HttpRequest) -> str:
    return sharing.card_language(request.GET.get("lang", ""))


def shareable_creator(handle: str) -> Creator | None:
    """The creator whose image may be drawn: public and agreed to be shown."""
    if not handle_validator.regex.fullmatch(handle.lstrip("@")):
        return None
    return (
        Creator.objects.public()
        .with_handle(handle)
        .filter(consent=Creator.Consent.AGREED)
        .only("display_name", "handle", "country", "causes", "consent", "public_fields")
        .first()
    )


@require_GET
def creator_image(request: HttpRequest, handle: str) -> HttpResponse:
    creator = shareable_creator(handle)
    if creator is None:
        raise Http404
    latest = creator_public_entries(creator).values_list("change_makers_list__year", flat=True)
    card = sharing.creator_card(creator, year=latest.first(), language=_language(request))
    return _answer(request, card)


@require_GET
def nonprofit_image(request: HttpRequest, slug: str) -> HttpResponse:
    nonprofit = supported_nonprofit(slug)
    if nonprofit is None:
        raise Http404
    return _answer(request, sharing.nonprofit_card(nonprofit, language=_language(request)))


@require_GET
def program_image(request: HttpRequest) -> HttpResponse:
    return _answer(request, sharing.program_card(language=_language(request)))
