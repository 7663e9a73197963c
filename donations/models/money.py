"""Money fields: a Decimal with explicit digits plus an ISO 4217 currency code, never a float.

How many decimals a currency has (0 for JPY, 2 for EUR, 3 for KWD) comes from the Unicode
CLDR data Babel ships, not from a table of our own: amounts are stored with MONEY_PLACES
decimals, enough for every active currency, and each amount is refused when it is finer than
its currency's smallest unit."""

import functools
from decimal import Decimal, InvalidOperation

from babel.core import Locale, UnknownLocaleError
from babel.numbers import (
    format_currency,
    get_currency_precision,
    get_territory_currencies,
    list_currencies,
)
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import get_language, gettext, ngettext, to_locale
from django.utils.translation import gettext_lazy as _

MONEY_DIGITS = 15
MONEY_PLACES = 3  # the most decimals of any active currency (KWD, BHD, OMR...)

currency_validator = RegexValidator(
    r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 currency code, such as USD.")
)


@functools.cache
def active_currencies() -> tuple[str, ...]:
    """The ISO 4217 codes some territory uses as legal tender today, by CLDR."""
    in_use = set()
    for territory in Locale("en").territories:
        in_use.update(get_territory_currencies(territory, tender=True))
    return tuple(sorted(in_use & set(list_currencies())))


def currency_choices() -> list[tuple[str, str]]:
    return [(code, code) for code in active_currencies()]


def currency_places(code: str) -> int:
    """The decimals of the currency's smallest unit, by CLDR: 0 for JPY, 2 for EUR, 3 for KWD."""
    return get_currency_precision(code.upper())


@functools.cache
def _babel_locale(language: str) -> Locale:
    try:
        return Locale.parse(to_locale(language))
    except (UnknownLocaleError, ValueError):
        return Locale("en")


def money_format(amount, currency: str, language: str | None = None) -> str:
    """The amount as the reader's language writes money, by CLDR, with the currency's
    decimals: "€25,000.00" in English, "25 000,00 €" in French (non-breaking spaces),
    "¥1,000", "KWD 12.345"."""
    locale = _babel_locale(language or get_language() or "en")
    return format_currency(Decimal(amount), currency.upper(), locale=locale)


def money_check(amount, currency: str) -> Decimal:
    """`amount` as a Decimal, refused (ValidationError, code `amount_precision`) when it is
    finer than the currency's smallest unit: 1000.5 JPY is a mistake, never rounded. Floats
    are refused too, they cannot hold money exactly."""
    if isinstance(amount, float):
        raise TypeError("Money is never a float: pass a Decimal or a string.")
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError(
            gettext("Give the amount as a number."), code="amount_invalid"
        ) from None
    places = currency_places(currency)
    if not value.is_finite() or value != value.quantize(Decimal(1).scaleb(-places)):
        if places == 0:
            message = gettext("%(currency)s has no decimals: give a whole amount.")
        else:
            message = ngettext(
                "%(currency)s has %(places)d decimal: give at most that many.",
                "%(currency)s has %(places)d decimals: give at most that many.",
                places,
            )
        raise ValidationError(
            message % {"currency": currency.upper(), "places": places}, code="amount_precision"
        )
    return value


def quantize(amount, currency: str) -> Decimal:
    """`amount` written with exactly its currency's decimals (25000.000 USD is 25000.00);
    an amount finer than the currency's unit is refused, never rounded."""
    return money_check(amount, currency).quantize(Decimal(1).scaleb(-currency_places(currency)))


def money_field(verbose_name, **kwargs) -> models.DecimalField:
    field = models.DecimalField(
        verbose_name, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs
    )
    field.is_money = True
    return field


class CurrencyAmounts:
    """For a model with a `currency` and money fields: amounts read from the database carry
    their currency's decimals (25000.00 USD, 1000 JPY), not the column's three, so every
    place that writes them out writes them as the currency does."""

    def clean_fields(self, exclude=None) -> None:
        """The fields' own checks, then every amount against its currency's decimals (so the
        admin refuses 10.5 JPY as the services do)."""
        errors = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if self.currency and "currency" not in errors:
            for field in self._meta.concrete_fields:
                value = getattr(self, field.attname)
                if not getattr(field, "is_money", False) or value is None or field.name in errors:
                    continue
                if exclude and field.name in exclude:
                    continue
                try:
                    money_check(value, self.currency)
                except ValidationError as error:
                    errors[field.name] = error.error_list
        if errors:
            raise ValidationError(errors)

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        instance = super().from_db(db, field_names, values, **kwargs)
        currency = instance.__dict__.get("currency")
        if currency:
            unit = _currency_unit(currency)
            for attname in _money_attnames(cls):
                value = instance.__dict__.get(attname)
                if isinstance(value, Decimal) and value.is_finite():
                    exact = value.quantize(unit)
                    if value == exact:
                        instance.__dict__[attname] = exact
        return instance


# Looked up once, not for every row read (a page of 50 grants reads some 140 amounts).
@functools.cache
def _currency_unit(code: str) -> Decimal:
    return Decimal(1).scaleb(-currency_places(code))


@functools.cache
def _money_attnames(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(
        field.attname for field in model._meta.concrete_fields if getattr(field, "is_money", False)
    )


def currency_field() -> models.CharField:
    return models.CharField(
        _("currency"),
        max_length=3,
        default="USD",
        choices=currency_choices,
        validators=[currency_validator],
    )
