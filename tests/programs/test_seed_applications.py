import pytest
from django.core.management import call_command

from programs.models import Application

pytestmark = pytest.mark.django_db


def test_seed_adds_pending_applications_once(settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    applications = Application.objects.order_by("handle")
    assert [(a.handle, a.status, a.language) for a in applications] == [
        ("amara.sahel", "pending", "fr"),
        ("priyanka.maths", "pending", "en"),
    ]
