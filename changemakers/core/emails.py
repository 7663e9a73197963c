"""Program emails: a subject and a plain-text body rendered from templates in the
recipient's language, with times in the recipient's time zone (the program's if not given).
`creators` is the bottom of the app graph, so every app sends through here. Called from
services and tasks, never from views."""

from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .zones import program_time_zone

# Callables user -> a language code or "", in the order the apps declared them: each app that
# keeps an email language for the accounts linked to its rows (a creator's profile, a
# nonprofit contact's) says where to read it, so the kernel knows no app.
_LANGUAGE_SOURCES: list[Callable] = []


def email_language_declare(source: Callable) -> None:
    """An app can tell the email language of some accounts (`source(user)`: a code, or "")."""
    if source not in _LANGUAGE_SOURCES:
        _LANGUAGE_SOURCES.append(source)


def email_language_of(user) -> str:
    """The language `user` reads the program's emails in: their profile's (declared by the
    app of their role), else their own settings' (staff), else the site's."""
    for source in _LANGUAGE_SOURCES:
        language = source(user)
        if language:
            return language
    from .models import Preferences

    chosen = Preferences.objects.filter(user=user).values_list("language", flat=True).first()
    return chosen or settings.LANGUAGE_CODE


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
