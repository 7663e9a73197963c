"""What the API takes: the filters of each list (the staff pages' filters, by the same names)
and the bodies of the writes. They check shape only, as the pages' forms do; the services say
whether a change is allowed. Every bad value is a 400 with its field, never a 500."""

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from rest_framework import serializers

from creators.models import Cause, handle_validator
from donations.forms import SEARCH_MAX_LENGTH
from donations.models import MONEY_DIGITS, MONEY_PLACES, Grant, Nonprofit
from donations.selectors import HELD
from programs.models import Cohort, Enrolment, Milestone

ID_MAX = 2**63 - 1


class Text(serializers.CharField):
    """Text a database can store: no NUL (DRF refuses it) and no lone surrogate, which JSON
    can carry but UTF-8 cannot."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise serializers.ValidationError(
                _("This text holds characters that are not valid.")
            ) from None
        return value


def IdField(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=ID_MAX, **kwargs)


def _codes() -> list[str]:
    return sorted(code for code, _name in countries)


class Search(serializers.Serializer):
    q = Text(
        required=False,
        allow_blank=True,
        max_length=SEARCH_MAX_LENGTH,
        help_text="Search text (case-insensitive).",
    )


# --- Filters ---------------------------------------------------------------------------------


class CreatorFilters(Search):
    country = serializers.ChoiceField(choices=_codes(), required=False)
    cause = serializers.ChoiceField(choices=Cause.choices, required=False)


class EditionFilters(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[("draft", "draft"), ("published", "published")], required=False
    )


class EntryFilters(CreatorFilters):
    """The public list's filters: country, cause, and a name or @handle."""


class CohortFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=Cohort.Status.choices, required=False)


class EnrolmentFilters(serializers.Serializer):
    cohort = IdField(required=False)
    creator = IdField(required=False)
    status = serializers.ChoiceField(choices=Enrolment.Status.choices, required=False)


class MilestoneFilters(serializers.Serializer):
    cohort = IdField(required=False)
    creator = IdField(required=False)
    status = serializers.ChoiceField(choices=Milestone.Status.choices, required=False)
    overdue = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Only overdue ones (or not)."
    )


class NonprofitFilters(Search):
    status = serializers.ChoiceField(choices=Nonprofit.Verification.choices, required=False)


class GrantFilters(Search):
    """The staff grant pipeline's filters (donations.forms.GrantFilterForm)."""

    fund = IdField(required=False)
    cohort = IdField(required=False)
    country = serializers.ChoiceField(choices=_codes(), required=False)
    status = serializers.ChoiceField(
        choices=[*Grant.Status.choices, (HELD, "On hold")], required=False
    )


# --- Writes ----------------------------------------------------------------------------------


class GrantProposeInput(serializers.Serializer):
    fund = IdField()
    nonprofit = IdField()
    amount = serializers.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        min_value=Decimal(1).scaleb(-MONEY_PLACES),
        help_text="In the fund's currency, with at most its decimals (none for JPY), as a "
        'string: `"25000.00"`.',
    )
    creator = IdField(required=False, allow_null=True, help_text="In whose name; empty: none.")
    purpose = Text(required=False, allow_blank=True, max_length=200, default="")


class ReasonInput(serializers.Serializer):
    reason = Text(max_length=500)


class EntryAddInput(serializers.Serializer):
    """As the edition page's form: the creator by handle; an empty country or cause takes the
    creator's current one, an empty position the next after the last."""

    handle = Text(max_length=31)
    citation = Text(max_length=280)
    country = serializers.ChoiceField(choices=_codes(), required=False, allow_blank=True)
    cause = serializers.ChoiceField(choices=Cause.choices, required=False, allow_blank=True)
    position = serializers.IntegerField(
        min_value=1, max_value=32767, required=False, allow_null=True
    )

    def validate_handle(self, value: str) -> str:
        value = value.strip().lstrip("@")
        try:
            handle_validator(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return value


class NewCreatorInput(serializers.Serializer):
    display_name = Text(max_length=120)
    handle = Text(max_length=31)
    country = serializers.ChoiceField(choices=_codes())
    causes = serializers.MultipleChoiceField(choices=Cause.choices, allow_empty=False)

    def validate_handle(self, value: str) -> str:
        return EntryAddInput.validate_handle(self, value)


class InvitationInput(serializers.Serializer):
    """Invite a creator into a cohort, as the cohort page does: an existing creator (`creator`)
    or a new one (`new_creator`), and the email their portal invitation goes to."""

    creator = IdField(required=False, help_text="An existing creator's id.")
    new_creator = NewCreatorInput(required=False, help_text="Or a creator new to the program.")
    email = serializers.EmailField(
        required=False,
        allow_blank=True,
        help_text="Needed when the creator has no portal account yet.",
    )
    mission = Text(required=False, allow_blank=True, max_length=2000, default="")
    note = Text(required=False, allow_blank=True, max_length=2000, default="")

    def validate(self, data: dict) -> dict:
        if ("creator" in data) == ("new_creator" in data):
            raise serializers.ValidationError(
                _("Give either an existing creator or a new creator, not both.")
            )
        if "new_creator" in data and not data.get("email"):
            raise serializers.ValidationError({"email": [_("A new creator needs an email.")]})
        return data
