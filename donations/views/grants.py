"""The grant pipeline for staff: the list with its status tabs and fund budgets, a grant's
page, proposing a grant, and the row actions (approve, schedule, cancel, retry, re-confirm a
held grant's payee).

With htmx a row action answers with the re-rendered row (its refusal shown inside it, with a
422) and, when it went through, a `grantsChanged` event that makes the counts and budgets
re-fetch themselves; without JavaScript the same POST redirects back with a message.
"""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from changemakers.core import page_cache
from changemakers.core.confirm import CONFIRM_AUTO_ID, Confirmation, confirm_response
from changemakers.core.htmx import (
    REFUSED,
    Event,
    announce,
    form_refusal,
    partial_target,
    vary_on_htmx,
)
from changemakers.core.redirects import safe_next_path
from changemakers.core.roles import staff_required
from changemakers.core.whole_page import country_code, one_of, page_number, personal_page, row_id

from .. import selectors, services
from ..forms import GrantFilterForm, GrantProposeForm, OutcomeRecordForm, ReasonForm
from ..models import Grant, mask_reference
from ..models.money import money_format as money
from .pickers import SEARCH_FORM, grant_form_pickers
from .rows import is_id, paginate, redirect_with_messages, run_action

GRANTS = "donations/staff/grants.html"
GRANT_DETAIL = "donations/staff/grant_detail.html"
SCHEDULE_REVIEW = "donations/staff/schedule_review.html"


# The pipeline's filters a page is kept for; a search (`q`) is computed afresh.
PIPELINE_FILTERS = {
    "status": one_of(*Grant.Status.values, selectors.HELD),
    "fund": row_id,
    "cohort": row_id,
    "country": country_code,
    "page": page_number,
    "select": one_of("all"),
}


@require_GET
@staff_required(perm="donations.view_grant")
@vary_on_htmx
@personal_page(params=PIPELINE_FILTERS)
def grant_list(request: HttpRequest) -> HttpResponse:
    target = partial_target(request)
    funds = selectors.fund_choices()
    if target == "budget":
        return render(request, f"{GRANTS}#budget", {"funds": funds})
    cohorts, countries = selectors.grant_filter_choices()
    form = GrantFilterForm(
        request.GET or None,
        fund_choices=[(fund.pk, fund.name) for fund in funds],
        cohort_choices=cohorts,
        country_choices=countries,
    )
    filters = form.filters()
    context = {
        "form": form,
        "funds": funds,
        "current_status": filters["status"],
        "filtered": any(filters.values()),
        # The folded filters name how many narrow the list ("Filters (2 active)") and open
        # when one does, other than the status the tabs already show.
        "active_filters": sum(1 for value in filters.values() if value),
        "filters_open": any(value for name, value in filters.items() if name != "status"),
        "counts": page_cache.cached(
            "grant-status-counts",
            lambda: selectors.grant_status_counts(
                selectors.grants_filtered(**{**filters, "status": ""})
            ),
            sorted((name, value) for name, value in filters.items() if name != "status"),
        ),
        "next": request.get_full_path(),
        # Every approved grant of the page ticked: "select all" without JavaScript.
        "select_all": request.GET.get("select") == "all",
    }
    if target == "status-tabs":
        return render(request, f"{GRANTS}#tabs", context)
    # The tab of the status shown has counted these grants already; not the held tab, whose
    # count leaves out the held grants of unknown outcome that its list shows.
    shown = next(count.count for count in context["counts"] if count.code == filters["status"])
    held = filters["status"] == selectors.HELD
    rows = selectors.grants_for_pipeline(**filters)
    context.update(paginate(request, rows, count=None if held else shown))
    template = GRANTS if target is None else f"{GRANTS}#pipeline"
    return render(request, template, context)


@require_GET
@staff_required(perm="donations.view_grant")
def grant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    grant = _grant_or_404(pk)
    return render(request, GRANT_DETAIL, _grant_detail_context(request, grant))


def _grant_or_404(pk: int) -> Grant:
    try:
        return selectors.grant_for_staff(pk)
    except Grant.DoesNotExist:
        raise Http404 from None


def _grant_detail_context(request: HttpRequest, grant: Grant, **extra) -> dict:
    disbursement = selectors.grant_disbursement(grant)
    refused = disbursement is not None and disbursement.refused_final
    return {
        "grant": grant,
        "disbursement": disbursement,
        # A payment refused for good: what can fix it leads (new payout details), not a retry.
        "refused_final": refused,
        "asks": selectors.payout_details_asks(grant) if refused else [],
        "pending_change": grant.nonprofit.payout_changes.pending().first() if refused else None,
        "history": selectors.grant_history(grant),
        "payee_masked": mask_reference(grant.payee_reference),
        "next": reverse("donations:grant-detail", args=[grant.pk]),
        **extra,
    }


