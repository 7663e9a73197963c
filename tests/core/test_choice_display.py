"""`choice_display`: a model's status label in the reader's language, looked up alone rather
than by translating every choice, and a value outside the choices shown as stored."""

from django.utils import translation

from donations.models import Grant
from programs.models import Milestone


def test_the_label_is_the_readers_language():
    grant, milestone = Grant(status="approved"), Milestone(status="approved")
    assert grant.get_status_display() == "Approved"
    with translation.override("fr"):
        assert grant.get_status_display() == str(Grant.Status.APPROVED.label)
        assert grant.get_status_display() != "Approved"
        assert milestone.get_status_display() == str(Milestone.Status.APPROVED.label)


def test_a_value_outside_the_choices_is_shown_as_stored():
    assert Grant(status="legacy").get_status_display() == "legacy"


def test_django_keeps_the_models_own():
    assert Grant.get_status_display.__qualname__.startswith("choice_display")
    assert Milestone.get_status_display.__qualname__.startswith("choice_display")
