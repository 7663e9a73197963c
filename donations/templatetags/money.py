"""`{{ amount|money:currency }}`: an amount in its currency, as the reader's language writes
money (the same filter the printed documents use)."""

from django import template

from .receipts import money

register = template.Library()
register.filter("money", money)
