"""The nonprofit's pages, under /nonprofit/: signing in by emailed link, then its own grants,
their timeline and receipt (a printable page and a PDF), its contact and payout details, and
the program's opportunities for nonprofits (signing up, withdrawing).

Every grant is looked up through `Grant.objects.for_nonprofit_pages(<the contact's nonprofit>)`
(the list through `for_nonprofit_list`, which that one builds on), so another organisation's
grant id answers 404, like one that does not exist.
"""

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.csp import CSP
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from changemakers.core.htmx import REFUSED, form_refusal, is_partial, vary_on_htmx
from changemakers.core.pagination import page_context
from changemakers.core.pdf import pdf_render, pdf_response
from changemakers.core.ratelimit import client_address, rate_count, rate_exceeded
from changemakers.core.roles import Role, nonprofit_required, role_of
from changemakers.core.timezones import time_zone_of, time_zone_remember
from changemakers.core.whole_page import page_number, personal_page
from programs.models import Opportunity
from programs.views import opportunities as opportunity_views

from . import selectors, services
from .models import Grant, Nonprofit, NonprofitContact, mask_reference, nonprofit_contact_of
from .nonprofit_forms import (
    BankDetailsForm,
    ContactDetailsForm,
    DescriptionForm,
    OrganisationDetailsForm,
    PayoutChangeForm,
    SignInLinkRequestForm,
    contact_password_form,
)
from .payouts import stripe_connect

PAGE_SIZE = 20
GRANT_DETAIL = "donations/nonprofit/grant_detail.html"
DETAILS = "donations/nonprofit/details.html"

# The public "email me a sign-in link" form: per client address, and per address asked for
# (so nobody's inbox can be flooded), in windows of an hour.
LINK_RATE_WINDOW = 60 * 60
LINK_RATE_PER_CLIENT = 10
LINK_RATE_PER_EMAIL = services.LINK_REQUESTS_PER_WINDOW
# Wrong current passwords on the change-password form, per account: a session left open must
# not become a way to guess the password it was signed in without.
PASSWORD_RATE_WINDOW = 15 * 60
PASSWORD_RATE_LIMIT = 5


def _contact(request: HttpRequest) -> NonprofitContact:
    return nonprofit_contact_of(request.user)


def _grant_or_404(request: HttpRequest, pk: int) -> Grant:
    return get_object_or_404(Grant.objects.for_nonprofit_pages(_contact(request).nonprofit), pk=pk)


