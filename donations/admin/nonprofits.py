"""Nonprofits, their contacts, sign-in links and payout-details changes. Nonprofits are verified
or rejected through actions that call the services."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_countries.filters import CountryFilter

from changemakers.core.admin import (
    BOTH_LOCATIONS,
    ReadOnlyAdmin,
    ServiceModelAdmin,
    TabularInline,
    run_transitions,
    transition_with_reason,
)

from ..models import Nonprofit, NonprofitContact, NonprofitSignInLink, PayoutDetailsChange
from ..services import (
    nonprofit_create,
    nonprofit_link_send,
    nonprofit_links_revoke,
    nonprofit_reject,
    nonprofit_verify,
)


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
    # How it is paid: chosen on the staff nonprofit's payouts page (audited), bank details
    # through a reviewed change, never edited here; the account is shown masked.
    payout_fields = [
        "payout_method",
        "bank_account_holder",
        "bank_account_masked",
        "bank_bic",
        "bank_country",
        "bank_name",
    ]
    fields = [
        *add_fields,
        *payout_fields,
        "verification_status",
        "verified_at",
        "verification_expires_at",
        "rejection_reason",
        "created_by",
        "verified_by",
        "rejected_by",
        "rejected_at",
    ]
    readonly_fields = [
        *payout_fields,
        "verification_status",
        "verified_at",
        "verification_expires_at",
        "rejection_reason",
        "created_by",
        "verified_by",
        "rejected_by",
        "rejected_at",
    ]
    # Where the money goes changes only through a reviewed request (the staff nonprofit
    # page's "change payout details", reviewed on /staff/payout-changes/): never an edit here.
    readonly_on_change = ["payout_reference"]
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

    @admin.display(description=_("IBAN or account number"))
    def bank_account_masked(self, obj: Nonprofit) -> str:
        return obj.bank_account_masked or "—"

    @admin.display(description=_("verification expires"))
    def verification_expires_at(self, obj: Nonprofit):
        return obj.verification_expires_at

    def has_verify_permission(self, request, obj=None):
        return request.user.has_perm("donations.verify_nonprofit")

    @admin.action(
        description=_("Verify the selected nonprofits"),
        permissions=["verify"],
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
        permissions=["verify"],
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
    # Bank details are encrypted at rest; the account is shown masked, as on the nonprofit.
    exclude = ["bank_account_number"]
    readonly_fields = ["bank_account_masked"]

    @admin.display(description=_("IBAN or account number"))
    def bank_account_masked(self, obj: PayoutDetailsChange) -> str:
        return obj.bank_account_masked or "—"
