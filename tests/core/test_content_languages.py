"""Staff-written texts in every language (the kernel's helpers) and names sorted the way
readers expect, on SQLite (in Python) and PostgreSQL (ICU collation in the query)."""

import pytest
from django.db import connection
from django.utils import translation

from changemakers.core.content_languages import (
    collated,
    fallback_language,
    sort_key,
    sorted_by_name,
    translated_values,
)
from creators.models import ChangeMakersList, Creator
from tests.factories import CreatorFactory

pytestmark = pytest.mark.django_db


def test_translated_values_keep_english_under_the_original_name_and_blank_as_none():
    values = translated_values(
        {"title": "The list", "introduction": "Hello."},
        {"title_fr": "La liste", "introduction_es": "  ", "introduction_ar": "مرحبا"},
    )
    assert values == {
        "title": "The list",
        "introduction": "Hello.",
        "title_fr": "La liste",
        "introduction_es": None,
        "introduction_ar": "مرحبا",
    }
    with pytest.raises(TypeError):
        translated_values({"title": "x"}, {"body_fr": "y"})


def test_the_shown_texts_language_is_the_readers_or_english():
    edition = ChangeMakersList(year=2030, title_en="The list", title_fr="La liste")
    with translation.override("fr"):
        assert (edition.title, fallback_language(edition, "title")) == ("La liste", "fr")
    with translation.override("es"):
        assert (edition.title, fallback_language(edition, "title")) == ("The list", "en")
    with translation.override("en"):
        assert fallback_language(edition, "title") == "en"


def test_names_sort_with_accents_set_aside():
    countries = ["Sénégal", "Égypte", "Espagne", "Zambie", "Émirats arabes unis"]
    plain = sorted(countries)  # what a plain sort does: É after every unaccented letter
    assert plain.index("Égypte") > plain.index("Zambie")
    assert sorted_by_name(countries) == [
        "Égypte",
        "Émirats arabes unis",
        "Espagne",
        "Sénégal",
        "Zambie",
    ]
    assert sort_key("Ébène") == sort_key("ebene")


def _names_in_query_order() -> list[str]:
    return list(
        Creator.objects.order_by(collated("display_name"), "pk").values_list(
            "display_name", flat=True
        )
    )


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite path")
def test_on_sqlite_the_query_orders_by_the_plain_column():
    assert collated("display_name") == "display_name"


@pytest.mark.postgres
def test_on_postgresql_names_sort_with_icu_collation():
    for name in ["Zoë Adams", "Élodie Martin", "eli virkina", "Sénégal Voices", "Ana Díaz"]:
        CreatorFactory(display_name=name)
    assert _names_in_query_order() == [
        "Ana Díaz",
        "eli virkina",
        "Élodie Martin",
        "Sénégal Voices",
        "Zoë Adams",
    ]
