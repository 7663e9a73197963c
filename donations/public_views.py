"""The public pages of the nonprofits the program supports, under /nonprofits/: the list, with
country and cause filters (its results alone for htmx), and a page per nonprofit.

Only verified nonprofits the program has paid are shown (`NonprofitQuerySet.supported`); any
other address is a 404, like one that does not exist. The costly parts are cached until the
program's data changes (core/page_cache.py): an approved description or a new payment is
audited, which retires them.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from changemakers.core import page_cache
from changemakers.core.htmx import is_partial, vary_on_htmx
from changemakers.core.pagination import page_context
from changemakers.core.whole_page import country_code, page_number, whole_page
from creators.models import Cause

from . import public_selectors as selectors
from .forms import PublicNonprofitFilterForm

LIST = "donations/public/nonprofit_list.html"
DETAIL = "donations/public/nonprofit_detail.html"
PAGE_SIZE = 20


@require_GET
@whole_page(
    params={
        "country": country_code,
        "cause": lambda value: value in Cause.values,
        "page": page_number,
    }
)
@vary_on_htmx
def nonprofit_list(request: HttpRequest) -> HttpResponse:
    form = PublicNonprofitFilterForm(
        request.GET or None,
        country_choices=page_cache.cached(
            "nonprofit-countries", selectors.supported_country_choices
        ),
    )
    filters = form.filters()
    paged = page_context(request, selectors.supported_nonprofits(**filters), PAGE_SIZE)
    nonprofits = paged["page_obj"].object_list

    def rows() -> list[tuple]:
        # Called by the template only when the rows' cached markup is missing.
        totals = selectors.received_totals_for(nonprofits)
        return [(nonprofit, totals.get(nonprofit.pk, [])) for nonprofit in nonprofits]

    context = {
        "form": form,
        "filtered": any(filters.values()),
        # Cached parts only under keys from a bounded set: valid filters and a page number
        # the paginator has (an unknown filter value is ignored, as if not given).
        "rows_key": f"{filters['country']}|{filters['cause']}",
        "rows": rows,
        **paged,
    }
    template = f"{LIST}#results" if is_partial(request) else LIST
    return render(request, template, context)


@require_GET
@whole_page()
def nonprofit_detail(request: HttpRequest, slug: str) -> HttpResponse:
    nonprofit = selectors.supported_nonprofit(slug)
    if nonprofit is None:
        raise Http404
    context = {
        "nonprofit": nonprofit,
        # Read only when the page's cached markup is missing.
        "received": lambda: selectors.received_totals(nonprofit),
        "creators": selectors.nonprofit_public_creators(nonprofit),
    }
    return render(request, DETAIL, context)
