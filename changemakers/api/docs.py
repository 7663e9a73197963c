"""The schema's browsable documentation: Swagger UI, its files served from static/
(drf-spectacular-sidecar), started by a script of our own, so the page runs under the site's
Content-Security-Policy unchanged (no inline script or style, nothing from another origin)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET


@require_GET
def docs(request: HttpRequest) -> HttpResponse:
    return render(request, "api/docs.html", {"schema_url": reverse("api:schema")})
