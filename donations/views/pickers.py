"""The pickers of the grant form (components/picker.html): a nonprofit and, optionally, the
creator in whose name the grant is given, each found by a search as staff type rather than
chosen from a list of every row. Without JavaScript the search fields submit the form's page
with GET, which answers with the matches."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from changemakers.core.roles import staff_required
from changemakers.core.search import (
    PICKER_MIN_LENGTH,
    Picker,
    PickerMatch,
    picked_id,
    picker_rows,
    picker_with_selected,
    search_text,
)
from programs.selectors import CREATOR_SEARCH, creator_picker, creators_for_picker

from ..models import Nonprofit

NONPROFIT_SEARCH = "nonprofit_q"
SEARCH_FORM = "grant-search-form"  # the GET form of the grant form's page


def _nonprofit_matches(nonprofits) -> list[PickerMatch]:
    """Rejected nonprofits are shown, marked, and cannot be picked; pending ones may be."""
    marks = {
        Nonprofit.Verification.PENDING: _("Pending review"),
        Nonprofit.Verification.REJECTED: _("Rejected"),
    }
    return [
        PickerMatch(
            value=str(nonprofit.pk),
            label=nonprofit.legal_name,
            detail=f"{nonprofit.country.name} · {nonprofit.registration_number}",
            mark=str(marks.get(nonprofit.verification_status, "")),
            disabled=nonprofit.verification_status == Nonprofit.Verification.REJECTED,
        )
        for nonprofit in nonprofits
    ]


def nonprofit_picker(*, query: str, picked: str, errors=()) -> Picker:
    """A few nonprofits matching `query` (name or registration number, any case or accents)
    and the one `picked` (an id). Two queries at most."""
    nonprofits = Nonprofit.objects.only(
        "legal_name", "registration_number", "country", "verification_status"
    )
    text, picked = search_text(query), picked_id(picked)
    rows, more = (
        picker_rows(nonprofits.matching(text)) if len(text) >= PICKER_MIN_LENGTH else ([], False)
    )
    matches = _nonprofit_matches(rows)
    if picked and not any(match.value == picked for match in matches):
        found = nonprofits.filter(pk=int(picked)).first()
        if found is not None:
            matches = picker_with_selected(matches, _nonprofit_matches([found])[0])
    return Picker(
        id="grant-nonprofit",
        name="nonprofit",
        label=_("Nonprofit"),
        help=_(
            "Its name or registration number. Verified nonprofits, and those still pending review."
        ),
        search_name=NONPROFIT_SEARCH,
        search_url=reverse("donations:grant-nonprofit-search"),
        search_form=SEARCH_FORM,
        query=query,
        matches=matches,
        selected=picked if any(match.value == picked for match in matches) else "",
        more=more,
        errors=list(errors),
    )


def grant_creator_picker(*, query: str, picked: str, errors=()) -> Picker:
    return creator_picker(
        creators_for_picker(),
        query=query,
        picked=picked,
        id="grant-creator",
        label=_("In the name of"),
        help=_(
            "Optional: a program grant is given in no creator's name. Their name or TikTok "
            "handle, with or without the @."
        ),
        empty_label=_("Program grant (no creator)"),
        search_url=reverse("donations:grant-creator-search"),
        search_form=SEARCH_FORM,
        errors=list(errors),
    )


def grant_form_pickers(request: HttpRequest, form) -> dict[str, Picker]:
    """Both pickers of the grant form: the searches from the page's GET (without
    JavaScript), the picks from the form (a refused one keeps them in sight)."""
    if form.is_bound:
        picked_nonprofit = form.data.get("nonprofit", "")
        picked_creator = form.data.get("creator", "")
    else:
        picked_nonprofit = str(form.initial.get("nonprofit", "") or "")
        picked_creator = ""
    return {
        "nonprofit_picker": nonprofit_picker(
            query=request.GET.get(NONPROFIT_SEARCH, ""),
            picked=picked_nonprofit,
            errors=form.errors.get("nonprofit", []),
        ),
        "creator_picker": grant_creator_picker(
            query=request.GET.get(CREATOR_SEARCH, ""),
            picked=picked_creator,
            errors=form.errors.get("creator", []),
        ),
    }


def _results(request: HttpRequest, picker: Picker) -> HttpResponse:
    return render(request, "components/picker_results.html", {"picker": picker, "oob": True})


@require_GET
@staff_required(perm="donations.add_grant")
def grant_nonprofit_search(request: HttpRequest) -> HttpResponse:
    return _results(
        request,
        nonprofit_picker(
            query=request.GET.get(NONPROFIT_SEARCH, ""), picked=request.GET.get("nonprofit", "")
        ),
    )


@require_GET
@staff_required(perm="donations.add_grant")
def grant_creator_search(request: HttpRequest) -> HttpResponse:
    return _results(
        request,
        grant_creator_picker(
            query=request.GET.get(CREATOR_SEARCH, ""), picked=request.GET.get("creator", "")
        ),
    )
