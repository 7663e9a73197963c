"""Public pages: program home, the yearly Change Makers list, creator profiles; sign-in;
the creator's own profile page in the portal and the invitation link."""

import hashlib
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from changemakers.core.htmx import REFUSED, form_refusal, is_partial, vary_on_htmx
from changemakers.core.pagination import page_context
from changemakers.core.placed_messages import message_place
from changemakers.core.ratelimit import client_address, rate_count, rate_exceeded
from changemakers.core.redirects import safe_next_path
from changemakers.core.roles import Role, creator_required, role_of
from changemakers.core.timezones import time_zone_of, time_zone_remember
from changemakers.core.twofactor.middleware import after_sign_in
from changemakers.core.uploads import upload_response
from changemakers.core.whole_page import country_code, page_number, whole_page

from . import selectors, services
from .forms import (
    ConsentForm,
    ListFilterForm,
    ProfileForm,
    SignInForm,
    link_formset,
    links_from,
)
from .models import Cause, ChangeMakersList, Creator, PublicField, creator_of, handle_validator

HOME_ENTRY_COUNT = 8
LIST_PAGE_SIZE = 50
# The list's filters a whole page is kept for (core/whole_page.py): a country code, a cause,
# a page. A search by name is computed afresh.
LIST_FILTERS = {
    "country": country_code,
    "cause": lambda value: value in Cause.values,
    "page": page_number,
}


@require_GET
@whole_page()
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
@whole_page(params=LIST_FILTERS)
@vary_on_htmx
def list_year(request: HttpRequest, year: int) -> HttpResponse:
    change_makers_list = selectors.published_list_for_year(year)
    if change_makers_list is None:
        raise Http404
    return list_page(
        request,
        change_makers_list,
        list_url=reverse("creators:list-year", kwargs={"year": year}),
        other_years=[y for y in selectors.published_years() if y != year],
    )


def list_page(
    request: HttpRequest,
    change_makers_list: ChangeMakersList,
    *,
    list_url: str,
    other_years: list[int],
    preview: bool = False,
) -> HttpResponse:
    """One year's list as the public sees it: filtered, searched and paged; the results alone
    for htmx (so the views that use it are `@vary_on_htmx`). Staff's preview of a draft
    renders the same page, marked as not public."""
    form = ListFilterForm(
        request.GET or None,
        country_choices=selectors.list_country_choices(change_makers_list),
    )
    filters = form.filters() if form.is_bound else {}
    entries = selectors.list_entries(change_makers_list, **filters)
    context = {
        "change_makers_list": change_makers_list,
        "form": form,
        "filtered": any(filters.values()),
        # Named on the folded filters' summary: "Filters (2 active)".
        "active_filters": sum(1 for value in filters.values() if value),
        # Cached parts (core/page_cache.py) only under keys from a bounded set, so no query
        # string can fill the cache: the form as it first shows, the entries of a country and
        # cause page by page; a search is computed afresh (None: not cached).
        "filters_cache_key": None if form.is_bound else "",
        "entries_cache_key": None
        if filters.get("q")
        else (f"{filters.get('country', '')}|{filters.get('cause', '')}"),
        "list_url": list_url,
        "preview": preview,
        **page_context(request, entries, LIST_PAGE_SIZE),
        "other_years": other_years,
    }
    template = "creators/list.html#results" if is_partial(request) else "creators/list.html"
    return render(request, template, context)


def _handle_or_404(handle: str) -> str:
    # Anything else cannot be a handle; some of it (a NUL byte) the database would refuse.
    if not handle_validator.regex.fullmatch(handle.lstrip("@")):
        raise Http404
    return handle


class LoginView(auth_views.LoginView):
    """Django's login (AuthenticationForm passes `request` to authenticate, as axes needs),
    landing each role on its own start page unless a safe `next` was given."""

    authentication_form = SignInForm

    def get_redirect_url(self) -> str:
        return safe_next_path(self.request, default="")

    def get_success_url(self) -> str:
        # Signed in by password: the second factor next, when the account owes one.
        return after_sign_in(self.request, super().get_success_url())

    def get_default_redirect_url(self) -> str:
        role = role_of(self.request.user)
        if role == Role.STAFF:
            return reverse("backoffice:dashboard")  # the dashboard: the whole program at a glance
        if role == Role.CREATOR:
            return reverse("programs:portal")
        if role == Role.NONPROFIT:
            return reverse("nonprofit:grant-list")
        return reverse("creators:home")

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=REFUSED)


@require_GET
def creator_photo(request: HttpRequest, handle: str) -> HttpResponse:
    """A creator's public photo, served as the image type it was checked to be."""
    creator = (
        Creator.objects.public()
        .with_handle(_handle_or_404(handle))
        .only("handle", "photo", "consent", "public_fields", "user_id")
        .first()
    )
    if creator is None or not creator.photo:
        raise Http404
    # Public only when the creator shows it; they and staff see it in their own pages. A
    # hidden photo is a 404 like a missing one, so its existence is not revealed either.
    own = creator.user_id is not None and creator.user_id == request.user.pk
    if not (
        creator.shows(PublicField.PHOTO) or own or request.user.has_perm("creators.view_creator")
    ):
        raise Http404
    return upload_response(creator.photo, download_name=creator.handle, as_attachment=False)


# --- The creator's portal: their own profile ----------------------------------------------


