"""Consent on the public list: the creator chooses the fields the public sees (the least by
default) and confirms before appearing on a published list; staff see who has not and remind
them; every public page, the list export and the program's figures honour the answer."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from changemakers.backoffice.selectors import program_totals
from changemakers.core.models import AuditEvent
from creators import services
from creators.models import ChangeMakersList, Creator, ProfileConsent, PublicField
from tests.factories import (
    ChangeMakersListFactory,
    CreatorFactory,
    ListEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def unanswered(**kwargs) -> Creator:
    return CreatorFactory(
        consent=Creator.Consent.UNANSWERED, public_fields=[], user=UserFactory(), **kwargs
    )


def draft(year: int = 2027) -> ChangeMakersList:
    return ChangeMakersListFactory(year=year, title=f"Change Makers {year}")


def published(year: int = 2026) -> ChangeMakersList:
    return ChangeMakersListFactory(
        year=year,
        title=f"Change Makers {year}",
        status=ChangeMakersList.Status.PUBLISHED,
        published_at=dt.datetime(year, 11, 1, tzinfo=dt.UTC),
    )


# --- The services ------------------------------------------------------------------------------


def test_a_new_creator_shows_nothing_but_name_and_handle():
    creator = services.creator_create(
        display_name="Ayana", handle="ayana", country="KE", causes=["education"], bio="Bio."
    )
    assert creator.consent == Creator.Consent.UNANSWERED
    assert creator.public_fields == []
    assert not any(creator.shows(field) for field in PublicField.values)
    assert (creator.public_bio, creator.public_country, creator.public_photo_url) == ("", None, "")
    assert creator.public_follower_count is None


def test_confirming_records_a_version_an_audit_event_and_the_chosen_fields():
    creator = unanswered()
    saved = services.creator_consent_confirm(
        creator=creator, actor=creator.user, public_fields=["country", "bio"]
    )
    assert saved.consent == Creator.Consent.AGREED
    assert saved.public_fields == ["bio", "country"]  # in the vocabulary's order
    assert saved.consent_at is not None
    [answer] = ProfileConsent.objects.filter(creator=creator)
    assert (answer.version, answer.agreed, answer.recorded_by) == (1, True, creator.user)
    event = AuditEvent.objects.for_object(creator).get(action="consented")
    assert (event.actor, event.from_state, event.to_state) == (creator.user, "unanswered", "agreed")

    services.creator_consent_confirm(creator=saved, actor=creator.user, public_fields=["photo"])
    services.creator_consent_withdraw(creator=saved, actor=creator.user)
    history = list(ProfileConsent.objects.filter(creator=creator).order_by("version"))
    assert [(a.version, a.agreed, a.public_fields) for a in history] == [
        (1, True, ["bio", "country"]),
        (2, True, ["photo"]),
        (3, False, []),
    ]
    creator.refresh_from_db()
    assert (creator.consent, creator.public_fields) == (Creator.Consent.WITHDRAWN, [])


def test_the_same_answer_twice_records_one_version():
    creator = unanswered()
    for _ in range(2):
        services.creator_consent_confirm(creator=creator, actor=creator.user, public_fields=["bio"])
    assert ProfileConsent.objects.filter(creator=creator).count() == 1


def test_only_the_creator_answers_for_themself(staff_user):
    creator = unanswered()
    other = CreatorFactory(user=UserFactory())
    for actor in (staff_user, other.user):
        with pytest.raises(ValidationError) as refused:
            services.creator_consent_confirm(
                creator=creator, actor=actor, public_fields=PublicField.values
            )
        assert refused.value.code == "not_permitted"
        with pytest.raises(ValidationError):
            services.creator_consent_withdraw(creator=creator, actor=actor)
    creator.refresh_from_db()
    assert creator.consent == Creator.Consent.UNANSWERED
    assert not ProfileConsent.objects.exists()


def test_an_unknown_field_is_refused():
    creator = unanswered()
    with pytest.raises(ValidationError):
        services.creator_consent_confirm(
            creator=creator, actor=creator.user, public_fields=["email"]
        )
    assert not ProfileConsent.objects.exists()


# --- Publishing --------------------------------------------------------------------------------


def test_publishing_names_the_creators_who_have_not_confirmed_and_publishes_nothing(staff_user):
    edition = draft()
    ListEntryFactory(change_makers_list=edition, position=1)  # confirmed (the factory's)
    waiting = unanswered(handle="not.yet")
    ListEntryFactory(change_makers_list=edition, creator=waiting, position=2)
    with pytest.raises(ValidationError) as refused:
        services.list_publish(change_makers_list=edition, actor=staff_user)
    assert refused.value.code == "list_unconfirmed"
    assert "@not.yet" in refused.value.messages[0]
    edition.refresh_from_db()
    assert edition.status == ChangeMakersList.Status.DRAFT


def test_publishing_without_them_keeps_them_off_the_public_list_until_they_confirm(
    client, staff_user
):
    edition = draft()
    ListEntryFactory(change_makers_list=edition, position=1, creator__display_name="Shown One")
    waiting = unanswered(display_name="Waiting Two")
    ListEntryFactory(change_makers_list=edition, creator=waiting, position=2)
    services.list_publish(change_makers_list=edition, actor=staff_user, without_unconfirmed=True)
    url = reverse("creators:list-year", args=[edition.year])
    page = client.get(url).content.decode()
    assert "Shown One" in page
    assert "Waiting Two" not in page
    assert (
        "Waiting Two"
        not in client.get(waiting.get_absolute_url())
        .content.decode()
        .split("On the Change Makers list")[1]
    )

    services.creator_consent_confirm(creator=waiting, actor=waiting.user, public_fields=[])
    assert "Waiting Two" in client.get(url).content.decode()


def test_a_list_nobody_confirmed_is_not_published(staff_user):
    edition = draft()
    ListEntryFactory(change_makers_list=edition, creator=unanswered(), position=1)
    with pytest.raises(ValidationError) as refused:
        services.list_publish(
            change_makers_list=edition, actor=staff_user, without_unconfirmed=True
        )
    assert refused.value.code == "list_none_confirmed"


def test_entries_public_before_consent_show_name_and_handle_until_the_creator_answers(client):
    """What the migration does for lists published before consent was asked."""
    edition = published()
    creator = unanswered(display_name="Listed Before", bio="Hidden bio text.")
    ListEntryFactory(
        change_makers_list=edition, creator=creator, position=1, shown_before_consent=True
    )
    page = client.get(reverse("creators:list-year", args=[2026])).content.decode()
    assert "Listed Before" in page
    assert "Kenya" not in page.split('id="results"')[1]
    assert "Hidden bio text." not in client.get(creator.get_absolute_url()).content.decode()
    # Withdrawing takes them off even that list.
    services.creator_consent_withdraw(creator=creator, actor=creator.user)
    assert (
        "Listed Before"
        not in client.get(reverse("creators:list-year", args=[2026])).content.decode()
    )


def test_the_migration_marks_only_entries_of_published_lists():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("creators.migrations.0009_profile_consent")
    shown = ListEntryFactory(change_makers_list=published(), position=1)
    not_yet = ListEntryFactory(change_makers_list=draft(), position=1)
    migration.mark_entries_already_public(apps, None)
    shown.refresh_from_db()
    not_yet.refresh_from_db()
    assert (shown.shown_before_consent, not_yet.shown_before_consent) == (True, False)


# --- Filters, figures and export reveal nothing -----------------------------------------------


def test_filtering_by_a_hidden_country_or_cause_does_not_find_the_creator(client):
    edition = published()
    hidden = CreatorFactory(display_name="Quiet Person", country="KE", public_fields=[])
    ListEntryFactory(change_makers_list=edition, creator=hidden, cause="disability", position=1)
    ListEntryFactory(
        change_makers_list=edition,
        creator__display_name="Open Person",
        creator__country="JP",
        country="JP",
        cause="arts",
        position=2,
    )
    url = reverse("creators:list-year", args=[2026])

    def shown(query) -> list[str]:
        objects = client.get(url, query).context["page_obj"].object_list
        return [entry.creator.display_name for entry in objects]

    assert shown({}) == ["Quiet Person", "Open Person"]
    assert shown({"cause": "disability"}) == []
    assert shown({"cause": "arts"}) == ["Open Person"]
    assert shown({"country": "JP"}) == ["Open Person"]
    # Kenya is not a choice: the filter is ignored, exactly as for a country nobody has.
    assert shown({"country": "KE"}) == shown({"country": "ZZ"})
    from creators.selectors import list_entries

    assert list(list_entries(edition, country="KE")) == []
    page = client.get(url).content.decode()
    assert 'value="KE"' not in page  # not offered as a filter either
    assert 'value="JP"' in page


def test_the_program_figures_count_only_countries_shown():
    edition = published()
    ListEntryFactory(
        change_makers_list=edition, creator__country="KE", creator__public_fields=[], position=1
    )
    ListEntryFactory(change_makers_list=edition, creator__country="JP", country="JP", position=2)
    ListEntryFactory(change_makers_list=edition, creator=unanswered(country="BR"), position=3)
    totals = program_totals()
    assert (totals.creators, totals.countries) == (2, 1)


def test_the_list_export_leaves_hidden_fields_empty_and_its_filters_do_not_find_them(
    staff_user, client
):
    edition = published()
    hidden = CreatorFactory(handle="quiet", country="KE", public_fields=[])
    ListEntryFactory(change_makers_list=edition, creator=hidden, cause="disability", position=1)
    ListEntryFactory(change_makers_list=edition, creator=unanswered(handle="later"), position=2)
    client.force_login(staff_user)
    url = reverse("backoffice:export-list-entries")
    body = b"".join(client.get(url).streaming_content).decode()
    lines = body.splitlines()
    quiet = next(line for line in lines if ",quiet," in line)
    assert ",KE," not in quiet
    assert "disability" not in quiet
    assert quiet.endswith("agreed,yes")
    later = next(line for line in lines if ",later," in line)
    assert later.endswith("unanswered,no")
    for query in ({"country": "KE"}, {"cause": "disability"}):
        filtered = b"".join(client.get(url, query).streaming_content).decode()
        assert ",quiet," not in filtered


# --- The photo ---------------------------------------------------------------------------------


def test_a_hidden_photo_is_a_404_except_for_its_creator_and_staff(client, media_root, staff_user):
    from changemakers.core.uploads import image_check, rename_checked
    from tests.uploads import image_file

    creator = unanswered()
    photo = image_file("face.png")
    services.creator_profile_update(
        creator=creator,
        actor=creator.user,
        photo=rename_checked(photo, image_check(photo, max_bytes=2 * 1024 * 1024)),
    )
    url = reverse("creators:creator-photo", args=[creator.handle])
    assert client.get(url).status_code == 404
    client.force_login(creator.user)
    assert client.get(url).status_code == 200
    client.force_login(CreatorFactory(user=UserFactory()).user)
    assert client.get(url).status_code == 404
    client.force_login(staff_user)
    assert client.get(url).status_code == 200
    services.creator_consent_confirm(creator=creator, actor=creator.user, public_fields=["photo"])
    client.logout()
    assert client.get(url).status_code == 200


# --- The portal page ---------------------------------------------------------------------------


def test_the_portal_page_starts_with_nothing_ticked_and_confirms(client):
    creator = unanswered()
    client.force_login(creator.user)
    url = reverse("creators:consent-edit")
    page = client.get(url).content.decode()
    assert "checked" not in page
    refused = client.post(url, {"public_fields": ["bio"]})  # the agreement not ticked
    assert refused.status_code == 422
    creator.refresh_from_db()
    assert creator.consent == Creator.Consent.UNANSWERED
    response = client.post(url, {"public_fields": ["bio", "links"], "agree": "on"})
    assert response.status_code == 302
    creator.refresh_from_db()
    assert (creator.consent, creator.public_fields) == ("agreed", ["bio", "links"])
    page = client.get(url).content.decode()
    assert page.count("checked") == 2
    assert client.post(reverse("creators:consent-withdraw")).status_code == 302
    creator.refresh_from_db()
    assert creator.consent == Creator.Consent.WITHDRAWN


def test_a_creator_changes_only_their_own_consent(client):
    mine, theirs = unanswered(), unanswered()
    client.force_login(mine.user)
    client.post(
        reverse("creators:consent-edit"),
        {"public_fields": ["bio"], "agree": "on", "creator": theirs.pk, "handle": theirs.handle},
    )
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.consent == Creator.Consent.AGREED
    assert theirs.consent == Creator.Consent.UNANSWERED


def test_staff_and_nonprofits_cannot_open_the_consent_page(client, staff_user, nonprofit_user):
    for user in (staff_user, nonprofit_user):
        client.force_login(user)
        assert client.get(reverse("creators:consent-edit")).status_code == 403
        assert client.post(reverse("creators:consent-withdraw")).status_code == 403


# --- Staff: who has not confirmed, and a reminder ---------------------------------------------


def test_the_edition_page_lists_who_has_not_confirmed(client, staff_user):
    edition = draft()
    ListEntryFactory(change_makers_list=edition, creator=unanswered(handle="waits"), position=1)
    ListEntryFactory(change_makers_list=edition, creator__handle="agreed.one", position=2)
    client.force_login(staff_user)
    page = client.get(reverse("creators:edition-detail", args=[2027])).content.decode()
    awaiting = page.split('id="awaiting-title"')[1].split("</section>")[0]
    assert "@waits" in awaiting
    assert "@agreed.one" not in awaiting
    # Publishing asks first; the question offers to leave the unconfirmed out.
    publish = reverse("creators:edition-publish", args=[2027])
    assert f'href="{publish}"' in page
    assert 'name="without_unconfirmed"' in client.get(publish).content.decode()


def test_reminders_go_once_a_day_to_those_with_an_account(
    staff_user, django_capture_on_commit_callbacks
):
    edition = draft()
    with_account = unanswered(handle="has.account")
    no_account = CreatorFactory(consent=Creator.Consent.UNANSWERED, public_fields=[])
    ListEntryFactory(change_makers_list=edition, creator=with_account, position=1)
    ListEntryFactory(change_makers_list=edition, creator=no_account, position=2)
    ListEntryFactory(change_makers_list=edition, position=3)  # confirmed: not reminded
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.consent_reminders_send(change_makers_list=edition, actor=staff_user)
    assert [c.pk for c in outcome.sent] == [with_account.pk]
    assert [c.pk for c in outcome.no_account] == [no_account.pk]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [with_account.user.email]
    assert reverse("creators:consent-edit") in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        again = services.consent_reminders_send(change_makers_list=edition, actor=staff_user)
    assert again.sent == []
    assert [c.pk for c in again.recently_reminded] == [with_account.pk]
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="reminded").count() == 1


def test_only_staff_who_run_the_lists_may_remind():
    edition = draft()
    ListEntryFactory(change_makers_list=edition, creator=unanswered(), position=1)
    creator = CreatorFactory(user=UserFactory())
    for actor in (None, creator.user, UserFactory(is_staff=True)):
        with pytest.raises(ValidationError):
            services.consent_reminders_send(change_makers_list=edition, actor=actor)


# --- The page cache ----------------------------------------------------------------------------


def test_a_consent_change_retires_the_cached_list_at_once(
    pages, client, django_capture_on_commit_callbacks
):
    creator = CreatorFactory(user=UserFactory(), country="KE")
    ListEntryFactory(change_makers_list=published(), creator=creator, position=1)
    url = reverse("creators:list-year", args=[2026])
    assert "Kenya" in client.get(url).content.decode().split('id="results"')[1]
    with django_capture_on_commit_callbacks(execute=True):
        services.creator_consent_confirm(creator=creator, actor=creator.user, public_fields=["bio"])
    assert "Kenya" not in client.get(url).content.decode().split('id="results"')[1]
