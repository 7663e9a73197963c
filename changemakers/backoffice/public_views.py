"""The public program page: the hub text staff edit, the program's live totals and its impact
figures (aggregated only: no creator's own figures)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from creators.selectors import published_list_latest
from programs.selectors import impact_totals

from . import selectors


@require_GET
def program_page(request: HttpRequest) -> HttpResponse:
    # Computed on each request: a handful of aggregate queries, always current.
    context = {
        "hub": selectors.program_hub(),
        "totals": selectors.program_totals(),
        "latest": published_list_latest(),
        "impact": impact_totals(),
    }
    return render(request, "backoffice/program.html", context)
