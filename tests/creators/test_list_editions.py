"""Staff build a year's edition: entries added, edited, moved and removed on drafts only,
previewed, published and unpublished; and no one else can touch any of it."""

import datetime as dt
import re

import factory
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from changemakers.core.models import AuditEvent
from creators.models import Cause, ChangeMakersList, Creator, ListEntry
from creators.services import (
    list_create,
    list_entry_add,
    list_entry_move,
    list_entry_remove,
    list_entry_update,
    list_publish,
)
from tests.factories import ChangeMakersListFactory, CreatorFactory, ListEntryFactory

pytestmark = pytest.mark.django_db


def draft(year: int = 2027, **kwargs) -> ChangeMakersList:
    return ChangeMakersListFactory(year=year, title=f"Change Makers {year}", **kwargs)


def published(year: int = 2026) -> ChangeMakersList:
    return ChangeMakersListFactory(
        year=year,
        title=f"Change Makers {year}",
        status=ChangeMakersList.Status.PUBLISHED,
        published_at=dt.datetime(year, 11, 1, tzinfo=dt.UTC),
    )


def add(change_makers_list, position, *, name=None, handle=None, country="KE"):
    creator = CreatorFactory(
        display_name=name or f"Creator {position:03d}",
        handle=handle or f"c{position}_{change_makers_list.year}",
        country=country,
    )
    return ListEntryFactory(
        change_makers_list=change_makers_list, creator=creator, country=country, position=position
    )


def positions(change_makers_list) -> list[tuple[str, int]]:
    return list(
        change_makers_list.entries.order_by("position").values_list("creator__handle", "position")
    )


def events(obj) -> list[tuple[str, str]]:
    return [(e.action, e.note) for e in AuditEvent.objects.for_object(obj)]


# --- Services ------------------------------------------------------------------------------------


def test_an_added_entry_is_audited_and_takes_the_creators_country(staff_user):
    cml = draft()
    creator = CreatorFactory(country="SG")
    entry = list_entry_add(
        change_makers_list=cml, creator=creator, cause="health", citation="Hi.", actor=staff_user
    )
    assert (entry.position, entry.country) == (1, "SG")
    assert events(entry) == [("created", "Position 1")]


def test_nothing_can_be_added_to_a_published_list(staff_user):
    cml = published()
    with pytest.raises(Exception, match="unpublish it first"):
        list_entry_add(change_makers_list=cml, creator=CreatorFactory(), cause="arts", citation=".")
    assert not cml.entries.exists()


def test_moving_up_swaps_with_the_entry_above_despite_the_unique_position(staff_user):
    cml = draft()
    first, second, third = add(cml, 1), add(cml, 2), add(cml, 5)
    list_entry_move(entry=third, direction="up", actor=staff_user)
    assert positions(cml) == [
        (first.creator.handle, 1),
        (third.creator.handle, 2),
        (second.creator.handle, 5),
    ]
    assert events(third) == [("updated", "Position 5 → 2")]


def test_an_entry_at_the_highest_position_still_moves(staff_user):
    cml = draft()
    low, high = add(cml, 1), add(cml, 32767)
    list_entry_move(entry=high, direction="up", actor=staff_user)
    assert positions(cml) == [(high.creator.handle, 1), (low.creator.handle, 32767)]


def test_moving_down_and_past_the_ends(staff_user):
    cml = draft()
    first, second = add(cml, 1), add(cml, 2)
    list_entry_move(entry=first, direction="up", actor=staff_user)  # already at the top
    list_entry_move(entry=second, direction="down", actor=staff_user)  # already at the bottom
    assert positions(cml) == [(first.creator.handle, 1), (second.creator.handle, 2)]
    list_entry_move(entry=first, direction="down", actor=staff_user)
    assert positions(cml) == [(second.creator.handle, 1), (first.creator.handle, 2)]
    with pytest.raises(ValueError, match="sideways"):
        list_entry_move(entry=first, direction="sideways", actor=staff_user)


def test_removing_an_entry_is_audited_and_a_second_removal_does_nothing(staff_user):
    cml = draft()
    entry = add(cml, 1)
    list_entry_remove(entry=entry, actor=staff_user)
    list_entry_remove(entry=entry, actor=staff_user)
    assert not cml.entries.exists()
    assert events(entry) == [("removed", "From Change Makers 2027")]


