"""Narrow guards around three places where Django's admin (6.1) answers a 500 or works for
minutes on input no form of ours would send. Every admin on the site gets them, ours and
those of Django and django-axes alike: `guard_admin_site()` runs once the admin modules are
loaded (CoreConfig.ready) and re-registers each ModelAdmin as a subclass with
`GuardedAdminMixin`, whose inlines get `GuardedInlineMixin`.

1. Autocomplete fields re-rendered with an id that is not one. When a form with an
   autocomplete field (`autocomplete_fields`) is shown again with its errors,
   `AutocompleteMixin.optgroups()` (django/contrib/admin/widgets.py) looks the submitted
   value up with `queryset.filter(<to_field>__in=[value])` without cleaning it first; for an
   integer key, "abc" raises ValueError ("Field 'id' expected a number") while rendering:
   a 500 instead of the form with "Select a valid choice". The guarded widgets drop the values
   the key field cannot take before that look-up (the field has already said it is invalid).
   Same class of bug as django-autocomplete-light's yourlabs/django-autocomplete-light#1321.

2. An empty `_to_field`. `ModelAdmin._changeform_view()` and `_delete_view()` check
   `_to_field` with `to_field_allowed()` only when it is truthy, then pass it on to
   `get_object()`, which takes anything but None for a field name: `_meta.get_field("")`
   raises FieldDoesNotExist, a 500. Guarded, an empty `_to_field` means the primary key, as
   no `_to_field` does (a named field that is not allowed is still Django's 400).

3. A formset's TOTAL_FORMS far above the forms it may have. Django builds
   `min(TOTAL_FORMS, absolute_max)` forms (absolute_max defaults to max_num + 1000 = 2000),
   validates them all, only then adds "Please submit at most 1000 forms." and renders them
   all again: a list edition's inlines kept a worker busy for over a minute. Guarded inlines
   cap `absolute_max` at INLINE_MAX_FORMS and, once the formset knows its rows, `max_num` and
   `absolute_max` at those rows plus INLINE_MAX_NEW_FORMS; a management form over the cap
   builds no forms at all: the page answers at once with the formset's error. So does one
   whose management form is tampered with (an INITIAL_FORMS that is not a number made
   Django build every row as a new, blank one, which an inline that adds no rows never
   shows: its read-only columns crashed on the blank rows).
"""

from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.forms.formsets import INITIAL_FORM_COUNT, TOTAL_FORM_COUNT
from django.forms.models import BaseInlineFormSet, ModelMultipleChoiceField
from django.utils.functional import cached_property

# No inline holds more rows than this (a yearly list is the longest; its CSV import stops at
# 1000 rows): Django's own DEFAULT_MAX_NUM, without the 1000 more it allows on top.
INLINE_MAX_FORMS = 1000
# New rows one save of an inline may add (the admin's "Add another" stops there too).
INLINE_MAX_NEW_FORMS = 50


def _holds(key, value) -> bool:
    """Whether the key field `key` can hold `value` (the right type, within its range)."""
    if "\x00" in str(value):
        return False
    try:
        key.run_validators(key.to_python(value))
    except ValidationError:
        return False
    return True


class _KnownValuesOnly:
    """Show only the submitted values the related key can hold (guard 1)."""

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        key = remote.model._meta.get_field(getattr(remote, "field_name", None) or "pk")
        return super().optgroups(name, [v for v in value if _holds(key, v)], attr)


class GuardedAutocompleteSelect(_KnownValuesOnly, AutocompleteSelect):
    pass


class GuardedAutocompleteSelectMultiple(_KnownValuesOnly, AutocompleteSelectMultiple):
    pass


class GuardedModelMultipleChoiceField(ModelMultipleChoiceField):
    """Refuses ids out of the key's range before looking them up (guard 1): Django's
    `_check_values()` filters `<key>__in=[...]` with them, and on SQLite an integer beyond
    64 bits raises OverflowError (the `__in` lookup is not one of the integer lookups that
    Django turns into "no rows" when out of range)."""

    def _check_values(self, value):
        model = self.queryset.model
        key = model._meta.get_field(self.to_field_name) if self.to_field_name else model._meta.pk
        for pk in value:
            if not _holds(key, pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class _GuardedFormfields:
    """Autocomplete fields with the guarded widgets, in a ModelAdmin and in an inline."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = GuardedAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = GuardedAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        kwargs.setdefault("form_class", GuardedModelMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class CappedInlineFormSet(BaseInlineFormSet):
    """At most the rows there are plus `max_new_forms` new ones (guard 3). A management form
    asking for more, or tampered with, builds no forms at all and refuses the formset."""

    max_new_forms = INLINE_MAX_NEW_FORMS  # 0 for an inline that may not add rows

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cap = len(self.get_queryset()) + self.max_new_forms
        self.max_num = min(self.max_num, cap)
        self.absolute_max = min(self.absolute_max, cap)

    @cached_property
    def out_of_bounds(self) -> bool:
        if not self.is_bound:
            return False
        management = self.management_form
        if not management.is_valid():
            return True
        total = management.cleaned_data[TOTAL_FORM_COUNT]
        initial = management.cleaned_data[INITIAL_FORM_COUNT]
        return total > self.absolute_max or total - min(initial, total) > self.max_new_forms

    def total_form_count(self):
        return 0 if self.out_of_bounds else super().total_form_count()

    def full_clean(self):
        super().full_clean()
        if self.out_of_bounds and not self._non_form_errors:
            self._non_form_errors = self.error_class(
                [
                    ValidationError(
                        self.error_messages["too_many_forms"] % {"num": self.max_num},
                        code="too_many_forms",
                    )
                ],
                error_class="nonform",
                renderer=self.renderer,
            )


class GuardedInlineMixin(_GuardedFormfields):
    def get_formset(self, request, obj=None, **kwargs):
        base = kwargs.get("formset", self.formset)
        kwargs["formset"] = type(
            f"Capped{base.__name__}",
            (CappedInlineFormSet, base),
            {"max_new_forms": INLINE_MAX_NEW_FORMS if self.has_add_permission(request, obj) else 0},
        )
        kwargs.setdefault("absolute_max", INLINE_MAX_FORMS)
        if (self.get_max_num(request, obj) or INLINE_MAX_FORMS) > INLINE_MAX_FORMS:
            kwargs["max_num"] = INLINE_MAX_FORMS
        return super().get_formset(request, obj, **kwargs)


_guarded_inlines: dict[type, type] = {}


def guarded_inline(inline: type) -> type:
    if issubclass(inline, GuardedInlineMixin):
        return inline
    if inline not in _guarded_inlines:
        _guarded_inlines[inline] = type(inline.__name__, (GuardedInlineMixin, inline), {})
    return _guarded_inlines[inline]


class GuardedAdminMixin(_GuardedFormfields):
    def get_object(self, request, object_id, from_field=None):
        return super().get_object(request, object_id, from_field or None)  # guard 2

    def get_inlines(self, request, obj):
        return [guarded_inline(inline) for inline in super().get_inlines(request, obj)]


def guard_admin_site(site: admin.AdminSite) -> None:
    """Re-register every ModelAdmin of `site` that is not guarded yet as a guarded subclass."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, GuardedAdminMixin):
            continue
        cls = type(model_admin)
        site.unregister(model)
        site.register(model, type(cls.__name__, (GuardedAdminMixin, cls), {}))
