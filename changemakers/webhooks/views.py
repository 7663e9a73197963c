"""Staff pages of the outbound webhooks: the endpoints, registering and editing one, its
signing secret (shown on request, audited), switching it off and on, a test event, and its
delivery log with every attempt; each delivery can be sent again.

Program managers manage them; the auditor reads. With htmx, sending a test event answers with
the refreshed delivery log, a resend with its refreshed row, showing the secret with the secret
alone; without JavaScript each POST redirects back with a message.
"""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from changemakers.core.htmx import REFUSED, form_refusal, partial_target, vary_on_htmx
from changemakers.core.pagination import page_context
from changemakers.core.roles import staff_required

from . import services
from .forms import EndpointForm
from .models import Delivery, Endpoint

VIEW = "webhooks.view_endpoint"
MANAGE = "webhooks.manage_endpoint"
ENDPOINTS = "webhooks/staff/endpoints.html"
ENDPOINT = "webhooks/staff/endpoint_detail.html"
FORM = "webhooks/staff/endpoint_form.html"
DELIVERY = "webhooks/staff/delivery_detail.html"
PAGE_SIZE = 25
SECRET_SHOWN = "webhooks.secret_shown"  # nosec B105 # a session key, no secret


@require_GET
@staff_required(perm=VIEW)
def endpoint_list(request: HttpRequest) -> HttpResponse:
    endpoints = Endpoint.objects.annotate(
        delivery_count=Count("deliveries"), last_delivery=Max("deliveries__created_at")
    ).order_by("name", "pk")
    return render(request, ENDPOINTS, {"endpoints": endpoints})


@require_http_methods(["GET", "POST"])
@staff_required(perm=(VIEW, MANAGE))
def endpoint_create(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.endpoint_create(**form.cleaned_data, actor=request.user)
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(
                request,
                _(
                    "%(name)s is registered. Show its signing secret below and pass it on to "
                    "the partner, who verifies every delivery with it."
                )
                % {"name": endpoint.name},
            )
            return redirect("outbound:endpoint-detail", pk=endpoint.pk)
    status = REFUSED if request.method == "POST" else 200
    return render(request, FORM, {"form": form, "endpoint": None}, status=status)


@require_http_methods(["GET", "POST"])
@staff_required(perm=(VIEW, MANAGE))
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    fields = ("name", "integration", "description", "url", "events")
    initial = {name: getattr(endpoint, name) for name in fields}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(endpoint=endpoint, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": form.cleaned_data["name"]})
            return redirect("outbound:endpoint-detail", pk=endpoint.pk)
    status = REFUSED if request.method == "POST" else 200
    return render(request, FORM, {"form": form, "endpoint": endpoint}, status=status)


def _detail_context(request: HttpRequest, endpoint: Endpoint) -> dict:
    deliveries = Delivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-pk")
    return {"endpoint": endpoint, **page_context(request, deliveries, PAGE_SIZE)}


@require_GET
@staff_required(perm=VIEW)
@vary_on_htmx
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    if partial_target(request) is not None:
        return render(request, f"{ENDPOINT}#deliveries", _detail_context(request, endpoint))
    context = _detail_context(request, endpoint)
    # Once after "Show the signing secret" without JavaScript (the POST was audited).
    shown = request.session.pop(SECRET_SHOWN, None) == endpoint.pk
    if shown and request.user.has_perm(MANAGE):
        context["secret"] = endpoint.secret
    response = render(request, ENDPOINT, context)
    if shown:
        add_never_cache_headers(response)
    return response


@never_cache
@require_POST
@staff_required(perm=(VIEW, MANAGE))
@vary_on_htmx
def endpoint_secret(request: HttpRequest, pk: int) -> HttpResponse:
    """The signing secret: with htmx on this answer only; without, on the endpoint's page the
    next time it is opened. Never on a page a plain GET fetches."""
    endpoint = get_object_or_404(Endpoint, pk=pk)
    secret = services.endpoint_secret_show(endpoint=endpoint, actor=request.user)
    if partial_target(request) is None:
        request.session[SECRET_SHOWN] = endpoint.pk
        return redirect(reverse("outbound:endpoint-detail", args=[pk]) + "#secret-title")
    return render(request, f"{ENDPOINT}#secret", {"endpoint": endpoint, "secret": secret})


def _endpoint_action(request: HttpRequest, pk: int, act, done: str) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    try:
        act(endpoint)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, done % {"name": endpoint.name})
    return redirect("outbound:endpoint-detail", pk=pk)


@require_POST
@staff_required(perm=(VIEW, MANAGE))
def endpoint_switch_off(request: HttpRequest, pk: int) -> HttpResponse:
    return _endpoint_action(
        request,
        pk,
        lambda endpoint: services.endpoint_switch_off(endpoint=endpoint, actor=request.user),
        _("Nothing more is sent to %(name)s until it is switched on again."),
    )


@require_POST
@staff_required(perm=(VIEW, MANAGE))
def endpoint_switch_on(request: HttpRequest, pk: int) -> HttpResponse:
    return _endpoint_action(
        request,
        pk,
        lambda endpoint: services.endpoint_switch_on(endpoint=endpoint, actor=request.user),
        _("%(name)s is switched on: it receives the next events."),
    )


@require_POST
@staff_required(perm=(VIEW, MANAGE))
@vary_on_htmx
def endpoint_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    errors: list[str] = []
    try:
        services.endpoint_test_send(endpoint=endpoint, actor=request.user)
    except ValidationError as error:
        errors = error.messages
    done = _("A test event is on its way to %(name)s.") % {"name": endpoint.name}
    if partial_target(request) is None:
        for message in errors:
            messages.error(request, message)
        if not errors:
            messages.success(request, done)
        return redirect("outbound:endpoint-detail", pk=pk)
    context = {
        **_detail_context(request, endpoint),
        "log_errors": errors,
        "action_message": "" if errors else done,
    }
    return render(
        request, f"{ENDPOINT}#deliveries_response", context, status=REFUSED if errors else 200
    )


@require_GET
@staff_required(perm=(VIEW, "webhooks.view_delivery"))
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery.objects.select_related("endpoint"), pk=pk)
    return render(
        request,
        DELIVERY,
        {
            "delivery": delivery,
            "endpoint": delivery.endpoint,
            "tries": delivery.tries.all(),
            # Indented to read; what was sent (and signed) is the compact original.
            "payload_shown": json.dumps(json.loads(delivery.payload), indent=2, sort_keys=True),
        },
    )


@require_POST
@staff_required(perm=(VIEW, MANAGE))
@vary_on_htmx
def delivery_resend(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery, pk=pk)
    errors: list[str] = []
    try:
        services.delivery_resend(delivery=delivery, actor=request.user)
    except ValidationError as error:
        errors = error.messages
    done = _("The delivery is on its way again, with the same message id.")
    if partial_target(request) is None:
        for message in errors:
            messages.error(request, message)
        if not errors:
            messages.success(request, done)
        back = request.POST.get("next", "")
        if back != "endpoint":
            return redirect("outbound:delivery-detail", pk=pk)
        return redirect(reverse("outbound:endpoint-detail", args=[delivery.endpoint_id]))
    context = {
        "delivery": Delivery.objects.get(pk=pk),
        "endpoint": delivery.endpoint,
        "row_errors": errors,
        "action_message": "" if errors else done,
    }
    return render(
        request, f"{ENDPOINT}#delivery_row_response", context, status=REFUSED if errors else 200
    )
