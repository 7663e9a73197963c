"""Webhooks in the admin: read-only. Endpoints change on the staff pages, through the services
(audited); the secret is never shown here (the staff page shows it, audited)."""

from django.contrib import admin

from changemakers.core.admin import ReadOnlyAdmin, TabularInline

from .models import Delivery, DeliveryAttempt, Endpoint


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdmin):
    list_display = ["name", "url", "active", "failing_since", "disabled_at"]
    list_filter = ["active"]
    search_fields = ["name", "url"]
    exclude = ["secret"]


class AttemptInline(TabularInline):
    model = DeliveryAttempt
    fields = ["attempted_at", "status_code", "duration_ms", "error", "response_body"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
    ]
    list_filter = ["status", "event_type"]
    list_select_related = ["endpoint"]
    search_fields = ["message_id"]
    inlines = [AttemptInline]
