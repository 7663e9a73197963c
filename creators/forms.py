from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Cause


class ListFilterForm(forms.Form):
    """Filters for one year's public list. Country choices are the countries on that list."""

    country = forms.ChoiceField(label=_("Country"), required=False)
    cause = forms.ChoiceField(label=_("Cause"), required=False)

    def __init__(self, *args, country_choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("All countries")), *country_choices]
        self.fields["cause"].choices = [("", _("All causes")), *Cause.choices]

    def filters(self) -> dict[str, str]:
        """The valid filters; an unknown value is ignored rather than shown as an error."""
        if self.is_valid():
            return {"country": self.cleaned_data["country"], "cause": self.cleaned_data["cause"]}
        return {
            name: self.cleaned_data.get(name, "") if name not in self.errors else ""
            for name in ("country", "cause")
        }
