"""The yearly Change Makers list: editions, their entries, imports and publication.

A published edition is frozen; every change of a draft's entries takes the list's row lock, so
positions stay unique and an edition cannot be published or emptied halfway through a change."""

import itertools
from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_record, fields_update, state_transition
from changemakers.core.content_languages import (
    in_default_language,
    localized,
    other_languages,
    translated_values,
)

from ..list_import import POSITION_MAX, ImportRow, ListImportRefused, list_import_check
from ..models import ChangeMakersList, Creator, ListEntry


@transaction.atomic
def list_create(
    *,
    year: int,
    title: str,
    introduction: str = "",
    translations: Mapping[str, str] | None = None,
    actor=None,
) -> ChangeMakersList:
    """A draft edition. `title` and `introduction` are English; `translations` holds the
    other languages' (`title_fr`, `introduction_ar`, ...), each optional."""
    values = translated_values({"title": title, "introduction": introduction}, translations)
    with in_default_language():
        change_makers_list = ChangeMakersList(year=year, **values)
        change_makers_list.full_clean()
    with transaction.atomic(), in_default_language():
        try:
            with transaction.atomic():
                change_makers_list.save()
        except IntegrityError:
            # Two staff creating the same year at once: full_clean passed for both.
            raise ValidationError(
                {"year": _("There is already an edition for %(year)s.") % {"year": year}},
                code="unique",
            ) from None
        audit_record(
            actor=actor,
            obj=change_makers_list,
            action="created",
            to_state=change_makers_list.status,
        )
    return change_makers_list


def _list_locked_for_editing(change_makers_list: ChangeMakersList) -> ChangeMakersList:
    """The list's row, locked for the rest of the transaction, if it may still be edited.

    A published edition is frozen: what the public was shown stays what was announced, and
    any correction goes through unpublishing first, which is audited with its reason.
    """
    locked = ChangeMakersList.objects.select_for_update().get(pk=change_makers_list.pk)
    if locked.status != ChangeMakersList.Status.DRAFT:
        raise ValidationError(
            _("A published list cannot be changed; unpublish it first."),
            code="list_published",
        )
    return locked


def list_update(
    *,
    change_makers_list: ChangeMakersList,
    actor,
    title: str,
    introduction: str = "",
    translations: Mapping[str, str] | None = None,
) -> ChangeMakersList:
    """Change a draft edition's title and introduction (English), and those `translations`
    given (`introduction_fr`, ...; empty: that language shows the English)."""
    values = translated_values({"title": title, "introduction": introduction}, translations)
    with transaction.atomic(), in_default_language():
        locked = _list_locked_for_editing(change_makers_list)
        fields_update(locked=locked, values=values, actor=actor)
        return locked


def _next_position(locked: ChangeMakersList) -> int:
    return (locked.entries.aggregate(last=models.Max("position"))["last"] or 0) + 1


def list_entry_add(
    *,
    change_makers_list: ChangeMakersList,
    creator: Creator,
    cause: str,
    citation: str,
    position: int | None = None,
    country: str | None = None,
    translations: Mapping[str, str] | None = None,
    actor=None,
) -> ListEntry:
    """Put a creator on a draft year's list, with the country and cause they have that year.
    Without a position the entry goes last. `citation` is English; `translations` holds the
    other languages' (`citation_fr`, ...)."""
    texts = translated_values({"citation": citation}, translations)
    with transaction.atomic(), in_default_language():
        # Lock the list so two staff adding at once don't both take the same last position.
        locked = _list_locked_for_editing(change_makers_list)
        if position is None:
            position = _next_position(locked)
            if position > POSITION_MAX:
                raise ValidationError(
                    {
                        "position": _("The last position (%(max)s) is taken; give a position.")
                        % {"max": POSITION_MAX}
                    },
                    code="list_full",
                )
        entry = ListEntry(
            change_makers_list=locked,
            creator=creator,
            country=country or creator.country,
            cause=cause,
            position=position,
            **texts,
        )
        entry.full_clean()
        entry.save()
        audit_record(actor=actor, obj=entry, action="created", note=f"Position {position}")
        return entry


