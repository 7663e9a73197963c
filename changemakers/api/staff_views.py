"""Staff pages for integrations: the list, a new integration, and an integration's tokens,
where a token is issued (its value shown on the answer to that POST, once, and never again)
and revoked. Mounted under /staff/integrations/."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from changemakers.core.htmx import REFUSED, form_refusal
from changemakers.core.pagination import page_context
from changemakers.core.roles import staff_required

from . import services
from .forms import IntegrationForm, TokenForm
from .models import ApiToken, Integration

PAGE_SIZE = 50
DETAIL = "api/staff/integration_detail.html"


@require_GET
@staff_required(perm="api.view_integration")
def integration_list(request: HttpRequest) -> HttpResponse:
    integrations = Integration.objects.select_related("nonprofit", "created_by").order_by("name")
    return render(
        request,
        "api/staff/integration_list.html",
        {**page_context(request, integrations, PAGE_SIZE), "docs_url": reverse("api:docs")},
    )


@require_http_methods(["GET", "POST"])
@staff_required(perm="api.manage_integration")
def integration_create(request: HttpRequest) -> HttpResponse:
    form = IntegrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            integration = services.integration_create(
                name=data["name"],
                kind=data["kind"],
                roles=data["roles"] if data["kind"] == Integration.Kind.STAFF else (),
                nonprofit=data["nonprofit"] if data["kind"] == Integration.Kind.NONPROFIT else None,
                description=data["description"],
                actor=request.user,
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(
                request,
                _("%(integration)s is created; issue it a token.") % {"integration": integration},
            )
            return redirect("integrations:detail", pk=integration.pk)
    status = REFUSED if request.method == "POST" else 200
    return render(request, "api/staff/integration_form.html", {"form": form}, status=status)


def _detail(request: HttpRequest, integration: Integration, **extra) -> dict:
    return {
        "integration": integration,
        "roles": integration.account.groups.order_by("name") if integration.account_id else [],
        "tokens": integration.tokens.select_related("created_by", "revoked_by"),
        "form": extra.pop("form", None) or TokenForm(),
        **extra,
    }


@require_GET
@staff_required(perm="api.view_integration")
def integration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    integration = get_object_or_404(Integration.objects.select_related("nonprofit"), pk=pk)
    return render(request, DETAIL, _detail(request, integration))


@require_http_methods(["GET", "POST"])
@staff_required(perm="api.manage_integration")
def token_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """The integration's page with its form to issue a token; the POST issues one and shows
    it on its answer only, never a redirect: the token is not stored, the page is not cached,
    and reloading it issues nothing (the browser asks before posting again)."""
    integration = get_object_or_404(Integration.objects.select_related("nonprofit"), pk=pk)
    if request.method == "GET":
        return render(request, DETAIL, _detail(request, integration))
    form = TokenForm(request.POST)
    issued = None
    if form.is_valid():
        try:
            issued = services.token_issue(
                integration=integration,
                scope=form.cleaned_data["scope"],
                label=form.cleaned_data["label"],
                actor=request.user,
            )
        except ValidationError as error:
            form_refusal(form, error)
    context = _detail(request, integration, form=form if issued is None else None, issued=issued)
    response = render(request, DETAIL, context, status=200 if issued else REFUSED)
    add_never_cache_headers(response)
    return response


@require_POST
@staff_required(perm="api.manage_integration")
def token_revoke(request: HttpRequest, pk: int, token_pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_pk, integration_id=pk)
    services.token_revoke(token=token, actor=request.user)
    messages.success(request, _("Token %(token)s is revoked.") % {"token": token})
    return redirect("integrations:detail", pk=pk)
