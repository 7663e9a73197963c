"""How every view answers htmx, in one place (django-htmx's middleware sets `request.htmx`).

- `partial_target(request)`: the id of the element an htmx request wants re-rendered, or None
  for a full page (no htmx, or htmx restoring its history, which needs the whole page);
- `@vary_on_htmx`: a page whose answer depends on those headers says so (`Vary`), so no
  cache hands a fragment to a full-page visit or the other way round;
- `form_refusal(form, error)`: a service's `ValidationError` onto the form, on the field it
  names when the form has it;
- `REFUSED` (422): the status of every refused submission, with the form re-rendered, for
  htmx (base.html lets it swap a 422) and plain posts alike;
- `Event`: the client events a successful change announces (`HX-Trigger`); each is listened
  to by the parts of the page it refreshes (`data-hx-trigger="<name> from:body"`).
"""

from collections.abc import Callable
from enum import StrEnum
from functools import wraps

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django_htmx.http import trigger_client_event

REFUSED = 422
HTMX_HEADERS = ("HX-Request", "HX-Target")


class Event(StrEnum):
    """Only events some template listens to (tests/core/test_htmx.py checks it)."""

    GRANTS_CHANGED = "grantsChanged"  # the pipeline's status tabs and fund budgets
    NONPROFITS_CHANGED = "nonprofitsChanged"  # the vetting page's "pending" note
    COHORT_CHANGED = "cohortChanged"  # the cohort page's progress grid
    BATCH_CHANGED = "batchChanged"  # a batch page's progress, once a transfer is recorded


def partial_target(request: HttpRequest) -> str | None:
    """The target id of an htmx request ("" when it names none), or None for a full page."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return None
    return htmx.target or ""


def is_partial(request: HttpRequest) -> bool:
    return partial_target(request) is not None


def vary_on_htmx(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """View decorator: the answer varies with the htmx request headers."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        patch_vary_headers(response, HTMX_HEADERS)
        return response

    return wrapped


def announce(response: HttpResponse, event: Event) -> HttpResponse:
    """Tell the page that `event` happened (the parts listening to it refresh themselves)."""
    return trigger_client_event(response, str(event))


def form_refusal(form: forms.Form, error: ValidationError) -> None:
    """Put a service's refusal on the form: on the field it names when the form has it,
    otherwise above the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            target = name if name in form.fields or name == NON_FIELD_ERRORS else None
            form.add_error(target, errors)
    else:
        form.add_error(None, error)
