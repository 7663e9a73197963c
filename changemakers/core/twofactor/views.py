"""The pages of two-factor sign-in: verifying a sign-in, setting a factor up, one's own factors
and recovery codes, and the staff page where a colleague's lost factor is reset."""

import json
from base64 import b32encode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.views import CompleteCredentialRegistrationView

from ..htmx import REFUSED, form_refusal
from ..pagination import page_context
from ..ratelimit import rate_clear, rate_count, rate_exceeded
from ..redirects import safe_next_path
from ..roles import Role, role_of, staff_required
from . import services
from .forms import CodeForm, ResetForm, TOTPConfirmForm
from .middleware import SETUP, VERIFY, remember, second_factor_exempt, step_url
from .qr import qr_svg

# Recovery codes just issued, shown once by the recovery codes page and then forgotten.
NEW_CODES_KEY = "twofactor_new_codes"
# The secret of the authenticator app being set up, until a code from it confirms it.
PENDING_KEY = "twofactor_pending_key"
STAFF_PAGE_SIZE = 50
TOO_MANY = 429


def _home(request: HttpRequest) -> str:
    """Where a sign-in goes when it carried no `next` (the sign-in page always gives one)."""
    if role_of(request.user) == Role.STAFF:
        return reverse("backoffice:dashboard")
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _next(request: HttpRequest) -> str:
    return safe_next_path(request, default=_home(request))


def _verified_or_new(request: HttpRequest) -> bool:
    """A person may add a factor once this session passed one, or while they have none."""
    return request.user.is_verified() or not services.has_second_factor(request.user)


def _codes_then(request: HttpRequest, next_path: str) -> HttpResponse:
    """After a factor is added: recovery codes, if the person has none yet, then `next_path`."""
    if services.recovery_codes_left(request.user) == 0:
        request.session[NEW_CODES_KEY] = services.recovery_codes_issue(
            user=request.user, actor=request.user
        )
    return redirect(step_url("twofactor:recovery-codes", next_path))


# --- Signing in ------------------------------------------------------------------------------


def _rate_key(user) -> str:
    return f"twofactor:code:user:{user.pk}"


