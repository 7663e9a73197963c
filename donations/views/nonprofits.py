"""Nonprofit vetting for staff (the list, adding one, verify or verify again, reject, ask for
a change of payout details) and each nonprofit's contacts with their sign-in links.

With htmx a row action answers with the re-rendered row (its refusal shown inside it, with a
422); a verify or reject that went through also sends `nonprofitsChanged`, on which the
"pending" note re-fetches itself. Without JavaScript the same POST redirects back with a
message.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from changemakers.core.confirm import CONFIRM_AUTO_ID, Confirmation, confirm_response
from changemakers.core.htmx import (
    REFUSED,
    Event,
    announce,
    form_refusal,
    partial_target,
    vary_on_htmx,
)
from changemakers.core.redirects import safe_next_path
from changemakers.core.roles import staff_required

from .. import selectors, services
from ..forms import (
    CausesForm,
    DeclineForm,
    NonprofitCreateForm,
    NonprofitFilterForm,
    PayoutChangeForm,
    PayoutMethodForm,
    ReasonForm,
)
from ..models import Grant, Nonprofit, NonprofitContact, PayoutMethod
from ..nonprofit_forms import BankDetailsForm, ContactCreateForm
from ..payouts import get_provider
from .rows import paginate, redirect_with_messages, run_action

NONPROFITS = "donations/staff/nonprofits.html"
CONTACTS = "donations/staff/nonprofit_contacts.html"


@require_GET
@staff_required(perm="donations.view_nonprofit")
@vary_on_htmx
def nonprofit_list(request: HttpRequest) -> HttpResponse:
    target = partial_target(request)
    if target == "pending-note":  # re-fetched after a verify or reject
        return render(
            request,
            f"{NONPROFITS}#pending_note",
            {"status_counts": selectors.nonprofit_status_counts()},
        )
    form = NonprofitFilterForm(request.GET or None)
    filters = form.filters()
    context = {
        "form": form,
        "filtered": any(filters.values()),
        "status_counts": selectors.nonprofit_status_counts(),
        "next": request.get_full_path(),
        **paginate(request, selectors.nonprofits_for_vetting(**filters)),
    }
    template = NONPROFITS if target is None else f"{NONPROFITS}#results"
    return render(request, template, context)


def _nonprofit_action(
    request: HttpRequest,
    pk: int,
    act: Callable[[Nonprofit], object],
    done: str,
    form: ReasonForm | PayoutChangeForm | None = None,
) -> HttpResponse:
    nonprofit = get_object_or_404(Nonprofit, pk=pk)
    back = safe_next_path(request, default=reverse("donations:nonprofit-list"))
    errors = run_action(nonprofit, act, form)
    message = done % {"nonprofit": nonprofit}
    if partial_target(request) is None:
        return redirect_with_messages(request, back, errors, message)
    fresh = selectors.nonprofits_for_vetting().get(pk=pk)
    response = render(
        request,
        f"{NONPROFITS}#row_response",
        {
            "nonprofit": fresh,
            "next": back,
            "row_errors": errors,
            "action_message": "" if errors else message,
        },
        status=REFUSED if errors else 200,
    )
    return response if errors else announce(response, Event.NONPROFITS_CHANGED)


@require_POST
@staff_required(perm="donations.verify_nonprofit")
@vary_on_htmx
def nonprofit_verify(request: HttpRequest, pk: int) -> HttpResponse:
    return _nonprofit_action(
        request,
        pk,
        lambda nonprofit: services.nonprofit_verify(nonprofit=nonprofit, actor=request.user),
        _("%(nonprofit)s is verified."),
    )


@require_http_methods(["GET", "POST"])
@staff_required(perm="donations.verify_nonprofit")
@vary_on_htmx
def nonprofit_reject(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation (what rejecting does to its grants); POST: reject it."""
    if request.method == "GET":
        return confirm_response(request, _reject_confirmation(request, pk))
    form = ReasonForm(request.POST)
    return _nonprofit_action(
        request,
        pk,
        lambda nonprofit: services.nonprofit_reject(
            nonprofit=nonprofit, reason=form.cleaned_data["reason"], actor=request.user
        ),
        _("%(nonprofit)s is rejected."),
        form=form,
    )


