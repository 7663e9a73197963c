"""The staff pages' forms: a new integration, a new token. Shape only; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from changemakers.core.roles import StaffRole
from donations.models import Nonprofit

from .models import ApiToken, Integration


class IntegrationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    description = forms.CharField(label=_("What it is for"), max_length=300, required=False)
    kind = forms.ChoiceField(
        label=_("It acts for"),
        choices=Integration.Kind.choices,
        widget=forms.RadioSelect,
        initial=Integration.Kind.STAFF,
    )
    roles = forms.MultipleChoiceField(
        label=_("Staff roles (staff integration)"),
        choices=StaffRole.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "What the integration may read and do, as a member of staff with these roles. "
            "Only roles you hold yourself."
        ),
    )
    nonprofit = forms.ModelChoiceField(
        label=_("Nonprofit (nonprofit integration)"),
        queryset=Nonprofit.objects.order_by("legal_name"),
        required=False,
        help_text=_("It reads this nonprofit's grants and nothing else."),
    )


class TokenForm(forms.Form):
    label = forms.CharField(
        label=_("Label"),
        max_length=80,
        required=False,
        help_text=_("Where the token is kept, to tell tokens apart."),
    )
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=ApiToken.Scope.choices,
        widget=forms.RadioSelect,
        initial=ApiToken.Scope.READ,
    )
