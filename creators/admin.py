"""Admin for creators, their invitations and the yearly list (the conventions every admin
follows are in `changemakers.core.admin`)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries.filters import CountryFilter
from modeltranslation.admin import TranslationAdmin

from changemakers.core.admin import (
    BOTH_LOCATIONS,
    LanguageInputsMixin,
    ReadOnlyAdmin,
    ServiceModelAdmin,
    TabularInline,
    TranslatedTabularInline,
    run_transitions,
    transition_with_reason,
)
from changemakers.core.content_languages import (
    changed_texts,
    content_languages,
    localized,
    texts_of,
    translations_of,
)

from .forms import handle_normalize
from .models import (
    Cause,
    ChangeMakersList,
    Creator,
    CreatorInvitation,
    CreatorLink,
    ListEntry,
    ProfileConsent,
)
from .services import (
    ENTRY_FIELDS,
    creator_create,
    list_create,
    list_entry_add,
    list_entry_remove,
    list_entry_update,
    list_publish,
    list_unpublish,
    list_update,
)

# --- Creators -------------------------------------------------------------------------------


class CauseFilter(admin.SimpleListFilter):
    title = _("cause")
    parameter_name = "cause"

    def lookups(self, request, model_admin):
        return Cause.choices

    def queryset(self, request, queryset):
        if self.value() in Cause.values:
            return queryset.with_cause(self.value())
        return queryset


class CreatorAdminForm(forms.ModelForm):
    causes = forms.MultipleChoiceField(
        label=_("Causes"),
        choices=Cause.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("One or more causes."),
    )

    class Meta:
        model = Creator
        fields = ["display_name", "handle", "country", "causes", "follower_count", "bio", "user"]

    def clean_handle(self) -> str:
        # As everywhere a handle is typed: with or without its @ (the model checks the rest).
        return handle_normalize(self.cleaned_data["handle"])

    def clean_causes(self) -> list[str]:
        # Stored in the vocabulary's order, whatever order the boxes were ticked in.
        picked = set(self.cleaned_data["causes"])
        return [code for code in Cause.values if code in picked]


class ProfileConsentInline(TabularInline):
    """The creator's answers about the public list, newest first: only the creator gives
    them (in the portal), so they are read here, never written."""

    model = ProfileConsent
    extra = 0
    fields = ["version", "agreed", "public_fields", "recorded_at", "recorded_by"]
    readonly_fields = fields
    verbose_name_plural = _("consent to the public list")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CreatorLinkInline(TabularInline):
    model = CreatorLink
    extra = 1
    fields = ["label", "url", "position"]


@admin.register(Creator)
class CreatorAdmin(ServiceModelAdmin):
    form = CreatorAdminForm
    list_display = [
        "display_name",
        "at_handle",
        "country",
        "causes_display",
        "followers",
        "user",
    ]
    list_select_related = ["user"]
    list_filter = [("country", CountryFilter), CauseFilter, ("user", admin.EmptyFieldListFilter)]
    search_fields = ["display_name", "handle", "user__email"]
    autocomplete_fields = ["user"]
    fields = [
        "display_name",
        "handle",
        "country",
        "causes",
        "follower_count",
        "bio",
        "language",
        "user",
        "consent",
        "public_fields",
        "consent_at",
        "consent_reminded_at",
        "created_at",
        "updated_at",
    ]
    # Consent is the creator's own answer: staff read it here, only the creator changes it.
    readonly_fields = [
        "consent",
        "public_fields",
        "consent_at",
        "consent_reminded_at",
        "created_at",
        "updated_at",
    ]
    inlines = [CreatorLinkInline, ProfileConsentInline]

    @admin.display(description=_("handle"), ordering="handle")
    def at_handle(self, obj: Creator) -> str:
        return obj.at_handle

    @admin.display(description=_("causes"))
    def causes_display(self, obj: Creator) -> str:
        return ", ".join(obj.get_causes_display())

    @admin.display(description=_("followers"), ordering="follower_count")
    def followers(self, obj: Creator) -> str:
        return number_format(obj.follower_count, force_grouping=True)

    def create_through_service(self, request, obj, form):
        # Links come from the inline, saved after the creator exists.
        return creator_create(
            display_name=obj.display_name,
            handle=obj.handle,
            country=obj.country.code,
            causes=obj.causes,
            bio=obj.bio,
            follower_count=obj.follower_count,
            user=obj.user,
            actor=request.user,
        )


LIST_TEXTS = ("title", "introduction")

# --- The yearly list ------------------------------------------------------------------------


class ListEntryInline(TranslatedTabularInline):
    """The entries already on the list. The creator is fixed here (remove the entry and add it
    again to change it), so fifty rows cost one query instead of one per row."""

    model = ListEntry
    extra = 0
    fields = ["position", "creator", "country", "cause", "citation"]
    readonly_fields = ["creator"]
    ordering = ["position"]
    verbose_name_plural = _("entries")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("creator")

    def has_add_permission(self, request, obj=None):
        return False

    # A published list is frozen here as on the staff pages: unpublish it to change it.
    def has_change_permission(self, request, obj=None):
        return _list_is_draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _list_is_draft(obj) and super().has_delete_permission(request, obj)


def _list_is_draft(change_makers_list: ChangeMakersList | None) -> bool:
    return change_makers_list is None or change_makers_list.status == ChangeMakersList.Status.DRAFT


class NewListEntryForm(forms.ModelForm):
    class Meta:
        model = ListEntry
        fields = ["position", "creator", "country", "cause", "citation"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].required = False
        self.fields["country"].help_text = _("Empty: the creator's country.")

    def clean(self):
        cleaned = super().clean()
        creator = cleaned.get("creator")
        if creator is not None and not cleaned.get("country"):
            cleaned["country"] = creator.country
            self.instance.country = creator.country
        return cleaned


class NewListEntryInline(TranslatedTabularInline):
    model = ListEntry
    form = NewListEntryForm
    extra = 3
    autocomplete_fields = ["creator"]
    verbose_name = _("new entry")
    verbose_name_plural = _("add entries")

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_add_permission(self, request, obj=None):
        return _list_is_draft(obj) and super().has_add_permission(request, obj)


@admin.register(ChangeMakersList)
class ChangeMakersListAdmin(LanguageInputsMixin, ServiceModelAdmin, TranslationAdmin):
    list_display = ["year", "title", "entry_count", "status", "published_at"]
    list_filter = ["status"]
    search_fields = ["title", "year__exact"]
    add_fields = ["year", "title", "introduction"]
    fields = ["year", "title", "introduction", "status", "published_at"]
    readonly_fields = ["status", "published_at"]
    inlines = [ListEntryInline, NewListEntryInline]
    actions = ["publish", "unpublish"]

    readonly_on_change = ["year"]

    def view_on_site(self, obj: ChangeMakersList) -> str:
        """A published list's public page; a draft is not public (its page is a 404), so
        staff are shown the staff preview of what the public will see once it is published."""
        if _list_is_draft(obj):
            return reverse("creators:edition-preview", kwargs={"year": obj.year})
        return obj.get_absolute_url()

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(entry_count=Count("entries"))

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if _list_is_draft(obj):
            return readonly
        # Frozen like its entries: what the public was shown stays what was announced.
        texts = [localized(name, lang) for name in LIST_TEXTS for lang in content_languages()]
        return [*readonly, *(name for name in texts if name not in readonly)]

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        if changed_texts(form.changed_data, LIST_TEXTS):
            list_update(
                change_makers_list=obj,
                actor=request.user,
                **texts_of(obj, LIST_TEXTS),
                translations=translations_of(obj, LIST_TEXTS),
            )
        return None

    def save_formset(self, request, form, formset, change):
        """The entries' changes go through the list services: locked, refused on a
        published list, audited."""
        if formset.model is not ListEntry:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for entry in formset.deleted_objects:
            list_entry_remove(entry=entry, actor=request.user)
        for entry, changed in formset.changed_objects:
            fields = _entry_changes(entry, changed)
            if fields:
                list_entry_update(entry=entry, actor=request.user, **fields)
        for entry in formset.new_objects:
            created = _entry_add(entry, actor=request.user)
            entry.pk = created.pk
            entry._state.adding = False
        return None

    @admin.display(description=_("entries"), ordering="entry_count")
    def entry_count(self, obj: ChangeMakersList) -> int:
        return obj.entry_count

    def create_through_service(self, request, obj, form):
        return list_create(
            year=obj.year,
            **texts_of(obj, LIST_TEXTS),
            translations=translations_of(obj, LIST_TEXTS),
            actor=request.user,
        )

    @admin.action(
        description=_("Publish the selected lists"), permissions=["change"], location=BOTH_LOCATIONS
    )
    def publish(self, request, queryset):
        run_transitions(
            self,
            request,
            queryset,
            lambda obj: list_publish(change_makers_list=obj, actor=request.user),
        )

    @admin.action(
        description=_("Unpublish the selected lists"),
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def unpublish(self, request, queryset):
        return transition_with_reason(
            self,
            request,
            queryset,
            lambda obj, reason: list_unpublish(
                change_makers_list=obj, actor=request.user, reason=reason
            ),
            title=gettext("Unpublish lists"),
            intro=gettext("These lists leave the public site until they are published again."),
            submit_label=gettext("Unpublish"),
            reason_label=gettext("Reason (optional)"),
            reason_required=False,
        )


def _entry_add(entry: ListEntry, *, actor) -> ListEntry:
    return list_entry_add(
        change_makers_list=entry.change_makers_list,
        creator=entry.creator,
        country=entry.country.code or None,
        cause=entry.cause,
        **texts_of(entry, ["citation"]),
        translations=translations_of(entry, ["citation"]),
        position=entry.position,
        actor=actor,
    )


def _entry_changes(entry: ListEntry, changed) -> dict:
    """What an admin form changed on an entry, as `list_entry_update` takes it (the citation
    in English under its own name, its translations under theirs)."""
    fields = {name: getattr(entry, name) for name in ENTRY_FIELDS if name in changed}
    fields.pop("citation", None)
    if changed_texts(changed, ["citation"]):
        fields.update(texts_of(entry, ["citation"]), **translations_of(entry, ["citation"]))
    return fields


@admin.register(ListEntry)
class ListEntryAdmin(LanguageInputsMixin, ServiceModelAdmin, TranslationAdmin):
    """Entries are added, changed and deleted here through the list services, so a
    published list refuses them (under its lock) and every change is audited. An entry stays
    on its list and with its creator: remove it and add another to change those."""

    list_display = ["position", "creator", "change_makers_list", "country", "cause"]
    list_display_links = ["position", "creator"]
    list_select_related = ["creator", "change_makers_list"]
    list_filter = ["change_makers_list", "cause", ("country", CountryFilter)]
    search_fields = ["creator__display_name", "creator__handle", "citation"]
    autocomplete_fields = ["creator"]
    raw_id_fields = ["change_makers_list"]
    readonly_on_change = ["change_makers_list", "creator"]
    exclude = ["shown_before_consent"]  # set once, by the migration that asked for consent

    def create_through_service(self, request, obj, form):
        return _entry_add(obj, actor=request.user)

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        fields = _entry_changes(obj, form.changed_data)
        if fields:
            list_entry_update(entry=obj, actor=request.user, **fields)
        return None

    def delete_model(self, request, obj):
        list_entry_remove(entry=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for entry in queryset.select_related("change_makers_list", "creator"):
            try:
                list_entry_remove(entry=entry, actor=request.user)
            except ValidationError as error:  # its list was published a moment ago
                self.message_user(request, " ".join(error.messages), messages.ERROR)

    def has_change_permission(self, request, obj=None):
        draft = obj is None or _list_is_draft(obj.change_makers_list)
        return draft and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        draft = obj is None or _list_is_draft(obj.change_makers_list)
        return draft and super().has_delete_permission(request, obj)


@admin.register(CreatorInvitation)
class CreatorInvitationAdmin(ReadOnlyAdmin):
    """Portal invitations: sent from the staff cohort and application pages, used once."""

    list_display = ["creator", "email", "created_at", "expires_at", "used_at", "revoked_at"]
    list_select_related = ["creator"]
    search_fields = ["email", "creator__display_name", "creator__handle"]
    fields = [
        "creator",
        "email",
        "invited_by",
        "note",
        "created_at",
        "expires_at",
        "used_at",
        "revoked_at",
    ]
