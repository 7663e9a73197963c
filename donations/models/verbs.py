"""The verbs this app writes to the audit log."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditVerb(models.TextChoices):
    """What this app records in the audit log (declared in `DonationsConfig.ready`)."""

    PROPOSED = "proposed", _("Proposed")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    FIRST_APPROVED = "first_approved", _("First of two approvals")
    APPROVED = "approved", _("Approved")
    ACCEPTED = "accepted", _("Accepted")
    CANCELLED = "cancelled", _("Cancelled")
    SCHEDULED = "scheduled", _("Scheduled for payment")
    PAYMENT_STARTED = "payment_started", _("Payment started")
    PAYMENT_ERROR = "payment_error", _("Payment attempt failed")
    DISBURSED = "disbursed", _("Paid")
    FAILED = "failed", _("Failed")
    RETRIED = "retried", _("Retried")
    RECONCILED = "reconciled", _("Reconciled with the provider")
    LINK_SENT = "link_sent", _("Sign-in link sent")
    LINK_REVOKED = "link_revoked", _("Sign-in links revoked")
    RECEIPT_CONFIRMED = "receipt_confirmed", _("Receipt confirmed")
    CHANGE_REQUESTED = "change_requested", _("Change requested")
    HELD = "held", _("Put on hold")
    HOLD_RELEASED = "hold_released", _("Payee re-confirmed, hold released")
    OUTCOME_UNKNOWN = "outcome_unknown", _("Payment outcome unknown")
    UNKNOWN_FLAGGED = "unknown_flagged", _("Payment outcome still unknown: flagged for staff")
    OUTCOME_RECORDED = "outcome_recorded", _("Provider's answer recorded by staff")
    OVERSPENT = "overspent", _("Overspent by a payment found late")
    OVERSPEND_RESOLVED = "overspend_resolved", _("Overspend resolved")
    STRIPE_ACCOUNT_CREATED = "stripe_account_created", _("Stripe account created")
    STRIPE_STATUS = "stripe_status", _("Stripe payout status updated")
    PAYEE_SET = "payee_set", _("Payout reference set from Stripe onboarding")
    PAYOUT_METHOD_SET = "payout_method_set", _("Payout method changed")
    INSTRUCTION_CREATED = "instruction_created", _("Payment instruction made")
    TRANSFER_SENT = "transfer_sent", _("Bank transfer recorded as sent")
    REVERSED = "reversed", _("Reversed by the provider")
    REVERSAL_CLOSED = "reversal_closed", _("Reversal closed, money given back to the fund")
    MONEY_RECEIVED = "money_received", _("Amount received recorded")
    PAYOUT_FAILED = "payout_failed", _("Payout to the bank failed")
    PAYOUT_FAILURE_CLEARED = "payout_failure_cleared", _("Payout to the bank went through again")
    BATCH_HELD = "batch_held", _("Batch put on hold")
    BATCH_HOLD_RELEASED = "batch_hold_released", _("Batch hold released")
