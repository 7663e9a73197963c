"""Public pages: program home, the yearly Change Makers list, creator profiles; and sign-in."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from . import selectors
from .forms import ListFilterForm
from .models import Cause, Creator
from .roles import Role, role_of

HOME_ENTRY_COUNT = 8
LIST_PAGE_SIZE = 50


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    latest = selectors.published_list_latest()
    context = {
        "latest": latest,
        "entries": [],
        "summary": None,
        "causes": Cause.choices,
        "donation_amount": settings.PROGRAM_DONATION_AMOUNT,
    }
    if latest is not None:
        context["entries"] = list(selectors.list_entries(latest)[:HOME_ENTRY_COUNT])
        context["summary"] = selectors.list_summary(latest)
    return render(request, "creators/home.html", context)


@require_GET
def list_latest(request: HttpRequest) -> HttpResponse:
    latest = selectors.published_list_latest()
    if latest is None:
        return render(request, "creators/list_unpublished.html")
    return redirect(latest)


@require_GET
def list_year(request: HttpRequest, year: int) -> HttpResponse:
    change_makers_list = selectors.published_list_for_year(year)
    if change_makers_list is None:
        raise Http404
    form = ListFilterForm(
        request.GET or None,
        country_choices=selectors.list_country_choices(change_makers_list),
    )
    filters = form.filters() if form.is_bound else {}
    entries = selectors.list_entries(change_makers_list, **filters)
    page_obj = Paginator(entries, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "change_makers_list": change_makers_list,
        "form": form,
        "filtered": any(filters.values()),
        "page_obj": page_obj,
        "page_range": page_obj.paginator.get_elided_page_range(page_obj.number),
        "other_years": [y for y in selectors.published_years() if y != year],
    }
    # A history restore asks for the whole page even though it comes from htmx.
    partial = request.htmx and not request.htmx.history_restore_request
    template = "creators/list.html#results" if partial else "creators/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
def creator_detail(request: HttpRequest, handle: str) -> HttpResponse:
    creator = Creator.objects.with_handle(handle).prefetch_related("links").first()
    if creator is None:
        raise Http404
    context = {
        "creator": creator,
        "entries": selectors.creator_public_entries(creator),
    }
    return render(request, "creators/creator_detail.html", context)


class LoginView(auth_views.LoginView):
    """Django's login (AuthenticationForm passes `request` to authenticate, as axes needs),
    landing each role on its own start page unless a safe `next` was given."""

    def get_default_redirect_url(self) -> str:
        if role_of(self.request.user) == Role.STAFF:
            return reverse("donations:grant-list")  # their working page
        return reverse("creators:home")