def _grant_action(
    request: HttpRequest,
    pk: int,
    act: Callable[[Grant], object],
    done: str | Callable[[Grant], str],
    form: forms.Form | None = None,
) -> HttpResponse:
    """Run one row action on a grant and answer it: the re-rendered row (or detail panel) for
    htmx, a redirect with a message otherwise. `done` is the success message, with
    %(nonprofit)s, or picks it from the grant as the action left it."""
    grant = get_object_or_404(Grant.objects.select_related("nonprofit"), pk=pk)
    back = safe_next_path(request, default=reverse("donations:grant-list"))
    errors = run_action(grant, act, form)
    fresh = selectors.grant_for_staff(pk)
    message = (done(fresh) if callable(done) else done) % {"nonprofit": grant.nonprofit}
    target = partial_target(request)
    if target is None:
        return redirect_with_messages(request, back, errors, message)

    context = {"row_errors": errors, "action_message": "" if errors else message}
    status = REFUSED if errors else 200
    if target == "grant-detail":
        response = render(
            request,
            f"{GRANT_DETAIL}#detail_response",
            _grant_detail_context(request, fresh, **context),
            status=status,
        )
    else:
        response = render(
            request,
            f"{GRANTS}#row_response",
            {"grant": fresh, "next": back, **context},
            status=status,
        )
    return response if errors else announce(response, Event.GRANTS_CHANGED)


@require_POST
@staff_required(perm="donations.approve_grant")
@vary_on_htmx
def grant_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _grant_action(
        request,
        pk,
        lambda grant: services.grant_approve(grant=grant, actor=request.user),
        _approve_done,
    )


def _approve_done(grant: Grant) -> str:
    if grant.status == Grant.Status.PROPOSED:  # the first of two approvals
        return _(
            "Your approval of the grant to %(nonprofit)s is recorded; it awaits a second "
            "approval by someone else."
        )
    return _("The grant to %(nonprofit)s is approved.")


@require_http_methods(["GET", "POST"])
@staff_required(perm="donations.cancel_grant")
@vary_on_htmx
def grant_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation (what cancelling this grant does, and why); POST: cancel it."""
    if request.method == "GET":
        grant = get_object_or_404(Grant.objects.select_related("nonprofit", "fund"), pk=pk)
        return confirm_response(request, _cancel_confirmation(request, grant))
    form = ReasonForm(request.POST)
    return _grant_action(
        request,
        pk,
        lambda grant: services.grant_cancel(
            grant=grant, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        _("The grant to %(nonprofit)s is cancelled."),
        form=form,
    )


def _cancel_confirmation(request: HttpRequest, grant: Grant) -> Confirmation:
    amount = money(grant.amount, grant.currency)
    names = {"amount": amount, "nonprofit": grant.nonprofit.legal_name, "fund": grant.fund.name}
    consequences = []
    if grant.status in (Grant.Status.APPROVED, Grant.Status.SCHEDULED):
        consequences.append(
            _("Its %(amount)s is no longer committed: it goes back to %(fund)s.") % names
        )
    if grant.status == Grant.Status.SCHEDULED:
        consequences.append(_("Its payment is called off before it is sent."))
    if grant.status == Grant.Status.PROPOSED:
        consequences.append(_("It commits no money yet; nothing is paid."))
    consequences.append(_("A cancelled grant stays cancelled: to give again, propose a new grant."))
    back = safe_next_path(request, default=reverse("donations:grant-detail", args=[grant.pk]))
    return Confirmation(
        title=_("Cancel the grant of %(amount)s to %(nonprofit)s?") % names,
        consequences=consequences,
        action=reverse("donations:grant-cancel", args=[grant.pk]),
        submit=_("Cancel the grant"),
        dismiss=_("Keep the grant"),
        back=back,
        form=ReasonForm(auto_id=CONFIRM_AUTO_ID),
        hidden={"next": back},
    )


@require_POST
@staff_required(perm="donations.schedule_grant")
@vary_on_htmx
def grant_retry(request: HttpRequest, pk: int) -> HttpResponse:
    return _grant_action(
        request,
        pk,
        lambda grant: services.grant_retry(grant=grant, actor=request.user),
        _("The payment of the grant to %(nonprofit)s is tried again."),
    )


@require_POST
@staff_required(perm="donations.schedule_grant")
@vary_on_htmx
def grant_payout_details_ask(request: HttpRequest, pk: int) -> HttpResponse:
    """Email the nonprofit's contacts a sign-in link that asks them to update the payout
    details the provider refused for good: for whoever may retry the payment."""
    return _grant_action(
        request,
        pk,
        lambda grant: services.payout_details_ask(grant=grant, actor=request.user),
        _(
            "The contacts of %(nonprofit)s are emailed a link to update their payout details. "
            "Once finance approves the new details, re-confirm the payee and retry the payment."
        ),
    )


@require_POST
@staff_required(perm="donations.approve_grant")
@vary_on_htmx
def grant_release_hold(request: HttpRequest, pk: int) -> HttpResponse:
    """A finance approver re-confirms a held grant's payee (its nonprofit's current payout
    details), which lets it be paid again."""
    return _grant_action(
        request,
        pk,
        lambda grant: services.grant_hold_release(grant=grant, actor=request.user),
        _("The payee of the grant to %(nonprofit)s is re-confirmed; the hold is released."),
    )


@require_POST
@staff_required(perm="donations.cancel_grant")
@vary_on_htmx
def grant_reversal_close(request: HttpRequest, pk: int) -> HttpResponse:
    """A finance approver closes a reversed payment: the reversed money goes back to the
    fund (a grant reversed in full is cancelled)."""
    form = ReasonForm(request.POST)
    return _grant_action(
        request,
        pk,
        lambda grant: services.grant_reversal_close(
            grant=grant, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        _("The reversal of the grant to %(nonprofit)s is closed; its money is back in the fund."),
        form=form,
    )


@require_POST
@staff_required(perm="donations.schedule_grant")
@vary_on_htmx
def grant_outcome_record(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the provider's answer about a payment whose outcome is unknown (or a failed one
    the provider's statement shows paid after all)."""
    form = OutcomeRecordForm(request.POST)
    return _grant_action(
        request,
        pk,
        lambda grant: services.disbursement_outcome_record(
            grant=grant,
            paid=form.cleaned_data["outcome"] == "paid",
            reference=form.cleaned_data["reference"],
            note=form.cleaned_data["note"],
            actor=request.user,
        ),
        _("The provider's answer about the grant to %(nonprofit)s is recorded."),
        form=form,
    )


