"""Staff forms. They check shape only: budgets, verification and duplicates are the services'."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from changemakers.core.content_languages import collated
from creators.forms import country_choices
from creators.models import Cause, Creator

from .models import MONEY_DIGITS, MONEY_PLACES, Fund, Grant, Nonprofit, PayoutMethod
from .models.money import currency_places, money_check

SEARCH_MAX_LENGTH = 100


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
        self.fields["status"].choices = [
            ("", _("All statuses")),
            *Grant.Status.choices,
            ("held", _("On hold")),
        ]
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


class ReasonForm(forms.Form):
    """Why a grant is cancelled or a nonprofit rejected."""

    reason = forms.CharField(label=_("Reason"), max_length=500, strip=True)


class PayoutChangeForm(forms.Form):
    """Staff ask for a change of a nonprofit's payout details (reviewed like a contact's)."""

    payout_reference = forms.CharField(label=_("New payout reference"), max_length=100)


class PayoutMethodForm(forms.Form):
    """How staff choose a nonprofit is paid."""

    payout_method = forms.ChoiceField(
        label=_("Payout method"),
        choices=PayoutMethod.choices,
        widget=forms.RadioSelect,
    )


class TransferSentForm(forms.Form):
    """The bank's reference of a transfer finance made by hand."""

    bank_reference = forms.CharField(label=_("Bank's reference"), max_length=100, strip=True)


class OverspendResolveForm(forms.Form):
    """How a fund's overspend is covered: its total is raised by the overspent amount."""

    note = forms.CharField(label=_("Where the money comes from"), max_length=500, strip=True)


class OutcomeRecordForm(forms.Form):
    """The provider's answer about a payment, recorded by staff."""

    outcome = forms.ChoiceField(
        label=_("The provider confirms"),
        choices=[("paid", _("it paid")), ("not_paid", _("it made no payment"))],
        widget=forms.RadioSelect,
    )
    reference = forms.CharField(
        label=_("Provider's reference (if paid)"), max_length=100, required=False, strip=True
    )
    note = forms.CharField(
        label=_("How it confirmed (who, when, which statement)"), max_length=500, strip=True
    )


class GrantProposeForm(forms.Form):
    fund = forms.ModelChoiceField(label=_("Fund"), queryset=Fund.objects.order_by("name"))
    # Both picked from a search (donations/views/pickers.py), which posts the row's id.
    nonprofit = forms.ModelChoiceField(
        label=_("Nonprofit"),
        queryset=Nonprofit.objects.exclude(verification_status=Nonprofit.Verification.REJECTED),
        help_text=_("Verified nonprofits, and those still pending review."),
        error_messages={
            "required": _("Search for the nonprofit, then pick it."),
            "invalid_choice": _("This nonprofit cannot receive a grant."),
        },
    )
    creator = forms.ModelChoiceField(
        label=_("In the name of"),
        queryset=Creator.objects.public().order_by(collated("display_name"), "pk"),
        required=False,
        empty_label=_("Program grant (no creator)"),
    )
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        min_value=Decimal(1).scaleb(-MONEY_PLACES),
        help_text=_("In the fund's currency, with at most its decimals (none for JPY)."),
    )
    purpose = forms.CharField(label=_("Purpose"), max_length=200, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and "fund" not in self.initial:
            # Most programs run one fund: offer it rather than an empty choice.
            funds = list(self.fields["fund"].queryset.values_list("pk", flat=True)[:2])
            if len(funds) == 1:
                self.initial["fund"] = funds[0]
        chosen = self.initial.get("fund")
        fund = self.fields["fund"].queryset.filter(pk=getattr(chosen, "pk", chosen)).first()
        if fund is not None:
            # The browser steps by the fund's smallest unit: 1 for JPY, 0.01 for USD.
            self.fields["amount"].widget.attrs["step"] = str(
                Decimal(1).scaleb(-currency_places(fund.currency))
            )

    def clean(self):
        cleaned = super().clean()
        fund, amount = cleaned.get("fund"), cleaned.get("amount")
        if fund is not None and amount is not None:
            try:
                money_check(amount, fund.currency)
            except ValidationError as error:
                self.add_error("amount", error)
        return cleaned


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


class DeclineForm(forms.Form):
    """Why a nonprofit's description is declined (its contact reads it)."""

    reason = forms.CharField(
        label=_("Or decline it, saying why (the nonprofit's contact reads it)"),
        max_length=500,
        strip=True,
    )


class CausesForm(forms.Form):
    """The causes a nonprofit's public page shows (staff choose them)."""

    causes = forms.MultipleChoiceField(
        label=_("Causes"),
        required=False,
        choices=Cause.choices,
        widget=forms.CheckboxSelectMultiple,
    )


class PublicNonprofitFilterForm(forms.Form):
    """The filters of the public list of supported nonprofits. Country choices are the
    countries of those nonprofits; an unknown value is ignored rather than shown as an error."""

    country = forms.ChoiceField(label=_("Country"), required=False)
    cause = forms.ChoiceField(label=_("Cause"), required=False)

    def __init__(self, *args, country_choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("All countries")), *country_choices]
        self.fields["cause"].choices = [("", _("All causes")), *Cause.choices]

    def filters(self) -> dict[str, str]:
        if not self.is_bound:
            return {"country": "", "cause": ""}
        self.is_valid()
        return {
            name: "" if name in self.errors else self.cleaned_data.get(name, "")
            for name in ("country", "cause")
        }
