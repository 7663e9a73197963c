"""The back office's rows in the admin: the program page's text, edited through its service
so every change is audited like the staff page's; personal data requests and retention runs,
read only."""

from django.contrib import admin
from modeltranslation.admin import TranslationAdmin

from changemakers.core.admin import LanguageInputsMixin, ReadOnlyAdmin, ServiceModelAdmin, adopt
from changemakers.core.content_languages import texts_of, translations_of

from .models import PersonalDataRequest, ProgramHub, RetentionRun
from .services import HUB_FIELDS, HUB_TRANSLATED, program_hub_update


@admin.register(ProgramHub)
class ProgramHubAdmin(LanguageInputsMixin, ServiceModelAdmin, TranslationAdmin):
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
            actor=request.user,
            hashtag=form.cleaned_data["hashtag"],
            **texts_of(obj, HUB_TRANSLATED),
            translations=translations_of(obj, HUB_TRANSLATED),
        )
        adopt(obj, saved)


@admin.register(PersonalDataRequest)
class PersonalDataRequestAdmin(ReadOnlyAdmin):
    """Personal data requests are asked for, approved and carried out on the staff page
    (four eyes, audited); here they are read. The export's file is not shown: only its
    requester and approver download it, from the staff page."""

    list_display = ["pk", "kind", "creator", "status", "requested_by", "reviewed_by", "created_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["creator", "requested_by", "reviewed_by"]
    fields = [
        "kind",
        "creator",
        "reason",
        "status",
        "requested_by",
        "reviewed_by",
        "reviewed_at",
        "rejection_reason",
        "completed_at",
        "archive_expires_at",
    ]


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "counts"]
    fields = ["created_at", "counts"]
