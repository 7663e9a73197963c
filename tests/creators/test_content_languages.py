"""A list's title, introduction and citations in every language: staff write them per
language through the services and the staff pages; readers see their language, or the
English marked lang="en"; country filters sort the way French readers expect."""

import re

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import translation

from changemakers.core.models import AuditEvent
from creators.models import ChangeMakersList, Creator, ListEntry
from creators.selectors import list_country_choices
from creators.services import list_create, list_entry_add, list_entry_update, list_update
from tests.creators.test_list_editions import add, draft, published
from tests.factories import CreatorFactory

pytestmark = pytest.mark.django_db


def events(obj) -> list[tuple[str, str]]:
    return [(e.action, e.note) for e in AuditEvent.objects.for_object(obj)]


def original_column(model, pk, column):
    """The original column as stored (modeltranslation's attribute reads the language's)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_list_texts_are_saved_per_language_and_fall_back_to_english(staff_user):
    edition = list_create(
        year=2030,
        title="Change Makers 2030",
        introduction="Fifty creators.",
        translations={"introduction_fr": "Cinquante créateurs.", "introduction_ar": ""},
        actor=staff_user,
    )
    edition.refresh_from_db()
    assert (edition.title_en, edition.introduction_en) == ("Change Makers 2030", "Fifty creators.")
    assert (edition.introduction_fr, edition.introduction_ar, edition.title_fr) == (
        "Cinquante créateurs.",
        None,
        None,
    )
    with translation.override("fr"):
        assert edition.introduction == "Cinquante créateurs."
        assert edition.title == "Change Makers 2030"  # no French title: the English one
    with translation.override("es"):
        assert edition.introduction == "Fifty creators."


def test_an_update_saves_only_the_changed_languages_and_audits_them_by_name(staff_user):
    edition = draft(introduction="Hello.")
    # Saved by someone reading the site in French: the English stays the English.
    with translation.override("fr"):
        list_update(
            change_makers_list=edition,
            actor=staff_user,
            title=edition.title_en,
            introduction="Hello again.",
            translations={"introduction_fr": "Bonjour.", "title_es": ""},
        )
    edition.refresh_from_db()
    assert (edition.introduction_en, edition.introduction_fr) == ("Hello again.", "Bonjour.")
    assert original_column(ChangeMakersList, edition.pk, "introduction") == "Hello again."
    assert events(edition)[-1] == ("updated", "introduction, introduction_fr")
    # The same texts again: nothing is written or recorded.
    list_update(
        change_makers_list=edition,
        actor=staff_user,
        title=edition.title_en,
        introduction="Hello again.",
        translations={"introduction_fr": "Bonjour."},
    )
    assert len(events(edition)) == 1


def test_a_citations_translation_is_added_and_changed_through_the_services(staff_user):
    edition = draft()
    entry = list_entry_add(
        change_makers_list=edition,
        creator=CreatorFactory(),
        cause="health",
        citation="Trusted advice.",
        translations={"citation_es": "Consejos fiables."},
        actor=staff_user,
    )
    assert (entry.citation_en, entry.citation_es, entry.citation_fr) == (
        "Trusted advice.",
        "Consejos fiables.",
        None,
    )
    list_entry_update(entry=entry, actor=staff_user, citation_fr="Des conseils fiables.")
    entry.refresh_from_db()
    assert (entry.citation_en, entry.citation_fr) == ("Trusted advice.", "Des conseils fiables.")
    assert events(entry)[-1] == ("updated", "citation_fr")
    with pytest.raises(TypeError):
        list_entry_update(entry=entry, actor=staff_user, citation_de="Nein.")


def test_staff_write_a_french_introduction_on_the_edition_page(client, staff_user):
    edition = draft()
    client.force_login(staff_user)
    page = client.get(reverse("creators:edition-detail", args=[edition.year])).content.decode()
    assert 'name="introduction_fr"' in page
    assert 'lang="ar" dir="rtl"' in page
    response = client.post(
        reverse("creators:edition-edit", args=[edition.year]),
        {
            "title": edition.title,
            "introduction": "Fifty creators.",
            "introduction_fr": "Cinquante créateurs.",
            "title_ar": "صناع التغيير",
        },
    )
    assert response.status_code == 302
    edition.refresh_from_db()
    assert (edition.introduction_fr, edition.title_ar) == ("Cinquante créateurs.", "صناع التغيير")
    # A French member of staff is shown each language's own text in its own box.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = client.get(reverse("creators:edition-detail", args=[edition.year])).content.decode()
    english = re.search(r'<textarea name="introduction"[^>]*>\s*([^<]*)</textarea>', page)
    assert 'lang="en"' in english[0]
    assert english[1].strip() == "Fifty creators."


def test_a_french_reader_sees_the_french_introduction_and_english_marked_as_such(client):
    edition = published()
    ChangeMakersList.objects.filter(pk=edition.pk).update(
        introduction_en="Fifty creators.", introduction_fr="Cinquante créateurs."
    )
    entry = add(edition, 1)
    ListEntry.objects.filter(pk=entry.pk).update(citation_en="Makes science make sense.")
    Creator.objects.update(consent="agreed", public_fields=["country"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = client.get(edition.get_absolute_url()).content.decode()
    assert '<div class="prose"><p>Cinquante créateurs.</p></div>' in page
    assert "Fifty creators." not in page
    # No French citation: the English one, marked so screen readers read it in English.
    assert '<p class="entry__citation" lang="en" dir="ltr">Makes science make sense.</p>' in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(edition.get_absolute_url()).content.decode()
    assert '<div class="prose"><p>Fifty creators.</p></div>' in page
    assert 'lang="en" dir="ltr">Makes science' not in page


def test_the_lists_country_filter_sorts_egypt_before_senegal_in_french():
    edition = published()
    for position, country in enumerate(["SN", "EG", "ES", "KE"], start=1):
        add(edition, position, country=country)
    Creator.objects.update(consent="agreed", public_fields=["country"])
    with translation.override("fr"):
        names = [name for _code, name in list_country_choices(edition)]
    assert names == ["Égypte", "Espagne", "Kenya", "Sénégal"]
