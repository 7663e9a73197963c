"""The endpoint form. It checks shape only: whether an address may be posted to is the
service's question."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from changemakers.api.models import Integration
from changemakers.core.events import event_type_choices


class EndpointForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=120, help_text=_("Who receives it: the partner's name.")
    )
    integration = forms.ModelChoiceField(
        label=capfirst(_("integration")),
        queryset=Integration.objects.order_by("name"),
        required=False,
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=300,
        required=False,
        help_text=_("What the partner does with these events, and whom to ask there."),
    )
    url = forms.URLField(
        label=_("Address"),
        max_length=500,
        assume_scheme="https",
        help_text=_("The https:// address the partner gave; each event is POSTed there."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"), widget=forms.CheckboxSelectMultiple, choices=()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["events"].choices = event_type_choices()
