"""Opportunities: the staff pages that publish and run them (the sign-ups, their CSV, who
attended), and the creator's portal page that lists them and signs up or withdraws. The
nonprofit's portal has the same page (donations/nonprofit_views.py), from the same template
and the helpers here."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from changemakers.core.csv_stream import CHUNK_SIZE, csv_response
from changemakers.core.htmx import REFUSED, form_refusal, is_partial, vary_on_htmx
from changemakers.core.pagination import page_context
from changemakers.core.redirects import safe_next_path
from changemakers.core.roles import creator_required, staff_required

from .. import selectors, services
from ..forms import AttendanceForm, CancelForm, OpportunityForm
from ..models import Opportunity, OpportunitySignup

STAFF_PAGE_SIZE = 50
DETAIL = "programs/staff/opportunity_detail.html"
PORTAL = "programs/opportunities/portal.html"
VIEW = "programs.view_opportunity"
MANAGE = "programs.manage_opportunity"


# --- Staff -----------------------------------------------------------------------------------


@require_GET
@staff_required(perm=VIEW)
def opportunity_list(request: HttpRequest) -> HttpResponse:
    rows = Opportunity.objects.with_taken().order_by("-starts_at", "-pk")
    context = page_context(request, rows, STAFF_PAGE_SIZE)
    context["opportunities"] = context["page_obj"].object_list
    return render(request, "programs/staff/opportunity_list.html", context)


@require_http_methods(["GET", "POST"])
@staff_required(perm=(VIEW, MANAGE))
def opportunity_create(request: HttpRequest) -> HttpResponse:
    form = OpportunityForm(request.POST or None, initial={"capacity": 20})
    if request.method == "POST" and form.is_valid():
        try:
            opportunity = services.opportunity_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(
                request,
                _("“%(title)s” is saved as a draft: publish it when it is ready.")
                % {"title": opportunity.title},
            )
            return redirect(opportunity.get_staff_url())
    status = REFUSED if request.method == "POST" else 200
    context = {"form": form, "opportunity": None}
    return render(request, "programs/staff/opportunity_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_required(perm=(VIEW, MANAGE))
def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = get_object_or_404(Opportunity, pk=pk)
    if opportunity.status == Opportunity.Status.CANCELLED:
        messages.error(request, _("A cancelled opportunity can no longer be changed."))
        return redirect(opportunity.get_staff_url())
    form = OpportunityForm(request.POST or None, initial=OpportunityForm.initial_from(opportunity))
    if request.method == "POST" and form.is_valid():
        try:
            services.opportunity_update(
                opportunity=opportunity, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(request, _("The opportunity is saved."))
            return redirect(opportunity.get_staff_url())
    status = REFUSED if request.method == "POST" else 200
    context = {"form": form, "opportunity": opportunity}
    return render(request, "programs/staff/opportunity_form.html", context, status=status)


def _detail_context(opportunity: Opportunity, **extra) -> dict:
    signups = list(selectors.opportunity_signups(opportunity))
    return {
        "opportunity": opportunity,
        "signups": signups,
        "taken": sum(s.status == OpportunitySignup.Status.SIGNED_UP for s in signups),
        "cancel_form": CancelForm(),
        "next": opportunity.get_staff_url(),
        "now": timezone.now(),
        **extra,
    }


@require_GET
@staff_required(perm=VIEW)
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = get_object_or_404(Opportunity.objects.select_related("created_by"), pk=pk)
    return render(request, DETAIL, _detail_context(opportunity))


@require_POST
@staff_required(perm=(VIEW, MANAGE))
def opportunity_publish(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = get_object_or_404(Opportunity, pk=pk)
    try:
        services.opportunity_publish(opportunity=opportunity, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("“%(title)s” is published: the people it is for can sign up.")
            % {"title": opportunity.title},
        )
    return redirect(opportunity.get_staff_url())


@require_POST
@staff_required(perm=(VIEW, MANAGE))
def opportunity_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = get_object_or_404(Opportunity.objects.select_related("created_by"), pk=pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.opportunity_cancel(
                opportunity=opportunity, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(
                request, _("The opportunity is cancelled; everyone signed up is emailed.")
            )
            return redirect(opportunity.get_staff_url())
    context = _detail_context(opportunity, cancel_form=form)
    return render(request, DETAIL, context, status=REFUSED)


@require_GET
@staff_required(perm=(VIEW, "programs.view_opportunitysignup"))
def opportunity_signups_csv(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = get_object_or_404(Opportunity, pk=pk)
    header = [
        _("Name"),
        _("Email"),
        _("As"),
        _("Organisation"),
        _("Status"),
        _("Signed up at"),
        _("Attended"),
    ]
    signups = selectors.opportunity_signups(opportunity)

    def rows():
        for signup in signups.iterator(chunk_size=CHUNK_SIZE):
            yield [
                signup.name,
                signup.user.email,
                signup.get_role_display(),
                signup.organisation,
                signup.get_status_display(),
                signup.created_at,
                signup.attended,
            ]

    stamp = timezone.localdate().isoformat()
    return csv_response(
        filename=f"opportunity-{opportunity.pk}-signups-{stamp}.csv", header=header, rows=rows()
    )


@require_POST
@staff_required(perm=(VIEW, MANAGE))
@vary_on_htmx
def signup_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one person as attended or absent: the row again for htmx, else back to the page."""
    signup = get_object_or_404(OpportunitySignup.objects.select_related("opportunity"), pk=pk)
    back = safe_next_path(request, default=signup.opportunity.get_staff_url())
    form = AttendanceForm(request.POST)
    errors: list[str] = []
    if not form.is_valid():
        errors = [message for found in form.errors.values() for message in found]
    else:
        try:
            signup = services.opportunity_attendance_mark(
                signup=signup, attended=form.cleaned_data["attended"], actor=request.user
            )
        except ValidationError as error:
            errors = error.messages
    done = _("%(name)s: attendance recorded.") % {"name": signup.name}
    if not is_partial(request):
        for error in errors:
            messages.error(request, error)
        if not errors:
            messages.success(request, done)
        return redirect(back)
    signup = OpportunitySignup.objects.select_related("user", "opportunity").get(pk=signup.pk)
    context = {
        "signup": signup,
        "opportunity": signup.opportunity,
        "next": back,
        "row_errors": errors,
        "action_message": "" if errors else done,
    }
    return render(request, f"{DETAIL}#signup_response", context, status=REFUSED if errors else 200)


