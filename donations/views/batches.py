"""Payment batches for staff: the list, and one batch's progress, which its page polls with
htmx until every payment in it has an outcome (or the batch is held); releasing a batch held
for the platform's account; its bank transfers made by hand, their files for the bank (CSV,
ISO 20022 pain.001) and recording each one as sent."""

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from changemakers.core.csv_stream import CHUNK_SIZE, csv_response
from changemakers.core.htmx import REFUSED, Event, announce, partial_target, vary_on_htmx
from changemakers.core.redirects import safe_next_path
from changemakers.core.roles import staff_required

from .. import bank_files, selectors, services
from ..forms import TransferSentForm
from ..models import DisbursementBatch, PaymentInstruction
from .rows import paginate, redirect_with_messages, run_action

BATCH_DETAIL = "donations/staff/batch_detail.html"


def _progress_context(batch: DisbursementBatch) -> dict:
    progress = selectors.batch_progress(batch)
    # A held batch moves only once someone releases it: no polling.
    return {"batch": batch, "progress": progress, "polling": not (progress.done or batch.is_held)}


def _batch_context(request: HttpRequest, batch: DisbursementBatch) -> dict:
    context = _progress_context(batch)
    lines = list(selectors.batch_lines(batch))
    context["lines"] = lines
    context["line_totals"] = selectors.money_totals(lines)
    if batch.is_held:
        # What the platform's account holds now, beside the reason it was held.
        context["balance"] = services.platform_balance(selectors.batch_provider(batch))
    if request.user.has_perm("donations.view_paymentinstruction"):
        rows = selectors.batch_instructions(batch)
        context["instructions"] = rows
        context["payable_count"] = sum(row.payable for row in rows)
        context["next"] = reverse("donations:batch-detail", args=[batch.pk])
    return context


@require_GET
@staff_required(perm="donations.view_disbursementbatch")
@vary_on_htmx
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(DisbursementBatch.objects.select_related("created_by"), pk=pk)
    if partial_target(request) == "batch-progress":
        context = _progress_context(batch)
        fragment = render_to_string(f"{BATCH_DETAIL}#progress", context, request=request)
        # 286 tells htmx to stop polling; it still swaps in the final state.
        if context["polling"]:
            return HttpResponse(fragment)
        return HttpResponseStopPolling(fragment)
    return render(request, BATCH_DETAIL, _batch_context(request, batch))


BATCH_LINES_HEADER = (
    "batch",
    "grant",
    "nonprofit",
    "creator",
    "fund",
    "amount",
    "currency",
    "status",
    "provider",
    "provider_reference",
    "bank_reference",
    "completed_at",
)


@require_GET
@staff_required(perm="donations.view_disbursementbatch")
def batch_lines_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The batch's grants, one line each, as its page lists them (who may read the page may
    download them): streamed."""
    batch = get_object_or_404(DisbursementBatch, pk=pk)

    def rows():
        for line in selectors.batch_lines(batch).iterator(chunk_size=CHUNK_SIZE):
            grant = line.grant
            instruction = getattr(line, "instruction", None)
            yield (
                batch.pk,
                grant.pk,
                grant.nonprofit.legal_name,
                grant.creator.display_name if grant.creator_id else "",
                grant.fund.name,
                line.amount,
                line.currency,
                line.get_status_display(),
                line.provider,
                line.provider_reference,
                instruction.bank_reference if instruction else "",
                line.completed_at,
            )

    return csv_response(
        filename=f"changemakers-batch-{batch.pk}-grants.csv", header=BATCH_LINES_HEADER, rows=rows()
    )


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
    held = request.GET.get("held") == "1"  # the batches held for the platform's account
    context = {"held": held, **paginate(request, selectors.batches_with_counts(held=held))}
    return render(request, "donations/staff/batches.html", context)


def _payable(batch: DisbursementBatch) -> list[PaymentInstruction]:
    return [row.instruction for row in selectors.batch_instructions(batch) if row.payable]


@require_GET
@staff_required(perm="donations.view_paymentinstruction")
def batch_instructions_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The batch's bank transfers still to make, one line each, for the bank or a sheet."""
    batch = get_object_or_404(DisbursementBatch, pk=pk)
    return csv_response(
        filename=f"changemakers-batch-{batch.pk}-transfers.csv",
        header=bank_files.CSV_HEADER,
        rows=bank_files.csv_rows(_payable(batch)),
    )


@require_GET
@staff_required(perm="donations.view_paymentinstruction")
def batch_instructions_xml(request: HttpRequest, pk: int) -> HttpResponse:
    """The batch's bank transfers still to make, as an ISO 20022 pain.001 file for the bank."""
    batch = get_object_or_404(DisbursementBatch, pk=pk)
    instructions = _payable(batch)
    if not instructions:
        raise Http404("No transfer of this batch waits to be made.")
    try:
        document = bank_files.pain001(batch=batch, instructions=instructions)
    except ImproperlyConfigured as error:
        messages.error(request, str(error))
        return redirect("donations:batch-detail", pk=batch.pk)
    response = HttpResponse(document, content_type="application/xml; charset=utf-8")
    filename = f"changemakers-batch-{batch.pk}-{bank_files.PAIN_001}.xml"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_POST
@staff_required(perm=("donations.record_transfer", "donations.view_paymentinstruction"))
@vary_on_htmx
def instruction_record_sent(request: HttpRequest, pk: int) -> HttpResponse:
    """A finance approver records a transfer as sent, with the bank's reference: the grant
    is disbursed. With htmx the answer is the re-rendered row (a refusal with a 422) and the
    batch's progress refreshes itself."""
    instruction = get_object_or_404(
        PaymentInstruction.objects.select_related("disbursement"), pk=pk
    )
    batch_id = instruction.disbursement.batch_id
    default = (
        reverse("donations:batch-detail", args=[batch_id])
        if batch_id
        else reverse("donations:grant-detail", args=[instruction.disbursement.grant_id])
    )
    back = safe_next_path(request, default=default)
    form = TransferSentForm(request.POST)
    errors = run_action(
        instruction,
        lambda locked: services.payment_instruction_record_sent(
            instruction=locked,
            bank_reference=form.cleaned_data["bank_reference"],
            actor=request.user,
        ),
        form,
    )
    message = _("The transfer %(reference)s is recorded as sent; the grant is paid.") % {
        "reference": instruction.reference
    }
    if partial_target(request) is None:
        return redirect_with_messages(request, back, errors, message)
    fresh = next(
        row
        for row in selectors.batch_instructions(instruction.disbursement.batch)
        if row.instruction.pk == instruction.pk
    )
    response = render(
        request,
        f"{BATCH_DETAIL}#instruction_response",
        {
            "row": fresh,
            "next": back,
            "row_errors": errors,
            "action_message": "" if errors else message,
        },
        status=REFUSED if errors else 200,
    )
    return response if errors else announce(response, Event.BATCH_CHANGED)
