"""The admin guards of changemakers/core/admin_guards.py are on every admin of the site; the
fuzz proofs (tests/security/test_fuzz_forms.py) show what they guard against."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory

from changemakers.core.admin_guards import (
    INLINE_MAX_NEW_FORMS,
    GuardedAdminMixin,
    GuardedAutocompleteSelect,
    GuardedInlineMixin,
)
from creators.models import Creator
from donations.models import Nonprofit
from tests.factories import UserFactory


def test_every_admin_of_the_site_is_guarded():
    request = RequestFactory().get("/admin/")
    unguarded = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, GuardedAdminMixin)
    ]
    assert not unguarded
    for model_admin in admin.site._registry.values():
        for inline in model_admin.get_inlines(request, None):
            assert issubclass(inline, GuardedInlineMixin), inline


@pytest.mark.django_db
def test_an_autocomplete_field_shows_a_bad_id_again_without_looking_it_up():
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    form_class = admin.site._registry[Creator].get_form(request)
    widget = form_class.base_fields["user"].widget.widget
    assert isinstance(widget, GuardedAutocompleteSelect)
    for bad in ("abc", "9" * 40, "-1", "a\x00b"):
        html = widget.render("user", bad)  # Django's own widget: ValueError, OverflowError
        assert "<select" in html


@pytest.mark.django_db
def test_a_formset_asking_for_too_many_forms_builds_none():
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    model_admin = admin.site._registry[Nonprofit]
    [inline] = model_admin.get_inline_instances(request, None)
    formset_class = inline.get_formset(request, None)
    prefix = formset_class.get_default_prefix()
    data = {f"{prefix}-TOTAL_FORMS": str(10**9), f"{prefix}-INITIAL_FORMS": "0"}
    formset = formset_class(data, instance=Nonprofit(), prefix=prefix)
    assert formset.forms == []
    assert not formset.is_valid()
    assert f"at most {INLINE_MAX_NEW_FORMS} forms" in str(formset.non_form_errors())


@pytest.mark.django_db
def test_a_many_to_many_field_refuses_an_id_out_of_range():
    request = RequestFactory().get("/admin/")
    form_class = admin.site._registry[Group].get_form(request)
    form = form_class({"name": "x", "permissions": ["9" * 40]})
    assert not form.is_valid()
    assert "permissions" in form.errors
