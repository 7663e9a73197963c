"""The "Your settings" page every signed-in person has (staff have no other profile): their time
zone and, for staff, the language of the program's emails. Creators and nonprofit contacts
also choose their zone on their profile page, with the same field."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from .htmx import REFUSED, form_refusal
from .roles import Role, role_of
from .timezones import preferences_of, preferences_update, time_zone_remember
from .zones import time_zone_choices


class TimeZoneField(forms.ChoiceField):
    """A select of the tz database's zones, grouped by region, each with today's offset."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", gettext_lazy("Time zone"))
        kwargs.setdefault(
            "help_text",
            gettext_lazy(
                "Dates and times on your pages and in your emails are shown in this zone."
            ),
        )
        kwargs.setdefault(
            "error_messages",
            {
                "invalid_choice": gettext_lazy(
                    "“%(value)s” is not a time zone we offer. Pick one from the list, such as "
                    "Africa/Nairobi."
                ),
                "required": gettext_lazy("Pick your time zone."),
            },
        )
        super().__init__(choices=time_zone_choices, **kwargs)


class PreferencesForm(forms.Form):
    time_zone = TimeZoneField()
    language = forms.ChoiceField(
        label=gettext_lazy("Email language"),
        choices=settings.LANGUAGES,
        help_text=gettext_lazy("The language of the emails the program sends you."),
    )


@require_http_methods(["GET", "POST"])
@login_required
def preferences_edit(request: HttpRequest) -> HttpResponse:
    """One's own settings: nobody else's can be reached from here (no id in the address)."""
    preferences = preferences_of(request.user)
    # Creators and nonprofit contacts choose their email language on their profile.
    with_language = role_of(request.user) in (Role.STAFF, Role.MEMBER)
    form = PreferencesForm(
        request.POST if request.method == "POST" else None,
        initial={
            "time_zone": preferences.time_zone,
            "language": preferences.language or settings.LANGUAGE_CODE,
        },
    )
    if not with_language:
        del form.fields["language"]
    if request.method == "POST" and form.is_valid():
        try:
            preferences = preferences_update(
                user=request.user, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form_refusal(form, error)
        else:
            time_zone_remember(request, preferences.time_zone)
            messages.success(request, _("Your settings are saved."))
            return redirect("preferences")
    status = REFUSED if request.method == "POST" else 200
    context = {"form": form, "now": timezone.now(), "with_language": with_language}
    return render(request, "accounts/preferences.html", context, status=status)
