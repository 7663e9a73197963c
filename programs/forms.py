"""Forms check shape only; capacity, one active cohort per creator, review states and the
rest are the services' to decide."""

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from changemakers.core.uploads import (
    PDF_TYPE,
    attachment_check,
    image_without_metadata,
    rename_checked,
)
from creators.forms import country_choices
from creators.models import Cause, Creator, handle_validator

from .models import (
    COHORT_EARLIEST,
    COHORT_LATEST,
    Cohort,
    Enrolment,
    ImpactIndicator,
    MilestonePlanItem,
)
from .services import DEFAULT_MILESTONE_PLAN
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


class PlanItemForm(forms.Form):
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
    initial = [{"title": str(title), "offset_days": days} for title, days in DEFAULT_MILESTONE_PLAN]
    return PlanFormSet(data=data, initial=None if data else initial, prefix="plan")


def plan_from(formset: forms.BaseFormSet) -> list[tuple[str, int]]:
    return [
        (form.cleaned_data["title"], form.cleaned_data["offset_days"])
        for form in formset.forms
        if form.cleaned_data.get("title")
    ]


class InviteExistingForm(forms.Form):
    creator = forms.ModelChoiceField(label=_("Creator"), queryset=Creator.objects.none())
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
        self.fields["creator"].queryset = Creator.objects.exclude(
            enrolments__cohort=cohort
        ).order_by("display_name")

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
    handle = forms.CharField(label=_("Handle"), max_length=31)
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

    def clean_handle(self) -> str:
        handle = self.cleaned_data["handle"].strip().lstrip("@")
        handle_validator(handle)
        return handle


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
    handle = forms.CharField(
        label=_("Your handle"), max_length=31, help_text=_("Your @handle on your main channel.")
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

    def clean_handle(self) -> str:
        handle = self.cleaned_data["handle"].strip().lstrip("@")
        handle_validator(handle)
        return handle

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
