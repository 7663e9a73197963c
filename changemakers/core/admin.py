"""The admin's base classes every app's admin uses, and the audit log's own admin.

State fields are never edited by hand: they are read-only, and each transition is an admin
action that calls the app's service with `actor=request.user`, one row (and one transaction)
at a time. Rows that have a create service are added through it, so the addition is audited.
"""

from collections.abc import Callable, Sequence
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.forms.utils import pretty_name
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationTabularInline

from .audit import audit_record
from .content_languages import text_direction
from .models import AuditEvent, OutboxEvent, Preferences
from .verbs import KernelVerb, verb_choices

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


def adopt(obj: models.Model, created: models.Model) -> None:
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
                    action=KernelVerb.UPDATED,
                    note="Changed in the admin: " + ", ".join(changed),
                )
            return None
        created = self.create_through_service(request, obj, form)
        if created is None:
            return super().save_model(request, obj, form, change)
        adopt(obj, created)
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


# --- Inlines --------------------------------------------------------------------------------


class LabelledInlineFormSet(BaseInlineFormSet):
    """Names every input of a tabular inline's rows after its column.

    Django's tabular inline shows a field's label once, in the column's header, and renders
    the rows' inputs without a <label>: a screen reader would announce "edit text" with no
    name. Each input gets its column's label as `aria-label` (the "Delete?" box too), which is
    also what a person sees above it.
    """

    def add_fields(self, form, index):
        super().add_fields(form, index)
        for name, field in form.fields.items():
            widget = field.widget
            while isinstance(widget, RelatedFieldWidgetWrapper):  # the "+" and pencil links
                widget = widget.widget
            if widget.is_hidden or "aria-label" in widget.attrs:
                continue
            label = field.label if field.label is not None else pretty_name(name)
            # A new dict: a wrapped widget's attrs can be shared with the form class's field.
            widget.attrs = {**widget.attrs, "aria-label": str(label)}


class TabularInline(admin.TabularInline):
    """The project's tabular inline: each row's inputs are named (`LabelledInlineFormSet`)."""

    formset = LabelledInlineFormSet


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


# --- Audit log ------------------------------------------------------------------------------


class AuditVerbFilter(admin.SimpleListFilter):
    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return verb_choices()

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The append-only audit log: readable, never added to, changed or deleted by hand."""

    list_display = ["occurred_at", "actor", "object_link", "action", "transition", "note"]
    list_select_related = ["actor", "content_type"]
    list_filter = [AuditVerbFilter, ("content_type", admin.RelatedOnlyFieldListFilter)]
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
        # The arrow points the way the page reads: right to left in Arabic.
        arrow = "←" if translation.get_language_bidi() else "→"
        return f"{obj.from_state or '-'} {arrow} {obj.to_state or '-'}"


# --- People's own settings ------------------------------------------------------------------


@admin.register(Preferences)
class PreferencesAdmin(ReadOnlyAdmin):
    """Each person's time zone and email language: changed only by the person themselves
    (their profile or "Your settings"), so staff may look, not edit."""

    list_display = ["user", "time_zone", "language", "updated_at"]
    list_select_related = ["user"]
    list_filter = ["language"]
    search_fields = ["user__username", "user__email", "time_zone"]
    fields = ["user", "time_zone", "language", "updated_at"]


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    """The events emitted for partners, as they were recorded (the webhooks' source)."""

    list_display = ["occurred_at", "type", "content_type", "object_id", "handled_at"]
    list_filter = ["type", "handled_at"]
    list_select_related = ["content_type"]
    date_hierarchy = "occurred_at"
    fields = ["uuid", "type", "occurred_at", "content_type", "object_id", "data", "handled_at"]


# --- Texts in every language ---------------------------------------------------------------


class LanguageInputsMixin:
    """For a modeltranslation admin: each language's input says its language and direction
    (`lang="ar" dir="rtl"`), so browsers and screen readers read and spell-check it as such."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        language = getattr(db_field, "language", None)
        if field is not None and language:
            widget = getattr(field.widget, "widget", field.widget)
            widget.attrs.update(lang=language, dir=text_direction(language))
        return field


class TranslatedTabularInline(LanguageInputsMixin, TranslationTabularInline, TabularInline):
    """A tabular inline whose translated columns get an input per language."""
