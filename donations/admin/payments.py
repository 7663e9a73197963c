"""Disbursements, their batches and the sandbox provider's ledger: made by the disbursement jobs,
read-only here."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from changemakers.core.admin import ReadOnlyAdmin, money

from ..models import (
    Disbursement,
    DisbursementBatch,
    PaymentInstruction,
    PayoutFailure,
    ProviderEvent,
    SandboxPayment,
)


@admin.register(Disbursement)
class DisbursementAdmin(ReadOnlyAdmin):
    """Payments of grants, made by the disbursement jobs only."""

    list_display = [
        "created_at",
        "grant",
        "batch",
        "provider",
        "status",
        "amount_money",
        "attempts",
        "started_at",
        "completed_at",
    ]
    list_select_related = ["grant__nonprofit", "grant__creator"]
    list_filter = ["status", "provider", "batch"]
    search_fields = ["idempotency_key", "provider_reference", "grant__nonprofit__legal_name"]
    date_hierarchy = "created_at"

    @admin.display(description=_("amount"), ordering="amount")
    def amount_money(self, obj: Disbursement) -> str:
        return money(obj.amount, obj.currency)


@admin.register(DisbursementBatch)
class DisbursementBatchAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "created_at", "created_by", "size", "held_at"]
    list_select_related = ["created_by"]
    date_hierarchy = "created_at"


@admin.register(PayoutFailure)
class PayoutFailureAdmin(ReadOnlyAdmin):
    """Payouts a nonprofit's bank refused, as the provider reported them (by webhook)."""

    list_display = [
        "failed_at",
        "nonprofit",
        "payout_reference",
        "amount_money",
        "failure_code",
        "cleared_at",
    ]
    list_select_related = ["nonprofit"]
    list_filter = ["provider", "failure_code"]
    search_fields = ["payout_reference", "nonprofit__legal_name"]

    @admin.display(description=_("amount"), ordering="amount")
    def amount_money(self, obj: PayoutFailure) -> str:
        return money(obj.amount, obj.currency)


@admin.register(SandboxPayment)
class SandboxPaymentAdmin(ReadOnlyAdmin):
    """The sandbox provider's ledger: what it was asked to pay and what it paid."""

    list_display = ["idempotency_key", "reference", "payee", "amount_money", "requests", "paid_at"]
    list_filter = ["currency"]
    search_fields = ["idempotency_key", "reference", "payee"]

    @admin.display(description=_("amount"), ordering="amount")
    def amount_money(self, obj: SandboxPayment) -> str:
        return money(obj.amount, obj.currency)


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    """Webhook events as received (stored by the endpoint, handled by a job)."""

    list_display = ["event_id", "provider", "type", "received_at", "handled_at"]
    list_filter = ["provider", "type"]
    search_fields = ["event_id"]
    date_hierarchy = "received_at"


@admin.register(PaymentInstruction)
class PaymentInstructionAdmin(ReadOnlyAdmin):
    """Bank transfers made by hand: made when a grant is scheduled, recorded as sent on the
    batch's page (never here)."""

    list_display = ["reference", "disbursement", "amount_money", "account_holder", "sent_at"]
    list_select_related = ["disbursement__grant__nonprofit", "disbursement__grant__creator"]
    # The payee's details are encrypted at rest: searched by neither, the account shown masked.
    search_fields = ["reference", "bank_reference"]
    exclude = ["account_number"]
    readonly_fields = ["account_masked"]
    date_hierarchy = "created_at"

    @admin.display(description=_("IBAN or account number"))
    def account_masked(self, obj: PaymentInstruction) -> str:
        return obj.account_masked

    @admin.display(description=_("amount"), ordering="amount")
    def amount_money(self, obj: PaymentInstruction) -> str:
        return money(obj.amount, obj.currency)
