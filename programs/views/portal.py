"""The creator's portal: their cohort, their milestones and the updates they send (with
TikTok videos and impact figures); and the attachments and TikTok thumbnails of those
updates, for the creator who sent them and for staff."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from changemakers.core.htmx import REFUSED, form_refusal, is_partial, vary_on_htmx
from changemakers.core.roles import Role, creator_required, role_of
from changemakers.core.uploads import upload_response
from changemakers.core.whole_page import personal_page
from creators.models import PublicField, creator_of, shows_q

from .. import selectors, services
from ..clock import program_today
from ..forms import HighlightWishForm, ProgressUpdateForm
from ..models import Enrolment, Milestone, ProgressUpdate, TikTokVideo
from ..services.impact import field_name


@require_GET
@creator_required
@personal_page()
def portal(request: HttpRequest) -> HttpResponse:
    creator = creator_of(request.user)
    enrolments = selectors.portal_enrolments(creator)
    current = enrolments[0] if enrolments else None
    context = {
        "creator": creator,
        "enrolments": enrolments,
        "current": current,
        "today": program_today(),
        "donation": selectors.portal_donation(creator),
        # Their page to share, once they have confirmed what the public sees of it.
        "share_url": (
            request.build_absolute_uri(creator.get_absolute_url())
            if creator.consent == creator.Consent.AGREED and creator.erased_at is None
            else ""
        ),
    }
    return render(request, "programs/portal/home.html", context)


@require_POST
@creator_required
def portal_enrolment_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """The creator takes up the place they were offered; the plan's milestones appear."""
    enrolment = get_object_or_404(
        Enrolment.objects.for_creator(creator_of(request.user)).select_related("cohort"), pk=pk
    )
    try:
        services.enrolment_activate(enrolment=enrolment, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Welcome to %(cohort)s! Your milestones are below.") % {"cohort": enrolment.cohort},
        )
    return redirect("programs:portal")


@require_http_methods(["GET", "POST"])
@creator_required
@vary_on_htmx
def portal_milestone(request: HttpRequest, pk: int) -> HttpResponse:
    """One of the creator's own milestones: its feedback, their updates, and the form to send
    one. Anyone else's milestone is a 404: its existence is not revealed."""
    creator = creator_of(request.user)
    milestone = get_object_or_404(
        Milestone.objects.for_creator(creator).select_related("enrolment__cohort"), pk=pk
    )
    indicators = selectors.impact_indicators_active()
    impact = selectors.milestone_impact(milestone)

    def update_form(data=None, files=None) -> ProgressUpdateForm:
        # The figures already reported on this milestone are the starting point.
        initial = {field_name(value.indicator): value.value for value in impact}
        return ProgressUpdateForm(data, files, indicators=indicators, initial=initial)

    form = update_form(request.POST or None, request.FILES or None)
    notice = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.progress_update_submit(
                milestone=milestone,
                author=request.user,
                body=data["body"],
                link=data["link"],
                attachment=data["attachment"],
                tiktok_links=data["tiktok_links"],
                impact=form.impact_values(),
                show_publicly=data["show_publicly"],
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            notice = _("Your update is sent. The program team will review it.")
            if not is_partial(request):
                messages.success(request, notice)
                return redirect("programs:portal-milestone", pk=milestone.pk)
            milestone.refresh_from_db()
            impact = selectors.milestone_impact(milestone)
            form = update_form()
    context = {
        "milestone": milestone,
        "form": form,
        "impact": impact,
        "updates": selectors.milestone_updates(milestone),
        "today": program_today(),
        "notice": notice,
    }
    status = REFUSED if request.method == "POST" and not notice else 200
    if is_partial(request) and request.method == "POST":
        return render(
            request, "programs/portal/milestone.html#milestone-body", context, status=status
        )
    return render(request, "programs/portal/milestone.html", context, status=status)


@require_POST
@creator_required
def portal_update_highlight(request: HttpRequest, pk: int) -> HttpResponse:
    """The creator shows one of their updates on their public page (once staff approve it),
    or takes it off at once. Anyone else's update is a 404."""
    update = get_object_or_404(
        ProgressUpdate.objects.filter(milestone__enrolment__creator=creator_of(request.user)),
        pk=pk,
    )
    form = HighlightWishForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=REFUSED)
    if form.cleaned_data["wish"] == HighlightWishForm.SHOW:
        update = services.highlight_request(update=update, actor=request.user)
        if update.is_public_highlight:
            messages.success(request, _("The update is on your public page again."))
        else:
            messages.success(
                request,
                _("The program team will look at it; it shows on your public page once approved."),
            )
    else:
        services.highlight_withdraw(update=update, actor=request.user)
        messages.success(request, _("The update is no longer on your public page."))
    return redirect("programs:portal-milestone", pk=update.milestone_id)


def _updates_readable(request: HttpRequest, rows, milestone: str):
    """`rows` (of progress updates, or of what hangs on one, `milestone` being the path to its
    milestone) that the reader may see: all of them for staff who may read updates, the
    creator's own for a creator; refused to other staff, a 404 for anyone else."""
    if role_of(request.user) == Role.STAFF:
        if not request.user.has_perm("programs.view_progressupdate"):
            raise PermissionDenied
        return rows
    creator = creator_of(request.user)
    if creator is None:
        raise Http404
    return rows.filter(**{f"{milestone}__enrolment__creator": creator})


@require_GET
@login_required
def update_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """A progress update's attachment, for staff and the creator who sent it; a 404 for
    everyone else. Always a download, never rendered by the browser as a page of ours."""
    updates = ProgressUpdate.objects.select_related("milestone__enrolment__creator")
    update = get_object_or_404(_updates_readable(request, updates, "milestone"), pk=pk)
    if not update.attachment:
        raise Http404
    return upload_response(
        update.attachment, download_name=f"update-{update.pk}", as_attachment=True
    )


@require_GET
def tiktok_thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    """Our copy of a TikTok video's thumbnail, for whoever may read its update (the creator
    who sent it, and staff), and for everyone while the update is a public highlight the
    creator shows (their public page links it): the reader's browser never asks TikTok for
    anything."""
    videos = TikTokVideo.objects.select_related("update__milestone__enrolment__creator")
    public = videos.filter(
        update__in=ProgressUpdate.objects.public_highlights(),
        update__milestone__enrolment__creator__erased_at__isnull=True,
    ).filter(shows_q(PublicField.HIGHLIGHTS, prefix="update__milestone__enrolment__creator__"))
    video = public.filter(pk=pk).first()
    if video is None:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        video = get_object_or_404(_updates_readable(request, videos, "update__milestone"), pk=pk)
    if not video.thumbnail:
        raise Http404
    return upload_response(
        video.thumbnail, download_name=f"tiktok-{video.video_id}", as_attachment=False
    )