def _reject_confirmation(request: HttpRequest, pk: int) -> Confirmation:
    """What `nonprofit_reject` will do, counted: its proposed grants cancelled, its unpaid
    ones held, its paid ones left as they are."""
    nonprofit = get_object_or_404(
        Nonprofit.objects.annotate(
            n_proposed=Count("grants", filter=Q(grants__status=Grant.Status.PROPOSED)),
            n_unpaid=Count("grants", filter=Q(grants__status__in=Grant.UNPAID_STATUSES)),
        ),
        pk=pk,
    )
    names = {"nonprofit": nonprofit.legal_name}
    consequences = [
        _("%(nonprofit)s can no longer be granted money or paid, until someone verifies it again.")
        % names
    ]
    if nonprofit.n_proposed:
        consequences.append(
            ngettext(
                "Its %(count)s proposed grant is cancelled.",
                "Its %(count)s proposed grants are cancelled.",
                nonprofit.n_proposed,
            )
            % {"count": nonprofit.n_proposed}
        )
    if nonprofit.n_unpaid:
        consequences.append(
            ngettext(
                "Its %(count)s approved grant not paid yet is put on hold: its money stays "
                "committed and nothing is sent.",
                "Its %(count)s approved grants not paid yet are put on hold: their money stays "
                "committed and nothing is sent.",
                nonprofit.n_unpaid,
            )
            % {"count": nonprofit.n_unpaid}
        )
    consequences.append(_("Grants already paid stay as they are."))
    back = safe_next_path(request, default=reverse("donations:nonprofit-list"))
    return Confirmation(
        title=_("Reject %(nonprofit)s?") % names,
        consequences=consequences,
        action=reverse("donations:nonprofit-reject", args=[nonprofit.pk]),
        submit=_("Reject the nonprofit"),
        back=back,
        form=ReasonForm(auto_id=CONFIRM_AUTO_ID),
        hidden={"next": back},
    )


@require_POST
@staff_required(perm="donations.change_nonprofit")
@vary_on_htmx
def nonprofit_payout_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff ask for new payout details: filed as a change that someone else reviews on the
    payout changes page, exactly as a contact's request is; nothing is changed yet."""
    form = PayoutChangeForm(request.POST)
    return _nonprofit_action(
        request,
        pk,
        lambda nonprofit: services.payout_change_request(
            nonprofit=nonprofit,
            payout_reference=form.cleaned_data["payout_reference"],
            actor=request.user,
        ),
        _(
            "The change of payout details of %(nonprofit)s waits for review by someone else "
            "on the team."
        ),
        form=form,
    )


@require_http_methods(["GET", "POST"])
@staff_required(perm="donations.add_nonprofit")
def nonprofit_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = NonprofitCreateForm(request.POST)
        if form.is_valid():
            try:
                nonprofit = services.nonprofit_create(**form.cleaned_data, actor=request.user)
            except ValidationError as error:
                form_refusal(form, error)
            else:
                messages.success(
                    request,
                    _("%(nonprofit)s is added and waits for review.") % {"nonprofit": nonprofit},
                )
                return redirect("donations:nonprofit-list")
        status = REFUSED
    else:
        form = NonprofitCreateForm()
        status = 200
    return render(request, "donations/staff/nonprofit_form.html", {"form": form}, status=status)


# --- How a nonprofit is paid: its payout method and bank details ------------------------------

PAYOUTS = "donations/staff/nonprofit_payouts.html"


def _payouts_page(
    request: HttpRequest,
    nonprofit: Nonprofit,
    *,
    method_form: PayoutMethodForm | None = None,
    bank_form: BankDetailsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "nonprofit": nonprofit,
        "electronic_provider": get_provider(),
        "method_form": method_form
        or PayoutMethodForm(initial={"payout_method": nonprofit.payout_method}),
        "bank_form": bank_form or BankDetailsForm(prefix="bank"),
        "pending_change": nonprofit.payout_changes.pending().first(),
        "unpaid_count": nonprofit.grants.unpaid().count(),
    }
    return render(request, PAYOUTS, context, status=status)


