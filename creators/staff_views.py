"""Staff pages for the yearly list editions (build, import, preview, publish), mounted under
/staff/lists/.

Function views: validate with a form, call a service, render or redirect. The entries table
is a partial: with htmx a move or removal answers with the table re-rendered in place (a
refusal shown above it, with a 422); without JavaScript the same POST redirects back with a
message. A form that is refused is shown again with a 422.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from changemakers.core.confirm import CONFIRM_AUTO_ID, Confirmation, confirm_response
from changemakers.core.htmx import REFUSED, form_refusal, is_partial, partial_target, vary_on_htmx
from changemakers.core.pagination import page_context
from changemakers.core.roles import staff_required
from changemakers.core.search import (
    PICKER_MIN_LENGTH,
    Picker,
    PickerMatch,
    picker_rows,
    picker_with_selected,
    search_text,
)

from . import selectors, services
from .forms import (
    EditionForm,
    EditionTextForm,
    EntryAddForm,
    EntryEditForm,
    ListImportForm,
    PublishForm,
    UnpublishForm,
    handle_normalize,
)
from .list_import import ListImportRefused, template_csv
from .models import Cause, ChangeMakersList, Creator, ListEntry
from .views import list_page

EDITION = "creators/staff/edition_detail.html"
PAGE_SIZE = 50
ENTRY_PAGE_SIZE = 50


def _entry_page(edition: ChangeMakersList, position: int) -> int:
    """The page of the edition page's table that shows the entry at `position`."""
    before = ListEntry.objects.filter(change_makers_list=edition, position__lt=position).count()
    return before // ENTRY_PAGE_SIZE + 1


def _to_entries(edition: ChangeMakersList, page: int | None) -> HttpResponse:
    url = reverse("creators:edition-detail", args=[edition.year])
    return redirect(f"{url}?page={page}#entries" if page and page > 1 else f"{url}#entries")


def _to_entry(edition: ChangeMakersList, entry: ListEntry) -> HttpResponse:
    """Back to the edition page, on the page of the table that shows `entry`."""
    return _to_entries(edition, _entry_page(edition, entry.position))


def _edition_or_404(year: int) -> ChangeMakersList:
    return get_object_or_404(ChangeMakersList, year=year)


@require_GET
@staff_required(perm="creators.view_changemakerslist")
def edition_list(request: HttpRequest) -> HttpResponse:
    editions = ChangeMakersList.objects.annotate(entry_count=Count("entries")).order_by("-year")
    return render(
        request, "creators/staff/edition_list.html", page_context(request, editions, PAGE_SIZE)
    )


