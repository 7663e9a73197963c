"""The creator's donation: nominate the nonprofit, then follow the grant. Creators only, and
only their own donation: every query starts from the signed-in creator."""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from changemakers.core.htmx import REFUSED, form_refusal
from changemakers.core.placed_messages import message_place
from changemakers.core.roles import creator_required
from creators.models import creator_of

from . import selectors
from .models import Grant
from .portal_forms import NominateVerifiedForm, ProposeNonprofitForm
from .services import nominations

STEPS = ["proposed", "approved", "scheduled", "processing", "disbursed"]


@require_GET
@creator_required
def donation_status(request: HttpRequest) -> HttpResponse:
    creator = creator_of(request.user)
    grants = list(Grant.objects.filter(creator=creator).with_related().order_by("-created_at"))
    live = next((g for g in grants if g.status in nominations.LIVE_STATUSES), None)
    # The steps of the donation, not each payment attempt staff see on the grant's page.
    history = selectors.grant_step_events(live) if live else []
    # A payment whose outcome is unknown was sent: the creator sees it as sent until it is
    # settled either way.
    shown = "processing" if live is not None and live.status == Grant.Status.UNKNOWN else None
    shown = shown or (live.status if live is not None else None)
    reached = STEPS.index(shown) if shown in STEPS else -1
    steps = [
        {"code": code, "label": Grant.Status(code).label, "done": i <= reached}
        for i, code in enumerate(STEPS)
    ]
    return render(
        request,
        "donations/portal/status.html",
        {
            "creator": creator,
            "live": live,
            "earlier": [g for g in grants if g is not live],
            "history": history,
            "steps": steps,
        },
    )


@require_http_methods(["GET", "POST"])
@creator_required
def nominate(request: HttpRequest) -> HttpResponse:
    creator = creator_of(request.user)
    live = nominations.donation_live(creator)
    choice = request.POST.get("choice")
    verified_form = NominateVerifiedForm(request.POST if choice == "verified" else None)
    propose_form = ProposeNonprofitForm(request.POST if choice == "new" else None)
    status = 409 if request.method == "POST" and live is not None else 200
    if request.method == "POST" and live is None:
        form = verified_form if choice == "verified" else propose_form
        if choice in ("verified", "new") and form.is_valid():
            try:
                if choice == "verified":
                    nominations.nomination_create(
                        creator=creator,
                        actor=request.user,
                        nonprofit=form.cleaned_data["nonprofit"],
                    )
                else:
                    nominations.nomination_create(
                        creator=creator, actor=request.user, new_nonprofit=form.cleaned_data
                    )
            except ValidationError as error:
                form_refusal(form, error)
            else:
                # Shown on the donation it made, where the creator lands.
                message_place(
                    request,
                    _("Thank you! Your nomination is with the program team.")
                    if choice == "verified"
                    else _("Thank you! The program team will vet this nonprofit first."),
                    place="live-donation",
                )
                return redirect(reverse("portal-donations:status") + "#live-done")
        status = REFUSED
    return render(
        request,
        "donations/portal/nominate.html",
        {
            "creator": creator,
            "live": live,
            "verified_form": verified_form,
            "propose_form": propose_form,
            "choice": choice,
        },
        status=status,
    )