# --- Signing in ------------------------------------------------------------------------------


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _rate_keys(request: HttpRequest, email: str) -> list[tuple[str, int]]:
    return [
        (f"nonprofit:link:client:{client_address(request)}", LINK_RATE_PER_CLIENT),
        # A digest: any length fits in a key, and the cache holds no address.
        (f"nonprofit:link:email:{_digest(email.strip().lower())}", LINK_RATE_PER_EMAIL),
    ]


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Ask for a sign-in link by email. The answer is the same whether or not the address
    belongs to a contact, so the page tells nobody who is one."""
    if role_of(request.user) == Role.NONPROFIT:
        return redirect("nonprofit:grant-list")
    form = SignInLinkRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        keys = _rate_keys(request, form.cleaned_data["email"])
        if any(rate_exceeded(key, limit=limit) for key, limit in keys):
            form.add_error(
                None,
                _(
                    "Several sign-in links have been asked for in the last hour. Please "
                    "use the latest one, or try again in an hour."
                ),
            )
            response = render(
                request, "donations/nonprofit/sign_in.html", {"form": form}, status=429
            )
            response["Retry-After"] = str(LINK_RATE_WINDOW)
            return response
        for key, _limit in keys:
            rate_count(key, window=LINK_RATE_WINDOW)
        services.nonprofit_link_ask(email=form.cleaned_data["email"])
        return redirect("nonprofit:sign-in-sent")
    status = REFUSED if request.method == "POST" else 200
    return render(request, "donations/nonprofit/sign_in.html", {"form": form}, status=status)


@require_GET
def sign_in_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "donations/nonprofit/sign_in_sent.html")


# A used, expired, revoked or altered link is gone for good: 410 tells crawlers and scanners too.
LINK_GONE = 410


@require_http_methods(["GET", "POST"])
def link_open(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """The emailed link. Opening it shows a button; only that POST signs in and uses the link,
    so a mail scanner that fetches links does not spend it."""
    link = services.nonprofit_link_for_token(pk=pk, token=token)
    if link is None:
        return render(request, "donations/nonprofit/link_invalid.html", status=LINK_GONE)
    if request.method == "POST":
        try:
            user = services.nonprofit_link_use(link=link, token=token)
        except ValidationError:
            return render(request, "donations/nonprofit/link_invalid.html", status=LINK_GONE)
        auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request,
            _("You are signed in for %(nonprofit)s.") % {"nonprofit": link.contact.nonprofit},
        )
        if link.purpose == link.Purpose.PAYOUT_DETAILS:  # staff asked for new payout details
            return redirect(reverse("nonprofit:details") + "#payout-title")
        return redirect("nonprofit:grant-list")
    return render(request, "donations/nonprofit/link_open.html", {"link": link})


# --- Grants ----------------------------------------------------------------------------------


@require_GET
@nonprofit_required
@personal_page(params={"page": page_number})
def grant_list(request: HttpRequest) -> HttpResponse:
    nonprofit = _contact(request).nonprofit
    context = {
        "nonprofit": nonprofit,
        **page_context(request, Grant.objects.for_nonprofit_list(nonprofit), PAGE_SIZE),
    }
    return render(request, "donations/nonprofit/grants.html", context)


def _grant_context(grant: Grant, **extra) -> dict:
    return {
        "grant": grant,
        "disbursement": selectors.grant_disbursement(grant),
        "timeline": selectors.grant_timeline(grant),
        **extra,
    }


@require_GET
@nonprofit_required
def grant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    grant = _grant_or_404(request, pk)
    return render(request, GRANT_DETAIL, _grant_context(grant))


@require_POST
@nonprofit_required
@vary_on_htmx
def grant_confirm_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    grant = _grant_or_404(request, pk)
    errors: list[str] = []
    try:
        services.grant_receipt_confirm(grant=grant, actor=request.user)
    except ValidationError as error:
        errors = error.messages
    if not is_partial(request):
        for message in errors:
            messages.error(request, message)
        if not errors:
            messages.success(request, _("Thank you: the grant is confirmed as received."))
        return redirect("nonprofit:grant-detail", pk=pk)
    fresh = _grant_or_404(request, pk)
    return render(
        request,
        f"{GRANT_DETAIL}#progress",
        _grant_context(fresh, receipt_errors=errors),
        status=REFUSED if errors else 200,
    )


def _paid_grant_or_404(request: HttpRequest, pk: int) -> Grant:
    grant = _grant_or_404(request, pk)
    if grant.status != Grant.Status.DISBURSED:
        raise Http404
    return grant


@require_GET
@nonprofit_required
def grant_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable acknowledgement of a paid grant."""
    grant = _paid_grant_or_404(request, pk)
    return render(request, "donations/nonprofit/receipt.html", _grant_context(grant))


@require_GET
@nonprofit_required
def grant_receipt_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The acknowledgement of a paid grant as a PDF file, in the reader's language."""
    grant = _paid_grant_or_404(request, pk)
    pdf = pdf_render("donations/pdf/acknowledgement.html", _grant_context(grant), request)
    # The file's name in the reader's language, as a slug: `grant-acknowledgement-42.pdf`.
    name = slugify(pgettext("file name", "grant acknowledgement"))
    return pdf_response(pdf, filename=f"changemakers-{name}-{grant.pk}.pdf")


# --- The contact's and the organisation's details ------------------------------------------


