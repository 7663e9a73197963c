"""Admin for creators, the yearly list and the audit log, plus the pieces every app's admin
shares (`creators` is the bottom of the app graph, so programs and donations import them here).

State fields are never edited by hand: they are read-only, and each transition is an admin
action that calls the app's service with `actor=request.user`, one row (and one transaction)
at a time. Rows that have a create service are added through it, so the addition is audited.
"""

from collections.abc import Callable, Sequence
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries.filters import CountryFilter

from .models import (
    AuditEvent,
    Cause,
    ChangeMakersList,
    Creator,
    CreatorInvitation,
    CreatorLink,
    ListEntry,
)
from .services import (
    ENTRY_FIELDS,
    audit_record,
    creator_create,
    list_create,
    list_entry_add,
    list_entry_remove,
    list_entry_update,
    list_publish,
    list_unpublish,
    list_update,
)

# Actions show in the changelist's drop-down and on each object's change page.
BOTH_LOCATIONS = [admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM]


def money(amount: Decimal | None, currency: str) -> str:
    """`USD 25,000.00`, grouped the way the active language writes numbers."""
    if amount is None:
        return ""
    return f"{currency} {number_format(amount, decimal_pos=2, force_grouping=True)}"


# --- Transitions run as admin actions -------------------------------------------------------


def run_transitions(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: models.QuerySet,
    transition: Callable[[models.Model], models.Model],
    *,
    state_field: str = "status",
) -> None:
    """Call `transition(obj)` (one service call) for each selected row and report each row.

    Every service call is its own transaction, so a refusal for one row neither undoes nor
    stops the others; its ValidationError becomes that row's error message.
    """
    for obj in queryset:
        before = getattr(obj, state_field)
        try:
            after = transition(obj)
        except ValidationError as error:
            modeladmin.message_user(
                request,
                gettext("%(object)s: %(error)s")
                % {"object": obj, "error": " ".join(error.messages)},
                messages.ERROR,
            )
            continue
        state = getattr(after, f"get_{state_field}_display")()
        if getattr(after, state_field) == before:
            modeladmin.message_user(
                request,
                gettext("%(object)s was already “%(state)s”.") % {"object": obj, "state": state},
                messages.INFO,
            )
        else:
            modeladmin.message_user(
                request,
                gettext("%(object)s: now “%(state)s”.") % {"object": after, "state": state},
                messages.SUCCESS,
            )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, label=None, required=True, **kwargs):
        super().__init__(*args, prefix="transition", **kwargs)
        self.fields["reason"].required = required
        if label is not None:
            self.fields["reason"].label = label


def _is_action_field(name: str) -> bool:
    # What the admin needs to route the POST back to the same action on the same rows, from
    # the changelist ("action", "index") or from a change page ("CHANGE_FORM-action").
    return name in {helpers.ACTION_CHECKBOX_NAME, "index"} or name.endswith(
        ("action", "select_across")
    )


def transition_with_reason(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: models.QuerySet,
    transition: Callable[[models.Model, str], models.Model],
    *,
    title: str,
    intro: str,
    submit_label: str,
    reason_label: str | None = None,
    reason_required: bool = True,
    state_field: str = "status",
) -> TemplateResponse | None:
    """An intermediate page that asks why, then runs `transition(obj, reason)` for each row."""
    form = ReasonForm(
        request.POST if "transition-apply" in request.POST else None,
        label=reason_label,
        required=reason_required,
    )
    if form.is_bound and form.is_valid():
        reason = form.cleaned_data["reason"]
        run_transitions(
            modeladmin,
            request,
            queryset,
            lambda obj: transition(obj, reason),
            state_field=state_field,
        )
        return None
    hidden = [
        (name, value)
        for name in request.POST
        if _is_action_field(name)
        for value in request.POST.getlist(name)
    ]
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "submit_label": submit_label,
        "objects": list(queryset),
        "form": form,
        "hidden": hidden,
        "opts": modeladmin.model._meta,
        "back_url": request.get_full_path(),
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/transition_reason.html", context)


# --- Base admin -----------------------------------------------------------------------------


def _adopt(obj: models.Model, created: models.Model) -> None:
    """Make the admin's unsaved `obj` the row a service created, so the admin carries on with
    it (inlines, the log entry, the redirect) as if it had saved it itself."""
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(created, field.attname))
    obj._state.adding = False
    obj._state.db = created._state.db


class ServiceModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose writes go through services.

    - `add_fields`: the only fields of the add form (state fields have nothing to show yet);
    - `readonly_on_change`: fields that are set once, at creation;
    - `create_through_service()`: called on add instead of `obj.save()`;
    - an edit of ordinary fields is audited (which fields, by whom), in the admin's transaction;
    - a ValidationError raised by a service during a save shows in the form again, with what
      was typed, not as a 500 (the admin's transaction has rolled back).
    """

    add_fields: Sequence[str] | None = None
    readonly_on_change: Sequence[str] = ()
    audited_by_service: Sequence[str] = ()  # fields whose change a service saves and audits
    inlines_on_add = True

    def create_through_service(self, request, obj, form) -> models.Model | None:
        return None

    def get_fields(self, request, obj=None):
        if obj is None and self.add_fields is not None:
            return list(self.add_fields)
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is None:
            return [f for f in readonly if self.add_fields is None or f in self.add_fields]
        return readonly + [f for f in self.readonly_on_change if f not in readonly]

    def get_inlines(self, request, obj):
        if obj is None and not self.inlines_on_add:
            return []
        return super().get_inlines(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            changed = [f for f in form.changed_data if f not in self.audited_by_service]
            if changed:
                # Names only, never values: a payout reference must not be copied into the log.
                audit_record(
                    actor=request.user,
                    obj=obj,
                    action=AuditEvent.Action.UPDATED,
                    note="Changed in the admin: " + ", ".join(changed),
                )
            return None
        created = self.create_through_service(request, obj, form)
        if created is None:
            return super().save_model(request, obj, form, change)
        _adopt(obj, created)
        return None

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        if refusal is None:
            return form

        class RefusedForm(form):
            def clean(self):
                super().clean()
                raise refusal

        return RefusedForm

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            # A rule only the service can check (a lock, another row). The admin's transaction
            # has rolled back; show the same form again, with what was typed and the refusal.
            request._service_refusal = ValidationError(error.messages)
            return super().changeform_view(request, object_id, form_url, extra_context)


class ReadOnlyMixin:
    """Rows written only by services and jobs: staff look, nobody edits."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


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

    def clean_causes(self) -> list[str]:
        # Stored in the vocabulary's order, whatever order the boxes were ticked in.
        picked = set(self.cleaned_data["causes"])
        return [code for code in Cause.values if code in picked]


class CreatorLinkInline(admin.TabularInline):
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
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [CreatorLinkInline]

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


# --- The yearly list ------------------------------------------------------------------------


class ListEntryInline(admin.TabularInline):
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


class NewListEntryInline(admin.TabularInline):
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
class ChangeMakersListAdmin(ServiceModelAdmin):
    list_display = ["year", "title", "entry_count", "status", "published_at"]
    list_filter = ["status"]
    search_fields = ["title", "year__exact"]
    add_fields = ["year", "title", "introduction"]
    fields = ["year", "title", "introduction", "status", "published_at"]
    readonly_fields = ["status", "published_at"]
    inlines = [ListEntryInline, NewListEntryInline]
    actions = ["publish", "unpublish"]

    readonly_on_change = ["year"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(entry_count=Count("entries"))

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if _list_is_draft(obj):
            return readonly
        # Frozen like its entries: what the public was shown stays what was announced.
        return [*readonly, *(name for name in ("title", "introduction") if name not in readonly)]

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        if {"title", "introduction"} & set(form.changed_data):
            list_update(
                change_makers_list=obj,
                actor=request.user,
                title=obj.title,
                introduction=obj.introduction,
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
            fields = {name: getattr(entry, name) for name in ENTRY_FIELDS if name in changed}
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
            year=obj.year, title=obj.title, introduction=obj.introduction, actor=request.user
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
        citation=entry.citation,
        position=entry.position,
        actor=actor,
    )


@admin.register(ListEntry)
class ListEntryAdmin(ServiceModelAdmin):
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

    def create_through_service(self, request, obj, form):
        return _entry_add(obj, actor=request.user)

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        fields = {name: getattr(obj, name) for name in ENTRY_FIELDS if name in form.changed_data}
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


# --- Audit log ------------------------------------------------------------------------------


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The append-only audit log: readable, never added to, changed or deleted by hand."""

    list_display = ["occurred_at", "actor", "object_link", "action", "transition", "note"]
    list_select_related = ["actor", "content_type"]
    list_filter = ["action", ("content_type", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["object_repr"]
    date_hierarchy = "occurred_at"
    fields = [
        "occurred_at",
        "actor",
        "content_type",
        "object_id",
        "object_repr",
        "action",
        "from_state",
        "to_state",
        "note",
    ]

    @admin.display(description=_("object"), ordering="object_repr")
    def object_link(self, obj: AuditEvent) -> str:
        content_type = obj.content_type
        try:
            url = reverse(
                f"admin:{content_type.app_label}_{content_type.model}_change",
                args=[obj.object_id],
                current_app=self.admin_site.name,
            )
        except NoReverseMatch:
            return obj.object_repr
        return format_html('<a href="{}">{}</a>', url, obj.object_repr)

    @admin.display(description=_("from → to"))
    def transition(self, obj: AuditEvent) -> str:
        return f"{obj.from_state or '-'} → {obj.to_state or '-'}"


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
