"""The staff dashboard: the whole program's state on one page.

First what waits for the person looking (Today: one row per work queue their roles let them
act on, with a link to the page listing it); then, under filters folded away until opened,
budgets per fund, money to settle with the payout provider (overspends, payments whose
outcome is unknown, held grants), the grants waiting for staff, overdue milestones, failed
payments, the latest audit events, and charts of the money paid out, drawn as inline SVG on
the server (no script, no inline style: the CSP forbids both). The filters form is a plain
GET form that htmx submits in place, swapping only the dashboard's body.
"""

import datetime
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from changemakers.core import page_cache
from changemakers.core.htmx import REFUSED, form_refusal, is_partial, vary_on_htmx
from changemakers.core.models import AuditEvent
from changemakers.core.roles import staff_required, staff_roles_of
from changemakers.core.whole_page import country_code, live, one_of, personal_page, row_id
from changemakers.webhooks.models import Endpoint
from donations import selectors as donation_selectors
from donations import services as donation_services
from donations.models import Fund
from programs.clock import program_today
from programs.selectors import impact_totals

from . import queues, selectors, services
from .exports import EXPORT_PERMISSIONS
from .forms import DashboardFilterForm, ProgramHubForm

DASHBOARD = "backoffice/dashboard.html"

# The charts' drawing units (the SVG scales to its box, so these are proportions).
COLUMN_WIDTH = 48
COLUMN_GAP = 12
COLUMN_HEIGHT = 140
COLUMN_TOP = 20  # room for the scale's label above the tallest bar
COLUMNS_AT_LEAST = 12  # a short period keeps a year's bar width rather than growing
AXIS_HEIGHT = 24
ROW_HEIGHT = 28
ROW_LABEL_WIDTH = 170
ROW_BAR_WIDTH = 220
ROW_VALUE_WIDTH = 90

# Objects with a staff page of their own; others link to their admin page, if they have one.
STAFF_PAGES = {
    ("donations", "grant"): "donations:grant-detail",
    ("donations", "disbursementbatch"): "donations:batch-detail",
    ("programs", "cohort"): "programs:cohort-detail",
    ("programs", "milestone"): "programs:milestone-review",
    ("programs", "application"): "programs:application-detail",
}


@require_GET
@staff_required
@vary_on_htmx
@personal_page(
    params={
        "fund": row_id,
        "cohort": row_id,
        "country": country_code,
        "period": one_of(*DashboardFilterForm.PERIODS),
    }
)
def dashboard(request: HttpRequest) -> HttpResponse:
    today = program_today()
    funds = donation_selectors.fund_choices()
    cohorts, countries = donation_selectors.grant_filter_choices()
    form = DashboardFilterForm(
        request.GET or None,
        fund_choices=[(fund.pk, fund.name) for fund in funds],
        cohort_choices=cohorts,
        country_choices=countries,
    )
    filters = selectors.DashboardFilters(**form.filters(today=today))
    currency = chart_currency(funds, filters.fund)
    context = {
        "form": form,
        "today": today,
        "funds": funds,
        "fund_totals": selectors.fund_totals_by_currency(funds),
        "filters": filters,
        "pipeline_query": urlencode(filters.pipeline_query()),
        # The same for every member of staff: computed once per change of the data.
        **page_cache.cached(
            "staff-dashboard",
            lambda: _dashboard_data(filters, currency=currency, today=today),
            filters,
            currency,
            today,
        ),
    }
    if context["to_settle"].held_batches:
        # Live, never cached: what the platform's account holds decides when to release.
        live(request)
        context["platform_balance"] = donation_services.platform_balance(
            donation_selectors.batch_provider(context["to_settle"].held_batches[0])
        )
    if is_partial(request):
        template = f"{DASHBOARD}#body"
        context["updated"] = True
    else:
        template = DASHBOARD
        # So each member knows what they may do here (asked only for who is no superuser).
        context["staff_roles"] = partial(staff_roles_of, request.user)
        context["may_export"] = any(request.user.has_perm(name) for name in EXPORT_PERMISSIONS)
        # The work waiting for this person (the same count as the navigation's badges).
        context["today_rows"] = queues.staff_queues_of(request).rows
        context["filters_active"] = form.active()
    return render(request, template, context)


def _dashboard_data(
    filters: selectors.DashboardFilters, *, currency: str, today: datetime.date
) -> dict:
    charts = selectors.dashboard_charts(filters, currency=currency, today=today)
    return {
        "needs_action": selectors.dashboard_needs_action(filters),
        "failures": selectors.dashboard_failures(filters),
        "to_settle": selectors.dashboard_money_to_settle(),
        "overdue": selectors.dashboard_overdue(today=today, cohort=filters.cohort),
        "events": [_event_row(event) for event in selectors.dashboard_recent_events()],
        # Switching one off is audited, which retires this cache.
        "endpoints_off": list(Endpoint.objects.switched_off()[:10]),
        "charts": charts,
        "month_chart": _columns(charts.by_month),
        "country_chart": _rows(charts.by_country),
        "cause_chart": _rows(charts.by_cause),
        "impact": impact_totals(cohort=filters.cohort),
    }


