"""The funds' budgets for staff: each fund with its grants counted by status."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from changemakers.core.roles import staff_required

from .. import selectors
from ..models import Grant


@require_GET
@staff_required(perm="donations.view_fund")
def fund_list(request: HttpRequest) -> HttpResponse:
    funds = list(selectors.funds_with_grant_counts())
    statuses = Grant.Status.choices
    rows = [
        {"fund": fund, "counts": [getattr(fund, f"n_{code}") for code, _label in statuses]}
        for fund in funds
    ]
    return render(request, "donations/staff/funds.html", {"rows": rows, "statuses": statuses})