def test_an_entry_cannot_take_a_position_already_held(staff_user):
    cml = draft()
    first, second = add(cml, 1), add(cml, 2)
    with pytest.raises(Exception, match="already holds this position"):
        list_entry_update(entry=second, actor=staff_user, position=1)
    updated = list_entry_update(
        entry=second, actor=staff_user, position=7, cause=Cause.ARTS, citation="Paints."
    )
    assert (updated.position, updated.cause, updated.citation) == (7, "arts", "Paints.")
    assert events(second) == [("updated", "position, cause, citation")]
    assert first.position == 1


def test_a_published_lists_entries_are_frozen(staff_user):
    cml = draft()
    entry = add(cml, 1)
    add(cml, 2)
    list_publish(change_makers_list=cml, actor=staff_user)
    for change in (
        lambda: list_entry_update(entry=entry, actor=staff_user, citation="New."),
        lambda: list_entry_move(entry=entry, direction="down", actor=staff_user),
        lambda: list_entry_remove(entry=entry, actor=staff_user),
    ):
        with pytest.raises(Exception, match="unpublish it first"):
            change()
    assert cml.entries.count() == 2


# --- Staff pages ---------------------------------------------------------------------------------


def test_staff_see_every_edition_with_its_status_and_entry_count(client, staff_user):
    pub = published(2026)
    add(pub, 1)
    add(pub, 2)
    draft(2027)
    client.force_login(staff_user)
    response = client.get(reverse("creators:edition-list"))
    content = response.content.decode()
    assert response.status_code == 200
    assert content.index("2027") < content.index("2026")
    assert "Draft" in content
    assert "Published" in content
    rows = {e.year: e.entry_count for e in response.context["page_obj"].object_list}
    assert rows == {2027: 0, 2026: 2}


def test_staff_create_an_edition_as_a_draft(client, staff_user):
    client.force_login(staff_user)
    response = client.post(
        reverse("creators:edition-create"),
        {"year": 2028, "title": "Change Makers 2028", "introduction": ""},
    )
    assert response.status_code == 302
    assert response.url == reverse("creators:edition-detail", args=[2028])
    edition = ChangeMakersList.objects.get(year=2028)
    assert edition.status == ChangeMakersList.Status.DRAFT
    again = client.post(
        reverse("creators:edition-create"), {"year": 2028, "title": "Twice", "introduction": ""}
    )
    assert again.status_code == 422
    assert "already exists" in again.content.decode()


def test_staff_add_an_entry_by_handle_with_the_creators_country_and_cause(client, staff_user):
    cml = draft()
    add(cml, 1)
    CreatorFactory(handle="nora.learns", country="SA", causes=[Cause.EDUCATION, Cause.ARTS])
    client.force_login(staff_user)
    response = client.post(
        reverse("creators:edition-entry-add", args=[2027]),
        {
            "handle": "@Nora.Learns",
            "country": "",
            "cause": "",
            "citation": "Teaches.",
            "position": "",
        },
    )
    assert response.status_code == 302
    entry = cml.entries.get(creator__handle="nora.learns")
    assert (entry.position, entry.country, entry.cause) == (2, "SA", "education")


def test_adding_an_unknown_or_listed_creator_says_why(client, staff_user):
    cml = draft()
    listed = add(cml, 1)
    client.force_login(staff_user)
    url = reverse("creators:edition-entry-add", args=[2027])
    data = {"country": "", "cause": "", "citation": "Hi.", "position": ""}
    unknown = client.post(url, {**data, "handle": "nobody_here"})
    assert "No creator has the handle @nobody_here." in unknown.content.decode()
    twice = client.post(url, {**data, "handle": listed.creator.handle})
    assert "already on this year" in twice.content.decode()
    taken = client.post(url, {**data, "handle": CreatorFactory().handle, "position": 1})
    assert "Another entry already holds this position." in taken.content.decode()
    assert cml.entries.count() == 1


def test_staff_edit_an_entry(client, staff_user):
    cml = draft()
    entry = add(cml, 1)
    client.force_login(staff_user)
    url = reverse("creators:edition-entry-edit", args=[2027, entry.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"country": "NG", "cause": "health", "citation": "Better.", "position": 3}
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.country, entry.cause, entry.citation, entry.position) == (
        "NG",
        "health",
        "Better.",
        3,
    )


def test_an_entry_is_edited_only_through_its_own_edition(client, staff_user):
    entry = add(draft(2027), 1)
    draft(2028)
    client.force_login(staff_user)
    url = reverse("creators:edition-entry-edit", args=[2028, entry.pk])
    assert client.get(url).status_code == 404


