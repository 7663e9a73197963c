"""Forms check shape only; capacity, one active cohort per creator, review states and the
rest are the services' to decide."""

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from changemakers.core.content_languages import TranslatedFieldsMixin, collated
from changemakers.core.uploads import (
    PDF_TYPE,
    attachment_check,
    image_without_metadata,
    rename_checked,
)
from creators.forms import HandleField, country_choices
from creators.models import Cause, Creator

from .models import (
    COHORT_EARLIEST,
    COHORT_LATEST,
    Cohort,
    Enrolment,
    ImpactIndicator,
    MilestonePlanItem,
    Opportunity,
)
from .services import DEFAULT_MILESTONE_PLAN
from .services.cohorts import plan_title_values
from .services.impact import field_name
from .tiktok import MAX_LINKS, video_link_parse

ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
PLAN_MAX_DAYS = 186


class DateInput(forms.DateInput):
    input_type = "date"


class CohortForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    start_date = forms.DateField(
        label=_("Start date"),
        widget=DateInput(
            attrs={"min": COHORT_EARLIEST.isoformat(), "max": COHORT_LATEST.isoformat()}
        ),
        help_text=_("The cohort ends six months later."),
    )
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, max_value=100, initial=10)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class PlanItemForm(TranslatedFieldsMixin, forms.Form):
    translated_fields = ("title",)

    title = forms.CharField(
        label=_("Milestone"),
        max_length=MilestonePlanItem._meta.get_field("title").max_length,
        required=False,
    )
    offset_days = forms.IntegerField(
        label=_("Days after the start"), min_value=0, max_value=PLAN_MAX_DAYS, required=False
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("title") and cleaned.get("offset_days") is None:
            self.add_error("offset_days", _("Say when this milestone is due."))
        if cleaned.get("offset_days") is not None and not cleaned.get("title"):
            self.add_error("title", _("Give this milestone a title."))
        return cleaned


PlanFormSet = forms.formset_factory(PlanItemForm, extra=2, max_num=12, absolute_max=12)


def plan_formset(data=None) -> forms.BaseFormSet:
    # The usual plan's titles in every language the catalogue has them in.
    initial = [
        {"title": values.pop("title"), "offset_days": days, **values}
        for values, days in (
            (plan_title_values(title), days) for title, days in DEFAULT_MILESTONE_PLAN
        )
    ]
    return PlanFormSet(data=data, initial=None if data else initial, prefix="plan")


def plan_from(formset: forms.BaseFormSet) -> list[tuple[str, int, dict[str, str]]]:
    return [
        (form.cleaned_data["title"], form.cleaned_data["offset_days"], form.translations())
        for form in formset.forms
        if form.cleaned_data.get("title")
    ]


class InviteExistingForm(forms.Form):
    """A creator already in the program, picked from a search (components/picker.html posts
    their id), offered a place."""

    creator = forms.ModelChoiceField(
        label=_("Creator"),
        queryset=Creator.objects.none(),
        error_messages={
            "required": _("Search for the creator, then pick them."),
            "invalid_choice": _("This creator cannot be invited to this cohort."),
        },
    )
    email = forms.EmailField(
        label=_("Email for the portal invitation"),
        required=False,
        help_text=_("Needed when the creator has no portal account yet."),
    )
    mission = forms.CharField(
        label=_("Mission"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, cohort: Cohort, **kwargs) -> None:
        # Two invitation forms share the cohort page: their ids must not collide.
        kwargs.setdefault("auto_id", "id_existing_%s")
        super().__init__(*args, **kwargs)
        self.fields["creator"].queryset = (
            Creator.objects.public()
            .exclude(enrolments__cohort=cohort)
            .order_by(collated("display_name"), "pk")
        )

    def clean(self):
        cleaned = super().clean()
        creator = cleaned.get("creator")
        if creator is not None and not cleaned.get("email"):
            user = creator.user
            if user is None or not user.has_usable_password():
                self.add_error(
                    "email", _("This creator has no portal account yet: give their email.")
                )
        return cleaned


class InviteNewForm(forms.Form):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "id_new_%s")
        super().__init__(*args, **kwargs)

    display_name = forms.CharField(label=_("Name"), max_length=120)
    handle = HandleField()
    email = forms.EmailField(label=_("Email"))
    country = forms.ChoiceField(label=_("Country"), choices=country_choices)
    causes = forms.MultipleChoiceField(
        label=_("Causes"), choices=Cause.choices, widget=forms.CheckboxSelectMultiple
    )
    mission = forms.CharField(
        label=_("Mission"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    note = forms.CharField(
        label=_("Personal note in the email"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class ReviewForm(forms.Form):
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"

    decision = forms.ChoiceField(
        choices=[(APPROVE, _("Approve")), (REQUEST_CHANGES, _("Request changes"))],
        widget=forms.HiddenInput,
    )
    feedback = forms.CharField(
        label=_("Feedback for the creator"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("Required when you request changes; the creator is emailed it."),
    )


class HighlightWishForm(forms.Form):
    SHOW = "show"
    HIDE = "hide"

    wish = forms.ChoiceField(choices=[(SHOW, SHOW), (HIDE, HIDE)], widget=forms.HiddenInput)


class HighlightDecisionForm(forms.Form):
    """Staff's decision on a public highlight, with the public summary in each language
    (optional: without one the public page shows the creator's own text)."""

    APPROVE = "approve"
    DECLINE = "decline"

    decision = forms.ChoiceField(
        choices=[(APPROVE, _("Approve as a public highlight")), (DECLINE, _("Decline"))],
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, update=None, **kwargs) -> None:
        prefix = f"highlight-{update.pk}" if update is not None else "highlight"
        kwargs.setdefault("prefix", prefix)
        if update is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                f"summary_{code}": getattr(update, f"public_summary_{code}") or ""
                for code, _name in settings.LANGUAGES
            }
        super().__init__(*args, **kwargs)
        for code, name in settings.LANGUAGES:
            self.fields[f"summary_{code}"] = forms.CharField(
                label=_("Public summary (%(language)s)") % {"language": name},
                widget=forms.Textarea(attrs={"rows": 2, "lang": code, "dir": "auto"}),
                required=False,
                max_length=2000,
            )

    def summary_fields(self):
        return [self[f"summary_{code}"] for code, _name in settings.LANGUAGES]

    def summaries(self) -> dict[str, str]:
        return {code: self.cleaned_data[f"summary_{code}"] for code, _name in settings.LANGUAGES}


class ProgressUpdateForm(forms.Form):
    body = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 6}))
    link = forms.URLField(
        label=_("Link"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("A video, a post or a report that shows the work."),
    )
    attachment = forms.FileField(
        label=_("Attachment"),
        required=False,
        help_text=_("Optional: a PDF or a JPEG, PNG or WebP image of at most 5 MB."),
        widget=forms.ClearableFileInput(
            attrs={"accept": "application/pdf,image/jpeg,image/png,image/webp"}
        ),
    )

    tiktok_links = forms.CharField(
        label=_("TikTok videos"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Optional: up to five links to your TikTok videos, one a line, such as "
            "https://www.tiktok.com/@handle/video/1234567890. A preview is shown once fetched."
        ),
    )

    show_publicly = forms.BooleanField(
        label=_("Show this update on my public page"),
        required=False,
        help_text=_(
            "It appears once the program team approves it, if you show highlights on your "
            "public page. You can take it back at any time."
        ),
    )

    def __init__(self, *args, indicators=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # One optional number per active indicator, named after it (`impact_<id>`).
        self.indicators = list(indicators)
        for indicator in self.indicators:
            self.fields[field_name(indicator)] = forms.DecimalField(
                label=f"{indicator.name} ({indicator.unit})",
                required=False,
                min_value=0,
                max_digits=14,
                decimal_places=0 if indicator.whole_numbers else 2,
                help_text=indicator.description,
                widget=forms.NumberInput(
                    attrs={"step": "1" if indicator.whole_numbers else "0.01", "min": "0"}
                ),
            )

    def impact_fields(self):
        return [self[field_name(indicator)] for indicator in self.indicators]

    def impact_values(self) -> dict:
        """Each indicator and the value sent for it (None when the field was left empty)."""
        return {
            indicator: self.cleaned_data.get(field_name(indicator)) for indicator in self.indicators
        }

    def clean_tiktok_links(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["tiktok_links"].splitlines()]
        lines = [line for line in lines if line]
        if len(lines) > MAX_LINKS:
            raise forms.ValidationError(
                _("At most %(count)s TikTok videos an update.") % {"count": MAX_LINKS},
                code="too_many_links",
            )
        errors, links = [], []
        for line in lines:
            try:
                links.append(video_link_parse(line).url)
            except forms.ValidationError as error:
                errors.extend(error.error_list)
        if errors:
            raise forms.ValidationError(errors)
        return links

    def clean_attachment(self):
        attachment = self.cleaned_data.get("attachment")
        if not attachment:
            return None
        checked = attachment_check(attachment, max_bytes=ATTACHMENT_MAX_BYTES)
        if checked.content_type != PDF_TYPE[1]:
            # A photo of the work can carry where it was taken (EXIF GPS): kept pixels only.
            attachment = image_without_metadata(attachment, checked)
        return rename_checked(attachment, checked)


class ApplicationForm(forms.Form):
    # A honeypot: hidden from people and assistive technology (apply.html), so only a bot
    # fills it in. The view then answers as if accepted and stores nothing.
    HONEYPOT = "website"

    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    display_name = forms.CharField(label=_("Your name"), max_length=120)
    handle = HandleField(
        label=_("Your handle"), help_text=_("Your TikTok handle, such as @joelbervell.")
    )
    email = forms.EmailField(label=_("Email"))
    country = forms.ChoiceField(label=_("Country"), choices=country_choices)
    causes = forms.MultipleChoiceField(
        label=_("Causes"), choices=Cause.choices, widget=forms.CheckboxSelectMultiple
    )
    channel_url = forms.URLField(label=_("Main channel"), max_length=500, assume_scheme="https")
    follower_count = forms.IntegerField(label=_("Followers"), min_value=0, initial=0)
    mission = forms.CharField(
        label=_("What do you want to achieve in six months?"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=4000,
    )
    cohort = forms.ModelChoiceField(
        label=_("Cohort"),
        queryset=Cohort.objects.none(),
        required=False,
        empty_label=_("The next cohort that fits"),
    )
    language = forms.ChoiceField(label=_("Language for our emails"), choices=settings.LANGUAGES)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cohort"].queryset = Cohort.objects.filter(
            status=Cohort.Status.PLANNING
        ).order_by("start_date")

    def is_bot(self) -> bool:
        """Whether the hidden honeypot field came back filled in."""
        return self.is_bound and bool(self.data.get(self.HONEYPOT, "").strip())


class AcceptForm(forms.Form):
    cohort = forms.ModelChoiceField(label=_("Cohort"), queryset=Cohort.objects.none())

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cohort"].queryset = Cohort.objects.filter(
            Q(status=Cohort.Status.PLANNING) | Q(status=Cohort.Status.ACTIVE)
        ).order_by("start_date")


class DeclineForm(forms.Form):
    message = forms.CharField(
        label=_("Message to the applicant"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Emailed to the applicant, in the language they chose."),
    )


class ImpactIndicatorForm(forms.ModelForm):
    class Meta:
        model = ImpactIndicator
        fields = [
            "name",
            "unit",
            "description",
            "aggregation",
            "whole_numbers",
            "active",
            "position",
        ]
        widgets = {"aggregation": forms.RadioSelect}


class ImpactCorrectionForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Corrected value"), min_value=0, max_digits=14, decimal_places=2
    )
    reason = forms.CharField(
        label=_("Why (recorded in the history)"), max_length=300, required=False
    )


ENROLMENT_ACTIONS = {
    "activate": Enrolment.Status.ACTIVE,
    "complete": Enrolment.Status.COMPLETED,
    "withdraw": Enrolment.Status.WITHDRAWN,
}


# --- Opportunities ---------------------------------------------------------------------------


class DateTimeInput(forms.DateTimeInput):
    """The browser's date-and-time picker; the value is read in the writer's own time zone."""

    input_type = "datetime-local"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class OpportunityForm(forms.Form):
    """An opportunity as staff write it: its title and description in each language (English
    required, the others read the English while empty), then the rest once."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Opportunity.Kind.choices)
    audience = forms.ChoiceField(label=_("For"), choices=Opportunity.Audience.choices)
    starts_at = forms.DateTimeField(
        label=_("Date and time"),
        widget=DateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        help_text=_("In your time zone; each person sees it in theirs."),
    )
    place = forms.CharField(
        label=_("Place"), max_length=200, required=False, help_text=_("An address, or a room.")
    )
    link = forms.URLField(
        label=_("Link"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_("Where to join online. Give a place, a link, or both."),
    )
    capacity = forms.IntegerField(label=_("Places"), min_value=1, max_value=1000)
    signups_close_on = forms.DateField(
        label=_("Sign-ups close on"),
        widget=DateInput(format="%Y-%m-%d"),  # what a date input takes, in every language
        help_text=_("The last day people may sign up."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        texts = {}
        for code, language in settings.LANGUAGES:
            required = code == settings.MODELTRANSLATION_DEFAULT_LANGUAGE
            texts[f"title_{code}"] = forms.CharField(
                label=_("Title (%(language)s)") % {"language": language},
                max_length=160,
                required=required,
            )
            texts[f"description_{code}"] = forms.CharField(
                label=_("Description (%(language)s)") % {"language": language},
                widget=forms.Textarea(attrs={"rows": 4, "lang": code}),
                required=required,
            )
            texts[f"title_{code}"].widget.attrs["lang"] = code
        self.fields = {**texts, **self.fields}

    def language_fields(self) -> list[tuple[str, str, list]]:
        """(code, language, [its title and description fields]) for the template."""
        return [
            (code, language, [self[f"title_{code}"], self[f"description_{code}"]])
            for code, language in settings.LANGUAGES
        ]

    def other_fields(self) -> list:
        return [self[name] for name in self.fields if not name.startswith(("title_", "desc"))]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("place") and not cleaned.get("link") and not self.errors.get("link"):
            self.add_error("place", _("Give a place, a link, or both."))
        return cleaned

    @classmethod
    def initial_from(cls, opportunity: Opportunity) -> dict:
        names = [
            *(f"{n}_{code}" for n in ("title", "description") for code, _l in settings.LANGUAGES),
            "kind",
            "audience",
            "starts_at",
            "place",
            "link",
            "capacity",
            "signups_close_on",
        ]
        return {name: getattr(opportunity, name) for name in names}


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why is it cancelled?"), max_length=500)


class AttendanceForm(forms.Form):
    attended = forms.TypedChoiceField(
        choices=[("yes", _("Attended")), ("no", _("Absent")), ("", _("Not known"))],
        coerce=lambda value: {"yes": True, "no": False}.get(value),
        empty_value=None,
        required=False,
    )
