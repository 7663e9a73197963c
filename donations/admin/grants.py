"""Grants: proposed through their service, approved, scheduled, retried and cancelled through
actions; their payment shows read-only."""

from django import forms
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from changemakers.core.admin import (
    BOTH_LOCATIONS,
    ReadOnlyMixin,
    ServiceModelAdmin,
    TabularInline,
    money,
    run_transitions,
    transition_with_reason,
)

from ..models import Disbursement, Grant
from ..services import (
    grant_approve,
    grant_cancel,
    grant_propose,
    grant_retry,
)


class GrantAdminForm(forms.ModelForm):
    class Meta:
        model = Grant
        fields = ["fund", "nonprofit", "creator", "amount", "purpose"]

    def clean(self):
        cleaned = super().clean()
        # The currency is not asked for: a grant is always in its fund's currency.
        if cleaned.get("fund") is not None and self.instance._state.adding:
            self.instance.currency = cleaned["fund"].currency
        return cleaned


class DisbursementInline(ReadOnlyMixin, TabularInline):
    """The grant's payment, read-only: it is made by the disbursement jobs."""

    model = Disbursement
    extra = 0
    fields = [
        "created_at",
        "batch",
        "provider",
        "provider_reference",
        "amount_money",
        "status",
        "attempts",
        "last_error",
        "completed_at",
        "recheck_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("amount"))
    def amount_money(self, obj: Disbursement) -> str:
        return money(obj.amount, obj.currency)


@admin.register(Grant)
class GrantAdmin(ServiceModelAdmin):
    form = GrantAdminForm
    list_display = ["nonprofit", "creator", "fund", "amount_money", "status", "approved_at"]
    list_select_related = ["nonprofit", "creator", "fund"]
    list_filter = ["status", "fund", "currency", "nonprofit__reach"]
    search_fields = [
        "nonprofit__legal_name",
        "creator__display_name",
        "creator__handle",
        "purpose",
        "idempotency_key__exact",
    ]
    date_hierarchy = "created_at"
    autocomplete_fields = ["fund", "nonprofit", "creator"]
    add_fields = ["fund", "nonprofit", "creator", "amount", "purpose"]
    fields = [
        "fund",
        "nonprofit",
        "creator",
        "amount_money",
        "purpose",
        "status",
        "status_reason",
        "proposed_by",
        "first_approved_by",
        "first_approved_at",
        "approved_by",
        "held_at",
        "hold_reason",
        "approved_at",
        "payee_reference",
        "disbursed_at",
        "idempotency_key",
        "created_at",
    ]
    # A hold is placed and released on the grant pipeline (re-confirming the payee), or by a
    # payout-details change, a rejection or the worker's own check: never edited here.
    readonly_fields = [
        "amount_money",
        "status",
        "status_reason",
        "proposed_by",
        "first_approved_by",
        "first_approved_at",
        "approved_by",
        "held_at",
        "hold_reason",
        "approved_at",
        "payee_reference",
        "disbursed_at",
        "idempotency_key",
        "created_at",
    ]
    # What was proposed is what gets approved: to change it, cancel and propose again.
    readonly_on_change = ["fund", "nonprofit", "creator"]
    inlines = [DisbursementInline]
    inlines_on_add = False
    actions = ["approve", "schedule", "retry", "cancel"]

    def has_delete_permission(self, request, obj=None):
        return False

    # Each action is offered to whoever holds its permission (the service asks again).
    def has_approve_permission(self, request, obj=None):
        return request.user.has_perm("donations.approve_grant")

    def has_schedule_permission(self, request, obj=None):
        return request.user.has_perm("donations.schedule_grant")

    def has_cancel_permission(self, request, obj=None):
        return request.user.has_perm("donations.cancel_grant")

    @admin.display(description=_("amount"), ordering="amount")
    def amount_money(self, obj: Grant) -> str:
        return money(obj.amount, obj.currency)

    def create_through_service(self, request, obj, form):
        return grant_propose(
            fund=obj.fund,
            nonprofit=obj.nonprofit,
            amount=obj.amount,
            creator=obj.creator,
            purpose=obj.purpose,
            actor=request.user,
        )

    @admin.action(
        description=_("Approve the selected grants (commits their amount)"),
        permissions=["approve"],
        location=BOTH_LOCATIONS,
    )
    def approve(self, request, queryset):
        run_transitions(
            self, request, queryset, lambda obj: grant_approve(grant=obj, actor=request.user)
        )

    @admin.action(
        description=_("Review and pay the selected grants"),
        permissions=["schedule"],
        location=BOTH_LOCATIONS,
    )
    def schedule(self, request, queryset):
        """Nothing is paid without its review: the selection opens the staff pages' payment
        review (what would be paid, per currency and fund, to which payees), whose one
        button pays exactly that (`grants_schedule(expected=...)`)."""
        query = urlencode(
            [("grants", pk) for pk in queryset.order_by("pk").values_list("pk", flat=True)]
            + [("next", request.get_full_path())]
        )
        return HttpResponseRedirect(f"{reverse('donations:grants-review')}?{query}")

    @admin.action(
        description=_("Retry the payment of the selected failed grants"),
        permissions=["schedule"],
        location=BOTH_LOCATIONS,
    )
    def retry(self, request, queryset):
        run_transitions(
            self, request, queryset, lambda obj: grant_retry(grant=obj, actor=request.user)
        )

    @admin.action(
        description=_("Cancel the selected grants…"),
        permissions=["cancel"],
        location=BOTH_LOCATIONS,
    )
    def cancel(self, request, queryset):
        return transition_with_reason(
            self,
            request,
            queryset,
            lambda obj, reason: grant_cancel(grant=obj, actor=request.user, reason=reason),
            title=gettext("Cancel grants"),
            intro=gettext(
                "Cancelled grants are not paid; an approved grant gives its amount back to "
                "its fund."
            ),
            submit_label=gettext("Cancel the grants"),
            reason_label=gettext("Why are they cancelled?"),
        )
