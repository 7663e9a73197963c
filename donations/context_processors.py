from decimal import Decimal

from django.conf import settings


def program(request) -> dict:
    """The program's donation per creator, for texts that mention it (settings are the truth:
    PROGRAM_DONATION_AMOUNT in PROGRAM_CURRENCY); its hashtag and hub account."""
    return {
        "donation_amount": Decimal(settings.PROGRAM_DONATION_AMOUNT),
        "donation_currency": settings.PROGRAM_CURRENCY,
        "program_hashtag": settings.PROGRAM_HASHTAG,
        "program_social_account": settings.PROGRAM_SOCIAL_ACCOUNT,
    }