# --- The portals -----------------------------------------------------------------------------


def portal_context(request: HttpRequest, audience: str, urls: dict[str, str]) -> dict:
    """The portal page's context, for creators here and nonprofit contacts in donations:
    `urls` names the list, sign-up and withdraw views of that portal."""
    found = selectors.portal_opportunities(request.user, audience)
    return {"open": found.open, "mine": found.mine, "urls": urls, "now": timezone.now()}


def portal_signup(
    request: HttpRequest, pk: int, audience: str, back: str, organisation: str = ""
) -> HttpResponse:
    """Sign the reader up to a published opportunity meant for them (any other is a 404)."""
    opportunity = get_object_or_404(Opportunity.objects.published().for_audience(audience), pk=pk)
    try:
        services.opportunity_signup(
            opportunity=opportunity,
            person=request.user,
            actor=request.user,
            organisation=organisation,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("You are signed up to “%(title)s”. We will remind you the day before.")
            % {"title": opportunity.title},
        )
    return redirect(back)


def portal_withdraw(request: HttpRequest, pk: int, back: str) -> HttpResponse:
    """Give back the reader's place (only their own sign-up can be reached)."""
    signup = OpportunitySignup.objects.of(request.user).filter(opportunity_id=pk)
    signup = signup.select_related("opportunity").first()
    if signup is None:
        raise Http404
    try:
        services.opportunity_withdraw(
            opportunity=signup.opportunity, person=request.user, actor=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("You have withdrawn from “%(title)s”; your place is free for someone else.")
            % {"title": signup.opportunity.title},
        )
    return redirect(back)


CREATOR_URLS = {
    "list": "programs:portal-opportunity-list",
    "signup": "programs:portal-opportunity-signup",
    "withdraw": "programs:portal-opportunity-withdraw",
}


@require_GET
@creator_required
def portal_opportunity_list(request: HttpRequest) -> HttpResponse:
    context = portal_context(request, Opportunity.Audience.CREATORS, CREATOR_URLS)
    return render(request, PORTAL, context)


@require_POST
@creator_required
def portal_opportunity_signup(request: HttpRequest, pk: int) -> HttpResponse:
    back = reverse(CREATOR_URLS["list"])
    return portal_signup(request, pk, Opportunity.Audience.CREATORS, back)


@require_POST
@creator_required
def portal_opportunity_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return portal_withdraw(request, pk, reverse(CREATOR_URLS["list"]))