def _ticked(data) -> list[int]:
    return sorted({int(value) for value in data.getlist("grants") if is_id(value)})


def _review(
    request: HttpRequest, ids: list[int], *, errors: list[str] | None = None, status: int = 200
) -> HttpResponse:
    back = safe_next_path(request, default=reverse("donations:grant-list"))
    review = selectors.schedule_review(ids)
    context = {"review": review, "back": back, "errors": errors or []}
    return render(request, SCHEDULE_REVIEW, context, status=status)


@require_GET
@staff_required(perm="donations.schedule_grant")
def grants_review(request: HttpRequest) -> HttpResponse:
    """Before any money moves: the ticked grants still approved, how many, how much per
    currency and fund, to whom (each pinned payee masked), and one button that pays exactly
    them (`grants_schedule` with the review's digest)."""
    return _review(request, _ticked(request.GET))


@require_POST
@staff_required(perm="donations.schedule_grant")
def grants_schedule(request: HttpRequest) -> HttpResponse:
    """Pay the reviewed grants as one batch, then show its progress. Only what was reviewed
    is paid: the digest of the review goes with the ids, and the service refuses when the
    grants changed since (the review is shown again, as they are now)."""
    ids = _ticked(request.POST)
    expected = request.POST.get("expected", "")
    if not ids or not expected:
        # Nothing is paid without its review: show it.
        return _review(request, ids)
    try:
        batch = services.grants_schedule(grants=ids, actor=request.user, expected=expected)
    except ValidationError as error:
        return _review(request, ids, errors=error.messages, status=REFUSED)
    messages.success(
        request,
        ngettext(
            "%(count)s grant scheduled for payment in %(batch)s.",
            "%(count)s grants scheduled for payment in %(batch)s.",
            batch.size,
        )
        % {"count": batch.size, "batch": batch},
    )
    return redirect("donations:batch-detail", pk=batch.pk)


@require_http_methods(["GET", "POST"])
@staff_required(perm="donations.add_grant")
def grant_create(request: HttpRequest) -> HttpResponse:
    """Propose a grant: from a fund, to a verified or pending nonprofit, optionally in a
    creator's name."""
    if request.method == "POST":
        form = GrantProposeForm(request.POST)
        if form.is_valid():
            try:
                grant = services.grant_propose(
                    fund=form.cleaned_data["fund"],
                    nonprofit=form.cleaned_data["nonprofit"],
                    amount=form.cleaned_data["amount"],
                    creator=form.cleaned_data["creator"],
                    purpose=form.cleaned_data["purpose"],
                    actor=request.user,
                )
            except ValidationError as error:
                form_refusal(form, error)
            else:
                messages.success(
                    request,
                    _("Grant proposed to %(nonprofit)s; approve it to commit the money.")
                    % {"nonprofit": grant.nonprofit},
                )
                return redirect("donations:grant-list")
        status = REFUSED
    else:
        initial = {}
        nonprofit = request.GET.get("nonprofit", "")
        if is_id(nonprofit):
            initial["nonprofit"] = int(nonprofit)
        form = GrantProposeForm(initial=initial)
        status = 200
    context = {"form": form, "search_form": SEARCH_FORM, **grant_form_pickers(request, form)}
    return render(request, "donations/staff/grant_form.html", context, status=status)
