"""Payment batches for staff: the list, one batch's progress, which its page polls with htmx
until every payment in it has an outcome (or the batch is held), and releasing a batch held
for the platform's account."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from changemakers.core.htmx import partial_target, vary_on_htmx
from changemakers.core.roles import staff_required

from .. import selectors, services
from ..models import DisbursementBatch
from .rows import paginate

BATCH_DETAIL = "donations/staff/batch_detail.html"


@require_GET
@staff_required(perm="donations.view_disbursementbatch")
@vary_on_htmx
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(DisbursementBatch.objects.select_related("created_by"), pk=pk)
    progress = selectors.batch_progress(batch)
    context = {"batch": batch, "progress": progress, "polling": not progress.done}
    if batch.is_held:
        # Nothing moves until someone releases it: no polling; what the platform holds now.
        context["polling"] = False
        context["balance"] = services.platform_balance(selectors.batch_provider(batch))
    if partial_target(request) == "batch-progress":
        fragment = render_to_string(f"{BATCH_DETAIL}#progress", context, request=request)
        # 286 tells htmx to stop polling; it still swaps in the final state.
        if context["polling"]:
            return HttpResponse(fragment)
        return HttpResponseStopPolling(fragment)
    return render(request, BATCH_DETAIL, context)


@require_POST
@staff_required(perm="donations.approve_grant")
def batch_release_hold(request: HttpRequest, pk: int) -> HttpResponse:
    """A finance approver releases a batch held for the platform's account: its waiting
    payments are sent again under their same keys."""
    batch = get_object_or_404(DisbursementBatch, pk=pk)
    if batch.is_held:
        services.batch_hold_release(batch=batch, actor=request.user)
        messages.success(
            request, _("%(batch)s is released: its waiting payments are sent.") % {"batch": batch}
        )
    return redirect("donations:batch-detail", pk=batch.pk)


@require_GET
@staff_required(perm="donations.view_disbursementbatch")
def batch_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "donations/staff/batches.html",
        paginate(request, selectors.batches_with_counts()),
    )
