"""The public application form: anyone may apply to the program, a few times an hour at most
from one connection."""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from changemakers.core.htmx import REFUSED, form_refusal
from changemakers.core.ratelimit import client_address, rate_count, rate_exceeded

from .. import services
from ..forms import ApplicationForm

# The public application form takes at most APPLY_RATE_LIMIT applications per client address
# (client_address) in a window of APPLY_RATE_WINDOW seconds, counted in Django's cache; past it
# the form answers 429. A fixed window that starts with the address's first application.
APPLY_RATE_LIMIT = 5
APPLY_RATE_WINDOW = 60 * 60


def _apply_rate_key(request: HttpRequest) -> str:
    return f"programs:apply:{client_address(request)}"


def _apply_rate_count(request: HttpRequest) -> None:
    rate_count(_apply_rate_key(request), window=APPLY_RATE_WINDOW)


@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    form = ApplicationForm(request.POST or None, initial={"language": request.LANGUAGE_CODE})
    if request.method == "POST":
        if rate_exceeded(_apply_rate_key(request), limit=APPLY_RATE_LIMIT):
            form.add_error(
                None,
                _(
                    "We have received several applications from your connection in the last "
                    "hour. Please try again in an hour, or write to us if you need help."
                ),
            )
            response = render(request, "programs/apply.html", {"form": form}, status=429)
            response["Retry-After"] = str(APPLY_RATE_WINDOW)
            return response
        if form.is_bot():
            # Looks accepted, so the bot learns nothing; nothing is stored.
            _apply_rate_count(request)
            return redirect("programs:apply-done")
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != form.HONEYPOT}
            try:
                services.application_submit(**data)
            except ValidationError as error:
                form_refusal(form, error)
            else:
                _apply_rate_count(request)
                return redirect("programs:apply-done")
    status = REFUSED if request.method == "POST" else 200
    return render(request, "programs/apply.html", {"form": form}, status=status)


@require_GET
def apply_done(request: HttpRequest) -> HttpResponse:
    return render(request, "programs/apply_done.html")
