"""Forms of the nonprofit pages and of staff's contact management. Shape only: who may change
what, duplicates and pending requests are the services' to refuse."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from changemakers.core.preferences import TimeZoneField
from creators.forms import country_choices


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


class BankDetailsForm(forms.Form):
    """The bank account a transfer by hand is paid into (a change reviewed before use). The
    field names are the nonprofit's, so a service's refusal lands on its field."""

    bank_account_holder = forms.CharField(
        label=_("Account holder"),
        max_length=140,
        help_text=_("The name on the account, as the bank has it."),
    )
    bank_account_number = forms.CharField(
        label=_("IBAN or account number"),
        max_length=50,
        help_text=_("Spaces are left out. An IBAN's check digits are verified."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    bank_bic = forms.CharField(
        label=_("BIC (SWIFT code)"),
        max_length=11,
        required=False,
        help_text=_("8 or 11 characters; needed when the account is not an IBAN."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    bank_country = forms.ChoiceField(label=_("Country of the bank"), choices=country_choices)
    bank_name = forms.CharField(label=_("Name of the bank"), max_length=140, required=False)

    def service_arguments(self) -> dict[str, str]:
        """The cleaned data as `bank_details_change_request` takes it."""
        data = self.cleaned_data
        return {
            "account_holder": data["bank_account_holder"],
            "account_number": data["bank_account_number"],
            "bic": data["bank_bic"],
            "bank_country": data["bank_country"],
            "bank_name": data["bank_name"],
        }


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


class DescriptionForm(forms.Form):
    """The contact's "what we do" for the public page (reviewed by staff before it shows)."""

    description = forms.CharField(
        label=_("What your organisation does"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "A few sentences for the public: who you help, where, and how. The program team "
            "reads it before it appears on your public page."
        ),
    )