@require_http_methods(["GET", "POST"])
@nonprofit_required
def details(request: HttpRequest) -> HttpResponse:
    """Three forms on one page, told apart by `section`: the contact's own details, the
    organisation's contact details, and a request to change its payout details (reviewed by
    staff before anything changes)."""
    contact = _contact(request)
    nonprofit = contact.nonprofit
    section = request.POST.get("section") if request.method == "POST" else None
    contact_form = ContactDetailsForm(
        request.POST if section == "contact" else None,
        initial={
            "name": contact.name,
            "job_title": contact.job_title,
            "phone": contact.phone,
            "language": contact.language,
            "time_zone": time_zone_of(request.user),
        },
        prefix="contact",
    )
    organisation_form = OrganisationDetailsForm(
        request.POST if section == "organisation" else None,
        initial={"contact_email": nonprofit.contact_email, "website": nonprofit.website},
        prefix="organisation",
    )
    payout_form = PayoutChangeForm(request.POST if section == "payout" else None, prefix="payout")
    bank_form = BankDetailsForm(request.POST if section == "bank" else None, prefix="bank")
    forms_by_section = {
        "contact": (
            contact_form,
            lambda data: services.nonprofit_contact_update(
                contact=contact, actor=request.user, **data
            ),
            _("Your details are saved."),
        ),
        "organisation": (
            organisation_form,
            lambda data: services.nonprofit_details_update(
                nonprofit=nonprofit, actor=request.user, **data
            ),
            _("Your organisation's details are saved."),
        ),
        "payout": (
            payout_form,
            lambda data: services.payout_change_request(
                nonprofit=nonprofit, actor=request.user, **data
            ),
            _(
                "Your new payout details are sent to the program team, who will check them "
                "with you before any payment uses them."
            ),
        ),
        "bank": (
            bank_form,
            lambda data: services.bank_details_change_request(
                nonprofit=nonprofit, actor=request.user, **bank_form.service_arguments()
            ),
            _(
                "Your new bank details are sent to the program team, who will check them "
                "with you before any transfer uses them."
            ),
        ),
    }
    status = 200
    if section in forms_by_section:
        form, save, done = forms_by_section[section]
        if form.is_valid():
            try:
                save(form.cleaned_data)
            except ValidationError as error:
                form_refusal(form, error)
            else:
                if section == "contact" and form.cleaned_data["time_zone"]:
                    time_zone_remember(request, form.cleaned_data["time_zone"])
                messages.success(request, done)
                return redirect("nonprofit:details")
        status = REFUSED
    pending = nonprofit.payout_changes.pending().first()
    context = {
        "contact": contact,
        "nonprofit": nonprofit,
        "contact_form": contact_form,
        "organisation_form": organisation_form,
        "payout_form": payout_form,
        "bank_form": bank_form,
        "payout_masked": mask_reference(nonprofit.payout_reference),
        "pending_change": pending,
        "pending_masked": mask_reference(pending.payout_reference) if pending else "",
        "has_password": request.user.has_usable_password(),
        "now": timezone.now(),
    }
    return render(request, DETAILS, context, status=status)


PUBLIC_PAGE = "donations/nonprofit/public_page.html"


@require_http_methods(["GET", "POST"])
@nonprofit_required
def public_page(request: HttpRequest) -> HttpResponse:
    """ "What we do" for the organisation's public page: written here, public once the program
    team approves it. Shows where the latest text stands (waiting, approved, or declined and
    why) and the text the public sees meanwhile."""
    nonprofit = _contact(request).nonprofit
    status = 200
    if request.method == "POST":
        form = DescriptionForm(request.POST)
        if form.is_valid():
            try:
                services.nonprofit_description_submit(
                    nonprofit=nonprofit,
                    description=form.cleaned_data["description"],
                    actor=request.user,
                )
            except ValidationError as error:
                form_refusal(form, error)
            else:
                messages.success(
                    request,
                    _(
                        "Your text is sent to the program team. It appears on your public "
                        "page once they approve it."
                    ),
                )
                return redirect("nonprofit:public-page")
        status = REFUSED
    else:
        waiting = nonprofit.description_status in (
            Nonprofit.DescriptionStatus.PENDING,
            Nonprofit.DescriptionStatus.DECLINED,
        )
        text = nonprofit.description_pending if waiting else nonprofit.description
        form = DescriptionForm(initial={"description": text})
    context = {
        "nonprofit": nonprofit,
        "form": form,
        "is_public": Nonprofit.objects.supported().filter(pk=nonprofit.pk).exists(),
        "share_url": request.build_absolute_uri(nonprofit.get_absolute_url()),
    }
    return render(request, PUBLIC_PAGE, context, status=status)