def test_moving_with_htmx_answers_with_the_table(client, staff_user):
    cml = draft()
    first, second = add(cml, 1, name="Alpha Person"), add(cml, 2, name="Beta Person")
    client.force_login(staff_user)
    response = client.post(
        reverse("creators:edition-entry-move", args=[2027, second.pk, "up"]),
        headers={"HX-Request": "true", "HX-Target": "entries"},
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith('<section id="entries"')
    assert content.index("Beta Person") < content.index("Alpha Person")
    assert "HX-Trigger" not in response  # the table is all the page shows of the order
    assert 'data-hx-swap-oob="innerHTML">Beta Person moved up.' in content
    assert positions(cml) == [(second.creator.handle, 1), (first.creator.handle, 2)]


def test_moving_and_removing_work_without_javascript(client, staff_user):
    cml = draft()
    first, second = add(cml, 1), add(cml, 2)
    client.force_login(staff_user)
    moved = client.post(reverse("creators:edition-entry-move", args=[2027, first.pk, "down"]))
    assert moved.status_code == 302
    assert moved.url == reverse("creators:edition-detail", args=[2027]) + "#entries"
    removed = client.post(reverse("creators:edition-entry-remove", args=[2027, second.pk]))
    assert removed.status_code == 302
    assert positions(cml) == [(first.creator.handle, 2)]
    page = client.get(moved.url).content.decode()
    assert "is removed from the list." in page


def test_an_unknown_direction_is_404(client, staff_user):
    entry = add(draft(), 1)
    client.force_login(staff_user)
    url = reverse("creators:edition-entry-move", args=[2027, entry.pk, "sideways"])
    assert client.post(url).status_code == 404


def test_a_refused_move_on_a_published_list_is_said_in_place(client, staff_user):
    cml = published()
    entry, _ = add(cml, 1), add(cml, 2)
    client.force_login(staff_user)
    response = client.post(
        reverse("creators:edition-entry-move", args=[2026, entry.pk, "down"]),
        headers={"HX-Request": "true", "HX-Target": "entries"},
    )
    assert response.status_code == 422
    assert "unpublish it first" in response.content.decode()
    assert "HX-Trigger" not in response
    entry.refresh_from_db()
    assert entry.position == 1


def test_the_edition_page_of_a_published_list_offers_no_editing(client, staff_user):
    cml = published()
    add(cml, 1)
    client.force_login(staff_user)
    content = client.get(reverse("creators:edition-detail", args=[2026])).content.decode()
    assert "A published edition is frozen" in content
    assert "Add a creator" not in content
    assert "Unpublish" in content
    assert reverse("creators:edition-import", args=[2026]) not in content


def test_preview_shows_a_draft_to_staff_marked_not_public(client, staff_user):
    cml = draft()
    add(cml, 1, name="Secret Person", country="KE")
    add(cml, 2, name="Other Person", country="ES")
    client.force_login(staff_user)
    url = reverse("creators:edition-preview", args=[2027])
    content = client.get(url).content.decode()
    assert "Preview — not public" in content
    assert "Secret Person" in content
    assert f'action="{url}"' in content
    filtered = client.get(url, {"country": "ES"}).content.decode()
    assert "Other Person" in filtered
    assert "Secret Person" not in filtered
    # The public still sees nothing of it.
    client.logout()
    assert client.get(reverse("creators:list-year", args=[2027])).status_code == 404


def test_staff_publish_then_unpublish_with_a_reason(client, staff_user):
    cml = draft()
    add(cml, 1)
    client.force_login(staff_user)
    client.post(reverse("creators:edition-publish", args=[2027]))
    cml.refresh_from_db()
    assert cml.status == ChangeMakersList.Status.PUBLISHED
    assert client.get(reverse("creators:list-year", args=[2027])).status_code == 200

    client.post(reverse("creators:edition-unpublish", args=[2027]), {"reason": ""})
    cml.refresh_from_db()
    assert cml.status == ChangeMakersList.Status.PUBLISHED

    client.post(reverse("creators:edition-unpublish", args=[2027]), {"reason": "A typo."})
    cml.refresh_from_db()
    assert cml.status == ChangeMakersList.Status.DRAFT
    assert [(e.action, e.note) for e in AuditEvent.objects.for_object(cml)][-1] == (
        "unpublished",
        "A typo.",
    )
    assert client.get(reverse("creators:list-year", args=[2027])).status_code == 404
    history = client.get(reverse("creators:edition-detail", args=[2027])).content.decode()
    assert "A typo." in history


def test_an_empty_edition_is_not_published(client, staff_user):
    draft()
    client.force_login(staff_user)
    response = client.post(reverse("creators:edition-publish", args=[2027]), follow=True)
    assert "An empty list cannot be published." in response.content.decode()


@pytest.mark.parametrize("count", [10, 200])
def test_the_edition_page_answers_in_a_fixed_number_of_queries(
    client, staff_user, django_assert_num_queries, count
):
    cml = draft()
    creators = CreatorFactory.create_batch(count)
    ListEntry.objects.bulk_create(
        ListEntry(
            change_makers_list=cml, creator=c, country="KE", cause="arts", citation=".", position=n
        )
        for n, c in enumerate(creators, start=1)
    )
    client.force_login(staff_user)
    # session, user, edition, entry count, a page of entries with creators, history
    # The seventh: the creators who have not confirmed, listed above the entries. The eighth:
    # the staff navigation's work queues (one query for all its badges).
    with django_assert_num_queries(8):
        response = client.get(reverse("creators:edition-detail", args=[2027]))
    assert response.status_code == 200


# --- Who may: staff only --------------------------------------------------------------------


def _staff_urls(entry) -> list[tuple[str, str, dict]]:
    year = entry.change_makers_list.year
    return [
        ("get", reverse("creators:edition-list"), {}),
        ("get", reverse("creators:edition-create"), {}),
        ("post", reverse("creators:edition-create"), {"year": 2030, "title": "X"}),
        ("get", reverse("creators:edition-import-template"), {}),
        ("get", reverse("creators:edition-detail", args=[year]), {}),
        ("get", reverse("creators:edition-creator-search", args=[year]), {"creator_q": "cc"}),
        ("post", reverse("creators:edition-edit", args=[year]), {"title": "Hacked"}),
        (
            "post",
            reverse("creators:edition-entry-add", args=[year]),
            {"handle": "someone_else", "citation": "Hi."},
        ),
        ("get", reverse("creators:edition-entry-edit", args=[year, entry.pk]), {}),
        (
            "post",
            reverse("creators:edition-entry-edit", args=[year, entry.pk]),
            {"country": "NG", "cause": "arts", "citation": "Hacked.", "position": 9},
        ),
        ("post", reverse("creators:edition-entry-move", args=[year, entry.pk, "down"]), {}),
        ("post", reverse("creators:edition-entry-remove", args=[year, entry.pk]), {}),
        ("get", reverse("creators:edition-import", args=[year]), {}),
        ("post", reverse("creators:edition-import", args=[year]), {}),
        ("get", reverse("creators:edition-preview", args=[year]), {}),
        ("get", reverse("creators:edition-publish", args=[year]), {}),
        ("post", reverse("creators:edition-publish", args=[year]), {}),
        ("get", reverse("creators:edition-unpublish", args=[year]), {}),
        ("post", reverse("creators:edition-unpublish", args=[year]), {"reason": "x"}),
        ("get", reverse("backoffice:hub-edit"), {}),
        (
            "post",
            reverse("backoffice:hub-edit"),
            {"title": "Hacked", "hashtag": "#hacked", "introduction": "Hacked."},
        ),
    ]


@pytest.fixture
def guarded():
    cml = draft()
    entry = add(cml, 1)
    add(cml, 2)
    CreatorFactory(handle="someone_else")
    return entry


def _snapshot():
    from changemakers.backoffice.models import ProgramHub

    return (
        list(ListEntry.objects.order_by("pk").values_list("pk", "position", "citation", "country")),
        list(ChangeMakersList.objects.order_by("pk").values_list("year", "status")),
        ProgramHub.objects.count(),
        AuditEvent.objects.count(),
    )


def test_anonymous_visitors_are_sent_to_sign_in(client, guarded):
    before = _snapshot()
    for method, url, data in _staff_urls(guarded):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url
    assert _snapshot() == before


@pytest.mark.parametrize("who", ["creator_user", "nonprofit_user"])
def test_creators_and_nonprofit_contacts_are_refused(client, guarded, who, request):
    client.force_login(request.getfixturevalue(who))
    before = _snapshot()
    for method, url, data in _staff_urls(guarded):
        assert getattr(client, method)(url, data).status_code == 403, url
    assert _snapshot() == before


def test_staff_nav_links_to_the_editions(client, staff_user, creator_user):
    client.force_login(staff_user)
    assert reverse("creators:edition-list") in client.get("/").content.decode()
    client.force_login(creator_user)
    assert reverse("creators:edition-list") not in client.get("/").content.decode()


def test_the_admin_freezes_a_published_lists_entries_too(client, staff_user):
    cml = published()
    entry = add(cml, 1)
    editable = draft()
    draft_entry = add(editable, 1)
    client.force_login(staff_user)
    page = client.get(reverse("admin:creators_changemakerslist_change", args=[cml.pk]))
    content = page.content.decode()
    assert 'name="entries-0-citation_en"' not in content
    assert 'name="entries-2-0-creator"' not in content  # no "add entries" rows
    draft_page = client.get(reverse("admin:creators_changemakerslist_change", args=[editable.pk]))
    assert 'name="entries-0-citation_en"' in draft_page.content.decode()
    frozen = client.post(
        reverse("admin:creators_listentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert frozen.status_code == 403
    assert ListEntry.objects.filter(pk=entry.pk).exists()
    assert (
        client.get(reverse("admin:creators_listentry_change", args=[draft_entry.pk])).status_code
        == 200
    )


def test_staff_edit_a_drafts_title_and_introduction(client, staff_user):
    cml = draft()
    client.force_login(staff_user)
    url = reverse("creators:edition-edit", args=[2027])
    response = client.post(
        url, {"title": "Change Makers 2027: the shortlist", "introduction": "Hi."}
    )
    assert response.status_code == 302
    cml.refresh_from_db()
    assert (cml.title, cml.introduction) == ("Change Makers 2027: the shortlist", "Hi.")
    assert [(e.action, e.note) for e in AuditEvent.objects.for_object(cml)][-1] == (
        "updated",
        "title, introduction",
    )
    blank = client.post(url, {"title": "", "introduction": ""})
    assert blank.status_code == 422
    assert "This field is required." in blank.content.decode()


def test_a_published_editions_title_is_frozen(client, staff_user):
    cml = published()
    add(cml, 1)
    client.force_login(staff_user)
    response = client.post(
        reverse("creators:edition-edit", args=[2026]),
        {"title": "Renamed", "introduction": ""},
        follow=True,
    )
    assert "unpublish it first" in response.content.decode()
    cml.refresh_from_db()
    assert cml.title == "Change Makers 2026"


def test_adding_to_a_published_edition_is_refused_with_a_message(client, staff_user):
    cml = published()
    add(cml, 1)
    creator = CreatorFactory()
    client.force_login(staff_user)
    response = client.post(
        reverse("creators:edition-entry-add", args=[2026]),
        {"handle": creator.handle, "citation": "Late.", "country": "", "cause": ""},
        follow=True,
    )
    assert "unpublish it first" in response.content.decode()
    assert cml.entries.count() == 1


# --- Real PostgreSQL: staff working on the same edition at once ----------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_adds_and_an_import_keep_positions_unique(staff_user):
    """Six staff act on one draft at the same moment: moves, adds without a position and an
    import. The lock on the list row serialises them: nothing fails, no position is shared."""
    import threading

    from django.db import connection

    from creators.list_import import csv_rows
    from creators.services import list_entries_import

    assert connection.vendor == "postgresql"
    cml = draft()
    entries = [add(cml, n) for n in range(1, 6)]
    newcomers = [CreatorFactory(handle=f"new_{n}") for n in range(3)]
    rows = csv_rows(b"handle,citation\nnew_2,Imported.\n")
    actions = [
        lambda: list_entry_move(entry=entries[2], direction="up", actor=staff_user),
        lambda: list_entry_move(entry=entries[1], direction="down", actor=staff_user),
        lambda: list_entry_move(entry=entries[4], direction="up", actor=staff_user),
        lambda: list_entry_add(
            change_makers_list=cml, creator=newcomers[0], cause="arts", citation="A."
        ),
        lambda: list_entry_add(
            change_makers_list=cml, creator=newcomers[1], cause="arts", citation="B."
        ),
        lambda: list_entries_import(change_makers_list=cml, rows=rows, actor=staff_user),
    ]
    barrier = threading.Barrier(len(actions))
    errors = []

    def run(action):
        try:
            barrier.wait()
            action()
        except Exception as error:  # reported below: a thread's exception is otherwise lost
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    taken = list(cml.entries.values_list("position", flat=True))
    assert len(taken) == 8
    assert len(set(taken)) == 8
    assert sorted(taken)[:5] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("count", [2, 30])
def test_the_editions_page_answers_in_a_fixed_number_of_queries(
    client, staff_user, django_assert_num_queries, count
):
    for year in range(2030, 2030 + count):
        add(draft(year), 1)
    client.force_login(staff_user)
    # session, user, count, the page of editions with their entry counts, and the staff
    # navigation's work queues (one query for all its badges)
    with django_assert_num_queries(5):
        assert client.get(reverse("creators:edition-list")).status_code == 200


def test_the_admin_cannot_add_an_entry_to_a_published_list(client, staff_user):
    cml = published()
    add(cml, 1)
    creator = CreatorFactory(handle="latecomer", country="KE", causes=["health"])
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:creators_listentry_add"),
        {
            "change_makers_list": cml.pk,
            "creator": creator.pk,
            "country": "KE",
            "cause": "health",
            "citation_en": "Slipped in after the announcement.",
            "position": 5,
        },
    )
    assert response.status_code == 200
    assert "A published list cannot be changed" in response.content.decode()
    assert not cml.entries.filter(creator=creator).exists()


def test_the_admin_adds_edits_and_deletes_a_drafts_entries_through_the_services(client, staff_user):
    cml = draft()
    creator = CreatorFactory(handle="newcomer", country="KE", causes=["health"])
    client.force_login(staff_user)
    client.post(
        reverse("admin:creators_listentry_add"),
        {
            "change_makers_list": cml.pk,
            "creator": creator.pk,
            "country": "KE",
            "cause": "health",
            "citation_en": "Joined this year.",
            "position": 3,
        },
    )
    entry = cml.entries.get(creator=creator)
    assert events(entry) == [("created", "Position 3")]
    client.post(
        reverse("admin:creators_listentry_change", args=[entry.pk]),
        {
            "country": "KE",
            "cause": "health",
            "citation_en": "Joined this year, loudly.",
            "citation_fr": "Arrivé cette année, bruyamment.",
            "position": 3,
        },
    )
    entry.refresh_from_db()
    assert entry.citation == "Joined this year, loudly."
    assert entry.citation_fr == "Arrivé cette année, bruyamment."
    assert events(entry)[-1] == ("updated", "citation, citation_fr")
    client.post(reverse("admin:creators_listentry_delete", args=[entry.pk]), {"post": "yes"})
    assert not cml.entries.exists()
    assert events(entry)[-1][0] == "removed"


def test_the_admin_cannot_move_an_entry_onto_a_published_list(client, staff_user):
    frozen = published()
    entry = add(draft(), 1)
    client.force_login(staff_user)
    client.post(
        reverse("admin:creators_listentry_change", args=[entry.pk]),
        {
            "change_makers_list": frozen.pk,
            "creator": entry.creator_id,
            "country": "KE",
            "cause": entry.cause,
            "citation_en": entry.citation,
            "position": 1,
        },
    )
    entry.refresh_from_db()
    assert entry.change_makers_list_id != frozen.pk
    assert not frozen.entries.exists()


def test_the_admin_cannot_retitle_a_published_list(client, staff_user):
    cml = published()
    add(cml, 1)
    client.force_login(staff_user)
    client.post(
        reverse("admin:creators_changemakerslist_change", args=[cml.pk]),
        {
            "year": 2030,
            "title_en": "Renamed after the announcement",
            "introduction_en": "",
            "entries-TOTAL_FORMS": 0,
            "entries-INITIAL_FORMS": 0,
            "entries-2-TOTAL_FORMS": 0,
            "entries-2-INITIAL_FORMS": 0,
        },
    )
    cml.refresh_from_db()
    assert (cml.year, cml.title) == (2026, "Change Makers 2026")


def test_the_admins_inline_entries_go_through_the_services(client, staff_user):
    cml = draft()
    entry = add(cml, 1)
    creator = CreatorFactory(handle="inlined", country="NG", causes=["education"])
    client.force_login(staff_user)
    client.post(
        reverse("admin:creators_changemakerslist_change", args=[cml.pk]),
        {
            "title_en": "Change Makers 2027, revised",
            "introduction_en": "",
            "entries-TOTAL_FORMS": 1,
            "entries-INITIAL_FORMS": 1,
            "entries-0-id": entry.pk,
            "entries-0-change_makers_list": cml.pk,
            "entries-0-position": 1,
            "entries-0-country": "KE",
            "entries-0-cause": entry.cause,
            "entries-0-citation_en": "Rewritten in the admin.",
            "entries-2-TOTAL_FORMS": 1,
            "entries-2-INITIAL_FORMS": 0,
            "entries-2-0-change_makers_list": cml.pk,
            "entries-2-0-position": 2,
            "entries-2-0-creator": creator.pk,
            "entries-2-0-country": "",
            "entries-2-0-cause": "education",
            "entries-2-0-citation_en": "Added in the admin.",
        },
    )
    cml.refresh_from_db()
    assert cml.title == "Change Makers 2027, revised"
    assert ("updated", "title") in events(cml)
    assert events(entry)[-1] == ("updated", "citation")
    added = cml.entries.get(creator=creator)
    assert (added.country.code, added.position) == ("NG", 2)
    assert events(added) == [("created", "Position 2")]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_publishing_while_the_last_entry_is_removed_does_not_publish_an_empty_list(staff_user):
    """The removal holds the list's lock when the publish starts; the publish must see the
    list as the removal left it, not as it was before."""
    import threading
    import time

    from django.db import connection, transaction

    cml = draft()
    entry = add(cml, 1)
    locked, outcome = threading.Event(), []

    def remove():
        try:
            with transaction.atomic():
                ChangeMakersList.objects.select_for_update().get(pk=cml.pk)
                ListEntry.objects.filter(pk=entry.pk).delete()
                locked.set()
                time.sleep(0.5)  # the publish is now waiting on the lock
        finally:
            connection.close()

    def publish():
        try:
            locked.wait(5)
            list_publish(change_makers_list=cml, actor=staff_user)
            outcome.append("published")
        except Exception as error:
            outcome.append(getattr(error, "code", repr(error)))
        finally:
            connection.close()

    threads = [threading.Thread(target=remove), threading.Thread(target=publish)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    cml.refresh_from_db()
    assert outcome == ["list_empty"]
    assert cml.status == ChangeMakersList.Status.DRAFT


def test_a_big_edition_is_shown_and_reordered_a_page_at_a_time(client, staff_user):
    cml = draft()
    creators = CreatorFactory.create_batch(120)
    ListEntry.objects.bulk_create(
        ListEntry(
            change_makers_list=cml, creator=c, country="KE", cause="arts", citation=".", position=n
        )
        for n, c in enumerate(creators, start=1)
    )
    client.force_login(staff_user)
    page = client.get(reverse("creators:edition-detail", args=[2027])).content.decode()
    assert page.count('<tr id="entry-') == 50
    assert "120 entries" in page
    second = client.get(reverse("creators:edition-detail", args=[2027]), {"page": 2})
    first_of_page = cml.entries.get(position=51)
    # The first row of page 2 can still move up, onto page 1.
    up = reverse("creators:edition-entry-move", args=[2027, first_of_page.pk, "up"])
    assert f'data-hx-post="{up}?page=2"' in second.content.decode()
    moved = client.post(f"{up}?page=2", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="entries")
    table = moved.content.decode()
    assert table.count('<tr id="entry-') == 50
    assert f'<tr id="entry-{first_of_page.pk}">' in table  # the page it moved to: page 1
    assert cml.entries.get(pk=first_of_page.pk).position == 50
    assert len(table) < 200_000
    down = reverse("creators:edition-entry-move", args=[2027, first_of_page.pk, "down"])
    no_js = client.post(down)
    assert no_js.url == reverse("creators:edition-detail", args=[2027]) + "?page=2#entries"


def test_after_adding_or_editing_staff_land_on_the_page_that_shows_the_entry(client, staff_user):
    cml = draft()
    for n in range(1, 61):
        add(cml, n)
    newcomer = CreatorFactory(handle="newcomer", causes=["arts"])
    client.force_login(staff_user)
    added = client.post(
        reverse("creators:edition-entry-add", args=[2027]),
        {"handle": "newcomer", "citation": "Last in."},
    )
    detail = reverse("creators:edition-detail", args=[2027])
    assert added.url == f"{detail}?page=2#entries"
    entry = cml.entries.get(creator=newcomer)
    edited = client.post(
        reverse("creators:edition-entry-edit", args=[2027, entry.pk]),
        {"country": "KE", "cause": "arts", "citation": "First now.", "position": 100},
    )
    assert edited.url == f"{detail}?page=2#entries"
    first = cml.entries.get(position=1)
    edited = client.post(
        reverse("creators:edition-entry-edit", args=[2027, first.pk]),
        {"country": "KE", "cause": first.cause, "citation": "Still first.", "position": 1},
    )
    assert edited.url == f"{detail}#entries"


@pytest.mark.parametrize(
    "change",
    [
        lambda entry, actor: list_entry_update(entry=entry, actor=actor, citation="New words."),
        lambda entry, actor: list_entry_move(entry=entry, direction="up", actor=actor),
    ],
    ids=["update", "move"],
)
def test_an_entry_removed_meanwhile_is_refused_readably(change, staff_user):
    cml = draft()
    add(cml, 1)
    stale = add(cml, 2)  # what another staff member's page still shows
    list_entry_remove(entry=ListEntry.objects.get(pk=stale.pk), actor=staff_user)

    with pytest.raises(ValidationError, match="removed from the list meanwhile"):
        change(stale, staff_user)


def test_two_staff_creating_the_same_year_at_once_get_a_readable_refusal(monkeypatch, staff_user):
    draft(2030)
    # The second request's check ran before the first one's row existed.
    monkeypatch.setattr(ChangeMakersList, "full_clean", lambda self, *a, **kw: None)
    with pytest.raises(ValidationError) as refused:
        list_create(year=2030, title="Change Makers 2030", actor=staff_user)

    assert refused.value.message_dict == {"year": ["There is already an edition for 2030."]}
    assert ChangeMakersList.objects.filter(year=2030).count() == 1
    assert not AuditEvent.objects.filter(object_repr="Change Makers 2030", action="created")


def test_the_add_forms_picker_finds_a_few_creators_and_marks_those_on_the_list(
    client, staff_user, django_assert_num_queries
):
    cml = draft()
    on_list = add(cml, 1, name="Kara Lewis", handle="karaxlewis")
    kara = CreatorFactory(display_name="Kara Okafor", handle="kara.builds")
    CreatorFactory(display_name="Someone Else", handle="someone")
    CreatorFactory.create_batch(25, handle=factory.Sequence(lambda n: f"karz{n:03d}"))
    client.force_login(staff_user)
    url = reverse("creators:edition-creator-search", args=[2027])

    with django_assert_num_queries(4):  # session, user, the edition, the matches
        found = client.get(url, {"creator_q": "@KÁRA"}).content.decode()

    assert f'value="{kara.handle}"' in found
    # Already on the list: shown, marked, not pickable.
    assert re.search(rf'value="{on_list.creator.handle}"[^>]* disabled', found)
    assert "On the 2027 list" in found
    assert "someone" not in found
    many = client.get(url, {"creator_q": "kar"}).content.decode()
    assert many.count('type="radio"') == 8  # a few, however many match
    assert "More match" in many
    assert client.get(url, {"creator_q": "Kara O"}).content.decode().count('type="radio"') == 1
    assert 'type="radio"' not in client.get(url, {"creator_q": "k"}).content.decode()
    # The page itself no longer carries every creator of the program.
    page = client.get(reverse("creators:edition-detail", args=[2027])).content.decode()
    assert kara.handle not in page
    assert f'data-hx-get="{url}"' in page


# --- Publishing and unpublishing ask first ----------------------------------------------------


def test_publishing_asks_first_and_says_who_the_public_will_see(client, staff_user):
    cml = draft()
    add(cml, 1)
    waiting = add(cml, 2)
    Creator.objects.filter(pk=waiting.creator_id).update(
        consent=Creator.Consent.UNANSWERED, public_fields=[]
    )
    client.force_login(staff_user)
    url = reverse("creators:edition-publish", args=[2027])

    page = client.get(url).content.decode()
    fragment = client.get(url, headers={"HX-Request": "true", "HX-Target": "confirm-dialog-body"})

    assert f"Publish {cml.title}?" in page
    assert "with its 1 creator who confirmed" in page
    assert "1 creator has not confirmed" in page
    assert 'name="without_unconfirmed"' in page
    assert f'action="{url}"' in page
    assert "<html" not in fragment.content.decode()
    cml.refresh_from_db()
    assert cml.status == ChangeMakersList.Status.DRAFT
    edition_page = client.get(reverse("creators:edition-detail", args=[2027])).content.decode()
    assert f'href="{url}"' in edition_page

    client.post(url, {"without_unconfirmed": "on"})
    cml.refresh_from_db()
    assert cml.status == ChangeMakersList.Status.PUBLISHED


def test_unpublishing_asks_first_with_its_reason(client, staff_user):
    cml = published(2026)
    client.force_login(staff_user)
    url = reverse("creators:edition-unpublish", args=[2026])
    page = client.get(url).content.decode()
    assert f"Unpublish {cml.title}?" in page
    assert "goes back to draft" in page
    assert 'name="reason"' in page
    client.post(url, {"reason": "A typo."})
    cml.refresh_from_db()
    assert cml.status == ChangeMakersList.Status.DRAFT