ENTRY_FIELDS = ("country", "cause", "citation", "position")
CITATION_TRANSLATIONS = tuple(localized("citation", language) for language in other_languages())


def list_entry_update(*, entry: ListEntry, actor, **fields) -> ListEntry:
    """Change an entry's country, cause, citation (English) or position (to a free one) on a
    draft, and its citation's translations (`citation_fr`, ...; empty: shown in English)."""
    unknown = set(fields) - {*ENTRY_FIELDS, *CITATION_TRANSLATIONS}
    if unknown:
        raise TypeError(f"Not entry fields: {sorted(unknown)}")
    translations = {name: fields.pop(name) for name in CITATION_TRANSLATIONS if name in fields}
    if "citation" in fields or translations:
        english = fields.pop("citation", None)
        texts = translated_values({"citation": english or ""}, translations)
        if english is None:
            del texts["citation"]
        fields.update(texts)
    with transaction.atomic(), in_default_language():
        _list_locked_for_editing(entry.change_makers_list)
        locked = _entry_still_there(ListEntry.objects.select_related("creator"), entry)
        fields_update(locked=locked, values=fields, actor=actor)
        return locked


def _entry_still_there(entries, entry: ListEntry) -> ListEntry:
    """The entry, read again under its list's lock; refused readably if someone removed it
    since the page showing it was loaded."""
    found = entries.filter(pk=entry.pk).first()
    if found is None:
        raise ValidationError(
            _("This entry was removed from the list meanwhile."), code="entry_removed"
        )
    return found


def list_entry_remove(*, entry: ListEntry, actor) -> None:
    """Take an entry off a draft list; the positions after it keep their numbers."""
    with transaction.atomic():
        locked_list = _list_locked_for_editing(entry.change_makers_list)
        locked = ListEntry.objects.select_related("creator").filter(pk=entry.pk).first()
        if locked is None:
            return  # already removed (a double click)
        # Recorded against the entry's id before the row goes, so its history stays findable.
        audit_record(actor=actor, obj=locked, action="removed", note=f"From {locked_list.title}")
        locked.delete()


def list_entry_move(*, entry: ListEntry, direction: str, actor) -> ListEntry:
    """Swap an entry with the one just above (`up`) or below (`down`) it. At the top or the
    bottom already, nothing changes."""
    if direction not in ("up", "down"):
        raise ValueError(f"Unknown direction {direction!r}")
    with transaction.atomic():
        # The list's lock serialises every reorder, add and import on it.
        locked_list = _list_locked_for_editing(entry.change_makers_list)
        entries = ListEntry.objects.filter(change_makers_list=locked_list)
        locked = _entry_still_there(entries.select_related("creator"), entry)
        if direction == "up":
            neighbour = entries.filter(position__lt=locked.position).order_by("-position").first()
        else:
            neighbour = entries.filter(position__gt=locked.position).order_by("position").first()
        if neighbour is None:
            return locked
        mine, theirs = locked.position, neighbour.position
        # (list, position) is unique and checked row by row: park one entry on a free
        # position while the other takes its place (the lowest free one, so even a list
        # that holds the highest position has somewhere to park).
        taken = set(entries.values_list("position", flat=True))
        parked = next(n for n in itertools.count(1) if n not in taken)
        entries.filter(pk=locked.pk).update(position=parked)
        entries.filter(pk=neighbour.pk).update(position=mine)
        entries.filter(pk=locked.pk).update(position=theirs)
        locked.position = theirs
        audit_record(actor=actor, obj=locked, action="updated", note=f"Position {mine} → {theirs}")
        return locked


