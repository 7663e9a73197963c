from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from .models import Cause, handle_validator
from .uploads import image_check, rename_checked


def country_choices() -> list[tuple[str, str]]:
    """Countries in the active language, after an empty choice: a required country starts
    unchosen rather than on the first country of the alphabet."""
    return [("", _("Choose a country")), *countries]


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


MAX_LINKS = 5
PHOTO_MAX_BYTES = 2 * 1024 * 1024


class ProfileForm(forms.Form):
    """The creator's own profile. Uniqueness of the handle is the service's (and database's)
    to decide; this form checks shape, and the photo's real type and size."""

    display_name = forms.CharField(label=_("Display name"), max_length=120)
    handle = forms.CharField(
        label=_("Handle"),
        max_length=31,
        help_text=_("2 to 30 letters, digits, dots or underscores; the @ is optional."),
    )
    country = forms.ChoiceField(label=_("Country"), choices=country_choices)
    causes = forms.MultipleChoiceField(
        label=_("Causes"), choices=Cause.choices, widget=forms.CheckboxSelectMultiple
    )
    bio = forms.CharField(
        label=_("Bio"), widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=2000
    )
    language = forms.ChoiceField(
        label=_("Email language"),
        choices=settings.LANGUAGES,
        help_text=_("Reminders and messages from the program come in this language."),
    )
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        help_text=_("A JPEG, PNG or WebP image of at most 2 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    remove_photo = forms.BooleanField(label=_("Remove my photo"), required=False)

    def clean_handle(self) -> str:
        handle = self.cleaned_data["handle"].strip().lstrip("@")
        handle_validator(handle)
        return handle

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if not photo:
            return None
        return rename_checked(photo, image_check(photo, max_bytes=PHOTO_MAX_BYTES))


class LinkForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=60, required=False)
    url = forms.URLField(label=_("Address"), max_length=500, required=False, assume_scheme="https")

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("label")) != bool(cleaned.get("url")):
            raise forms.ValidationError(
                _("Give a link both a label and an address, or leave both empty."),
                code="link_incomplete",
            )
        return cleaned


def link_formset(*, data=None, initial: list[dict]) -> forms.BaseFormSet:
    """Existing links plus empty rows up to the maximum, so a link can be added without JS."""
    formset_class = forms.formset_factory(
        LinkForm,
        extra=max(0, MAX_LINKS - len(initial)),
        max_num=MAX_LINKS,
        absolute_max=MAX_LINKS,
        validate_max=True,
    )
    return formset_class(data=data, initial=initial, prefix="links")


def links_from(formset: forms.BaseFormSet) -> list[tuple[str, str]]:
    return [
        (form.cleaned_data["label"], form.cleaned_data["url"])
        for form in formset.forms
        if form.cleaned_data.get("label") and form.cleaned_data.get("url")
    ]
