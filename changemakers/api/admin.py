"""Integrations and tokens in the admin: read only. They are created, issued and revoked on
the staff pages (/staff/integrations/), through the services that audit them."""

from django.contrib import admin

from changemakers.core.admin import ReadOnlyAdmin

from .models import ApiToken, Integration


@admin.register(Integration)
class IntegrationAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "nonprofit", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name"]
    fields = ["name", "kind", "description", "account", "nonprofit", "created_by", "created_at"]
    readonly_fields = fields


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "integration", "label", "scope", "last_used_at", "revoked_at"]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["integration"]
    search_fields = ["prefix", "label", "integration__name"]
    # Never the secret's hash: it opens nothing, but there is no reason to show it.
    fields = [
        "integration",
        "label",
        "prefix",
        "scope",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]
    readonly_fields = fields
