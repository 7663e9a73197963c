"""Asking before an irreversible action, one way for every app.

The action's button is a link to its confirmation: the same URL as the action, answered on
GET with the confirmation (what the action will do, in words, a confirm button that POSTs
to it and a way back) and on POST with the action itself, which keeps requiring POST and the
CSRF token. Without JavaScript the link opens the confirmation as a page of its own
(`components/confirm_page.html`); with htmx the link loads the same confirmation
(`components/confirm.html`) into the page's dialog (`components/confirm_dialog.html`,
opened by static/js/staff.js). The trigger is `components/confirm_button.html`.
"""

from dataclasses import dataclass, field

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .htmx import is_partial, vary_on_htmx

CONFIRM_FRAGMENT = "components/confirm.html"
CONFIRM_PAGE = "components/confirm_page.html"
# Field ids of a confirmation's form: never the same as a field of the page beneath it.
CONFIRM_AUTO_ID = "confirm-%s"


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation of one action says and posts.

    - `title`: the question ("Withdraw Joel Bervell from Cohort 1?");
    - `consequences`: what the action does, as the service does it, one sentence each;
    - `action`: the URL the confirm button posts to; `submit`: its label;
    - `back`: where the way back goes (a path); `dismiss`: its label ("Cancel" when empty);
    - `form`: fields asked with it (a reason), shown and posted; `hidden`: posted as they are;
    - `hx_target`/`hx_swap`: with htmx, the element the POST's answer replaces; empty, the
      confirm button posts the page as without JavaScript.
    """

    title: str
    consequences: list[str]
    action: str
    submit: str
    back: str
    dismiss: str = ""
    form: forms.Form | None = None
    hidden: dict[str, str] = field(default_factory=dict)
    hx_target: str = ""
    hx_swap: str = "innerHTML"
    danger: bool = True
    errors: list[str] = field(default_factory=list)


def confirm_response(
    request: HttpRequest, confirmation: Confirmation, *, status: int = 200
) -> HttpResponse:
    """The confirmation as a fragment for htmx, or as a page."""
    template = CONFIRM_FRAGMENT if is_partial(request) else CONFIRM_PAGE
    return _render(request, template, confirmation, status)


@vary_on_htmx
def _render(request, template, confirmation, status):
    return render(request, template, {"confirmation": confirmation}, status=status)
