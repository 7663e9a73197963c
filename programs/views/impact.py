"""Staff pages for impact figures: the indicators the program tracks, and correcting a figure
while its milestone is reviewed (on the milestone's review page)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from changemakers.core.htmx import REFUSED, form_refusal
from changemakers.core.roles import staff_required

from .. import selectors, services
from ..forms import ImpactCorrectionForm, ImpactIndicatorForm
from ..models import ImpactIndicator, ImpactValue


@require_GET
@staff_required(perm="programs.view_impactindicator")
def indicator_list(request: HttpRequest) -> HttpResponse:
    context = {"totals": selectors.impact_totals(), "indicators": ImpactIndicator.objects.all()}
    return render(request, "programs/staff/indicator_list.html", context)


@require_http_methods(["GET", "POST"])
@staff_required(perm="programs.add_impactindicator")
def indicator_create(request: HttpRequest) -> HttpResponse:
    form = ImpactIndicatorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            indicator = services.impact_indicator_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(request, _("“%(name)s” is added.") % {"name": indicator.name})
            return redirect("programs:indicator-list")
    status = REFUSED if request.method == "POST" else 200
    return render(
        request,
        "programs/staff/indicator_form.html",
        {"form": form, "indicator": None},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_required(perm="programs.view_impactindicator", post_perm="programs.change_impactindicator")
def indicator_edit(request: HttpRequest, pk: int) -> HttpResponse:
    indicator = get_object_or_404(ImpactIndicator, pk=pk)
    form = ImpactIndicatorForm(request.POST or None, instance=ImpactIndicator.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.impact_indicator_update(
                indicator=indicator, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(
                request, _("“%(name)s” is saved.") % {"name": form.cleaned_data["name"]}
            )
            return redirect("programs:indicator-list")
    status = REFUSED if request.method == "POST" else 200
    return render(
        request,
        "programs/staff/indicator_form.html",
        {"form": form, "indicator": indicator},
        status=status,
    )


@require_POST
@staff_required(perm="programs.change_impactvalue")
def value_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct one figure of a milestone under review; back to the review page either way."""
    value = get_object_or_404(ImpactValue.objects.select_related("indicator"), pk=pk)
    form = ImpactCorrectionForm(request.POST)
    if form.is_valid():
        try:
            services.impact_value_correct(
                value=value,
                actor=request.user,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("%(indicator)s is corrected.") % {"indicator": value.indicator.name}
            )
    else:
        messages.error(request, _("Enter the corrected value: a number, zero or more."))
    return redirect("programs:milestone-review", pk=value.milestone_id)