def list_entries_import(
    *, change_makers_list: ChangeMakersList, rows: Sequence[ImportRow], actor
) -> list[ListEntry]:
    """Add every row of an import to a draft list, or none: each row is checked against the
    creators, the vocabulary, the list's entries and the other rows, and any problem refuses
    the whole file with a `ListImportRefused` that names each line, column and reason.
    Citations are imported in English."""
    with transaction.atomic(), in_default_language():
        locked = _list_locked_for_editing(change_makers_list)
        existing = list(locked.entries.values_list("creator_id", "position"))
        planned, problems = list_import_check(
            rows,
            taken_creators={creator_id for creator_id, _ in existing},
            taken_positions={position for _, position in existing},
        )
        if problems:
            raise ListImportRefused(problems)
        if not planned:
            raise ValidationError(_("The file has no rows to import."), code="import_empty")
        position = max([p for _, p in existing] + [p for p, *_ in planned if p] + [0])
        entries = []
        for row_position, creator, country, cause, citation in planned:
            if row_position is None:
                position += 1
                row_position = position
            entry = ListEntry(
                change_makers_list=locked,
                creator=creator,
                country=country,
                cause=cause,
                citation=citation,
                position=row_position,
            )
            # Uniqueness was checked above for the whole file at once, under the list's lock.
            entry.full_clean(validate_unique=False, validate_constraints=False)
            entries.append(entry)
        ListEntry.objects.bulk_create(entries)
        audit_record(
            actor=actor,
            obj=locked,
            action="imported",
            note=f"{len(entries)} entries",
        )
        return entries


UNCONFIRMED_NAMED = 10  # a refusal names this many creators, then counts the others


def list_publish(
    *, change_makers_list: ChangeMakersList, actor, without_unconfirmed: bool = False
) -> ChangeMakersList:
    """Publish a draft. A creator appears on a published list only once they have confirmed
    it (with the fields they chose): while any creator of the list has not, publishing is
    refused with their names, unless staff publish `without_unconfirmed`, and those creators
    then stay off the public list until they confirm. A list nobody has confirmed stays a
    draft."""
    with transaction.atomic():
        # Under the list's lock, which every change of its entries takes: a removal of the
        # last entry cannot slip in between this check and the publication.
        locked = ChangeMakersList.objects.select_for_update().get(pk=change_makers_list.pk)
        waiting: list[str] = []
        if locked.status == ChangeMakersList.Status.DRAFT:
            if not locked.entries.exists():
                raise ValidationError(_("An empty list cannot be published."), code="list_empty")
            if not locked.entries.consented().exists():
                raise ValidationError(
                    _(
                        "No creator on this list has confirmed they agree to appear on it yet: "
                        "it would be empty."
                    ),
                    code="list_none_confirmed",
                )
            waiting = list(
                locked.entries.awaiting_consent()
                .order_by("position")
                .values_list("creator__handle", flat=True)
            )
            if waiting and not without_unconfirmed:
                named = ", ".join(f"@{handle}" for handle in waiting[:UNCONFIRMED_NAMED])
                more = len(waiting) - UNCONFIRMED_NAMED
                raise ValidationError(
                    _(
                        "%(count)s creators have not confirmed they agree to appear on the "
                        "published list: %(handles)s%(more)s. Remind them, or publish without "
                        "them: they stay off the public list until they confirm."
                    )
                    % {
                        "count": len(waiting),
                        "handles": named,
                        "more": (_(" and %(more)s more") % {"more": more}) if more > 0 else "",
                    },
                    code="list_unconfirmed",
                )
        return state_transition(
            locked,
            to=ChangeMakersList.Status.PUBLISHED,
            allowed_from=[ChangeMakersList.Status.DRAFT],
            actor=actor,
            action="published",
            note=f"Not shown until they confirm: {len(waiting)}" if waiting else "",
            changes={"published_at": timezone.now()},
            event="list.published",
        )


def list_unpublish(*, change_makers_list: ChangeMakersList, actor, reason: str = ""):
    return state_transition(
        change_makers_list,
        to=ChangeMakersList.Status.DRAFT,
        allowed_from=[ChangeMakersList.Status.PUBLISHED],
        actor=actor,
        action="unpublished",
        note=reason,
        changes={"published_at": None},
    )
