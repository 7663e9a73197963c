"""The gate: a signed-in session that owes a second factor reaches only the pages that take one
(the verification and set-up pages, the passkey ceremony, sign-out, the language switch).
Everything else, the staff pages and the admin included, sends it there first.

Whether an account has two-factor sign-in on is read once, when it signs in (Django's
`user_logged_in`, so every way in counts: the password, a nonprofit's emailed link, an
invitation), and kept in the session; pages then cost no query for it. The verification page
reads it afresh, so a factor reset by a colleague is noticed there.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.views.i18n import set_language
from django_htmx.http import HttpResponseClientRedirect

from ..redirects import is_site_path
from .services import has_second_factor, required_for

SESSION_KEY = "twofactor_on"
VERIFY = "twofactor:verify"
SETUP = "twofactor:setup"


def second_factor_exempt(view):
    """Mark a view as reachable by a session that still owes its second factor."""
    view.second_factor_exempt = True
    return view


def remember(request, *, on: bool) -> None:
    """Record in the session whether its account has two-factor sign-in on."""
    request.session[SESSION_KEY] = on


def remember_on_sign_in(sender, request, user, **kwargs) -> None:
    """`user_logged_in` receiver (connected in CoreConfig.ready)."""
    if request is not None and hasattr(request, "session"):
        remember(request, on=has_second_factor(user))


def owed_step(request) -> str | None:
    """The page this session must pass before any other: VERIFY, SETUP, or None."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    # Right after `login()` the request's user is the plain account, without django-otp's
    # `is_verified`: a fresh sign-in has passed no second factor yet.
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and is_verified():
        return None
    on = request.session.get(SESSION_KEY)
    if on is None:  # a session signed in before two-factor sign-in existed
        on = has_second_factor(user)
        remember(request, on=on)
    if on:
        return VERIFY
    if required_for(user):
        return SETUP
    return None


def step_url(step: str, next_path: str = "") -> str:
    url = reverse(step)
    if next_path and is_site_path(next_path):
        url = f"{url}?{urlencode({'next': next_path})}"
    return url


def after_sign_in(request, next_path: str) -> str:
    """Where a sign-in sends the browser: straight to the second factor it owes, if any,
    which then continues to `next_path`."""
    step = owed_step(request)
    return step_url(step, next_path) if step else next_path


class SecondFactorMiddleware:
    """Install after django-otp's OTPMiddleware and django-htmx's HtmxMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "second_factor_exempt", False) or view_func is set_language:
            return None
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            # No session, nobody signed in: the session is left unread, so a page that does
            # not read it either (the health check) stays free of `Vary: Cookie`.
            return None
        step = owed_step(request)
        if step is None:
            return None
        next_path = request.get_full_path() if request.method in ("GET", "HEAD") else ""
        url = step_url(step, next_path)
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(url)
        return redirect(url)
