"""Payment batches for staff: the list, and one batch's progress, which its page polls with
htmx until every payment in it has an outcome."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseStopPolling

from changemakers.core.htmx import partial_target, vary_on_htmx
from changemakers.core.roles import staff_required

from .. import selectors
from ..models import DisbursementBatch
from .rows import paginate

BATCH_DETAIL = "donations/staff/batch_detail.html"


@require_GET
@staff_required(perm="donations.view_disbursementbatch")
@vary_on_htmx
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(DisbursementBatch.objects.select_related("created_by"), pk=pk)
    progress = selectors.batch_progress(batch)
    context = {"batch": batch, "progress": progress}
    if partial_target(request) == "batch-progress":
        fragment = render_to_string(f"{BATCH_DETAIL}#progress", context, request=request)
        # 286 tells htmx to stop polling; it still swaps in the final state.
        return HttpResponseStopPolling(fragment) if progress.done else HttpResponse(fragment)
    return render(request, BATCH_DETAIL, context)


@require_GET
@staff_required(perm="donations.view_disbursementbatch")
def batch_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "donations/staff/batches.html",
        paginate(request, selectors.batches_with_counts()),
    )
