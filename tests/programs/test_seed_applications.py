import pytest
from django.core.management import call_command

from programs.models import Application

# Seeding stores the demo videos' thumbnails: in a temporary MEDIA_ROOT, never the checkout.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def test_seed_adds_pending_applications_once(settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    applications = Application.objects.order_by("handle")
    assert [(a.handle, a.status, a.language) for a in applications] == [
        ("amara.sahel", "pending", "fr"),
        ("priyanka.maths", "pending", "en"),
    ]
