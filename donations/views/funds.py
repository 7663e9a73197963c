"""The funds' budgets for staff: each fund with its grants counted by status, and resolving a
fund's overspend."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from changemakers.core.htmx import REFUSED
from changemakers.core.roles import staff_required

from .. import selectors, services
from ..forms import OverspendResolveForm
from ..models import Fund, Grant

FUNDS = "donations/staff/funds.html"


def _render_funds(request: HttpRequest, *, errors=None, status: int = 200) -> HttpResponse:
    funds = list(selectors.funds_with_grant_counts())
    statuses = Grant.Status.choices
    rows = [
        {
            "fund": fund,
            "counts": [getattr(fund, f"n_{code}") for code, _label in statuses],
            "errors": (errors or {}).get(fund.pk, []),
        }
        for fund in funds
    ]
    return render(request, FUNDS, {"rows": rows, "statuses": statuses}, status=status)


@require_GET
@staff_required(perm="donations.view_fund")
def fund_list(request: HttpRequest) -> HttpResponse:
    return _render_funds(request)


@require_POST
@staff_required(perm="donations.change_fund")
def fund_overspend_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Raise an overspent fund's total to cover the overspend, with a note; a refusal comes
    back on the funds page with a 422."""
    fund = get_object_or_404(Fund, pk=pk)
    form = OverspendResolveForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(
                [message for field_errors in form.errors.values() for message in field_errors]
            )
        services.fund_overspend_resolve(
            fund=fund, actor=request.user, note=form.cleaned_data["note"]
        )
    except ValidationError as error:
        return _render_funds(request, errors={fund.pk: error.messages}, status=REFUSED)
    messages.success(request, _("%(fund)s's total now covers its overspend.") % {"fund": fund})
    return redirect(reverse("donations:fund-list") + f"#fund-{fund.pk}-title")
