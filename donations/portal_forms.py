"""Forms for the creator's nomination page: shape only; the rules are in nominations.py."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from .models import Nonprofit


class NominateVerifiedForm(forms.Form):
    nonprofit = forms.ModelChoiceField(
        label=_("Verified nonprofit"),
        queryset=Nonprofit.objects.none(),
        empty_label=_("Choose a nonprofit"),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["nonprofit"].queryset = Nonprofit.objects.verified().order_by("legal_name")


class ProposeNonprofitForm(forms.Form):
    legal_name = forms.CharField(label=_("Legal name"), max_length=200)
    registration_number = forms.CharField(label=_("Registration number"), max_length=64)
    country = forms.ChoiceField(label=_("Country of registration"), choices=countries)
    website = forms.URLField(
        label=_("Website"), max_length=300, required=False, assume_scheme="https"
    )
    contact_email = forms.EmailField(label=_("Contact email"))