@second_factor_exempt
@require_http_methods(["GET", "POST"])
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the app, a recovery code, or a passkey."""
    user = request.user
    next_path = _next(request)
    if user.is_verified():
        return redirect(next_path)
    if not services.has_second_factor(user):
        # Reset by a colleague (or never set up): nothing to ask for.
        remember(request, on=False)
        if services.required_for(user):
            return redirect(step_url(SETUP, next_path))
        return redirect(next_path)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        key = _rate_key(user)
        if rate_exceeded(key, limit=settings.TWO_FACTOR_RATE_LIMIT):
            form.add_error(
                None,
                _("Too many wrong codes. Wait a quarter of an hour and try again."),
            )
            status = TOO_MANY
        else:
            device = services.code_check(user=user, code=form.cleaned_data["code"])
            if device is not None:
                rate_clear(key)
                otp_login(request, device)
                request.session.cycle_key()  # a new session id for the fully signed-in session
                if isinstance(device, StaticDevice):
                    left = services.recovery_codes_left(user)
                    messages.warning(
                        request,
                        _(
                            "You used a recovery code; %(count)d left. Get new ones from your "
                            "two-factor page if you are running out."
                        )
                        % {"count": left},
                    )
                return redirect(next_path)
            rate_count(key, window=settings.TWO_FACTOR_RATE_WINDOW)
            form.add_error("code", _("That code is not right, or it was used already."))
            status = REFUSED
    elif request.method == "POST":
        status = REFUSED
    context = {
        "form": form,
        "next": next_path,
        "has_totp": bool(services.totp_devices(user)),
        "has_passkey": bool(services.passkeys(user)),
    }
    response = render(request, "twofactor/verify.html", context, status=status)
    if status == TOO_MANY:
        response["Retry-After"] = str(settings.TWO_FACTOR_RATE_WINDOW)
    return response


# --- Setting up ------------------------------------------------------------------------------


@second_factor_exempt
@require_http_methods(["GET", "POST"])
@login_required
def setup(request: HttpRequest) -> HttpResponse:
    """Add an authenticator app (QR code and secret, then a code to confirm) or a passkey."""
    user = request.user
    next_path = _next(request)
    if not _verified_or_new(request):
        return redirect(step_url(VERIFY, request.get_full_path()))
    key = None
    if not services.totp_devices(user):  # one authenticator app per person
        key = request.session.get(PENDING_KEY)
        if key is None:
            key = request.session[PENDING_KEY] = services.totp_key_new()
    form = TOTPConfirmForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if key is None:
            return redirect(step_url(SETUP, next_path))
        status = REFUSED
        rate_key = _rate_key(user)
        if rate_exceeded(rate_key, limit=settings.TWO_FACTOR_RATE_LIMIT):
            form.add_error(None, _("Too many wrong codes. Wait a quarter of an hour."))
            status = TOO_MANY
        elif form.is_valid():
            try:
                device = services.totp_device_add(
                    user=user, key=key, code=form.cleaned_data["code"], actor=user
                )
            except ValidationError as error:
                rate_count(rate_key, window=settings.TWO_FACTOR_RATE_WINDOW)
                form_refusal(form, error)
            else:
                rate_clear(rate_key)
                del request.session[PENDING_KEY]
                otp_login(request, device)
                request.session.cycle_key()
                remember(request, on=True)
                messages.success(request, _("Your authenticator app is set up."))
                return _codes_then(request, next_path)
    context = {
        "form": form,
        "next": next_path,
        "key": key,
        "required": services.required_for(user) and not services.has_second_factor(user),
    }
    if key is not None:
        pending = TOTPDevice(user=user, key=key)
        context["secret"] = _grouped(pending.bin_key)
        context["qr_code"] = qr_svg(
            pending.config_url, label=_("QR code for your authenticator app")
        )
    response = render(request, "twofactor/setup.html", context, status=status)
    if status == TOO_MANY:
        response["Retry-After"] = str(settings.TWO_FACTOR_RATE_WINDOW)
    return response


def _grouped(key: bytes) -> str:
    """The secret as authenticator apps take it typed: base32, in groups of four."""
    secret = b32encode(key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


class PasskeyRegistrationCompleteView(CompleteCredentialRegistrationView):
    """django-otp-webauthn's last registration step, with the new passkey audited in the same
    transaction, and recovery codes issued if the person has none yet (the page's script then
    opens the recovery codes page)."""

    def post(self, *args, **kwargs):
        with transaction.atomic():
            response = super().post(*args, **kwargs)
            credential = WebAuthnCredential.objects.get(pk=json.loads(response.content)["id"])
            services.passkey_added(device=credential, actor=self.request.user)
        remember(self.request, on=True)
        if services.recovery_codes_left(self.request.user) == 0:
            self.request.session[NEW_CODES_KEY] = services.recovery_codes_issue(
                user=self.request.user, actor=self.request.user
            )
        return response


# --- One's own factors -----------------------------------------------------------------------


@require_http_methods(["GET"])
@login_required
def security(request: HttpRequest) -> HttpResponse:
    """Two-factor sign-in on one's account: what is set up, adding, removing, recovery codes."""
    user = request.user
    context = {
        "totp_devices": services.totp_devices(user),
        "passkeys": services.passkeys(user),
        "codes_left": services.recovery_codes_left(user),
        "on": services.has_second_factor(user),
        "required": services.required_for(user),
    }
    return render(request, "twofactor/security.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Codes just issued, shown this once; or how many are left, and new ones on request."""
    user = request.user
    if request.method == "POST":
        if not services.has_second_factor(user):
            raise Http404
        request.session[NEW_CODES_KEY] = services.recovery_codes_issue(user=user, actor=user)
        return redirect(step_url("twofactor:recovery-codes", _next(request)))
    context = {
        "codes": request.session.pop(NEW_CODES_KEY, None),
        "codes_left": services.recovery_codes_left(user),
        "next": _next(request),
        "on": services.has_second_factor(user),
    }
    return render(request, "twofactor/recovery_codes.html", context)


DEVICE_KINDS = {"app": TOTPDevice, "passkey": WebAuthnCredential}


@require_POST
@login_required
def device_remove(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    model = DEVICE_KINDS.get(kind)
    if model is None:
        raise Http404
    device = get_object_or_404(model.objects.devices_for_user(request.user, confirmed=True), pk=pk)
    try:
        services.device_remove(user=request.user, device=device, actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        on = services.has_second_factor(request.user)
        remember(request, on=on)
        messages.success(
            request,
            _("Removed.") if on else _("Removed: two-factor sign-in is off for your account."),
        )
    return redirect("twofactor:security")


# --- Staff: a colleague's lost second factor -------------------------------------------------


def _accounts_with_factors():
    user_model = get_user_model()
    app = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    passkey = WebAuthnCredential.objects.filter(user=OuterRef("pk"), confirmed=True)
    return (
        user_model.objects.filter(is_active=True)
        .annotate(has_app=Exists(app), has_passkey=Exists(passkey))
        .filter(Q(is_staff=True) | Q(has_app=True) | Q(has_passkey=True))
        .order_by("-is_staff", "username")
        .only("pk", "username", "is_staff")
    )


@require_http_methods(["GET"])
@staff_required
def staff_list(request: HttpRequest) -> HttpResponse:
    """Staff accounts and everyone with two-factor sign-in on, to reset a lost factor."""
    context = {
        "verified": request.user.is_verified(),
        **page_context(request, _accounts_with_factors(), STAFF_PAGE_SIZE),
    }
    return render(request, "twofactor/staff_list.html", context)


@require_POST
@staff_required
def staff_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    """Reset a colleague's second factors, with the reason; never one's own. Like every row
    action, it goes back to the list, saying what was done or why not."""
    account = get_object_or_404(get_user_model(), pk=user_id)
    form = ResetForm(request.POST)
    if not request.user.is_verified():
        messages.error(
            request, _("Sign in with your own second factor before resetting someone else's.")
        )
    elif not form.is_valid():
        messages.error(request, _("Say why the second factor is reset."))
    else:
        try:
            services.second_factor_reset(
                user=account, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _(
                    "The second factor of %(user)s is reset: they set up a new one when they "
                    "next sign in."
                )
                % {"user": account},
            )
    return redirect("twofactor-staff:list")
