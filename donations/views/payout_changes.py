"""Changes of a nonprofit's payout details, which staff review before anything is applied:
the list, approve, reject. With htmx an answer is the re-rendered row (a refusal with a 422);
without JavaScript the POST redirects back with a message."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from changemakers.core.htmx import REFUSED, partial_target, vary_on_htmx
from changemakers.core.redirects import safe_next_path
from changemakers.core.roles import staff_required

from .. import selectors, services
from ..forms import ReasonForm
from ..models import PayoutDetailsChange
from .rows import paginate, redirect_with_messages, run_action

PAYOUT_CHANGES = "donations/staff/payout_changes.html"


@require_GET
@staff_required(perm="donations.view_payoutdetailschange")
def payout_change_list(request: HttpRequest) -> HttpResponse:
    context = {
        "next": request.get_full_path(),
        "reviewed": selectors.payout_changes_reviewed(),
        **paginate(request, selectors.payout_changes_pending()),
    }
    return render(request, PAYOUT_CHANGES, context)


def _payout_change_action(
    request: HttpRequest,
    pk: int,
    act: Callable,
    done: str | Callable[[PayoutDetailsChange], str],
    form: ReasonForm | None = None,
) -> HttpResponse:
    """`done` is the success message, with %(nonprofit)s, or picks it from the change as the
    action left it."""
    change = get_object_or_404(PayoutDetailsChange.objects.select_related("nonprofit"), pk=pk)
    back = safe_next_path(request, default=reverse("donations:payout-change-list"))
    errors = run_action(change, act, form)
    fresh = PayoutDetailsChange.objects.for_review().get(pk=pk)
    message = (done(fresh) if callable(done) else done) % {"nonprofit": change.nonprofit}
    if partial_target(request) is None:
        return redirect_with_messages(request, back, errors, message)
    return render(
        request,
        f"{PAYOUT_CHANGES}#row_response",
        {
            "change": fresh,
            "next": back,
            "row_errors": errors,
            "action_message": "" if errors else message,
        },
        status=REFUSED if errors else 200,
    )


@require_POST
@staff_required(perm="donations.approve_payoutdetailschange")
@vary_on_htmx
def payout_change_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _payout_change_action(
        request,
        pk,
        lambda change: services.payout_change_approve(change=change, actor=request.user),
        _approve_done,
    )


def _approve_done(change: PayoutDetailsChange) -> str:
    if change.status == PayoutDetailsChange.Status.PENDING:  # the first of two approvals
        return _(
            "Your approval of the new payout details of %(nonprofit)s is recorded; as its "
            "contact email changed lately, someone else gives the second approval."
        )
    return _(
        "The new payout details of %(nonprofit)s are approved; its unpaid grants are on "
        "hold until a finance approver re-confirms each one's payee."
    )


@require_POST
@staff_required(perm="donations.approve_payoutdetailschange")
@vary_on_htmx
def payout_change_reject(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    return _payout_change_action(
        request,
        pk,
        lambda change: services.payout_change_reject(
            change=change, reason=form.cleaned_data["reason"], actor=request.user
        ),
        _("The payout details change of %(nonprofit)s is rejected."),
        form=form,
    )
