"""What the staff pages of donations share: paging, where a POST goes back to, and the row
actions' plumbing (run the service, collect what refused it, answer without JavaScript)."""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from changemakers.core.pagination import page_context

PAGE_SIZE = 50


def paginate(request: HttpRequest, queryset, *, count: int | None = None) -> dict:
    return page_context(request, queryset, PAGE_SIZE, count=count)


def is_id(value: str) -> bool:
    """A primary key as a form sends it: ASCII digits, within the database's integer range
    ("²" is a digit to str.isdigit, and SQLite refuses integers past 64 bits)."""
    return value.isascii() and value.isdigit() and 0 < int(value) < 2**63


def run_action[M](obj: M, act: Callable[[M], object], form: forms.Form | None) -> list[str]:
    """Call the service behind a row action; what refused it (the form, the service) as a
    list of readable messages, empty when it went through."""
    if form is not None and not form.is_valid():
        return [message for messages_ in form.errors.values() for message in messages_]
    try:
        act(obj)
    except ValidationError as error:
        return error.messages
    return []


def redirect_with_messages(
    request: HttpRequest, to: str, errors: list[str], done: str
) -> HttpResponse:
    """The answer to a row action without JavaScript: back where it came from, with what
    happened as messages."""
    for error in errors:
        messages.error(request, error)
    if not errors:
        messages.success(request, done)
    return redirect(to)
