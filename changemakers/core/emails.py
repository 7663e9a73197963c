"""Program emails: a subject and a plain-text body rendered from templates in the
recipient's language. `creators` is the bottom of the app graph, so every app sends through
here. Called from services and tasks, never from views."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation


def absolute_url(path: str) -> str:
    """A link for an email: the site's configured base URL plus `path`."""
    return settings.SITE_URL.rstrip("/") + path


def email_render(*, template: str, context: dict, language: str) -> tuple[str, str]:
    """(subject, body) of `<template>_subject.txt` / `<template>_body.txt` in `language`."""
    with translation.override(language):
        subject = render_to_string(f"{template}_subject.txt", context)
        body = render_to_string(f"{template}_body.txt", context)
    # A subject is one line, whatever the template's whitespace.
    return " ".join(subject.split()), body


def email_send(*, to: list[str], template: str, context: dict, language: str) -> None:
    subject, body = email_render(template=template, context=context, language=language)
    EmailMessage(subject=subject, body=body, to=to).send()
