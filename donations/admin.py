"""Admin for nonprofits, funds, grants and disbursements.

Money never moves by hand here: committed and disbursed totals, grant states and
disbursements are read-only; nonprofits are verified or rejected and grants approved or
cancelled through actions that call the services. Disbursements are made by jobs.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_countries.filters import CountryFilter

from changemakers.core.admin import (
    BOTH_LOCATIONS,
    ReadOnlyAdmin,
    ReadOnlyMixin,
    ServiceModelAdmin,
    TabularInline,
    money,
    run_transitions,
    transition_with_reason,
)

from .models import (
    Disbursement,
    DisbursementBatch,
    Fund,
    Grant,
    Nonprofit,
    NonprofitContact,
    NonprofitSignInLink,
    PayoutDetailsChange,
    SandboxPayment,
)
from .nonprofit_services import (
    nonprofit_link_send,
    nonprofit_links_revoke,
    nonprofit_payout_reference_set,
)
from .services import (
    fund_create,
    grant_approve,
    grant_cancel,
    grant_propose,
    grant_retry,
    grants_schedule,
    nonprofit_create,
    nonprofit_reject,
    nonprofit_verify,
)

# --- Nonprofits -----------------------------------------------------------------------------


class NonprofitContactInline(TabularInline):
    model = NonprofitContact
    extra = 0
    fields = ["user", "job_title"]
    autocomplete_fields = ["user"]


@admin.register(Nonprofit)
class NonprofitAdmin(ServiceModelAdmin):
    list_display = [
        "legal_name",
        "registration_number",
        "country",
        "reach",
        "verification_status",
        "contact_email",
    ]
    list_filter = ["verification_status", "reach", ("country", CountryFilter)]
    search_fields = ["legal_name", "registration_number", "contact_email"]
    add_fields = [
        "legal_name",
        "registration_number",
        "country",
        "reach",
        "website",
        "contact_email",
        "payout_reference",
    ]
    fields = [*add_fields, "verification_status", "rejection_reason"]
    readonly_fields = ["verification_status", "rejection_reason"]
    inlines = [NonprofitContactInline]
    actions = ["verify", "reject"]

    def create_through_service(self, request, obj, form):
        return nonprofit_create(
            legal_name=obj.legal_name,
            registration_number=obj.registration_number,
            country=obj.country.code,
            contact_email=obj.contact_email,
            website=obj.website,
            reach=obj.reach,
            payout_reference=obj.payout_reference,
            actor=request.user,
        )

    audited_by_service = ["payout_reference"]

    def save_model(self, request, obj, form, change):
        if change and "payout_reference" in form.changed_data:
            # Where the money goes: through the service, which audits it.
            nonprofit_payout_reference_set(
                nonprofit=obj,
                payout_reference=form.cleaned_data["payout_reference"],
                actor=request.user,
            )
        return super().save_model(request, obj, form, change)

    @admin.action(
        description=_("Verify the selected nonprofits"),
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def verify(self, request, queryset):
        run_transitions(
            self,
            request,
            queryset,
            lambda obj: nonprofit_verify(nonprofit=obj, actor=request.user),
            state_field="verification_status",
        )

    @admin.action(
        description=_("Reject the selected nonprofits…"),
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def reject(self, request, queryset):
        return transition_with_reason(
            self,
            request,
            queryset,
            lambda obj, reason: nonprofit_reject(nonprofit=obj, reason=reason, actor=request.user),
            title=gettext("Reject nonprofits"),
            intro=gettext(
                "Rejected nonprofits cannot receive grants. The reason is kept with the record."
            ),
            submit_label=gettext("Reject"),
            reason_label=gettext("Why are they rejected?"),
            state_field="verification_status",
        )


@admin.register(NonprofitContact)
class NonprofitContactAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "nonprofit", "job_title", "language"]
    list_select_related = ["user", "nonprofit"]
    list_filter = [("nonprofit", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__email", "user__username", "name", "nonprofit__legal_name"]
    autocomplete_fields = ["user", "nonprofit"]
    actions = ["send_link", "revoke_links"]

    @admin.action(
        description=_("Email a sign-in link to the selected contacts"),
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def send_link(self, request, queryset):
        contacts = []
        for contact in queryset:
            try:
                nonprofit_link_send(contact=contact, actor=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                contacts.append(contact)
        if not contacts:
            return
        self.message_user(
            request,
            ngettext(
                "A sign-in link is on its way to %(count)s contact.",
                "A sign-in link is on its way to %(count)s contacts.",
                len(contacts),
            )
            % {"count": len(contacts)},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Revoke the open sign-in links of the selected contacts"),
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def revoke_links(self, request, queryset):
        count = sum(
            nonprofit_links_revoke(contact=contact, actor=request.user) for contact in queryset
        )
        self.message_user(
            request,
            ngettext(
                "%(count)s open sign-in link revoked.",
                "%(count)s open sign-in links revoked.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(NonprofitSignInLink)
class NonprofitSignInLinkAdmin(ReadOnlyAdmin):
    """Who was sent a link and what became of it; the link itself is never shown."""

    list_display = ["contact", "created_at", "expires_at", "used_at", "revoked_at", "created_by"]
    list_select_related = ["contact__user", "contact__nonprofit", "created_by"]
    exclude = ["nonce"]
    search_fields = ["contact__user__email", "contact__nonprofit__legal_name"]


@admin.register(PayoutDetailsChange)
class PayoutDetailsChangeAdmin(ReadOnlyAdmin):
    """Reviewed on the staff page (/staff/payout-changes/), which applies an approval."""

    list_display = ["nonprofit", "status", "requested_by", "created_at", "reviewed_by"]
    list_select_related = ["nonprofit", "requested_by", "reviewed_by"]
    list_filter = ["status"]
    search_fields = ["nonprofit__legal_name"]


# --- Funds ----------------------------------------------------------------------------------


@admin.register(Fund)
class FundAdmin(ServiceModelAdmin):
    list_display = [
        "name",
        "total_money",
        "committed_money",
        "disbursed_money",
        "remaining_money",
    ]
    list_filter = ["currency"]
    search_fields = ["name"]
    add_fields = ["name", "currency", "total"]
    fields = [
        "name",
        "currency",
        "total_money",
        "committed_money",
        "disbursed_money",
        "remaining_money",
    ]
    readonly_fields = ["total_money", "committed_money", "disbursed_money", "remaining_money"]
    # Grants are held in the fund's currency; a change of total needs a service (not yet).
    readonly_on_change = ["currency"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("total"), ordering="total")
    def total_money(self, obj: Fund) -> str:
        return money(obj.total, obj.currency)

    @admin.display(description=_("committed"), ordering="committed")
    def committed_money(self, obj: Fund) -> str:
        return money(obj.committed, obj.currency)

    @admin.display(description=_("disbursed"), ordering="disbursed")
    def disbursed_money(self, obj: Fund) -> str:
        return money(obj.disbursed, obj.currency)

    @admin.display(description=_("remaining"))
    def remaining_money(self, obj: Fund) -> str:
        return money(obj.remaining, obj.currency)

    def create_through_service(self, request, obj, form):
        return fund_create(
            name=obj.name, total=obj.total, currency=obj.currency, actor=request.user
        )


# --- Grants ---------------------------------------------------------------------------------


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
        "approved_at",
        "disbursed_at",
        "idempotency_key",
        "created_at",
    ]
    readonly_fields = [
        "amount_money",
        "status",
        "status_reason",
        "approved_at",
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
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def approve(self, request, queryset):
        run_transitions(
            self, request, queryset, lambda obj: grant_approve(grant=obj, actor=request.user)
        )

    @admin.action(
        description=_("Schedule the selected grants for payment"),
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def schedule(self, request, queryset):
        """One batch for the selection; grants not approved are left out and named."""
        selected = list(queryset.select_related("nonprofit", "creator"))
        try:
            batch = grants_schedule(grants=selected, actor=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return
        scheduled = set(batch.disbursements.values_list("grant_id", flat=True))
        self.message_user(
            request,
            ngettext(
                "%(batch)s: %(count)s grant scheduled for payment.",
                "%(batch)s: %(count)s grants scheduled for payment.",
                len(scheduled),
            )
            % {"batch": batch, "count": len(scheduled)},
            messages.SUCCESS,
        )
        for grant in selected:
            if grant.pk not in scheduled:
                self.message_user(
                    request,
                    gettext("%(grant)s was not scheduled: it is “%(status)s”.")
                    % {"grant": grant, "status": grant.get_status_display()},
                    messages.WARNING,
                )

    @admin.action(
        description=_("Retry the payment of the selected failed grants"),
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def retry(self, request, queryset):
        run_transitions(
            self, request, queryset, lambda obj: grant_retry(grant=obj, actor=request.user)
        )

    @admin.action(
        description=_("Cancel the selected grants…"),
        permissions=["change"],
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
    list_display = ["__str__", "created_at", "created_by", "size"]
    list_select_related = ["created_by"]
    date_hierarchy = "created_at"


@admin.register(SandboxPayment)
class SandboxPaymentAdmin(ReadOnlyAdmin):
    """The sandbox provider's ledger: what it was asked to pay and what it paid."""

    list_display = ["idempotency_key", "reference", "payee", "amount_money", "requests", "paid_at"]
    list_filter = ["currency"]
    search_fields = ["idempotency_key", "reference", "payee"]

    @admin.display(description=_("amount"), ordering="amount")
    def amount_money(self, obj: SandboxPayment) -> str:
        return money(obj.amount, obj.currency)
