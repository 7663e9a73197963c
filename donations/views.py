"""Staff pages for nonprofits, grants, their payment and the funds' budgets.

Each view validates, calls a service or selector, then renders or redirects. With htmx a row
action answers with the re-rendered row (its refusal shown inside it) and a `grantsChanged`
event that makes the counts and budgets re-fetch themselves; without JavaScript the same POST
redirects back with a message. Refusals are answered 200: htmx 2 swaps no 4xx by default.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import (
    HttpResponseClientRedirect,
    HttpResponseStopPolling,
    reswap,
    retarget,
    trigger_client_event,
)

from changemakers.core import page_cache
from changemakers.core.htmx import form_refusal
from changemakers.core.pagination import page_context
from changemakers.core.redirects import safe_next_path
from changemakers.core.roles import staff_required

from . import nonprofit_services, selectors, services
from .forms import (
    GrantFilterForm,
    GrantProposeForm,
    NonprofitCreateForm,
    NonprofitFilterForm,
    ReasonForm,
)
from .models import DisbursementBatch, Grant, Nonprofit, NonprofitContact, PayoutDetailsChange
from .nonprofit_forms import ContactCreateForm

PAGE_SIZE = 50
GRANTS_CHANGED = "grantsChanged"
NONPROFITS_CHANGED = "nonprofitsChanged"

GRANTS = "donations/staff/grants.html"
GRANT_DETAIL = "donations/staff/grant_detail.html"
NONPROFITS = "donations/staff/nonprofits.html"
BATCH_DETAIL = "donations/staff/batch_detail.html"


def _htmx_target(request: HttpRequest) -> str | None:
    """The id of the element htmx will swap, or None when a whole page is wanted (no htmx,
    or a history restore, which asks for the page even though it comes from htmx)."""
    if not request.htmx or request.htmx.history_restore_request:
        return None
    return request.htmx.target or ""


def _paginate(request: HttpRequest, queryset) -> dict:
    return page_context(request, queryset, PAGE_SIZE)


# --- The grant pipeline ------------------------------------------------------------------------


@require_GET
@staff_required
def grant_list(request: HttpRequest) -> HttpResponse:
    target = _htmx_target(request)
    funds = selectors.fund_choices()
    if target == "budget":
        return render(request, f"{GRANTS}#budget", {"funds": funds})
    form = GrantFilterForm(
        request.GET or None,
        fund_choices=[(fund.pk, fund.name) for fund in funds],
        cohort_choices=selectors.cohort_choices(),
        country_choices=selectors.nonprofit_country_choices(),
    )
    filters = form.filters()
    context = {
        "form": form,
        "funds": funds,
        "current_status": filters["status"],
        "filtered": any(filters.values()),
        "counts": page_cache.cached(
            "grant-status-counts",
            lambda: selectors.grant_status_counts(
                selectors.grants_filtered(**{**filters, "status": ""})
            ),
            sorted((name, value) for name, value in filters.items() if name != "status"),
        ),
        "next": request.get_full_path(),
    }
    if target == "status-tabs":
        return render(request, f"{GRANTS}#tabs", context)
    context.update(_paginate(request, selectors.grants_filtered(**filters)))
    template = GRANTS if target is None else f"{GRANTS}#pipeline"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@require_GET
@staff_required
def grant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    grant = _grant_or_404(pk)
    return render(request, GRANT_DETAIL, _grant_detail_context(request, grant))


def _grant_or_404(pk: int) -> Grant:
    try:
        return selectors.grant_for_staff(pk)
    except Grant.DoesNotExist:
        raise Http404 from None


def _grant_detail_context(request: HttpRequest, grant: Grant, **extra) -> dict:
    return {
        "grant": grant,
        "disbursement": selectors.grant_disbursement(grant),
        "history": selectors.grant_history(grant),
        "next": reverse("donations:grant-detail", args=[grant.pk]),
        **extra,
    }


def _run_action[M](obj: M, act: Callable[[M], object], form: ReasonForm | None) -> list[str]:
    """Call the service behind a row action; what refused it (the form, the service) as a
    list of readable messages, empty when it went through."""
    if form is not None and not form.is_valid():
        return [message for messages_ in form.errors.values() for message in messages_]
    try:
        act(obj)
    except ValidationError as error:
        return error.messages
    return []


def _redirect_with_messages(
    request: HttpRequest, next_url: str, errors: list[str], done: str
) -> HttpResponse:
    """The answer to a row action without JavaScript: back where it came from, with what
    happened as messages."""
    for error in errors:
        messages.error(request, error)
    if not errors:
        messages.success(request, done)
    return redirect(next_url)


def _grant_action(
    request: HttpRequest,
    pk: int,
    act: Callable[[Grant], object],
    done: str,
    form: ReasonForm | None = None,
) -> HttpResponse:
    """Run one row action on a grant and answer it: the re-rendered row (or detail panel) for
    htmx, a redirect with a message otherwise. `done` is the success message, with
    %(nonprofit)s."""
    grant = get_object_or_404(Grant.objects.select_related("nonprofit"), pk=pk)
    next_url = safe_next_path(request, default=reverse("donations:grant-list"))
    errors = _run_action(grant, act, form)
    message = done % {"nonprofit": grant.nonprofit}
    if _htmx_target(request) is None:
        return _redirect_with_messages(request, next_url, errors, message)

    fresh = selectors.grant_for_staff(pk)
    context = {"row_errors": errors, "action_message": "" if errors else message}
    if request.htmx.target == "grant-detail":
        response = render(
            request,
            f"{GRANT_DETAIL}#detail_response",
            _grant_detail_context(request, fresh, **context),
        )
    else:
        response = render(
            request, f"{GRANTS}#row_response", {"grant": fresh, "next": next_url, **context}
        )
    if not errors:
        trigger_client_event(response, GRANTS_CHANGED)
    return response


@require_POST
@staff_required
def grant_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _grant_action(
        request,
        pk,
        lambda grant: services.grant_approve(grant=grant, actor=request.user),
        _("The grant to %(nonprofit)s is approved."),
    )


@require_POST
@staff_required
def grant_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    return _grant_action(
        request,
        pk,
        lambda grant: services.grant_schedule(grant=grant, actor=request.user),
        _("The grant to %(nonprofit)s is scheduled for payment."),
    )


@require_POST
@staff_required
def grant_cancel(request: HttpRequest, pk: int) -> HttpResponse:
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


@require_POST
@staff_required
def grant_retry(request: HttpRequest, pk: int) -> HttpResponse:
    return _grant_action(
        request,
        pk,
        lambda grant: services.grant_retry(grant=grant, actor=request.user),
        _("The payment of the grant to %(nonprofit)s is tried again."),
    )


@require_POST
@staff_required
def grants_schedule(request: HttpRequest) -> HttpResponse:
    """Schedule the ticked approved grants as one batch, then show its progress."""
    ids = [int(value) for value in request.POST.getlist("grants") if _is_id(value)]
    try:
        if not ids:
            raise ValidationError(_("Tick at least one approved grant."), code="none_ticked")
        batch = services.grants_schedule(grants=ids, actor=request.user)
    except ValidationError as error:
        if _htmx_target(request) is not None:
            response = render(request, f"{GRANTS}#bulk_status", {"bulk_errors": error.messages})
            return reswap(retarget(response, "#bulk-status"), "outerHTML")
        for message in error.messages:
            messages.error(request, message)
        return redirect(safe_next_path(request, default=reverse("donations:grant-list")))
    messages.success(
        request,
        ngettext(
            "%(count)s grant scheduled for payment in %(batch)s.",
            "%(count)s grants scheduled for payment in %(batch)s.",
            batch.size,
        )
        % {"count": batch.size, "batch": batch},
    )
    url = reverse("donations:batch-detail", args=[batch.pk])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_http_methods(["GET", "POST"])
@staff_required
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
    else:
        initial = {}
        nonprofit = request.GET.get("nonprofit", "")
        if _is_id(nonprofit):
            initial["nonprofit"] = int(nonprofit)
        form = GrantProposeForm(initial=initial)
    return render(request, "donations/staff/grant_form.html", {"form": form})


# --- Batches -------------------------------------------------------------------------------------


@require_GET
@staff_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(DisbursementBatch.objects.select_related("created_by"), pk=pk)
    progress = selectors.batch_progress(batch)
    context = {"batch": batch, "progress": progress}
    if _htmx_target(request) == "batch-progress":
        fragment = render_to_string(f"{BATCH_DETAIL}#progress", context, request=request)
        # 286 tells htmx to stop polling; it still swaps in the final state.
        return HttpResponseStopPolling(fragment) if progress.done else HttpResponse(fragment)
    return render(request, BATCH_DETAIL, context)


@require_GET
@staff_required
def batch_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "donations/staff/batches.html",
        _paginate(request, selectors.batches_with_counts()),
    )


# --- Funds ---------------------------------------------------------------------------------------


@require_GET
@staff_required
def fund_list(request: HttpRequest) -> HttpResponse:
    funds = list(selectors.funds_with_grant_counts())
    statuses = Grant.Status.choices
    rows = [
        {"fund": fund, "counts": [getattr(fund, f"n_{code}") for code, _label in statuses]}
        for fund in funds
    ]
    return render(request, "donations/staff/funds.html", {"rows": rows, "statuses": statuses})


# --- Nonprofit vetting ---------------------------------------------------------------------------


@require_GET
@staff_required
def nonprofit_list(request: HttpRequest) -> HttpResponse:
    if _htmx_target(request) == "pending-note":  # re-fetched after a verify or reject
        return render(
            request,
            f"{NONPROFITS}#pending_note",
            {"status_counts": selectors.nonprofit_status_counts()},
        )
    form = NonprofitFilterForm(request.GET or None)
    filters = form.filters()
    context = {
        "form": form,
        "filtered": any(filters.values()),
        "status_counts": selectors.nonprofit_status_counts(),
        "next": request.get_full_path(),
        **_paginate(request, selectors.nonprofits_for_vetting(**filters)),
    }
    target = _htmx_target(request)
    template = NONPROFITS if target is None else f"{NONPROFITS}#results"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _nonprofit_action(
    request: HttpRequest,
    pk: int,
    act: Callable[[Nonprofit], object],
    done: str,
    form: ReasonForm | None = None,
) -> HttpResponse:
    nonprofit = get_object_or_404(Nonprofit, pk=pk)
    next_url = safe_next_path(request, default=reverse("donations:nonprofit-list"))
    errors = _run_action(nonprofit, act, form)
    message = done % {"nonprofit": nonprofit}
    if _htmx_target(request) is None:
        return _redirect_with_messages(request, next_url, errors, message)
    fresh = selectors.nonprofits_for_vetting().get(pk=pk)
    response = render(
        request,
        f"{NONPROFITS}#row_response",
        {
            "nonprofit": fresh,
            "next": next_url,
            "row_errors": errors,
            "action_message": "" if errors else message,
        },
    )
    if not errors:
        trigger_client_event(response, NONPROFITS_CHANGED)
    return response


@require_POST
@staff_required
def nonprofit_verify(request: HttpRequest, pk: int) -> HttpResponse:
    return _nonprofit_action(
        request,
        pk,
        lambda nonprofit: services.nonprofit_verify(nonprofit=nonprofit, actor=request.user),
        _("%(nonprofit)s is verified."),
    )


@require_POST
@staff_required
def nonprofit_reject(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    return _nonprofit_action(
        request,
        pk,
        lambda nonprofit: services.nonprofit_reject(
            nonprofit=nonprofit, reason=form.cleaned_data["reason"], actor=request.user
        ),
        _("%(nonprofit)s is rejected."),
        form=form,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def nonprofit_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = NonprofitCreateForm(request.POST)
        if form.is_valid():
            try:
                nonprofit = services.nonprofit_create(**form.cleaned_data, actor=request.user)
            except ValidationError as error:
                form_refusal(form, error)
            else:
                messages.success(
                    request,
                    _("%(nonprofit)s is added and waits for review.") % {"nonprofit": nonprofit},
                )
                return redirect("donations:nonprofit-list")
    else:
        form = NonprofitCreateForm()
    return render(request, "donations/staff/nonprofit_form.html", {"form": form})


def _is_id(value: str) -> bool:
    """A primary key as a form sends it: ASCII digits, within the database's integer range
    ("²" is a digit to str.isdigit, and SQLite refuses integers past 64 bits)."""
    return value.isascii() and value.isdigit() and 0 < int(value) < 2**63


# --- Nonprofit contacts and their sign-in links -------------------------------------------------

CONTACTS = "donations/staff/nonprofit_contacts.html"
PAYOUT_CHANGES = "donations/staff/payout_changes.html"


@require_http_methods(["GET", "POST"])
@staff_required
def nonprofit_contacts(request: HttpRequest, pk: int) -> HttpResponse:
    """A nonprofit's contacts, with their open sign-in links; staff add a contact here."""
    nonprofit = get_object_or_404(Nonprofit, pk=pk)
    form = ContactCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = nonprofit_services.nonprofit_contact_create(
                nonprofit=nonprofit, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(
                request,
                _("%(email)s is added; send them a sign-in link when they need one.")
                % {"email": contact.user.email},
            )
            return redirect("donations:nonprofit-contacts", pk=pk)
    context = {
        "nonprofit": nonprofit,
        "contacts": selectors.nonprofit_contacts(nonprofit),
        "form": form,
        "next": reverse("donations:nonprofit-contacts", args=[pk]),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, CONTACTS, context, status=status)


def _contact_action(
    request: HttpRequest, pk: int, contact_pk: int, act: Callable, done: str
) -> HttpResponse:
    contact = get_object_or_404(
        NonprofitContact.objects.select_related("user"), pk=contact_pk, nonprofit_id=pk
    )
    next_url = safe_next_path(request, default=reverse("donations:nonprofit-contacts", args=[pk]))
    errors = _run_action(contact, act, None)
    message = done % {"email": contact.user.email}
    if _htmx_target(request) is None:
        return _redirect_with_messages(request, next_url, errors, message)
    fresh = selectors.nonprofit_contacts(contact.nonprofit_id).get(pk=contact_pk)
    return render(
        request,
        f"{CONTACTS}#row_response",
        {
            "contact": fresh,
            "nonprofit_id": pk,
            "next": next_url,
            "row_errors": errors,
            "action_message": "" if errors else message,
        },
    )


@require_POST
@staff_required
def contact_send_link(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    return _contact_action(
        request,
        pk,
        contact_pk,
        lambda contact: nonprofit_services.nonprofit_link_send(contact=contact, actor=request.user),
        _("A sign-in link is on its way to %(email)s."),
    )


@require_POST
@staff_required
def contact_revoke_links(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    return _contact_action(
        request,
        pk,
        contact_pk,
        lambda contact: nonprofit_services.nonprofit_links_revoke(
            contact=contact, actor=request.user
        ),
        _("%(email)s is signed out everywhere and every sign-in link is revoked."),
    )


# --- Payout details changes: staff review before anything is applied ----------------------------


@require_GET
@staff_required
def payout_change_list(request: HttpRequest) -> HttpResponse:
    context = {
        "next": request.get_full_path(),
        "reviewed": selectors.payout_changes_reviewed(),
        **_paginate(request, selectors.payout_changes_pending()),
    }
    return render(request, PAYOUT_CHANGES, context)


def _payout_change_action(
    request: HttpRequest, pk: int, act: Callable, done: str, form: ReasonForm | None = None
) -> HttpResponse:
    change = get_object_or_404(PayoutDetailsChange.objects.select_related("nonprofit"), pk=pk)
    next_url = safe_next_path(request, default=reverse("donations:payout-change-list"))
    errors = _run_action(change, act, form)
    message = done % {"nonprofit": change.nonprofit}
    if _htmx_target(request) is None:
        return _redirect_with_messages(request, next_url, errors, message)
    fresh = PayoutDetailsChange.objects.for_review().get(pk=pk)
    return render(
        request,
        f"{PAYOUT_CHANGES}#row_response",
        {
            "change": fresh,
            "next": next_url,
            "row_errors": errors,
            "action_message": "" if errors else message,
        },
    )


@require_POST
@staff_required
def payout_change_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _payout_change_action(
        request,
        pk,
        lambda change: nonprofit_services.payout_change_approve(change=change, actor=request.user),
        _("The new payout details of %(nonprofit)s are approved and in use."),
    )


@require_POST
@staff_required
def payout_change_reject(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    return _payout_change_action(
        request,
        pk,
        lambda change: nonprofit_services.payout_change_reject(
            change=change, reason=form.cleaned_data["reason"], actor=request.user
        ),
        _("The payout details change of %(nonprofit)s is rejected."),
        form=form,
    )
