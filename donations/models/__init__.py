"""Nonprofits, funds, grants and the disbursements that pay them, by subject. Every model is
imported here, so Django and the migrations find them as `donations.models.<Model>`."""

from .events import ProviderEvent
from .grants import Fund, Grant, GrantQuerySet
from .money import MONEY_DIGITS, MONEY_PLACES, currency_field, currency_validator, money_field
from .nonprofits import (
    CONTACT_EMAIL_WARNING,
    Nonprofit,
    NonprofitContact,
    NonprofitQuerySet,
    NonprofitSignInLink,
    PayoutDetailsChange,
    PayoutDetailsChangeQuerySet,
    mask_reference,
    nonprofit_contact_of,
)
from .payments import (
    Disbursement,
    DisbursementBatch,
    DisbursementQuerySet,
    PayoutFailure,
    SandboxPayment,
)
from .verbs import AuditVerb

__all__ = [
    "CONTACT_EMAIL_WARNING",
    "MONEY_DIGITS",
    "MONEY_PLACES",
    "AuditVerb",
    "Disbursement",
    "DisbursementBatch",
    "DisbursementQuerySet",
    "Fund",
    "Grant",
    "GrantQuerySet",
    "Nonprofit",
    "NonprofitContact",
    "NonprofitQuerySet",
    "NonprofitSignInLink",
    "PayoutDetailsChange",
    "PayoutDetailsChangeQuerySet",
    "PayoutFailure",
    "ProviderEvent",
    "SandboxPayment",
    "currency_field",
    "currency_validator",
    "mask_reference",
    "money_field",
    "nonprofit_contact_of",
]
