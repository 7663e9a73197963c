"""Staff pages for cohorts, milestone reviews and applications; the creator's portal; the
public application form. Function views: validate with a form, call a service or selector,
render or redirect. htmx requests get the page's partial; every form also posts without JS."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from changemakers.core.htmx import form_refusal
from changemakers.core.pagination import page_context
from changemakers.core.ratelimit import client_address, rate_count, rate_exceeded
from changemakers.core.roles import Role, creator_required, role_of, staff_required
from changemakers.core.uploads import upload_response
from creators.models import creator_of
from creators.services import creator_invitation_send

from . import selectors, services
from .forms import (
    ENROLMENT_ACTIONS,
    AcceptForm,
    ApplicationForm,
    CohortForm,
    DeclineForm,
    InviteExistingForm,
    InviteNewForm,
    ProgressUpdateForm,
    ReasonForm,
    ReviewForm,
    plan_formset,
    plan_from,
)
from .models import Application, Cohort, Enrolment, Milestone, ProgressUpdate

# Staff lists show this many rows a page (components/pagination.html links the rest).
STAFF_PAGE_SIZE = 50

# The public application form takes at most APPLY_RATE_LIMIT applications per client address
# (client_address) in a window of APPLY_RATE_WINDOW seconds, counted in Django's cache; past it
# the form answers 429. A fixed window that starts with the address's first application.
APPLY_RATE_LIMIT = 5
APPLY_RATE_WINDOW = 60 * 60


def _vary_on_htmx(response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, ("HX-Request",))
    return response


def _paginate(request: HttpRequest, rows) -> dict:
    return page_context(request, rows, STAFF_PAGE_SIZE)


# --- Staff: cohorts -------------------------------------------------------------------------


@staff_required
@require_GET
def cohort_list(request: HttpRequest) -> HttpResponse:
    context = _paginate(request, selectors.cohorts_with_counts())
    context["cohorts"] = context["page_obj"].object_list
    return render(request, "programs/staff/cohort_list.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
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
    return render(request, "programs/staff/cohort_form.html", {"form": form, "formset": formset})


def _cohort_detail_context(request, cohort: Cohort, **forms) -> dict:
    today = services.program_today()
    return {
        "cohort": cohort,
        "today": today,
        "progress": selectors.cohort_progress(cohort, today=today),
        "seats_taken": cohort.enrolments.holding_a_seat().count(),
        "invite_form": forms.get("invite_form") or InviteExistingForm(cohort=cohort),
        "invite_new_form": forms.get("invite_new_form") or InviteNewForm(),
        "enrolment_actions": ENROLMENT_ACTIONS,
    }


@staff_required
@require_GET
def cohort_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort, pk=pk)
    context = _cohort_detail_context(request, cohort)
    partial = request.htmx and not request.htmx.history_restore_request
    template = "programs/staff/cohort_detail.html" + ("#progress" if partial else "")
    return _vary_on_htmx(render(request, template, context))


@staff_required
@require_POST
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


@staff_required
@require_POST
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


@staff_required
@require_POST
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
    if request.htmx:
        context = _cohort_detail_context(request, cohort)
        context["invite_notice"] = text
        response = render(request, "programs/staff/cohort_detail.html#invite-forms", context)
        return trigger_client_event(response, "cohortChanged")
    messages.success(request, text)
    return redirect("programs:cohort-detail", pk=cohort.pk)


def _invite_failed(request, cohort: Cohort, **forms) -> HttpResponse:
    context = _cohort_detail_context(request, cohort, **forms)
    if request.htmx:
        return render(
            request, "programs/staff/cohort_detail.html#invite-forms", context, status=422
        )
    return render(request, "programs/staff/cohort_detail.html", context, status=422)


@staff_required
@require_POST
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
    if request.htmx:
        # The grid re-fetches itself on the event; the notice says what happened.
        response = render(
            request,
            "programs/staff/cohort_detail.html#notice",
            {"notice": text, "ok": ok},
            status=200 if ok else 422,
        )
        return trigger_client_event(response, "cohortChanged") if ok else response
    (messages.success if ok else messages.error)(request, text)
    return redirect("programs:cohort-detail", pk=enrolment.cohort_id)


@staff_required
@require_POST
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
    if request.htmx:
        return render(
            request,
            "programs/staff/cohort_detail.html#notice",
            {"notice": text, "ok": ok},
            status=200 if ok else 422,
        )
    (messages.success if ok else messages.error)(request, text)
    return redirect("programs:cohort-detail", pk=enrolment.cohort_id)


# --- Staff: milestone reviews ---------------------------------------------------------------


@staff_required
@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    context = _paginate(request, selectors.review_queue())
    context.update(milestones=context["page_obj"].object_list, today=services.program_today())
    return render(request, "programs/staff/review_list.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
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
            if not request.htmx:
                messages.success(request, text)
                return redirect("programs:milestone-review", pk=milestone.pk)
            milestone = Milestone.objects.with_people().get(pk=milestone.pk)
            form = ReviewForm()
            context = {"milestone": milestone, "form": form, "notice": text}
            response = render(request, "programs/staff/milestone_review.html#review", context)
            return trigger_client_event(response, "milestoneReviewed")
    context = {
        "milestone": milestone,
        "form": form,
        "updates": selectors.milestone_updates(milestone),
        "today": services.program_today(),
    }
    if request.htmx and request.method == "POST":
        return render(request, "programs/staff/milestone_review.html#review", context, status=422)
    status = 422 if request.method == "POST" else 200
    return render(request, "programs/staff/milestone_review.html", context, status=status)


# --- Staff: applications --------------------------------------------------------------------


@staff_required
@require_GET
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


@staff_required
@require_http_methods(["GET", "POST"])
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
        status = 422
    return render(
        request,
        "programs/staff/application_detail.html",
        {"application": application, "accept_form": accept_form, "decline_form": decline_form},
        status=status,
    )


# --- The public application form ------------------------------------------------------------


def _apply_rate_key(request: HttpRequest) -> str:
    return f"programs:apply:{client_address(request)}"


def _apply_rate_count(request: HttpRequest) -> None:
    rate_count(_apply_rate_key(request), window=APPLY_RATE_WINDOW)


@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    form = ApplicationForm(request.POST or None, initial={"language": request.LANGUAGE_CODE})
    if request.method == "POST":
        if rate_exceeded(_apply_rate_key(request), limit=APPLY_RATE_LIMIT):
            form.add_error(
                None,
                _(
                    "We have received several applications from your connection in the last "
                    "hour. Please try again in an hour, or write to us if you need help."
                ),
            )
            response = render(request, "programs/apply.html", {"form": form}, status=429)
            response["Retry-After"] = str(APPLY_RATE_WINDOW)
            return response
        if form.is_bot():
            # Looks accepted, so the bot learns nothing; nothing is stored.
            _apply_rate_count(request)
            return redirect("programs:apply-done")
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != form.HONEYPOT}
            try:
                services.application_submit(**data)
            except ValidationError as error:
                form_refusal(form, error)
            else:
                _apply_rate_count(request)
                return redirect("programs:apply-done")
    status = 422 if request.method == "POST" else 200
    return render(request, "programs/apply.html", {"form": form}, status=status)


@require_GET
def apply_done(request: HttpRequest) -> HttpResponse:
    return render(request, "programs/apply_done.html")


# --- The creator's portal -------------------------------------------------------------------


@creator_required
@require_GET
def portal(request: HttpRequest) -> HttpResponse:
    creator = creator_of(request.user)
    enrolments = selectors.portal_enrolments(creator)
    current = enrolments[0] if enrolments else None
    context = {
        "creator": creator,
        "enrolments": enrolments,
        "current": current,
        "today": services.program_today(),
        "donation": selectors.portal_donation(creator),
    }
    return render(request, "programs/portal/home.html", context)


@creator_required
@require_POST
def portal_enrolment_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """The creator takes up the place they were offered; the plan's milestones appear."""
    enrolment = get_object_or_404(
        Enrolment.objects.for_creator(creator_of(request.user)).select_related("cohort"), pk=pk
    )
    try:
        services.enrolment_activate(enrolment=enrolment, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Welcome to %(cohort)s! Your milestones are below.") % {"cohort": enrolment.cohort},
        )
    return redirect("programs:portal")


