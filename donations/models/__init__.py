"""Nonprofits, funds, grants and the disbursements that pay them, by subject. Every model is
imported here, so Django and the migrations find them as `donations.models.<Model>`."""

from .events import ProviderEvent
from .grants import Fund, Grant, GrantQuerySet, grants_digest, payee_masked
from .instructions import PaymentInstruction, PaymentInstructionQuerySet, reference_for
from .money import MONEY_DIGITS, MONEY_PLACES, currency_field, currency_validator, money_field
from .nonprofits import (
    BANK_FIELDS,
    BANK_TRANSFER_PROVIDER,
    CONTACT_EMAIL_WARNING,
    Nonprofit,
    NonprofitContact,
    NonprofitQuerySet,
    NonprofitSignInLink,
    PayoutDetailsChange,
    PayoutDetailsChangeQuerySet,
    PayoutMethod,
    account_normalize,
    bank_details_check,
    is_iban,
    mask_reference,
    nonprofit_contact_of,
    slug_for,
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
    "BANK_FIELDS",
    "BANK_TRANSFER_PROVIDER",
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
    "PaymentInstruction",
    "PaymentInstructionQuerySet",
    "PayoutDetailsChange",
    "PayoutDetailsChangeQuerySet",
    "PayoutFailure",
    "PayoutMethod",
    "ProviderEvent",
    "SandboxPayment",
    "account_normalize",
    "bank_details_check",
    "currency_field",
    "currency_validator",
    "grants_digest",
    "is_iban",
    "mask_reference",
    "money_field",
    "nonprofit_contact_of",
    "payee_masked",
    "reference_for",
    "slug_for",
]