@require_http_methods(["GET", "POST"])
@nonprofit_required
def password_set(request: HttpRequest) -> HttpResponse:
    """Choose (or change) a password, to sign in at the usual sign-in page as well. Changing
    one asks for the current one first."""
    contact = _contact(request)
    form = contact_password_form(request.user, request.POST or None)
    rate_key = f"rate:contact-password:{request.user.pk}"
    if request.method == "POST" and rate_exceeded(rate_key, limit=PASSWORD_RATE_LIMIT):
        # Not even checked: the answer to one more guess is not given.
        refusal = _(
            "The current password was wrong several times in a row. Try again in %(minutes)s "
            "minutes, or sign in with a link from the sign-in page."
        ) % {"minutes": PASSWORD_RATE_WINDOW // 60}
        context = {"form": contact_password_form(request.user), "contact": contact}
        response = render(
            request,
            "donations/nonprofit/password.html",
            {**context, "refusal": refusal},
            status=429,
        )
        response["Retry-After"] = str(PASSWORD_RATE_WINDOW)
        return response
    if request.method == "POST" and not form.is_valid() and "old_password" in form.errors:
        rate_count(rate_key, window=PASSWORD_RATE_WINDOW)
    if request.method == "POST" and form.is_valid():
        services.nonprofit_contact_set_password(
            contact=contact, password=form.cleaned_data["new_password1"], actor=request.user
        )
        request.user.refresh_from_db(fields=["password"])
        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your password is set: you can now also sign in with it."))
        return redirect("nonprofit:details")
    status = REFUSED if request.method == "POST" else 200
    return render(
        request,
        "donations/nonprofit/password.html",
        {"form": form, "contact": contact},
        status=status,
    )


# --- Payouts through Stripe: hosted onboarding, so nobody here types bank details -----------

PAYOUTS = "donations/nonprofit/payouts.html"


@require_GET
@nonprofit_required
def payouts(request: HttpRequest) -> HttpResponse:
    """Where Stripe's onboarding comes back to (return and refresh URLs): what Stripe still
    needs, asked afresh from Stripe when the nonprofit has an account."""
    nonprofit = _contact(request).nonprofit
    error = ""
    try:
        nonprofit = services.nonprofit_payouts_refresh(nonprofit=nonprofit, actor=request.user)
    except ValidationError as refusal:
        error = " ".join(refusal.messages)
    context = {
        "nonprofit": nonprofit,
        "error": error,
        "payout_masked": mask_reference(nonprofit.payout_reference),
        "paid_to_stripe": bool(nonprofit.stripe_account_id)
        and nonprofit.payout_reference == nonprofit.stripe_account_id,
        "pending_change": nonprofit.payout_changes.pending().first(),
        "payout_failure": nonprofit.payout_failures.open().first(),
    }
    response = render(request, PAYOUTS, context)
    # This page's forms redirect to Stripe's hosted pages, and a browser holds a form's
    # redirects to the page's form-action: Stripe's origin is added here, on this page only
    # (what Django's csp_override sets, computed per request from the Stripe settings).
    response._csp_config = {
        **settings.SECURE_CSP,
        "form-action": [CSP.SELF, *stripe_connect.hosted_origins()],
    }
    return response


@require_POST
@nonprofit_required
def payouts_setup(request: HttpRequest) -> HttpResponse:
    """Create (once) the nonprofit's Stripe account and send the contact to Stripe's hosted
    onboarding, which sends them back to `payouts`."""
    back = request.build_absolute_uri(reverse("nonprofit:payouts"))
    try:
        url = services.nonprofit_payouts_onboard(
            nonprofit=_contact(request).nonprofit,
            actor=request.user,
            return_url=back,
            refresh_url=back,
        )
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
        return redirect("nonprofit:payouts")
    return redirect(url)


@require_POST
@nonprofit_required
def payouts_manage(request: HttpRequest) -> HttpResponse:
    """Send the contact to their Stripe dashboard (a one-time Login Link), where the bank
    account is changed."""
    try:
        url = services.nonprofit_payouts_login_link(
            nonprofit=_contact(request).nonprofit, actor=request.user
        )
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
        return redirect("nonprofit:payouts")
    return redirect(url)


# --- Opportunities the program offers nonprofits --------------------------------------------

NONPROFIT_OPPORTUNITY_URLS = {
    "list": "nonprofit:opportunity-list",
    "signup": "nonprofit:opportunity-signup",
    "withdraw": "nonprofit:opportunity-withdraw",
}


@require_GET
@nonprofit_required
def opportunity_list(request: HttpRequest) -> HttpResponse:
    """The program's opportunities meant for nonprofits, and the contact's own sign-ups."""
    context = opportunity_views.portal_context(
        request, Opportunity.Audience.NONPROFITS, NONPROFIT_OPPORTUNITY_URLS
    )
    return render(request, opportunity_views.PORTAL, context)


@require_POST
@nonprofit_required
def opportunity_signup(request: HttpRequest, pk: int) -> HttpResponse:
    """The contact takes a place for their organisation (staff see it on the sign-up)."""
    return opportunity_views.portal_signup(
        request,
        pk,
        Opportunity.Audience.NONPROFITS,
        reverse(NONPROFIT_OPPORTUNITY_URLS["list"]),
        organisation=_contact(request).nonprofit.legal_name,
    )


@require_POST
@nonprofit_required
def opportunity_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return opportunity_views.portal_withdraw(
        request, pk, reverse(NONPROFIT_OPPORTUNITY_URLS["list"])
    )
