"""Back-office forms: the dashboard's filters, the exports' filters, the program page's text
and personal data requests. They check shape only."""

import datetime

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from changemakers.core.content_languages import TranslatedFieldsMixin
from creators.forms import ListFilterForm
from creators.models import handle_validator
from donations.forms import SEARCH_MAX_LENGTH
from programs.models import COHORT_EARLIEST, COHORT_LATEST, Milestone, add_months

from .models import PersonalDataRequest, hashtag_validator


class DashboardFilterForm(forms.Form):
    """The dashboard's filters: the grant pipeline's fund, cohort and country, and a period
    for the charts (a preset, or dates that override it). Unknown values are ignored."""

    PERIODS = {"30d": 30, "90d": 90, "12m": None, "all": None}

    fund = forms.TypedChoiceField(label=_("Fund"), required=False, coerce=int, empty_value=None)
    cohort = forms.TypedChoiceField(label=_("Cohort"), required=False, coerce=int, empty_value=None)
    country = forms.ChoiceField(
        label=_("Nonprofit country"), required=False, help_text=_("Where the nonprofit is")
    )
    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[
            ("12m", _("Last 12 months")),
            ("90d", _("Last 90 days")),
            ("30d", _("Last 30 days")),
            ("all", _("All time")),
        ],
    )
    # Bounded so a typo (year 0001) cannot ask for thousands of monthly bars.
    since = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[MinValueValidator(COHORT_EARLIEST), MaxValueValidator(COHORT_LATEST)],
    )
    until = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[MinValueValidator(COHORT_EARLIEST), MaxValueValidator(COHORT_LATEST)],
    )

    def __init__(
        self,
        *args,
        fund_choices: list[tuple[int, str]],
        cohort_choices: list[tuple[int, str]],
        country_choices: list[tuple[str, str]],
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fund"].choices = [("", _("All funds")), *fund_choices]
        self.fields["cohort"].choices = [("", _("All cohorts")), *cohort_choices]
        self.fields["country"].choices = [("", _("All countries")), *country_choices]

    def active(self) -> bool:
        """Whether a filter narrows the page (the default period does not), or a value was
        refused: then the filters show rather than stay folded away."""
        if not self.is_bound:
            return False
        if not self.is_valid():
            return True
        data = self.cleaned_data
        chosen = any(value for name, value in data.items() if name != "period")
        return chosen or data.get("period") not in ("", "12m")

    def filters(self, *, today: datetime.date) -> dict:
        """Keyword arguments of `selectors.DashboardFilters`; the period as two dates."""
        data = {}
        if self.is_bound:
            self.is_valid()
            data = {name: value for name, value in self.cleaned_data.items() if value}
        period = data.get("period") or "12m"
        if period == "12m":  # this month and the eleven before it, whole
            since = add_months(today.replace(day=1), -11)
        elif period == "all":
            since = None
        else:
            since = today - datetime.timedelta(days=self.PERIODS[period] - 1)
        if data.get("since") or data.get("until"):
            since = data.get("since")
        return {
            "fund": data.get("fund"),
            "cohort": data.get("cohort"),
            "country": data.get("country", ""),
            "since": since,
            "until": data.get("until"),
        }


# --- Export filters: the same parameters as the staff page each export belongs to --------------


def _valid_or_empty(form: forms.Form, defaults: dict) -> dict:
    """The form's valid values, with `defaults` for the missing or invalid ones."""
    if not form.is_bound:
        return dict(defaults)
    form.is_valid()
    return {
        name: (form.cleaned_data.get(name) if name not in form.errors else None) or default
        for name, default in defaults.items()
    }


class CreatorExportFilterForm(ListFilterForm):
    """Creators by country, cause and cohort (any place in it)."""

    cohort = forms.TypedChoiceField(label=_("Cohort"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, cohort_choices: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cohort"].choices = [("", _("All cohorts")), *cohort_choices]

    def filters(self) -> dict:
        return _valid_or_empty(self, {"country": "", "cause": "", "cohort": None})


class ListEntryExportFilterForm(ListFilterForm):
    """List entries by year, country, cause and a search of name, handle or citation."""

    year = forms.TypedChoiceField(label=_("Year"), required=False, coerce=int, empty_value=None)
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "search"}),
        help_text=_("Name, handle or citation"),
    )

    field_order = ["year", "country", "cause", "q"]

    def __init__(self, *args, year_choices: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("All years")), *((y, y) for y in year_choices)]

    def filters(self) -> dict:
        return _valid_or_empty(self, {"year": None, "country": "", "cause": "", "q": ""})


class MilestoneExportFilterForm(forms.Form):
    """Milestones by cohort, status, and whether they are overdue (as the cohort grid says)."""

    cohort = forms.TypedChoiceField(label=_("Cohort"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("Status"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, cohort_choices: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cohort"].choices = [("", _("All cohorts")), *cohort_choices]
        self.fields["status"].choices = [("", _("All statuses")), *Milestone.Status.choices]

    def filters(self) -> dict:
        return _valid_or_empty(self, {"cohort": None, "status": "", "overdue": False})


class ProgramHubForm(TranslatedFieldsMixin, forms.Form):
    translated_fields = ("title", "introduction", "body")

    title = forms.CharField(label=_("Title"), max_length=120)
    hashtag = forms.CharField(
        label=_("Hashtag"),
        max_length=60,
        validators=[hashtag_validator],
        help_text=_("Such as #ChangeMakers."),
    )
    introduction = forms.CharField(
        label=_("Introduction"),
        max_length=300,
        help_text=_("One or two sentences under the title."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    body = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=5000,
        help_text=_(
            "Plain text; leave an empty line between paragraphs. Links and HTML are shown as typed."
        ),
        widget=forms.Textarea(attrs={"rows": 12}),
    )


class PersonalDataRequestForm(forms.Form):
    """Ask for a person's data to be exported or erased (a second member of staff approves)."""

    handle = forms.CharField(
        label=_("Creator's handle"),
        max_length=31,
        help_text=_("With or without the @, as on their public page."),
    )
    kind = forms.ChoiceField(
        label=_("What to do"),
        choices=PersonalDataRequest.Kind.choices,
        widget=forms.RadioSelect,
        initial=PersonalDataRequest.Kind.EXPORT,
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Who asked and how you checked it was them (for example: the creator's email of "
            "12 March, answered from the address we hold)."
        ),
    )

    def clean_handle(self) -> str:
        handle = self.cleaned_data["handle"].strip().lstrip("@")
        if not handle_validator.regex.fullmatch(handle):
            raise forms.ValidationError(handle_validator.message, code="invalid_handle")
        return handle