@require_GET
@staff_required(perm="donations.view_nonprofit")
def nonprofit_payouts(request: HttpRequest, pk: int) -> HttpResponse:
    """How the nonprofit is paid: its payout method (chosen by a vetter) and the bank details
    a transfer by hand goes to (shown masked; a change is reviewed by finance)."""
    return _payouts_page(request, get_object_or_404(Nonprofit, pk=pk))


@require_POST
@staff_required(perm="donations.set_payout_method")
def nonprofit_payout_method(request: HttpRequest, pk: int) -> HttpResponse:
    nonprofit = get_object_or_404(Nonprofit, pk=pk)
    form = PayoutMethodForm(request.POST)
    if form.is_valid():
        try:
            services.nonprofit_payout_method_set(
                nonprofit=nonprofit, method=form.cleaned_data["payout_method"], actor=request.user
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(
                request,
                _(
                    "%(nonprofit)s is now paid by %(method)s. Its unpaid grants are on hold "
                    "until a finance approver re-confirms each one's payee."
                )
                % {
                    "nonprofit": nonprofit,
                    "method": PayoutMethod(form.cleaned_data["payout_method"]).label.lower(),
                },
            )
            return redirect("donations:nonprofit-payouts", pk=pk)
    return _payouts_page(request, nonprofit, method_form=form, status=REFUSED)


@require_POST
@staff_required(perm="donations.change_nonprofit")
def nonprofit_bank_details(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff ask for new bank details: filed as a change that a finance approver, someone
    else, reviews on the payout changes page; nothing is changed yet."""
    nonprofit = get_object_or_404(Nonprofit, pk=pk)
    form = BankDetailsForm(request.POST, prefix="bank")
    if form.is_valid():
        try:
            services.bank_details_change_request(
                nonprofit=nonprofit, actor=request.user, **form.service_arguments()
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(
                request,
                _(
                    "The new bank details of %(nonprofit)s wait for review by someone else "
                    "on the team."
                )
                % {"nonprofit": nonprofit},
            )
            return redirect("donations:nonprofit-payouts", pk=pk)
    return _payouts_page(request, nonprofit, bank_form=form, status=REFUSED)


# --- Its public page: the description the contact wrote, and its causes ---------------------

PUBLIC_PAGE = "donations/staff/nonprofit_public_page.html"


def _public_page(
    request: HttpRequest,
    nonprofit: Nonprofit,
    *,
    causes_form: CausesForm | None = None,
    decline_form: DeclineForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "nonprofit": nonprofit,
        "is_public": Nonprofit.objects.supported().filter(pk=nonprofit.pk).exists(),
        "causes_form": causes_form or CausesForm(initial={"causes": nonprofit.causes}),
        "decline_form": decline_form or DeclineForm(),
    }
    return render(request, PUBLIC_PAGE, context, status=status)


@require_GET
@staff_required(perm="donations.view_nonprofit")
def nonprofit_public_page(request: HttpRequest, pk: int) -> HttpResponse:
    """What the nonprofit's public page shows, and the description waiting for review."""
    nonprofit = get_object_or_404(
        Nonprofit.objects.select_related("description_submitted_by", "description_reviewed_by"),
        pk=pk,
    )
    return _public_page(request, nonprofit)


@require_POST
@staff_required(perm="donations.verify_nonprofit")
def nonprofit_description_approve(request: HttpRequest, pk: int) -> HttpResponse:
    nonprofit = get_object_or_404(Nonprofit, pk=pk)
    try:
        services.nonprofit_description_approve(nonprofit=nonprofit, actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("The description of %(nonprofit)s is approved and public.")
            % {"nonprofit": nonprofit},
        )
    return redirect("donations:nonprofit-public-page", pk=pk)


@require_POST
@staff_required(perm="donations.verify_nonprofit")
def nonprofit_description_decline(request: HttpRequest, pk: int) -> HttpResponse:
    nonprofit = get_object_or_404(Nonprofit, pk=pk)
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            services.nonprofit_description_decline(
                nonprofit=nonprofit, reason=form.cleaned_data["reason"], actor=request.user
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(
                request,
                _("The description of %(nonprofit)s is declined; its contact sees why.")
                % {"nonprofit": nonprofit},
            )
            return redirect("donations:nonprofit-public-page", pk=pk)
    return _public_page(request, nonprofit, decline_form=form, status=REFUSED)


@require_POST
@staff_required(perm="donations.change_nonprofit")
def nonprofit_causes(request: HttpRequest, pk: int) -> HttpResponse:
    nonprofit = get_object_or_404(Nonprofit, pk=pk)
    form = CausesForm(request.POST)
    if form.is_valid():
        try:
            services.nonprofit_causes_set(
                nonprofit=nonprofit, causes=form.cleaned_data["causes"], actor=request.user
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(
                request, _("The causes of %(nonprofit)s are saved.") % {"nonprofit": nonprofit}
            )
            return redirect("donations:nonprofit-public-page", pk=pk)
    return _public_page(request, nonprofit, causes_form=form, status=REFUSED)


# --- Contacts and their sign-in links -----------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required(perm="donations.view_nonprofitcontact", post_perm="donations.add_nonprofitcontact")
def nonprofit_contacts(request: HttpRequest, pk: int) -> HttpResponse:
    """A nonprofit's contacts, with their open sign-in links; staff add a contact here."""
    nonprofit = get_object_or_404(Nonprofit, pk=pk)
    form = ContactCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.nonprofit_contact_create(
                nonprofit=nonprofit, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            messages.success(
                request,
                _("%(email)s is added; send them a sign-in link when they need one.")
                % {"email": contact.user.email},
            )
            return redirect("donations:nonprofit-contacts", pk=pk)
    context = {
        "nonprofit": nonprofit,
        "payout_failure": nonprofit.payout_failures.open().first(),
        "contacts": selectors.nonprofit_contacts(nonprofit),
        "form": form,
        "next": reverse("donations:nonprofit-contacts", args=[pk]),
    }
    status = REFUSED if request.method == "POST" else 200
    return render(request, CONTACTS, context, status=status)


def _contact_action(
    request: HttpRequest, pk: int, contact_pk: int, act: Callable, done: str
) -> HttpResponse:
    contact = get_object_or_404(
        NonprofitContact.objects.select_related("user"), pk=contact_pk, nonprofit_id=pk
    )
    back = safe_next_path(request, default=reverse("donations:nonprofit-contacts", args=[pk]))
    errors = run_action(contact, act, None)
    message = done % {"email": contact.user.email}
    if partial_target(request) is None:
        return redirect_with_messages(request, back, errors, message)
    fresh = selectors.nonprofit_contacts(contact.nonprofit_id).get(pk=contact_pk)
    return render(
        request,
        f"{CONTACTS}#row_response",
        {
            "contact": fresh,
            "nonprofit_id": pk,
            "next": back,
            "row_errors": errors,
            "action_message": "" if errors else message,
        },
        status=REFUSED if errors else 200,
    )


@require_POST
@staff_required(perm="donations.change_nonprofitcontact")
@vary_on_htmx
def contact_send_link(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    return _contact_action(
        request,
        pk,
        contact_pk,
        lambda contact: services.nonprofit_link_send(contact=contact, actor=request.user),
        _("A sign-in link is on its way to %(email)s."),
    )


@require_POST
@staff_required(perm="donations.change_nonprofitcontact")
@vary_on_htmx
def contact_revoke_links(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    return _contact_action(
        request,
        pk,
        contact_pk,
        lambda contact: services.nonprofit_links_revoke(contact=contact, actor=request.user),
        _("%(email)s is signed out everywhere and every sign-in link is revoked."),
    )
