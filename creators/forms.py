from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from changemakers.core.content_languages import TranslatedFieldsMixin
from changemakers.core.preferences import TimeZoneField
from changemakers.core.uploads import image_check, image_without_metadata, rename_checked

from .models import Cause, PublicField, handle_validator


class SignInForm(AuthenticationForm):
    """Django's sign-in form, asking for what everyone signs in with: their email address.
    Accounts are named by their email, so the field keeps its name (`username`), which
    django-axes counts failures by."""

    def __init__(self, request=None, *args, **kwargs) -> None:
        super().__init__(request, *args, **kwargs)
        username = self.fields["username"]
        username.label = _("Email")
        username.widget.input_type = "email"
        username.widget.attrs.update({"autocomplete": "username", "spellcheck": "false"})

    def get_invalid_login_error(self) -> forms.ValidationError:
        # "Please enter a correct email and password...", in Django's own words.
        return forms.ValidationError(
            self.error_messages["invalid_login"],
            code="invalid_login",
            params={"username": _("email")},
        )


def handle_normalize(value: str) -> str:
    """A handle as typed (" @JoelBervell ") as it is stored: without spaces or the @."""
    return value.strip().lstrip("@").strip()


class HandleField(forms.CharField):
    """A TikTok handle, typed with or without its @ (stored without). One wording for its
    help and its errors everywhere a handle is typed."""

    default_validators = [handle_validator]

    def __init__(self, *, help_text=None, **kwargs) -> None:
        kwargs.setdefault("label", _("Handle"))
        kwargs.setdefault("max_length", 31)
        super().__init__(
            help_text=_("Their TikTok handle, such as @joelbervell.")
            if help_text is None
            else help_text,
            **kwargs,
        )
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def to_python(self, value) -> str:
        return handle_normalize(super().to_python(value))


def country_choices() -> list[tuple[str, str]]:
    """Countries in the active language, after an empty choice: a required country starts
    unchosen rather than on the first country of the alphabet."""
    return [("", _("Choose a country")), *countries]


class ListFilterForm(forms.Form):
    """Filters for one year's public list. Country choices are the countries on that list."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name or @handle")}),
    )
    country = forms.ChoiceField(label=_("Country"), required=False)
    cause = forms.ChoiceField(label=_("Cause"), required=False)

    def __init__(self, *args, country_choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("All countries")), *country_choices]
        self.fields["cause"].choices = [("", _("All causes")), *Cause.choices]

    def filters(self) -> dict[str, str]:
        """The valid filters; an unknown value is ignored rather than shown as an error."""
        names = ("q", "country", "cause")
        if self.is_valid():
            return {name: self.cleaned_data[name] for name in names}
        return {
            name: self.cleaned_data.get(name, "") if name not in self.errors else ""
            for name in names
        }


MAX_LINKS = 5
PHOTO_MAX_BYTES = 2 * 1024 * 1024


class ProfileForm(forms.Form):
    """The creator's own profile. Uniqueness of the handle is the service's (and database's)
    to decide; this form checks shape, and the photo's real type and size."""

    display_name = forms.CharField(label=_("Display name"), max_length=120)
    handle = HandleField(help_text=_("Your TikTok handle, such as @joelbervell."))
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
    # Left out of a submission (a script, an older page): the zone stays as it is.
    time_zone = TimeZoneField(required=False)
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        help_text=_("A JPEG, PNG or WebP image of at most 2 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    remove_photo = forms.BooleanField(label=_("Remove my photo"), required=False)

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if not photo:
            return None
        checked = image_check(photo, max_bytes=PHOTO_MAX_BYTES)
        # Public: stored without the location and camera details a phone writes into it.
        return rename_checked(image_without_metadata(photo, checked), checked)


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


# --- Staff: the yearly list editions and the program page ------------------------------------


class EditionForm(TranslatedFieldsMixin, forms.Form):
    translated_fields = ("title", "introduction")

    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("Title"), max_length=200)
    introduction = forms.CharField(
        label=_("Introduction"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class EditionTextForm(TranslatedFieldsMixin, forms.Form):
    translated_fields = ("title", "introduction")

    title = forms.CharField(label=_("Title"), max_length=200)
    introduction = forms.CharField(
        label=_("Introduction"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class EntryEditForm(TranslatedFieldsMixin, forms.Form):
    """An entry's country, cause, citation (English, and optionally each other language) and
    position. Whether the position is free is the service's (and the database's) to say."""

    translated_fields = ("citation",)

    country = forms.ChoiceField(label=_("Country"))
    cause = forms.ChoiceField(label=_("Cause"), choices=Cause.choices)
    citation = forms.CharField(
        label=_("Citation"),
        max_length=280,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 280}),
    )
    position = forms.IntegerField(label=_("Position"), min_value=1, max_value=32767)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = country_choices()


class EntryAddForm(EntryEditForm):
    """A new entry: the creator by handle (picked from a search, or typed with or without its
    @); an empty country or cause takes the creator's current one, an empty position the next
    after the last."""

    handle = HandleField(
        label=_("Creator"),
        help_text="",
        error_messages={"required": _("Search for the creator, then pick them.")},
    )
    field_order = ["handle", "country", "cause", "citation", "position"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].required = False
        self.fields["country"].choices = [("", _("The creator's current country")), *countries]
        self.fields["cause"].required = False
        self.fields["cause"].choices = [("", _("The creator's first cause")), *Cause.choices]
        self.fields["position"].required = False
        self.fields["position"].help_text = _("Empty: after the last entry.")


class ListImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 text, at most 256 KB and 1,000 rows."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> list:
        """The file's rows (see creators.list_import.csv_rows), read at most one byte past
        the size limit."""
        from .list_import import MAX_BYTES, csv_rows

        upload = self.cleaned_data["file"]
        upload.seek(0)
        return csv_rows(upload.read(MAX_BYTES + 1))


class UnpublishForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class PublishForm(forms.Form):
    """Asked with the confirmation of publishing while some creators have not confirmed."""

    without_unconfirmed = forms.BooleanField(
        label=_("Publish without the creators who have not confirmed"), required=False
    )


class ConsentForm(forms.Form):
    """What the creator shows the public, and their agreement. Nothing is ticked until they
    tick it: the least is the default."""

    public_fields = forms.MultipleChoiceField(
        label=_("Show the public"),
        choices=PublicField.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "Your name and @handle are always public. Tick what else the public may see on the "
            "list, your profile page and the program's exports."
        ),
    )
    agree = forms.BooleanField(
        label=_("I agree to appear on the published Change Makers list with these fields."),
        error_messages={
            "required": _("Tick this box to confirm; without it you do not appear on the list.")
        },
    )
