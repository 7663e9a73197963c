"""Forms of the nonprofit pages and of staff's contact management. Shape only: who may change
what, duplicates and pending requests are the services' to refuse."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from changemakers.core.preferences import TimeZoneField


class SignInLinkRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("The address the program team has on file for you."),
    )


class ContactDetailsForm(forms.Form):
    name = forms.CharField(
        label=_("Your name"), max_length=120, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    job_title = forms.CharField(label=_("Job title"), max_length=120, required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    language = forms.ChoiceField(
        label=_("Email language"),
        choices=settings.LANGUAGES,
        help_text=_("The language of the emails the program sends you."),
    )
    # Left out of a submission (a script, an older page): the zone stays as it is.
    time_zone = TimeZoneField(required=False)


class OrganisationDetailsForm(forms.Form):
    contact_email = forms.EmailField(
        label=_("Organisation's contact email"),
        help_text=_("Where the program team writes to your organisation."),
    )
    website = forms.URLField(
        label=_("Website"), max_length=300, required=False, assume_scheme="https"
    )


class PayoutChangeForm(forms.Form):
    payout_reference = forms.CharField(
        label=_("New payout reference"),
        max_length=100,
        help_text=_(
            "The reference your payout provider gave you for the account to be paid into. "
            "The program team checks it with you before it is used."
        ),
    )


def contact_password_form(user, data=None) -> SetPasswordForm:
    """The form to choose a password: a contact who has one gives it first, so a session left
    open is not enough to take the account over; one who signs in by link only has none."""
    if user.has_usable_password():
        return PasswordChangeForm(user, data)
    return SetPasswordForm(user, data)


class ContactCreateForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    name = forms.CharField(label=_("Name"), max_length=120)
    job_title = forms.CharField(label=_("Job title"), max_length=120, required=False)
    language = forms.ChoiceField(label=_("Email language"), choices=settings.LANGUAGES)
