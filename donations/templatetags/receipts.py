"""Filters for the printed documents about grants (acknowledgements, payment advices)."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

from donations.models.money import money_format

register = template.Library()


def _places(number: Decimal) -> int:
    """The decimals the number is stored with (a money field's places for its currency)."""
    exponent = number.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


@register.filter
def amount(value: Decimal | None) -> str:
    """`25,000.00` in English, `25 000,00` in French: the amount with its stored decimals,
    grouped and separated the way the active language writes numbers."""
    if value in (None, ""):
        return ""
    value = Decimal(value)
    return number_format(value, decimal_pos=_places(value), force_grouping=True)


@register.filter
def money(value: Decimal | None, currency: str) -> str:
    """The amount in its currency as the active language writes money: `$25,000.00`,
    `25 000,00 €`, `¥1,000` (CLDR's symbols, grouping and the currency's decimals)."""
    if value in (None, "") or not currency:
        return ""
    return money_format(value, currency)


@register.filter
def rate(value: Decimal | None) -> str:
    """An exchange rate with all its stored decimals, in the active language's notation."""
    if value in (None, ""):
        return ""
    value = Decimal(value).normalize()
    return number_format(value, decimal_pos=_places(value), force_grouping=True)
