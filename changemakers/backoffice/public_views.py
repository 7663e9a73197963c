"""The public program page: the hub text staff edit, the program's live totals and its impact
figures (aggregated only); and a creator's public profile with their impact story (their
cohort and mission, the nonprofit given money in their name, their highlights), which reads
creators, programs and donations and so lives above them."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from changemakers.core.whole_page import whole_page
from creators.models import Creator, handle_validator
from creators.selectors import creator_public_entries, published_list_latest
from programs.selectors import impact_totals

from . import selectors
from .stories import creator_story


@require_GET
@whole_page()
def program_page(request: HttpRequest) -> HttpResponse:
    # Computed on each request: a handful of aggregate queries, always current.
    context = {
        "hub": selectors.program_hub(),
        "totals": selectors.program_totals(),
        "latest": published_list_latest(),
        "impact": impact_totals(),
    }
    return render(request, "backoffice/program.html", context)


@require_GET
@whole_page()
def creator_detail(request: HttpRequest, handle: str) -> HttpResponse:
    """A creator's public profile (URL name `creators:creator-detail`): what they show of
    their profile and of their impact story. A constant number of queries."""
    # Anything else cannot be a handle; some of it (a NUL byte) the database would refuse.
    if not handle_validator.regex.fullmatch(handle.lstrip("@")):
        raise Http404
    creator = Creator.objects.public().with_handle(handle).prefetch_related("links").first()
    if creator is None:
        raise Http404
    context = {
        "creator": creator,
        "entries": creator_public_entries(creator),
        "story": creator_story(creator),
    }
    return render(request, "creators/creator_detail.html", context)