@require_http_methods(["GET", "POST"])
@creator_required
@vary_on_htmx
def profile_edit(request: HttpRequest) -> HttpResponse:
    creator = creator_of(request.user)
    initial_links = [{"label": link.label, "url": link.url} for link in creator.links.all()]
    saved = False
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES)
        formset = link_formset(data=request.POST, initial=initial_links)
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            try:
                creator = services.creator_profile_update(
                    creator=creator,
                    actor=request.user,
                    links=links_from(formset),
                    photo=data["photo"],
                    remove_photo=data["remove_photo"],
                    time_zone=data["time_zone"] or None,
                    **{name: data[name] for name in services.PROFILE_FIELDS},
                )
            except ValidationError as error:
                form_refusal(form, error)
            else:
                if data["time_zone"]:
                    time_zone_remember(request, data["time_zone"])
                if not is_partial(request):
                    message_place(request, _("Saved."), place="profile-saved")
                    return redirect(reverse("creators:profile-edit") + "#profile-saved")
                saved = True
                initial_links = [{"label": label, "url": url} for label, url in links_from(formset)]
                form = ProfileForm(initial=_profile_initial(creator, request.user))
                formset = link_formset(initial=initial_links)
    else:
        form = ProfileForm(initial=_profile_initial(creator, request.user))
        formset = link_formset(initial=initial_links)
    context = {
        "creator": creator,
        "form": form,
        "formset": formset,
        "saved": saved,
        "now": timezone.now(),
    }
    status = REFUSED if request.method == "POST" and not saved else 200
    template = "creators/portal/profile_form.html"
    if is_partial(request):
        template += "#profile-form"
    return render(request, template, context, status=status)


# --- The creator's portal: what the public sees ----------------------------------------------


def _consent_context(creator: Creator, form: ConsentForm) -> dict:
    return {
        "creator": creator,
        "form": form,
        "history": list(creator.consents.select_related("recorded_by")[:20]),
        "on_lists": list(
            selectors.creator_published_entries(creator).values_list(
                "change_makers_list__title", flat=True
            )
        ),
    }


@require_http_methods(["GET", "POST"])
@creator_required
def consent_edit(request: HttpRequest) -> HttpResponse:
    """Choose the fields the public sees and confirm appearing on the published list."""
    creator = creator_of(request.user)
    if request.method == "POST":
        form = ConsentForm(request.POST)
        if form.is_valid():
            try:
                services.creator_consent_confirm(
                    creator=creator,
                    actor=request.user,
                    public_fields=form.cleaned_data["public_fields"],
                )
            except ValidationError as error:
                form_refusal(form, error)
            else:
                messages.success(request, _("Your choice is saved and applies now."))
                return redirect("creators:consent-edit")
        return render(
            request, "creators/portal/consent.html", _consent_context(creator, form), status=REFUSED
        )
    agreed = creator.consent == Creator.Consent.AGREED
    form = ConsentForm(initial={"public_fields": creator.public_fields if agreed else []})
    return render(request, "creators/portal/consent.html", _consent_context(creator, form))


@require_POST
@creator_required
def consent_withdraw(request: HttpRequest) -> HttpResponse:
    creator = creator_of(request.user)
    services.creator_consent_withdraw(creator=creator, actor=request.user)
    messages.success(
        request,
        _(
            "You no longer appear on the public list; your profile shows your name and @handle "
            "only."
        ),
    )
    return redirect("creators:consent-edit")


def _profile_initial(creator: Creator, user) -> dict:
    return {name: getattr(creator, name) for name in services.PROFILE_FIELDS} | {
        "country": creator.country.code,
        "time_zone": time_zone_of(user),
    }


# The "email me a reset link" form, like the nonprofit sign-in link form: per client address and
# per address asked for (so nobody's inbox can be flooded), in windows of an hour, counted
# whether or not the address has an account, so the answer tells nobody who has one.
RESET_RATE_WINDOW = 60 * 60
RESET_RATE_PER_CLIENT = 10
RESET_RATE_PER_EMAIL = 3


class PasswordResetView(auth_views.PasswordResetView):
    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=REFUSED)

    def form_valid(self, form):
        # A digest: any length fits in a key, and the cache holds no address.
        email = hashlib.sha256(form.cleaned_data["email"].strip().lower().encode()).hexdigest()
        keys = [
            (f"auth:reset:client:{client_address(self.request)}", RESET_RATE_PER_CLIENT),
            (f"auth:reset:email:{email}", RESET_RATE_PER_EMAIL),
        ]
        if any(rate_exceeded(key, limit=limit) for key, limit in keys):
            form.add_error(
                None,
                _(
                    "Several reset links have been asked for in the last hour. Please use the "
                    "latest one, or try again in an hour."
                ),
            )
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(RESET_RATE_WINDOW)
            return response
        for key, _limit in keys:
            rate_count(key, window=RESET_RATE_WINDOW)
        return super().form_valid(form)


# --- Invitations: set a password (or sign in) once, then the portal -----------------------


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    invitation = services.invitation_for_token(pk=pk, token=token)
    if invitation is None:
        # Used, replaced or expired: gone, like a nonprofit's used sign-in link.
        return render(request, "creators/invitation_invalid.html", status=410)
    user = invitation.creator.user
    if user.has_usable_password():
        # An account that already has a password signs in as usual; the link stays unused.
        login_url = f"{reverse('login')}?{urlencode({'next': reverse('programs:portal')})}"
        return render(
            request,
            "creators/invitation_accept.html",
            {"invitation": invitation, "login_url": login_url},
        )
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.creator_invitation_accept(
                invitation=invitation, token=token, password=form.cleaned_data["new_password1"]
            )
        except ValidationError:
            return render(request, "creators/invitation_invalid.html", status=410)
        auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome to your Change Makers portal."))
        return redirect("programs:portal")
    return render(
        request,
        "creators/invitation_accept.html",
        {"invitation": invitation, "form": form},
        status=REFUSED if request.method == "POST" else 200,
    )
