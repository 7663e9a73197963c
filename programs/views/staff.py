"""Staff pages for cohorts, enrolments, milestone reviews and applications, mounted under
/staff/. Function views: validate with a form, call a service or selector, render or
redirect. htmx requests get the page's partial (a refusal too, answered 422); every form also
posts without JavaScript."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from changemakers.core.htmx import (
    REFUSED,
    Event,
    announce,
    form_refusal,
    is_partial,
    vary_on_htmx,
)
from changemakers.core.pagination import page_context
from changemakers.core.roles import staff_required
from creators.services import creator_invitation_send

from .. import selectors, services
from ..clock import program_today
from ..forms import (
    ENROLMENT_ACTIONS,
    AcceptForm,
    CohortForm,
    DeclineForm,
    InviteExistingForm,
    InviteNewForm,
    ReasonForm,
    ReviewForm,
    plan_formset,
    plan_from,
)
from ..models import Application, Cohort, Enrolment, Milestone

# Staff lists show this many rows a page (components/pagination.html links the rest).
STAFF_PAGE_SIZE = 50


def _paginate(request: HttpRequest, rows) -> dict:
    return page_context(request, rows, STAFF_PAGE_SIZE)


# --- Staff: cohorts -------------------------------------------------------------------------


@require_GET
@staff_required(perm="programs.view_cohort")
def cohort_list(request: HttpRequest) -> HttpResponse:
    context = _paginate(request, selectors.cohorts_with_counts())
    context["cohorts"] = context["page_obj"].object_list
    return render(request, "programs/staff/cohort_list.html", context)


@require_http_methods(["GET", "POST"])
@staff_required(perm="programs.add_cohort")
def cohort_create(request: HttpRequest) -> HttpResponse:
    form = CohortForm(request.POST or None, initial={"capacity": 10})
    formset = plan_formset(request.POST or None)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            cohort = services.cohort_create(
                **form.cleaned_data, plan=plan_from(formset), actor=request.user
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(request, _("%(cohort)s is created.") % {"cohort": cohort})
            return redirect("programs:cohort-detail", pk=cohort.pk)
    status = REFUSED if request.method == "POST" else 200
    return render(
        request,
        "programs/staff/cohort_form.html",
        {"form": form, "formset": formset},
        status=status,
    )


def _cohort_detail_context(request, cohort: Cohort, **forms) -> dict:
    today = program_today()
    return {
        "cohort": cohort,
        "today": today,
        "progress": selectors.cohort_progress(cohort, today=today),
        "seats_taken": cohort.enrolments.holding_a_seat().count(),
        "invite_form": forms.get("invite_form") or InviteExistingForm(cohort=cohort),
        "invite_new_form": forms.get("invite_new_form") or InviteNewForm(),
        "enrolment_actions": ENROLMENT_ACTIONS,
    }


@require_GET
@staff_required(perm="programs.view_cohort")
@vary_on_htmx
def cohort_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort.objects.select_related("manager"), pk=pk)
    context = _cohort_detail_context(request, cohort)
    template = "programs/staff/cohort_detail.html" + ("#progress" if is_partial(request) else "")
    return render(request, template, context)


@require_POST
@staff_required(perm="programs.change_cohort")
def cohort_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    cohort = get_object_or_404(Cohort, pk=pk)
    transitions = {"start": services.cohort_start, "complete": services.cohort_complete}
    if action not in transitions:
        raise Http404
    try:
        transitions[action](cohort=cohort, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The cohort's status is updated."))
    return redirect("programs:cohort-detail", pk=cohort.pk)


@require_POST
@staff_required(perm="programs.add_enrolment")
@vary_on_htmx
def cohort_invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Offer an existing creator a place (and a portal invitation if they have no account)."""
    cohort = get_object_or_404(Cohort, pk=pk)
    form = InviteExistingForm(request.POST, cohort=cohort)
    if form.is_valid():
        data = form.cleaned_data
        try:
            enrolment = services.creator_onboard(
                cohort=cohort,
                creator=data["creator"],
                email=data["email"],
                mission=data["mission"],
                actor=request.user,
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            return _invited(request, cohort, enrolment)
    return _invite_failed(request, cohort, invite_form=form)


@require_POST
@staff_required(perm=("programs.add_enrolment", "creators.add_creator"))
@vary_on_htmx
def cohort_invite_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Invite a creator who is not in the program yet: their profile, their place, and the
    portal invitation by email, all at once."""
    cohort = get_object_or_404(Cohort, pk=pk)
    form = InviteNewForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            enrolment = services.creator_onboard(
                cohort=cohort,
                email=data["email"],
                mission=data["mission"],
                note=data["note"],
                actor=request.user,
                display_name=data["display_name"],
                handle=data["handle"],
                country=data["country"],
                causes=data["causes"],
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            return _invited(request, cohort, enrolment)
    return _invite_failed(request, cohort, invite_new_form=form)


def _invited(request, cohort: Cohort, enrolment: Enrolment) -> HttpResponse:
    text = _("%(creator)s is invited to %(cohort)s.") % {
        "creator": enrolment.creator.display_name,
        "cohort": cohort,
    }
    if is_partial(request):
        context = _cohort_detail_context(request, cohort)
        context["invite_notice"] = text
        response = render(request, "programs/staff/cohort_detail.html#invite-forms", context)
        return announce(response, Event.COHORT_CHANGED)
    messages.success(request, text)
    return redirect("programs:cohort-detail", pk=cohort.pk)


def _invite_failed(request, cohort: Cohort, **forms) -> HttpResponse:
    context = _cohort_detail_context(request, cohort, **forms)
    if is_partial(request):
        return render(
            request, "programs/staff/cohort_detail.html#invite-forms", context, status=REFUSED
        )
    return render(request, "programs/staff/cohort_detail.html", context, status=REFUSED)


@require_POST
@staff_required(perm="programs.change_enrolment")
@vary_on_htmx
def enrolment_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    enrolment = get_object_or_404(Enrolment.objects.select_related("creator", "cohort"), pk=pk)
    if action not in ENROLMENT_ACTIONS:
        raise Http404
    reason = ReasonForm(request.POST)
    reason.is_valid()
    try:
        if action == "activate":
            services.enrolment_activate(enrolment=enrolment, actor=request.user)
        elif action == "complete":
            services.enrolment_complete(enrolment=enrolment, actor=request.user)
        else:
            services.enrolment_withdraw(
                enrolment=enrolment,
                actor=request.user,
                reason=reason.cleaned_data.get("reason", ""),
            )
    except ValidationError as error:
        text, ok = " ".join(error.messages), False
    else:
        text, ok = (
            _("%(creator)s: %(status)s.")
            % {
                "creator": enrolment.creator.display_name,
                "status": Enrolment.Status(ENROLMENT_ACTIONS[action]).label,
            },
            True,
        )
    if is_partial(request):
        # The grid re-fetches itself on the event; the notice says what happened.
        response = render(
            request,
            "programs/staff/cohort_detail.html#notice",
            {"notice": text, "ok": ok},
            status=200 if ok else REFUSED,
        )
        return announce(response, Event.COHORT_CHANGED) if ok else response
    (messages.success if ok else messages.error)(request, text)
    return redirect("programs:cohort-detail", pk=enrolment.cohort_id)


@require_POST
@staff_required(perm="programs.change_enrolment")
@vary_on_htmx
def enrolment_invitation_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """A fresh portal invitation for a creator offered a place who has not set a password
    yet (the last link expired or went astray); the earlier link stops working."""
    enrolment = get_object_or_404(Enrolment.objects.select_related("creator__user"), pk=pk)
    user = enrolment.creator.user
    if enrolment.status != Enrolment.Status.INVITED or user is None or user.has_usable_password():
        text, ok = _("This creator has no invitation waiting to be sent again."), False
    else:
        try:
            creator_invitation_send(creator=enrolment.creator, email=user.email, actor=request.user)
        except ValidationError as error:
            text, ok = " ".join(error.messages), False
        else:
            text, ok = _("Invitation sent again to %(email)s.") % {"email": user.email}, True
    if is_partial(request):
        return render(
            request,
            "programs/staff/cohort_detail.html#notice",
            {"notice": text, "ok": ok},
            status=200 if ok else REFUSED,
        )
    (messages.success if ok else messages.error)(request, text)
    return redirect("programs:cohort-detail", pk=enrolment.cohort_id)


# --- Staff: milestone reviews ---------------------------------------------------------------


@require_GET
@staff_required(perm="programs.view_milestone")
def review_list(request: HttpRequest) -> HttpResponse:
    context = _paginate(request, selectors.review_queue())
    context.update(milestones=context["page_obj"].object_list, today=program_today())
    return render(request, "programs/staff/review_list.html", context)


@require_http_methods(["GET", "POST"])
@staff_required(perm="programs.view_milestone", post_perm="programs.change_milestone")
@vary_on_htmx
def milestone_review(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = get_object_or_404(Milestone.objects.with_people(), pk=pk)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == ReviewForm.APPROVE:
                milestone = services.milestone_approve(
                    milestone=milestone, actor=request.user, feedback=data["feedback"]
                )
                text = _("“%(title)s” is approved.") % {"title": milestone.title}
            else:
                milestone = services.milestone_request_changes(
                    milestone=milestone, actor=request.user, feedback=data["feedback"]
                )
                text = _("Changes requested on “%(title)s”; the creator is emailed.") % {
                    "title": milestone.title
                }
        except ValidationError as error:
            form_refusal(form, error)
        else:
            if not is_partial(request):
                messages.success(request, text)
                return redirect("programs:milestone-review", pk=milestone.pk)
            milestone = Milestone.objects.with_people().get(pk=milestone.pk)
            form = ReviewForm()
            context = {"milestone": milestone, "form": form, "notice": text}
            return render(request, "programs/staff/milestone_review.html#review", context)
    context = {
        "milestone": milestone,
        "form": form,
        "updates": selectors.milestone_updates(milestone),
        "impact": selectors.milestone_impact(milestone),
        "today": program_today(),
    }
    if is_partial(request) and request.method == "POST":
        return render(
            request, "programs/staff/milestone_review.html#review", context, status=REFUSED
        )
    status = REFUSED if request.method == "POST" else 200
    return render(request, "programs/staff/milestone_review.html", context, status=status)


# --- Staff: applications --------------------------------------------------------------------


@require_GET
@staff_required(perm="programs.view_application")
def application_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", Application.Status.PENDING)
    if status not in Application.Status.values:
        status = Application.Status.PENDING
    applications = (
        Application.objects.filter(status=status)
        .select_related("cohort")
        .order_by("-created_at", "-pk")
    )
    context = _paginate(request, applications)
    context.update(
        applications=context["page_obj"].object_list,
        status=status,
        statuses=Application.Status.choices,
    )
    return render(request, "programs/staff/application_list.html", context)


@require_http_methods(["GET", "POST"])
@staff_required(perm="programs.view_application", post_perm="programs.change_application")
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(Application.objects.select_related("cohort", "creator"), pk=pk)
    accept_form = AcceptForm(initial={"cohort": application.cohort_id})
    decline_form = DeclineForm()
    status = 200
    if request.method == "POST":
        decision = request.POST.get("decision")
        try:
            if decision == "accept":
                accept_form = AcceptForm(request.POST)
                if accept_form.is_valid():
                    services.application_accept(
                        application=application,
                        cohort=accept_form.cleaned_data["cohort"],
                        actor=request.user,
                    )
                    messages.success(
                        request,
                        _("%(name)s is accepted and invited to the portal.")
                        % {"name": application.display_name},
                    )
                    return redirect("programs:application-detail", pk=application.pk)
            elif decision == "decline":
                decline_form = DeclineForm(request.POST)
                if decline_form.is_valid():
                    services.application_decline(
                        application=application,
                        message=decline_form.cleaned_data["message"],
                        actor=request.user,
                    )
                    messages.success(
                        request, _("The application is declined; the applicant is emailed.")
                    )
                    return redirect("programs:application-detail", pk=application.pk)
        except ValidationError as error:
            form_refusal(accept_form if decision == "accept" else decline_form, error)
        status = REFUSED
    return render(
        request,
        "programs/staff/application_detail.html",
        {"application": application, "accept_form": accept_form, "decline_form": decline_form},
        status=status,
    )
