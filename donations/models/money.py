"""Money fields: a Decimal with explicit digits plus an ISO 4217 currency code, never a float."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY_DIGITS = 14
MONEY_PLACES = 2

currency_validator = RegexValidator(
    r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 currency code, such as USD.")
)


def money_field(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(
        verbose_name, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs
    )


def currency_field() -> models.CharField:
    return models.CharField(
        _("currency"), max_length=3, default="USD", validators=[currency_validator]
    )
