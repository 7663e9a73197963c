"""Milestone plan titles in every language: a cohort's plan is written per language, stamped
with every language onto each place, and the creator reads theirs (or the English, marked)."""

import datetime

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from programs.models import Milestone, MilestonePlanItem
from programs.services import (
    cohort_create,
    enrolment_activate,
    enrolment_invite,
    milestone_add,
)

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 9, 1)


def test_a_typed_plan_is_stamped_in_every_language(staff_user, creator_user):
    with translation.override("fr"):  # whoever types reads the site in French
        cohort = cohort_create(
            name="Cohort L",
            start_date=START,
            plan=[("Kickoff call", 10, {"title_fr": "Appel de lancement", "title_ar": ""})],
            actor=staff_user,
        )
    item = cohort.plan_items.get()
    assert (item.title_en, item.title_fr, item.title_ar) == (
        "Kickoff call",
        "Appel de lancement",
        None,
    )
    enrolment = enrolment_invite(cohort=cohort, creator=creator_user.creator, actor=staff_user)
    enrolment_activate(enrolment=enrolment, actor=staff_user)
    milestone = Milestone.objects.get(enrolment=enrolment)
    assert (milestone.title_en, milestone.title_fr) == ("Kickoff call", "Appel de lancement")
    # Stamping again (a second activation) adds nothing, in any language.
    from programs.services.cohorts import milestones_stamp

    with translation.override("fr"):
        assert milestones_stamp(enrolment=enrolment) == []


def test_the_default_plan_comes_in_every_language_the_catalogue_has(staff_user):
    cohort = cohort_create(name="Cohort D", start_date=START, actor=staff_user)
    kickoff = cohort.plan_items.get(title_en="Kickoff")
    assert (kickoff.title_fr, kickoff.title_es, kickoff.title_ar) == (
        "Lancement",
        "Lanzamiento",
        "الانطلاق",
    )


def test_a_title_is_unique_per_cohort_in_each_language_but_empty_ones_never_collide(staff_user):
    cohort = cohort_create(
        name="Cohort U", start_date=START, plan=[("One", 5), ("Two", 9)], actor=staff_user
    )
    assert cohort.plan_items.filter(title_fr__isnull=True).count() == 2
    one, two = cohort.plan_items.order_by("offset_days")
    MilestonePlanItem.objects.filter(pk=one.pk).update(title_fr="Étape")
    with pytest.raises(IntegrityError), transaction.atomic():
        MilestonePlanItem.objects.filter(pk=two.pk).update(title_fr="Étape")


def test_a_one_off_milestone_takes_its_translations(staff_user, enrolment):
    milestone = milestone_add(
        enrolment=enrolment,
        title="Podcast",
        description="Record one episode.",
        due_date=datetime.date(2026, 11, 1),
        translations={"description_es": "Graba un episodio."},
        actor=staff_user,
    )
    with translation.override("es"):
        assert (milestone.title, milestone.description) == ("Podcast", "Graba un episodio.")


def test_the_creator_reads_the_milestone_in_their_language_or_marked_english(
    client, creator_user, enrolment
):
    kickoff = enrolment.milestones.get(title_en="Kickoff")
    Milestone.objects.filter(pk=kickoff.pk).update(description_en="Meet the team.")
    client.force_login(creator_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = client.get(reverse("programs:portal-milestone", kwargs={"pk": kickoff.pk})).text
    assert "<h1>Lancement</h1>" in page
    assert '<div class="prose" lang="en" dir="ltr"><p>Meet the team.</p></div>' in page
    portal = client.get(reverse("programs:portal")).text
    assert ">Lancement</a>" in portal
