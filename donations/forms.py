"""Staff forms. They check shape only: budgets, verification and duplicates are the services'."""

import datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from creators.forms import ListFilterForm, country_choices
from creators.models import Creator
from programs.models import COHORT_EARLIEST, COHORT_LATEST, Milestone, add_months

from .models import MONEY_DIGITS, MONEY_PLACES, Fund, Grant, Nonprofit

SEARCH_MAX_LENGTH = 100


def add_service_error(form: forms.Form, error: ValidationError) -> None:
    """Put a service's refusal on the form: on the field it names when the form has it,
    otherwise above the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            target = name if name in form.fields or name == NON_FIELD_ERRORS else None
            form.add_error(target, errors)
    else:
        form.add_error(None, error)


class GrantFilterForm(forms.Form):
    """The grant pipeline's filters. Choices come from the view's own queries, so the form
    costs no query of its own; an unknown value is ignored rather than shown as an error."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "search"}),
        help_text=_("Nonprofit, creator, handle or purpose"),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    fund = forms.TypedChoiceField(label=_("Fund"), required=False, coerce=int, empty_value=None)
    cohort = forms.TypedChoiceField(label=_("Cohort"), required=False, coerce=int, empty_value=None)
    country = forms.ChoiceField(label=_("Country"), required=False)

    def __init__(
        self,
        *args,
        fund_choices: list[tuple[int, str]],
        cohort_choices: list[tuple[int, str]],
        country_choices: list[tuple[str, str]],
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All statuses")), *Grant.Status.choices]
        self.fields["fund"].choices = [("", _("All funds")), *fund_choices]
        self.fields["cohort"].choices = [("", _("All cohorts")), *cohort_choices]
        self.fields["country"].choices = [("", _("All countries")), *country_choices]

    def filters(self) -> dict:
        """The valid filters, as keyword arguments of `selectors.grants_filtered`."""
        empty = {"fund": None, "cohort": None, "country": "", "status": "", "q": ""}
        if not self.is_bound:
            return _as_selector_filters(empty)
        self.is_valid()
        cleaned = {
            name: (self.cleaned_data.get(name, default) if name not in self.errors else default)
            for name, default in empty.items()
        }
        return _as_selector_filters(cleaned)


def _as_selector_filters(cleaned: dict) -> dict:
    return {
        "fund": cleaned["fund"],
        "cohort": cleaned["cohort"],
        "country": cleaned["country"],
        "status": cleaned["status"],
        "search": cleaned["q"] or "",
    }


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


class ReasonForm(forms.Form):
    """Why a grant is cancelled or a nonprofit rejected."""

    reason = forms.CharField(label=_("Reason"), max_length=500, strip=True)


class GrantProposeForm(forms.Form):
    fund = forms.ModelChoiceField(label=_("Fund"), queryset=Fund.objects.order_by("name"))
    nonprofit = forms.ModelChoiceField(
        label=_("Nonprofit"),
        queryset=Nonprofit.objects.exclude(
            verification_status=Nonprofit.Verification.REJECTED
        ).order_by("legal_name"),
        help_text=_("Verified nonprofits, and those still pending review."),
    )
    creator = forms.ModelChoiceField(
        label=_("In the name of"),
        queryset=Creator.objects.order_by("display_name"),
        required=False,
        empty_label=_("Program grant (no creator)"),
    )
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        min_value=Decimal("0.01"),
        help_text=_("In the fund's currency."),
    )
    purpose = forms.CharField(label=_("Purpose"), max_length=200, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and "fund" not in self.initial:
            # Most programs run one fund: offer it rather than an empty choice.
            funds = list(self.fields["fund"].queryset.values_list("pk", flat=True)[:2])
            if len(funds) == 1:
                self.initial["fund"] = funds[0]


class NonprofitFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "search"}),
        help_text=_("Name, registration number or email"),
    )
    status = forms.ChoiceField(
        label=_("Verification"),
        required=False,
        choices=[("", _("All")), *Nonprofit.Verification.choices],
    )

    def filters(self) -> dict[str, str]:
        if not self.is_bound:
            return {"status": "", "search": ""}
        self.is_valid()
        data = self.cleaned_data
        return {
            "status": "" if "status" in self.errors else data.get("status", ""),
            "search": "" if "q" in self.errors else data.get("q", ""),
        }


class NonprofitCreateForm(forms.Form):
    legal_name = forms.CharField(label=_("Legal name"), max_length=200)
    registration_number = forms.CharField(label=_("Registration number"), max_length=64)
    country = forms.ChoiceField(label=_("Country of registration"), choices=country_choices)
    contact_email = forms.EmailField(label=_("Contact email"))
    website = forms.URLField(label=_("Website"), max_length=300, required=False)
    reach = forms.ChoiceField(
        label=_("Reach"), choices=Nonprofit.Reach.choices, initial=Nonprofit.Reach.LOCAL
    )
    payout_reference = forms.CharField(
        label=_("Payout reference"),
        max_length=100,
        required=False,
        help_text=_("The payout provider's reference for the nonprofit's bank details."),
    )
