"""The staff pages of personal data requests: the list with the form to ask for an export or
an erasure, approve and reject (row actions answered with the row under htmx, a redirect
with a message without JavaScript), and the download of a finished export."""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from changemakers.core.htmx import REFUSED, form_refusal, partial_target, vary_on_htmx
from changemakers.core.pagination import page_context
from changemakers.core.redirects import safe_next_path
from changemakers.core.roles import staff_required
from creators.models import Creator
from donations.forms import ReasonForm
from donations.views.rows import redirect_with_messages, run_action

from . import personal_data as services
from .forms import PersonalDataRequestForm
from .models import PersonalDataRequest

PAGE = "backoffice/personal_data.html"
VIEW = "backoffice.view_personaldatarequest"
HANDLE = services.PERMISSION
PAGE_SIZE = 50


@require_http_methods(["GET", "POST"])
@staff_required(perm=VIEW, post_perm=HANDLE)
def data_request_list(request: HttpRequest) -> HttpResponse:
    """The requests, newest first, and (for who may handle them) the form to ask for one."""
    if request.method == "POST":
        form = PersonalDataRequestForm(request.POST)
        if form.is_valid():
            creator = Creator.objects.filter(handle__iexact=form.cleaned_data["handle"]).first()
            if creator is None:
                form.add_error("handle", _("No creator has this handle."))
            else:
                try:
                    services.data_request_create(
                        creator=creator,
                        kind=form.cleaned_data["kind"],
                        reason=form.cleaned_data["reason"],
                        actor=request.user,
                    )
                except ValidationError as error:
                    form_refusal(form, error)
                else:
                    return redirect_with_messages(
                        request,
                        reverse("backoffice:personal-data"),
                        [],
                        _("Your request is recorded; another member of staff approves it."),
                    )
        status = REFUSED
    else:
        form = PersonalDataRequestForm(initial={"handle": request.GET.get("handle", "")[:31]})
        status = 200
    context = {
        "form": form,
        "next": reverse("backoffice:personal-data"),
        **page_context(request, PersonalDataRequest.objects.for_list(), PAGE_SIZE),
    }
    return render(request, PAGE, context, status=status)


def _row_action(
    request: HttpRequest, pk: int, act: Callable, done: str, form: ReasonForm | None = None
) -> HttpResponse:
    data_request = get_object_or_404(PersonalDataRequest, pk=pk)
    back = safe_next_path(request, default=reverse("backoffice:personal-data"))
    errors = run_action(data_request, act, form)
    if partial_target(request) is None:
        return redirect_with_messages(request, back, errors, done)
    fresh = PersonalDataRequest.objects.for_list().get(pk=pk)
    return render(
        request,
        f"{PAGE}#row_response",
        {
            "row": fresh,
            "next": back,
            "row_errors": errors,
            "action_message": "" if errors else done,
        },
        status=REFUSED if errors else 200,
    )


@require_POST
@staff_required(perm=HANDLE)
@vary_on_htmx
def data_request_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _row_action(
        request,
        pk,
        lambda data_request: services.data_request_approve(
            request=data_request, actor=request.user
        ),
        _("The request is approved."),
    )


@require_POST
@staff_required(perm=HANDLE)
@vary_on_htmx
def data_request_reject(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    return _row_action(
        request,
        pk,
        lambda data_request: services.data_request_reject(
            request=data_request, reason=form.cleaned_data["reason"], actor=request.user
        ),
        _("The request is rejected."),
        form=form,
    )


@require_GET
@staff_required(perm=HANDLE)
def data_export_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The export's ZIP, for the requester and the approver until it expires (404 for anyone
    else, or once it is gone: nobody learns more)."""
    data_request = get_object_or_404(PersonalDataRequest, pk=pk)
    if not services.data_export_may_download(data_request, request.user):
        raise Http404
    response = FileResponse(
        services.data_export_download(request=data_request, actor=request.user),
        as_attachment=True,
        filename=f"personal-data-{data_request.pk}.zip",
        content_type="application/zip",
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