@creator_required
@require_http_methods(["GET", "POST"])
def portal_milestone(request: HttpRequest, pk: int) -> HttpResponse:
    """One of the creator's own milestones: its feedback, their updates, and the form to send
    one. Anyone else's milestone is a 404: its existence is not revealed."""
    creator = creator_of(request.user)
    milestone = get_object_or_404(
        Milestone.objects.for_creator(creator).select_related("enrolment__cohort"), pk=pk
    )
    form = ProgressUpdateForm(request.POST or None, request.FILES or None)
    notice = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.progress_update_submit(
                milestone=milestone,
                author=request.user,
                body=data["body"],
                link=data["link"],
                attachment=data["attachment"],
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            notice = _("Your update is sent. The program team will review it.")
            if not request.htmx:
                messages.success(request, notice)
                return redirect("programs:portal-milestone", pk=milestone.pk)
            milestone.refresh_from_db()
            form = ProgressUpdateForm()
    context = {
        "milestone": milestone,
        "form": form,
        "updates": selectors.milestone_updates(milestone),
        "today": services.program_today(),
        "notice": notice,
    }
    invalid = request.method == "POST" and not notice
    if request.htmx and request.method == "POST":
        response = render(
            request,
            "programs/portal/milestone.html#milestone-body",
            context,
            status=422 if invalid else 200,
        )
        return response if invalid else trigger_client_event(response, "milestoneChanged")
    return render(
        request, "programs/portal/milestone.html", context, status=422 if invalid else 200
    )


@login_required
@require_GET
def update_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """A progress update's attachment, for staff and the creator who sent it; a 404 for
    everyone else. Always a download, never rendered by the browser as a page of ours."""
    updates = ProgressUpdate.objects.select_related("milestone__enrolment__creator")
    if role_of(request.user) != Role.STAFF:
        creator = creator_of(request.user)
        if creator is None:
            raise Http404
        updates = updates.filter(milestone__enrolment__creator=creator)
    update = get_object_or_404(updates, pk=pk)
    if not update.attachment:
        raise Http404
    return upload_response(
        update.attachment, download_name=f"update-{update.pk}", as_attachment=True
    )