@require_http_methods(["GET", "POST"])
@staff_required(perm="creators.add_changemakerslist")
def edition_create(request: HttpRequest) -> HttpResponse:
    form = EditionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            edition = services.list_create(
                **form.default_language_data(),
                translations=form.translations(),
                actor=request.user,
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(
                request, _("%(title)s is created as a draft.") % {"title": edition.title}
            )
            return redirect("creators:edition-detail", year=edition.year)
    status = REFUSED if request.method == "POST" else 200
    return render(request, "creators/staff/edition_form.html", {"form": form}, status=status)


def _edition_context(
    request: HttpRequest, edition: ChangeMakersList, *, page=None, **extra
) -> dict:
    """The edition page: one page of its entries (an edition may hold thousands, and each
    move answers with the table), its history and, on a draft, the forms."""
    entries = ListEntry.objects.filter(change_makers_list=edition).for_display()
    context = {
        "edition": edition,
        **page_context(request, entries, ENTRY_PAGE_SIZE, number=page),
        "editable": edition.status == ChangeMakersList.Status.DRAFT,
        # Who may only read (an auditor) sees the entries without the forms.
        "may_edit": request.user.has_perm("creators.change_changemakerslist"),
        "history": selectors.list_history(edition),
        # Creators the public will not see on this edition until they confirm.
        "awaiting": services.list_awaiting_consent(edition),
        "unpublish_form": UnpublishForm(),
    }
    if context["editable"] and context["may_edit"]:
        add_form = extra.get("add_form") or _add_form(edition)
        context["add_form"] = add_form
        # Without JavaScript the picker's search reloads the page with ?creator_q=...
        context["creator_picker"] = _creator_picker(
            edition,
            query=request.GET.get(CREATOR_SEARCH, ""),
            picked=handle_normalize(add_form.data.get("handle", "")) if add_form.is_bound else "",
            errors=add_form.errors.get("handle", []),
        )
        context["text_form"] = EditionTextForm(initial=EditionTextForm.initial_from(edition))
    return context | extra


@require_GET
@staff_required(perm="creators.view_changemakerslist")
@vary_on_htmx
def edition_detail(request: HttpRequest, year: int) -> HttpResponse:
    edition = _edition_or_404(year)
    context = _edition_context(request, edition)
    if partial_target(request) == "entries":
        return render(request, f"{EDITION}#entries", context)
    return render(request, EDITION, context)


@require_POST
@staff_required(perm="creators.change_changemakerslist")
def edition_edit(request: HttpRequest, year: int) -> HttpResponse:
    edition = _edition_or_404(year)
    form = EditionTextForm(request.POST)
    if form.is_valid():
        try:
            services.list_update(
                change_makers_list=edition,
                actor=request.user,
                **form.default_language_data(),
                translations=form.translations(),
            )
        except ValidationError as error:
            if edition.status != ChangeMakersList.Status.DRAFT:  # its page shows no form
                messages.error(request, " ".join(error.messages))
                return redirect("creators:edition-detail", year=year)
            form_refusal(form, error)
        else:
            messages.success(request, _("The title and introduction are saved."))
            return redirect("creators:edition-detail", year=year)
    context = _edition_context(request, edition, text_form=form, text_open=True)
    return render(request, EDITION, context, status=REFUSED)


CREATOR_SEARCH = "creator_q"


def _add_form(edition: ChangeMakersList, data=None) -> EntryAddForm:
    return EntryAddForm(data)


def _creator_matches(edition: ChangeMakersList, creators) -> list[PickerMatch]:
    """Creators as picker rows; those already on the edition are shown, marked, not pickable."""
    on_list = _("On the %(year)s list") % {"year": edition.year}
    return [
        PickerMatch(
            value=creator.handle,
            label=creator.display_name,
            detail=creator.at_handle,
            mark=on_list if creator.on_list else "",
            disabled=creator.on_list,
        )
        for creator in creators
    ]


def _creator_picker(
    edition: ChangeMakersList, *, query: str = "", picked: str = "", errors=()
) -> Picker:
    """The add form's creator picker: up to a few creators matching `query` (name or handle,
    with or without @, any case or accents), and the one `picked` (a handle) if any. Two
    queries whatever the number of creators."""
    creators = Creator.objects.public().annotate(
        on_list=Exists(ListEntry.objects.filter(change_makers_list=edition, creator=OuterRef("pk")))
    )
    text = search_text(query)
    rows, more = (
        picker_rows(creators.matching(text)) if len(text) >= PICKER_MIN_LENGTH else ([], False)
    )
    matches = _creator_matches(edition, rows)
    if picked and not any(row.handle.lower() == picked.lower() for row in rows):
        found = creators.with_handle(picked).first()
        if found is not None:
            matches = picker_with_selected(matches, _creator_matches(edition, [found])[0])
    selected = next((m.value for m in matches if m.value.lower() == picked.lower()), "")
    return Picker(
        id="add-creator",
        name="handle",
        label=_("Creator"),
        help=_("Their name or TikTok handle, with or without the @."),
        search_name=CREATOR_SEARCH,
        search_url=reverse("creators:edition-creator-search", kwargs={"year": edition.year}),
        search_form="add-search-form",
        query=query,
        matches=matches,
        selected=selected,
        more=more,
        errors=list(errors),
    )


@require_GET
@staff_required(perm="creators.add_listentry")
def edition_creator_search(request: HttpRequest, year: int) -> HttpResponse:
    """The add form's picker as staff type (htmx): a few creators matching what is typed,
    those already on the edition marked. The program may have thousands of creators; the page
    never lists them all."""
    edition = _edition_or_404(year)
    picker = _creator_picker(
        edition,
        query=request.GET.get(CREATOR_SEARCH, ""),
        picked=handle_normalize(request.GET.get("handle", ""))[:31],
    )
    return render(request, "components/picker_results.html", {"picker": picker, "oob": True})


@require_POST
@staff_required(perm="creators.add_listentry")
def entry_add(request: HttpRequest, year: int) -> HttpResponse:
    edition = _edition_or_404(year)
    form = _add_form(edition, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        creator = Creator.objects.with_handle(data["handle"]).first()
        try:
            if creator is None:
                raise ValidationError(
                    {"handle": _("No creator has the handle @%(handle)s.") % data}
                )
            entry = services.list_entry_add(
                change_makers_list=edition,
                creator=creator,
                country=data["country"] or None,
                cause=data["cause"] or (creator.causes[0] if creator.causes else ""),
                citation=data["citation"],
                translations=form.translations(),
                position=data["position"],
                actor=request.user,
            )
        except ValidationError as error:
            if edition.status != ChangeMakersList.Status.DRAFT:  # its page shows no form
                messages.error(request, " ".join(error.messages))
                return redirect("creators:edition-detail", year=year)
            form_refusal(form, error)
        else:
            messages.success(request, _("%(creator)s is added to the list.") % {"creator": creator})
            return _to_entry(edition, entry)
    context = _edition_context(request, edition, add_form=form)
    return render(request, EDITION, context, status=REFUSED)


@require_http_methods(["GET", "POST"])
@staff_required(perm="creators.change_listentry")
def entry_edit(request: HttpRequest, year: int, pk: int) -> HttpResponse:
    entry = get_object_or_404(
        ListEntry.objects.select_related("creator", "change_makers_list"),
        pk=pk,
        change_makers_list__year=year,
    )
    initial = {
        "country": entry.country.code,
        "cause": entry.cause,
        "position": entry.position,
        **EntryEditForm.initial_from(entry),
    }
    form = EntryEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.list_entry_update(entry=entry, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(
                request, _("%(creator)s's entry is saved.") % {"creator": entry.creator}
            )
            return _to_entry(entry.change_makers_list, saved)
    return render(
        request,
        "creators/staff/entry_form.html",
        {"entry": entry, "edition": entry.change_makers_list, "form": form},
        status=REFUSED if request.method == "POST" else 200,
    )


def _entry_action(request: HttpRequest, year: int, pk: int, act, done: str) -> HttpResponse:
    """Run a move or removal and answer it: the entries table for htmx, a redirect with a
    message otherwise. A refusal (a published list) is said in both."""
    entry = get_object_or_404(
        ListEntry.objects.select_related("creator", "change_makers_list"),
        pk=pk,
        change_makers_list__year=year,
    )
    edition = entry.change_makers_list
    errors: list[str] = []
    page = request.GET.get("page", "")
    page = int(page) if page.isascii() and page.isdigit() else None
    try:
        moved = act(entry)
    except ValidationError as error:
        errors = error.messages
    else:
        if moved is not None:  # show the page the entry has moved to
            page = _entry_page(edition, moved.position)
    message = done % {"creator": entry.creator.display_name}
    if not is_partial(request):
        for error in errors:
            messages.error(request, error)
        if not errors:
            messages.success(request, message)
        return _to_entries(edition, page)
    edition.refresh_from_db()
    context = _edition_context(
        request, edition, page=page, action_errors=errors, action_message="" if errors else message
    )
    return render(
        request, f"{EDITION}#entries_response", context, status=REFUSED if errors else 200
    )


@require_POST
@staff_required(perm="creators.change_listentry")
@vary_on_htmx
def entry_move(request: HttpRequest, year: int, pk: int, direction: str) -> HttpResponse:
    if direction not in ("up", "down"):
        return HttpResponse(status=404)
    return _entry_action(
        request,
        year,
        pk,
        lambda entry: services.list_entry_move(
            entry=entry, direction=direction, actor=request.user
        ),
        _("%(creator)s moved up.") if direction == "up" else _("%(creator)s moved down."),
    )


@require_POST
@staff_required(perm="creators.delete_listentry")
@vary_on_htmx
def entry_remove(request: HttpRequest, year: int, pk: int) -> HttpResponse:
    return _entry_action(
        request,
        year,
        pk,
        lambda entry: services.list_entry_remove(entry=entry, actor=request.user),
        _("%(creator)s is removed from the list."),
    )


@require_http_methods(["GET", "POST"])
@staff_required(perm="creators.add_listentry")
def edition_import(request: HttpRequest, year: int) -> HttpResponse:
    edition = _edition_or_404(year)
    problems = []
    form = ListImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            entries = services.list_entries_import(
                change_makers_list=edition, rows=form.cleaned_data["file"], actor=request.user
            )
        except ListImportRefused as refused:
            problems = refused.problems
            form.add_error(None, refused)
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(
                request,
                _("%(count)s entries imported into %(title)s.")
                % {"count": len(entries), "title": edition.title},
            )
            return redirect(reverse("creators:edition-detail", args=[year]) + "#entries")
    context = {
        "edition": edition,
        "form": form,
        "problems": problems,
        "cause_codes": ", ".join(Cause.values),
        "editable": edition.status == ChangeMakersList.Status.DRAFT,
    }
    status = REFUSED if request.method == "POST" else 200
    return render(request, "creators/staff/edition_import.html", context, status=status)


@require_GET
@staff_required(perm="creators.add_listentry")
def import_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="change-makers-list-template.csv"'
    return response


@require_GET
@staff_required(perm="creators.view_changemakerslist")
@vary_on_htmx
def edition_preview(request: HttpRequest, year: int) -> HttpResponse:
    edition = _edition_or_404(year)
    return list_page(
        request,
        edition,
        list_url=reverse("creators:edition-preview", args=[year]),
        other_years=[],
        preview=True,
    )


@require_http_methods(["GET", "POST"])
@staff_required(perm="creators.change_changemakerslist")
@vary_on_htmx
def edition_publish(request: HttpRequest, year: int) -> HttpResponse:
    """GET: the confirmation (who appears on the public list); POST: publish it."""
    edition = _edition_or_404(year)
    if request.method == "GET":
        return confirm_response(request, _publish_confirmation(edition))
    try:
        services.list_publish(
            change_makers_list=edition,
            actor=request.user,
            without_unconfirmed=request.POST.get("without_unconfirmed") == "on",
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("%(title)s is published.") % {"title": edition.title})
    return redirect("creators:edition-detail", year=year)


def _publish_confirmation(edition: ChangeMakersList) -> Confirmation:
    """What `list_publish` does: who the public will see, and who not yet."""
    shown = edition.entries.consented().count()
    awaiting = edition.entries.awaiting_consent().count()
    names = {"title": edition.title, "url": edition.get_absolute_url(), "count": shown}
    consequences = [
        ngettext(
            "%(title)s becomes public at %(url)s with its %(count)s creator who confirmed "
            "they agree to appear on it.",
            "%(title)s becomes public at %(url)s with its %(count)s creators who confirmed "
            "they agree to appear on it.",
            shown,
        )
        % names,
        _(
            "Its entries are frozen while it is published. Once public, it may be seen and "
            "shared, even if it is unpublished later."
        ),
    ]
    if awaiting:
        consequences.append(
            ngettext(
                "%(count)s creator has not confirmed: tick the box to publish without them "
                "(they stay off the public list until they confirm), or publishing is refused.",
                "%(count)s creators have not confirmed: tick the box to publish without them "
                "(they stay off the public list until they confirm), or publishing is refused.",
                awaiting,
            )
            % {"count": awaiting}
        )
    back = reverse("creators:edition-detail", args=[edition.year])
    return Confirmation(
        title=_("Publish %(title)s?") % names,
        consequences=consequences,
        action=reverse("creators:edition-publish", args=[edition.year]),
        submit=_("Publish"),
        back=back,
        form=PublishForm(auto_id=CONFIRM_AUTO_ID) if awaiting else None,
        danger=False,
    )


def _unpublish_confirmation(edition: ChangeMakersList) -> Confirmation:
    names = {"title": edition.title, "url": edition.get_absolute_url()}
    return Confirmation(
        title=_("Unpublish %(title)s?") % names,
        consequences=[
            _(
                "It goes back to draft: %(url)s and its creators' place on it are no longer "
                "public, until it is published again."
            )
            % names,
            _("Its entries stay as they are; your reason is kept in its history."),
        ],
        action=reverse("creators:edition-unpublish", args=[edition.year]),
        submit=_("Unpublish the list"),
        back=reverse("creators:edition-detail", args=[edition.year]),
        form=UnpublishForm(auto_id=CONFIRM_AUTO_ID),
    )


@require_POST
@staff_required(perm="creators.change_changemakerslist")
def edition_consent_remind(request: HttpRequest, year: int) -> HttpResponse:
    """Email the edition's creators who have not confirmed a link to their consent page."""
    edition = _edition_or_404(year)
    try:
        outcome = services.consent_reminders_send(change_makers_list=edition, actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("creators:edition-detail", year=year)
    if outcome.sent:
        messages.success(
            request,
            ngettext(
                "A reminder is on its way to %(count)s creator.",
                "A reminder is on its way to %(count)s creators.",
                len(outcome.sent),
            )
            % {"count": len(outcome.sent)},
        )
    if outcome.recently_reminded:
        messages.info(
            request,
            _("Already reminded in the last day, not again yet: %(handles)s.")
            % {"handles": ", ".join(c.at_handle for c in outcome.recently_reminded)},
        )
    if outcome.no_account:
        messages.warning(
            request,
            _("No portal account, so no reminder: invite them to the portal first: %(handles)s.")
            % {"handles": ", ".join(c.at_handle for c in outcome.no_account)},
        )
    if not (outcome.sent or outcome.recently_reminded or outcome.no_account):
        messages.info(request, _("Every creator on this list has confirmed."))
    return redirect("creators:edition-detail", year=year)


@require_http_methods(["GET", "POST"])
@staff_required(perm="creators.change_changemakerslist")
@vary_on_htmx
def edition_unpublish(request: HttpRequest, year: int) -> HttpResponse:
    """GET: the confirmation (with the reason asked); POST: back to draft."""
    edition = _edition_or_404(year)
    if request.method == "GET":
        return confirm_response(request, _unpublish_confirmation(edition))
    form = UnpublishForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the list is taken down."))
        return redirect("creators:edition-detail", year=year)
    try:
        services.list_unpublish(
            change_makers_list=edition, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("%(title)s is back to draft and no longer public.") % {"title": edition.title},
        )
    return redirect("creators:edition-detail", year=year)
