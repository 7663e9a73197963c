"""Staff pages for cohorts, enrolments, milestone reviews and applications, mounted under
/staff/. Function views: validate with a form, call a service or selector, render or
redirect. htmx requests get the page's partial (a refusal too, answered 422); every form also
posts without JavaScript."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from changemakers.core.confirm import CONFIRM_AUTO_ID, Confirmation, confirm_response
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
from changemakers.core.search import Picker
from creators.services import creator_invitation_send

from .. import selectors, services
from ..clock import program_today
from ..forms import (
    ENROLMENT_ACTIONS,
    AcceptForm,
    CohortForm,
    DeclineForm,
    HighlightDecisionForm,
    InviteExistingForm,
    InviteNewForm,
    ReasonForm,
    ReviewForm,
    plan_formset,
    plan_from,
)
from ..models import Application, Cohort, Enrolment, Milestone, ProgressUpdate

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


def _invite_picker(request, cohort: Cohort, form: InviteExistingForm | None) -> Picker:
    return selectors.creator_picker(
        selectors.creators_for_picker(cohort=cohort),
        cohort=cohort,
        # Without JavaScript the picker's search reloads the page with ?creator_q=...
        query=request.GET.get(selectors.CREATOR_SEARCH, ""),
        picked=form.data.get("creator", "") if form is not None and form.is_bound else "",
        id="invite-creator",
        search_url=reverse("programs:cohort-creator-search", kwargs={"pk": cohort.pk}),
        search_form="invite-search-form",
        errors=form.errors.get("creator", []) if form is not None else [],
    )


@require_GET
@staff_required(perm="programs.add_enrolment")
def cohort_creator_search(request: HttpRequest, pk: int) -> HttpResponse:
    """The invitation form's picker as staff type (htmx): a few creators matching what is
    typed, marked with the cohort they are active in."""
    cohort = get_object_or_404(Cohort, pk=pk)
    picker = selectors.creator_picker(
        selectors.creators_for_picker(cohort=cohort),
        cohort=cohort,
        query=request.GET.get(selectors.CREATOR_SEARCH, ""),
        picked=request.GET.get("creator", ""),
        id="invite-creator",
        search_url=request.path,
        search_form="invite-search-form",
    )
    return render(request, "components/picker_results.html", {"picker": picker, "oob": True})


def _cohort_detail_context(request, cohort: Cohort, **forms) -> dict:
    today = program_today()
    invite_form = forms.get("invite_form")
    return {
        "cohort": cohort,
        "today": today,
        "progress": selectors.cohort_progress(cohort, today=today),
        "seats_taken": cohort.enrolments.holding_a_seat().count(),
        "invite_form": invite_form or InviteExistingForm(cohort=cohort),
        "creator_picker": _invite_picker(request, cohort, invite_form),
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


@require_http_methods(["GET", "POST"])
@staff_required(perm="programs.change_cohort")
@vary_on_htmx
def cohort_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """POST: start or complete the cohort. GET of "complete": its confirmation (completing
    cannot be undone)."""
    cohort = get_object_or_404(Cohort, pk=pk)
    transitions = {"start": services.cohort_start, "complete": services.cohort_complete}
    if action not in transitions:
        raise Http404
    if request.method == "GET":
        if action != "complete":
            return HttpResponseNotAllowed(["POST"])
        return confirm_response(request, _complete_confirmation(cohort))
    try:
        transitions[action](cohort=cohort, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The cohort's status is updated."))
    return redirect("programs:cohort-detail", pk=cohort.pk)


def _complete_confirmation(cohort: Cohort) -> Confirmation:
    """What `cohort_complete` will do, counted."""
    counts = cohort.enrolments.aggregate(
        active=Count("pk", filter=Q(status=Enrolment.Status.ACTIVE)),
        invited=Count("pk", filter=Q(status=Enrolment.Status.INVITED)),
    )
    consequences = [
        ngettext(
            "Its %(count)s active creator's place is completed: they are no longer reminded "
            "of milestones.",
            "Its %(count)s active creators' places are completed: they are no longer reminded "
            "of milestones.",
            counts["active"],
        )
        % {"count": counts["active"]}
    ]
    if counts["invited"]:
        consequences.append(
            ngettext(
                "%(count)s place offered and never taken up is withdrawn.",
                "%(count)s places offered and never taken up are withdrawn.",
                counts["invited"],
            )
            % {"count": counts["invited"]}
        )
    consequences.append(
        _("The cohort takes no more invitations. Completing a cohort cannot be undone.")
    )
    back = reverse("programs:cohort-detail", args=[cohort.pk])
    return Confirmation(
        title=_("Complete %(cohort)s?") % {"cohort": cohort.name},
        consequences=consequences,
        action=reverse("programs:cohort-transition", args=[cohort.pk, "complete"]),
        submit=_("Complete the cohort"),
        back=back,
    )


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


@require_http_methods(["GET", "POST"])
@staff_required(perm="programs.change_enrolment")
@vary_on_htmx
def enrolment_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """POST: activate, complete or withdraw a place. GET of "withdraw": its confirmation
    (a withdrawal cannot be undone)."""
    enrolment = get_object_or_404(Enrolment.objects.select_related("creator", "cohort"), pk=pk)
    if action not in ENROLMENT_ACTIONS:
        raise Http404
    if request.method == "GET":
        if action != "withdraw":
            return HttpResponseNotAllowed(["POST"])
        return confirm_response(request, _withdraw_confirmation(enrolment))
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


def _withdraw_confirmation(enrolment: Enrolment) -> Confirmation:
    """What `enrolment_withdraw` does, in words: the place ends, nothing else changes."""
    names = {"creator": enrolment.creator.display_name, "cohort": enrolment.cohort.name}
    return Confirmation(
        title=_("Withdraw %(creator)s from %(cohort)s?") % names,
        consequences=[
            _(
                "Their place in %(cohort)s ends and its seat is freed: they are no longer "
                "reminded of their milestones, which stay on record as they are."
            )
            % names,
            _(
                "Their donation is not touched: cancel it on the grants page if it should not "
                "be paid."
            ),
            _("A withdrawal cannot be undone."),
        ],
        action=reverse("programs:enrolment-transition", args=[enrolment.pk, "withdraw"]),
        submit=_("Withdraw %(creator)s") % names,
        back=reverse("programs:cohort-detail", args=[enrolment.cohort_id]),
        form=ReasonForm(auto_id=CONFIRM_AUTO_ID),
        # With htmx the answer is the notice above the grid, which re-fetches itself.
        hx_target="#notice",
    )


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
    """A milestone as its reviewer reads it: the creator's update first, then what the
    milestone asks for, then the decision. A decision takes the reviewer on to the next
    milestone in the queue (oldest first), or back to the queue once it is empty."""
    milestone = get_object_or_404(Milestone.objects.with_people(), pk=pk)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == ReviewForm.APPROVE:
                milestone = services.milestone_approve(
                    milestone=milestone, actor=request.user, feedback=data["feedback"]
                )
                text = _("You approved “%(title)s” of %(creator)s.")
            else:
                milestone = services.milestone_request_changes(
                    milestone=milestone, actor=request.user, feedback=data["feedback"]
                )
                text = _(
                    "You requested changes on “%(title)s” of %(creator)s; they are emailed "
                    "your feedback."
                )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            return _review_next(request, text % _review_names(milestone))
    updates = list(selectors.milestone_updates(milestone))
    if request.user.has_perm("programs.review_highlight"):
        for update in updates:
            update.highlight_form = HighlightDecisionForm(update=update)
    context = {
        "milestone": milestone,
        "form": form,
        "updates": updates,
        "impact": selectors.milestone_impact(milestone),
        "decision": None
        if milestone.status == Milestone.Status.SUBMITTED
        else selectors.milestone_decision(milestone),
        "today": program_today(),
    }
    if is_partial(request) and request.method == "POST":
        return render(
            request, "programs/staff/milestone_review.html#review", context, status=REFUSED
        )
    status = REFUSED if request.method == "POST" else 200
    return render(request, "programs/staff/milestone_review.html", context, status=status)


def _review_names(milestone: Milestone) -> dict[str, str]:
    return {
        "title": milestone.title,
        "creator": milestone.enrolment.creator.display_name,
    }


def _review_next(request: HttpRequest, done: str) -> HttpResponse:
    """After a decision: on to the oldest milestone still waiting, with what was decided, or
    back to the queue, all caught up."""
    following = selectors.review_next(reviewer=request.user)
    if following is None:
        then = _("All caught up: nothing else waits for review.")
        url = reverse("programs:review-list")
    else:
        then = _("Here is the next milestone waiting for review.")
        url = following.get_review_url()
    messages.success(request, f"{done} {then}")
    if is_partial(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_POST
@staff_required(perm=("programs.view_milestone", "programs.review_highlight"))
def update_highlight_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff approve (with an optional public summary per language) or decline an update the
    creator asked to show on their public page; separate from the milestone's review."""
    update = get_object_or_404(ProgressUpdate, pk=pk)
    form = HighlightDecisionForm(request.POST, update=update)
    if form.is_valid():
        try:
            if form.cleaned_data["decision"] == HighlightDecisionForm.APPROVE:
                services.highlight_approve(
                    update=update, actor=request.user, summaries=form.summaries()
                )
                messages.success(request, _("The update is approved as a public highlight."))
            else:
                services.highlight_decline(update=update, actor=request.user)
                messages.success(request, _("The update is declined as a public highlight."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, _("The decision could not be read; please try again."))
    return redirect("programs:milestone-review", pk=update.milestone_id)


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
