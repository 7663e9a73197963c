"""The program page's text in the admin: edited through its service, so every change is
audited like the staff page's."""

from django.contrib import admin

from changemakers.core.admin import ServiceModelAdmin, adopt

from .models import ProgramHub
from .services import HUB_FIELDS, program_hub_update


@admin.register(ProgramHub)
class ProgramHubAdmin(ServiceModelAdmin):
    list_display = ["title", "hashtag", "updated_at", "updated_by"]
    fields = [*HUB_FIELDS, "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]

    def has_add_permission(self, request) -> bool:
        # One row: the admin adds it only while there is none.
        return super().has_add_permission(request) and not ProgramHub.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        saved = program_hub_update(
            actor=request.user, **{name: form.cleaned_data[name] for name in HUB_FIELDS}
        )
        adopt(obj, saved)
