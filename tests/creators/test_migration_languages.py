"""The texts written before they had a language become the English ones when the language
columns arrive: the migration copies them, so no deploy has to remember a command."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("creators", "0011_handle_wording")]
AFTER = [("creators", "0012_list_texts_languages")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def before_languages(transactional_db):
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    yield _migrate(BEFORE)
    _migrate(latest)


def test_existing_list_texts_become_the_english_ones(before_languages):
    old = before_languages
    edition = old.get_model("creators", "ChangeMakersList").objects.create(
        year=2025, title="Change Makers 2025", introduction="Forty creators."
    )
    creator = old.get_model("creators", "Creator").objects.create(
        display_name="Joel Bervell", handle="joelbervell", country="US", causes=["health"]
    )
    old.get_model("creators", "ListEntry").objects.create(
        change_makers_list=edition,
        creator=creator,
        country="US",
        cause="health",
        citation="Medicine without the myths.",
        position=1,
    )

    new = _migrate(AFTER)

    edition = new.get_model("creators", "ChangeMakersList").objects.get(year=2025)
    assert (edition.title_en, edition.introduction_en) == ("Change Makers 2025", "Forty creators.")
    assert (edition.title_fr, edition.introduction_ar) == (None, None)
    entry = new.get_model("creators", "ListEntry").objects.get()
    assert (entry.citation_en, entry.citation_es) == ("Medicine without the myths.", None)
