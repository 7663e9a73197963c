"""Staff CSV exports, streamed: creators, enrolments and milestones, grants and disbursements,
and list entries.

Each export takes the same query parameters as the staff page it belongs to (the grant export
the grant pipeline's), so a page's "Export CSV" link carries its current query string. Each
reads its rows in one query, in chunks, while the response is sent.
"""

from django.db.models import (
    BooleanField,
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from changemakers.core.csv_stream import CHUNK_SIZE, csv_response
from changemakers.core.roles import staff_required
from creators.models import ENTRY_CONSENTED, Cause, ChangeMakersList, Creator, ListEntry
from creators.selectors import SHOWS_CAUSES, SHOWS_COUNTRY
from donations import selectors as donation_selectors
from donations.forms import GrantFilterForm
from programs.clock import program_today
from programs.models import Enrolment, ImpactIndicator, Milestone
from programs.selectors import impact_per_creator

from . import selectors
from .forms import (
    CreatorExportFilterForm,
    ListEntryExportFilterForm,
    MilestoneExportFilterForm,
)

# Whoever may read one of the exported subjects may open the exports page (it shows theirs).
EXPORT_PERMISSIONS = (
    "donations.view_grant",
    "creators.view_creator",
    "programs.view_milestone",
    "creators.view_listentry",
)


def _filename(kind: str) -> str:
    return f"changemakers-{kind}-{program_today().isoformat()}.csv"


def _grant_form(request: HttpRequest, **kwargs) -> GrantFilterForm:
    return GrantFilterForm(
        request.GET or None,
        **kwargs,
        fund_choices=[(fund.pk, fund.name) for fund in donation_selectors.fund_choices()],
        cohort_choices=donation_selectors.cohort_choices(),
        country_choices=donation_selectors.nonprofit_country_choices(),
    )


def _creator_form(request: HttpRequest, **kwargs) -> CreatorExportFilterForm:
    return CreatorExportFilterForm(
        request.GET or None,
        **kwargs,
        country_choices=selectors.creator_country_choices(),
        cohort_choices=donation_selectors.cohort_choices(),
    )


def _milestone_form(request: HttpRequest, **kwargs) -> MilestoneExportFilterForm:
    return MilestoneExportFilterForm(
        request.GET or None, cohort_choices=donation_selectors.cohort_choices(), **kwargs
    )


def _list_entry_form(request: HttpRequest, **kwargs) -> ListEntryExportFilterForm:
    return ListEntryExportFilterForm(
        request.GET or None,
        **kwargs,
        country_choices=selectors.list_entry_country_choices(),
        year_choices=selectors.list_year_choices(),
    )


@require_GET
@staff_required(any_perm=EXPORT_PERMISSIONS)
def export_list(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    """Every export with its filters, each a plain GET form that downloads the file."""
    return render(
        request,
        "backoffice/exports.html",
        {
            # One page, four forms: ids apart, field names as each export reads them.
            "grant_form": _grant_form(request, auto_id="grants_%s"),
            "creator_form": _creator_form(request, auto_id="creators_%s"),
            "milestone_form": _milestone_form(request, auto_id="milestones_%s"),
            "list_entry_form": _list_entry_form(request, auto_id="entries_%s"),
        },
        status=status,
    )


def _refused(request: HttpRequest, form) -> HttpResponse | None:
    """A filter that is not valid (a hand-edited address, a fund since deleted) would export
    every row as if unfiltered: answer with the exports page and its errors instead."""
    if form.is_bound and not form.is_valid():
        return export_list(request, status=400)
    return None


# --- Grants and disbursements ------------------------------------------------------------------


@require_GET
@staff_required(perm="donations.view_grant")
def grants_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = _grant_form(request)
    if refusal := _refused(request, form):
        return refusal
    grants = donation_selectors.grants_filtered(**form.filters())
    header = [
        _("Grant"),
        _("Proposed at"),
        _("Fund"),
        _("Nonprofit"),
        _("Nonprofit country"),
        _("Creator handle"),
        _("In the name of"),
        _("Amount"),
        _("Currency"),
        _("Status"),
        _("Purpose"),
        _("Reason"),
        _("Approved at"),
        _("Scheduled at"),
        _("Disbursed at"),
        _("Provider"),
        _("Provider reference"),
        _("Payment status"),
        _("Attempts"),
        _("Last error"),
    ]
    return csv_response(filename=_filename("grants"), header=header, rows=_grant_rows(grants))


def _grant_rows(grants: QuerySet):
    for grant in grants.iterator(chunk_size=CHUNK_SIZE):
        payment = donation_selectors.grant_disbursement(grant)
        yield [
            grant.pk,
            grant.created_at,
            grant.fund.name,
            grant.nonprofit.legal_name,
            grant.nonprofit.country.code,
            grant.creator.handle if grant.creator else "",
            grant.creator.display_name if grant.creator else "",
            grant.amount,
            grant.currency,
            grant.status,
            grant.purpose,
            grant.status_reason,
            grant.approved_at,
            payment.created_at if payment else None,
            grant.disbursed_at,
            payment.provider if payment else "",
            payment.provider_reference if payment else "",
            payment.status if payment else "",
            payment.attempts if payment else "",
            payment.last_error if payment else "",
        ]


# --- Creators ------------------------------------------------------------------------------------


def creators_for_export(*, country: str = "", cause: str = "", cohort: int | None = None):
    """Creators by name, each with the cohort of their current place (active, else invited,
    else the latest) and that place's status, read by subqueries rather than per row."""
    places = (
        Enrolment.objects.filter(creator=OuterRef("pk"))
        .exclude(status=Enrolment.Status.WITHDRAWN)
        .order_by(
            Case(
                When(status=Enrolment.Status.ACTIVE, then=0),
                When(status=Enrolment.Status.INVITED, then=1),
                default=2,
                output_field=IntegerField(),
            ),
            "-cohort__start_date",
        )
    )
    creators = Creator.objects.annotate(
        current_cohort=Subquery(places.values("cohort__name")[:1]),
        place_status=Subquery(places.values("status")[:1]),
    )
    if country:
        creators = creators.filter(country=country)
    if cause:
        creators = creators.with_cause(cause)
    if cohort:
        # A creator is enrolled at most once per cohort: no duplicates.
        creators = creators.filter(enrolments__cohort_id=cohort)
    return creators.order_by("display_name", "pk")


@require_GET
@staff_required(perm="creators.view_creator")
def creators_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = _creator_form(request)
    if refusal := _refused(request, form):
        return refusal
    creators = creators_for_export(**form.filters())
    header = [
        _("Creator"),
        _("Handle"),
        _("Name"),
        _("Country"),
        _("Causes"),
        _("Followers"),
        _("Current cohort"),
        _("Place"),
        _("Portal account"),
        _("Added at"),
    ]
    # Then one column per impact indicator: the creator's approved figure (two queries).
    indicators = list(ImpactIndicator.objects.all())
    header += [f"{indicator.name} ({indicator.unit})" for indicator in indicators]
    impact = impact_per_creator()
    cause_labels = dict(Cause.choices)
    rows = (
        [
            creator.pk,
            creator.handle,
            creator.display_name,
            creator.country.code,
            "; ".join(str(cause_labels.get(code, code)) for code in creator.causes),
            creator.follower_count,
            creator.current_cohort or "",
            creator.place_status or "",
            creator.user_id is not None,
            creator.created_at,
            *(impact.get(creator.pk, {}).get(indicator.pk, "") for indicator in indicators),
        ]
        for creator in creators.iterator(chunk_size=CHUNK_SIZE)
    )
    return csv_response(filename=_filename("creators"), header=header, rows=rows)


# --- Enrolments and milestones -------------------------------------------------------------------


def milestones_for_export(
    *, today, cohort: int | None = None, status: str = "", overdue: bool = False
):
    """One milestone per row with its place, creator and cohort; `overdue` as the cohort
    progress grid counts it (open, past due, in a place still being worked on)."""
    milestones = Milestone.objects.with_people().annotate(update_count=Count("updates"))
    if cohort:
        milestones = milestones.filter(enrolment__cohort_id=cohort)
    if status:
        milestones = milestones.filter(status=status)
    if overdue:
        milestones = milestones.overdue(today).filter(enrolment__status=Enrolment.Status.ACTIVE)
    return milestones.order_by(
        "-enrolment__cohort__start_date", "enrolment__creator__display_name", "due_date", "pk"
    )


@require_GET
@staff_required(perm=("programs.view_enrolment", "programs.view_milestone"))
def milestones_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    today = program_today()
    form = _milestone_form(request)
    if refusal := _refused(request, form):
        return refusal
    milestones = milestones_for_export(today=today, **form.filters())
    header = [
        _("Milestone"),
        _("Cohort"),
        _("Enrolment"),
        _("Place"),
        _("Handle"),
        _("Creator"),
        _("Country"),
        _("Title"),
        _("Due date"),
        _("Status"),
        _("Overdue"),
        _("Progress updates"),
    ]
    rows = (
        [
            milestone.pk,
            milestone.enrolment.cohort.name,
            milestone.enrolment_id,
            milestone.enrolment.status,
            milestone.enrolment.creator.handle,
            milestone.enrolment.creator.display_name,
            milestone.enrolment.creator.country.code,
            milestone.title,
            milestone.due_date,
            milestone.status,
            milestone.enrolment.status == Enrolment.Status.ACTIVE and milestone.is_overdue(today),
            milestone.update_count,
        ]
        for milestone in milestones.iterator(chunk_size=CHUNK_SIZE)
    )
    return csv_response(filename=_filename("milestones"), header=header, rows=rows)


# --- List entries --------------------------------------------------------------------------------


def list_entries_for_export(
    *, year: int | None = None, country: str = "", cause: str = "", q: str = ""
):
    """List entries as the public list shows them: a creator's country and cause only when
    they show it, so the file can leave the program (press, open data). Filtering on a
    country or cause matches only those who show it, so the filter reveals nothing either."""
    entries = ListEntry.objects.select_related("change_makers_list", "creator")
    if year:
        entries = entries.filter(change_makers_list__year=year)
    if country:
        entries = entries.filter(SHOWS_COUNTRY, country=country)
    if cause:
        entries = entries.filter(SHOWS_CAUSES, cause=cause)
    text = q.strip().lstrip("@")
    if text:
        entries = entries.filter(
            Q(creator__display_name__icontains=text)
            | Q(creator__handle__icontains=text)
            | Q(citation__icontains=text)
        )
    shown = Q(change_makers_list__status=ChangeMakersList.Status.PUBLISHED) & ENTRY_CONSENTED
    return entries.annotate(
        shown_publicly=Case(When(shown, then=True), default=False, output_field=BooleanField())
    ).order_by("-change_makers_list__year", "position")


@require_GET
@staff_required(perm="creators.view_listentry")
def list_entries_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = _list_entry_form(request)
    if refusal := _refused(request, form):
        return refusal
    entries = list_entries_for_export(**form.filters())
    header = [
        _("Year"),
        _("List status"),
        _("Position"),
        _("Handle"),
        _("Name"),
        _("Country"),
        _("Cause"),
        _("Citation"),
        _("Consent"),
        _("Shown publicly"),
    ]
    rows = (
        [
            entry.change_makers_list.year,
            entry.change_makers_list.status,
            entry.position,
            entry.creator.handle,
            entry.creator.display_name,
            entry.country.code if entry.public_country else "",
            entry.cause if entry.public_cause_display else "",
            entry.citation,
            entry.creator.consent,
            "yes" if entry.shown_publicly else "no",
        ]
        for entry in entries.iterator(chunk_size=CHUNK_SIZE)
    )
    return csv_response(filename=_filename("list-entries"), header=header, rows=rows)