def chart_currency(funds: list[Fund], fund_id: int | None) -> str:
    """The currency the charts are drawn in: the chosen fund's, else the one most of the
    program's money is in (by fund totals), else the program's."""
    for fund in funds:
        if fund.pk == fund_id:
            return fund.currency
    totals = Counter()
    for fund in funds:
        totals[fund.currency] += fund.total
    if not totals:
        return settings.PROGRAM_CURRENCY
    return max(sorted(totals), key=lambda currency: totals[currency])


# --- Chart geometry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    bar: selectors.ChartBar
    x: int
    y: int
    width: int
    height: int
    text_x: int
    text_y: int


@dataclass(frozen=True)
class Chart:
    shapes: list[Shape]
    width: int
    height: int
    empty: bool
    axis_y: int = 0
    top: int = 0
    largest: Decimal = Decimal(0)


def _columns(bars: list[selectors.ChartBar]) -> Chart:
    """Vertical bars, one per month, bottoms on the axis; a line marks the largest sum."""
    shapes = []
    axis_y = COLUMN_TOP + COLUMN_HEIGHT
    for index, bar in enumerate(bars):
        height = round(bar.share * COLUMN_HEIGHT)
        x = COLUMN_GAP + index * (COLUMN_WIDTH + COLUMN_GAP)
        shapes.append(
            Shape(
                bar=bar,
                x=x,
                y=axis_y - height,
                width=COLUMN_WIDTH,
                height=height,
                text_x=x + COLUMN_WIDTH // 2,
                text_y=axis_y + AXIS_HEIGHT - 8,
            )
        )
    return Chart(
        shapes=shapes,
        width=COLUMN_GAP + max(len(bars), COLUMNS_AT_LEAST) * (COLUMN_WIDTH + COLUMN_GAP),
        height=axis_y + AXIS_HEIGHT,
        empty=not any(bar.amount for bar in bars),
        axis_y=axis_y,
        top=COLUMN_TOP,
        largest=max((bar.amount for bar in bars), default=Decimal(0)),
    )


def _rows(bars: list[selectors.ChartBar]) -> Chart:
    """Horizontal bars, one per country or cause, with the label before and the sum after."""
    shapes = []
    for index, bar in enumerate(bars):
        width = max(1, round(bar.share * ROW_BAR_WIDTH))
        y = index * ROW_HEIGHT
        shapes.append(
            Shape(
                bar=bar,
                x=ROW_LABEL_WIDTH,
                y=y + 4,
                width=width,
                height=ROW_HEIGHT - 8,
                text_x=ROW_LABEL_WIDTH + width + 6,
                text_y=y + ROW_HEIGHT // 2 + 5,
            )
        )
    return Chart(
        shapes=shapes,
        width=ROW_LABEL_WIDTH + ROW_BAR_WIDTH + ROW_VALUE_WIDTH,
        height=max(1, len(bars)) * ROW_HEIGHT,
        empty=not bars,
    )


# --- Audit events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    url: str
    from_label: str
    to_label: str


def _event_row(event: AuditEvent) -> EventRow:
    model = event.content_type.model_class()
    labels = _state_labels(model)
    return EventRow(
        event=event,
        url=_object_url(event, model),
        from_label=str(labels.get(event.from_state, event.from_state)),
        to_label=str(labels.get(event.to_state, event.to_state)),
    )


def _state_labels(model) -> dict:
    if model is None:  # a content type whose model is gone
        return {}
    for name in ("status", "verification_status"):
        try:
            return dict(model._meta.get_field(name).choices or ())
        except FieldDoesNotExist:
            continue
    return {}


def _object_url(event: AuditEvent, model) -> str:
    """The object's staff page, else its admin page, else nothing (a model without either)."""
    key = (event.content_type.app_label, event.content_type.model)
    if key in STAFF_PAGES:
        return reverse(STAFF_PAGES[key], args=[event.object_id])
    if model is None or not admin.site.is_registered(model):
        return ""
    try:
        return reverse(f"admin:{key[0]}_{key[1]}_change", args=[event.object_id])
    except NoReverseMatch:
        return ""


# --- The program page's text ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required(perm="backoffice.change_programhub")
def hub_edit(request: HttpRequest) -> HttpResponse:
    hub = selectors.program_hub()
    initial = {"hashtag": hub.hashtag, **ProgramHubForm.initial_from(hub)}
    form = ProgramHubForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.program_hub_update(
                actor=request.user,
                **form.default_language_data(),
                translations=form.translations(),
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(request, _("The program page is saved."))
            return redirect("backoffice:hub-edit")
    status = REFUSED if request.method == "POST" else 200
    return render(request, "backoffice/hub_form.html", {"form": form, "hub": hub}, status=status)
