"""Program emails: a subject and a plain-text body rendered from templates in the
recipient's language, with times in the recipient's time zone (the program's if not given).
`creators` is the bottom of the app graph, so every app sends through here. Called from
services and tasks, never from views."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .zones import program_time_zone


def absolute_url(path: str) -> str:
    """A link for an email: the site's configured base URL plus `path`."""
    return settings.SITE_URL.rstrip("/") + path


def email_render(
    *, template: str, context: dict, language: str, time_zone: str | None = None
) -> tuple[str, str]:
    """(subject, body) of `<template>_subject.txt` / `<template>_body.txt` in `language`,
    times in `time_zone`."""
    with translation.override(language), timezone.override(time_zone or program_time_zone()):
        subject = render_to_string(f"{template}_subject.txt", context)
        body = render_to_string(f"{template}_body.txt", context)
    # A subject is one line, whatever the template's whitespace.
    return " ".join(subject.split()), body


def email_send(
    *, to: list[str], template: str, context: dict, language: str, time_zone: str | None = None
) -> None:
    subject, body = email_render(
        template=template, context=context, language=language, time_zone=time_zone
    )
    EmailMessage(subject=subject, body=body, to=to).send()
