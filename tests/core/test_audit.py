"""The kernel's audit log: each app declares its own verbs, and nothing else is recorded."""

import pytest
from django.db import models
from django.utils import translation

from changemakers.core import verbs
from changemakers.core.audit import audit_changes, audit_record
from changemakers.core.models import AuditEvent
from tests.factories import CreatorFactory, GrantFactory


def test_each_app_declares_its_own_verbs():
    from creators.models import AuditVerb as CreatorVerb
    from donations.models import AuditVerb as DonationVerb
    from programs.models import AuditVerb as ProgramVerb

    declared = dict(verbs.verb_choices())
    for app_verbs in (CreatorVerb, ProgramVerb, DonationVerb, verbs.KernelVerb):
        assert set(app_verbs.values) <= set(declared)
    # The kernel knows no app's vocabulary.
    assert set(verbs.KernelVerb.values) == {"created", "updated"}


@pytest.mark.django_db
def test_an_undeclared_verb_is_refused_and_nothing_is_written():
    creator = CreatorFactory()
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError, match="declare it"):
        audit_record(actor=None, obj=creator, action="teleported")
    with pytest.raises(ValueError, match="declare it"):
        audit_changes(actor=None, changes=[(creator, "teleported", "", "", "")])
    assert AuditEvent.objects.count() == before


def test_a_verb_declared_twice_with_another_meaning_is_refused():
    class Clash(models.TextChoices):
        APPROVED = "approved", "Waved through"

    with pytest.raises(ValueError, match="approved"):
        verbs.verbs_declare(Clash)


@pytest.mark.django_db
def test_an_event_shows_its_verb_in_the_readers_language():
    event = audit_record(actor=None, obj=GrantFactory(), action="disbursed")
    assert event.get_action_display() == "Paid"
    with translation.override("fr"):
        assert event.get_action_display() == "Payée"
    # A verb no app declares any more still reads as itself.
    assert verbs.verb_label("retired_verb") == "retired_verb"
