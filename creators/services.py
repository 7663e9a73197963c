"""Every write about creators, their invitations and the yearly list."""

import datetime
import itertools
import secrets
from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from changemakers.core.audit import actor_or_none, audit_record, fields_update, state_transition
from changemakers.core.emails import absolute_url, email_send
from changemakers.core.links import link_token
from changemakers.core.roles import Role, role_of

from .list_import import POSITION_MAX, ImportRow, ListImportRefused, list_import_check
from .models import (
    ChangeMakersList,
    Creator,
    CreatorInvitation,
    CreatorLink,
    ListEntry,
)


@transaction.atomic
def creator_create(
    *,
    display_name: str,
    handle: str,
    country: str,
    causes: Sequence[str],
    bio: str = "",
    follower_count: int = 0,
    links: Sequence[tuple[str, str]] = (),
    user=None,
    actor=None,
) -> Creator:
    creator = Creator(
        display_name=display_name,
        handle=handle.lstrip("@"),
        country=country,
        causes=list(causes),
        bio=bio,
        follower_count=follower_count,
        user=user,
    )
    creator.full_clean()
    creator.save()
    for position, (label, url) in enumerate(links):
        link = CreatorLink(creator=creator, label=label, url=url, position=position)
        link.full_clean()
        link.save()
    audit_record(actor=actor, obj=creator, action="created")
    return creator


@transaction.atomic
def list_create(*, year: int, title: str, introduction: str = "", actor=None) -> ChangeMakersList:
    change_makers_list = ChangeMakersList(year=year, title=title, introduction=introduction)
    change_makers_list.full_clean()
    with transaction.atomic():
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
    *, change_makers_list: ChangeMakersList, actor, title: str, introduction: str = ""
) -> ChangeMakersList:
    """Change a draft edition's title and introduction."""
    with transaction.atomic():
        locked = _list_locked_for_editing(change_makers_list)
        fields_update(
            locked=locked, values={"title": title, "introduction": introduction}, actor=actor
        )
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
    actor=None,
) -> ListEntry:
    """Put a creator on a draft year's list, with the country and cause they have that year.
    Without a position the entry goes last."""
    with transaction.atomic():
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
            citation=citation,
            position=position,
        )
        entry.full_clean()
        entry.save()
        audit_record(actor=actor, obj=entry, action="created", note=f"Position {position}")
        return entry


ENTRY_FIELDS = ("country", "cause", "citation", "position")


def list_entry_update(*, entry: ListEntry, actor, **fields) -> ListEntry:
    """Change an entry's country, cause, citation or position (to a free one) on a draft."""
    unknown = set(fields) - set(ENTRY_FIELDS)
    if unknown:
        raise TypeError(f"Not entry fields: {sorted(unknown)}")
    with transaction.atomic():
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
    the whole file with a `ListImportRefused` that names each line, column and reason."""
    with transaction.atomic():
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


def list_publish(*, change_makers_list: ChangeMakersList, actor) -> ChangeMakersList:
    with transaction.atomic():
        # Under the list's lock, which every change of its entries takes: a removal of the
        # last entry cannot slip in between this check and the publication.
        locked = ChangeMakersList.objects.select_for_update().get(pk=change_makers_list.pk)
        if locked.status == ChangeMakersList.Status.DRAFT and not locked.entries.exists():
            raise ValidationError(_("An empty list cannot be published."), code="list_empty")
        return state_transition(
            locked,
            to=ChangeMakersList.Status.PUBLISHED,
            allowed_from=[ChangeMakersList.Status.DRAFT],
            actor=actor,
            action="published",
            changes={"published_at": timezone.now()},
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


# --- The creator's own profile -------------------------------------------------------------

PROFILE_FIELDS = ("display_name", "handle", "country", "causes", "bio", "language")


def creator_profile_update(
    *,
    creator: Creator,
    actor,
    links: Sequence[tuple[str, str]] | None = None,
    photo=None,
    remove_photo: bool = False,
    **fields,
) -> Creator:
    """The creator edits their own profile. `photo` must already be content-checked
    (`changemakers.core.uploads.image_check`); the replaced file is deleted once the change
    commits."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Not profile fields: {sorted(unknown)}")
    with transaction.atomic():
        locked = Creator.objects.select_for_update().get(pk=creator.pk)
        old_photo = locked.photo.name if locked.photo else ""
        if "handle" in fields:
            fields["handle"] = fields["handle"].lstrip("@")
        for name, value in fields.items():
            setattr(locked, name, value)
        update_fields = [*fields, "updated_at"]
        if photo is not None:
            locked.photo = photo
            update_fields.append("photo")
        elif remove_photo and old_photo:
            locked.photo = ""
            update_fields.append("photo")
        locked.full_clean(exclude=["user"])
        locked.save(update_fields=update_fields)
        if links is not None:
            locked.links.all().delete()
            for position, (label, url) in enumerate(links):
                link = CreatorLink(creator=locked, label=label, url=url, position=position)
                link.full_clean()
                link.save()
        audit_record(actor=actor, obj=locked, action="updated", note=", ".join(update_fields[:-1]))
        new_photo = locked.photo.name if locked.photo else ""
        if old_photo and old_photo != new_photo:
            storage = locked.photo.storage
            transaction.on_commit(lambda: storage.delete(old_photo))
        return locked


# --- Invitations: a single-use, expiring link to set a password ----------------------------

INVITATION_VALID_FOR = datetime.timedelta(days=7)
_INVITATION_SALT = "creators.invitation"


def invitation_token(invitation: CreatorInvitation) -> str:
    """The secret in the invitation link: an HMAC of the row, so only the nonce is stored."""
    value = f"{invitation.pk}:{invitation.nonce}:{invitation.email}"
    return link_token(salt=_INVITATION_SALT, value=value)


def invitation_path(invitation: CreatorInvitation) -> str:
    return reverse(
        "invitation-accept", kwargs={"pk": invitation.pk, "token": invitation_token(invitation)}
    )


def invitation_for_token(*, pk: int, token: str) -> CreatorInvitation | None:
    """The invitation this link opens, if it is genuine, unused, unrevoked and unexpired."""
    invitation = CreatorInvitation.objects.select_related("creator__user").filter(pk=pk).first()
    if invitation is None or not constant_time_compare(invitation_token(invitation), token):
        return None
    user = invitation.creator.user
    if user is None or not user.is_active:  # account deleted or switched off since
        return None
    return invitation if invitation.is_usable(timezone.now()) else None


def _account_for(*, creator: Creator, email: str):
    """The creator's sign-in account: theirs already, an unlinked one with this email, or a
    new one with no usable password (the invitation sets it)."""
    user_model = get_user_model()
    if creator.user_id is not None:
        user = creator.user
        if user.has_usable_password() or user.email.lower() == email.lower():
            return user  # one with a password signs in with it: the invitation says so
        # Never signed in: the address is being corrected, so the new link goes to it.
        if user_model.objects.filter(username__iexact=email).exclude(pk=user.pk).exists():
            raise ValidationError(
                _("%(email)s already signs in for someone else; use another address.")
                % {"email": email},
                code="email_taken",
            )
        user.username = user.email = email.lower()
        user.save(update_fields=["username", "email"])
        return user
    existing = user_model.objects.filter(username__iexact=email).first()
    if existing is not None:
        if existing.is_staff or role_of(existing) != Role.MEMBER:
            raise ValidationError(
                _("%(email)s already signs in for someone else; use another address.")
                % {"email": email},
                code="email_taken",
            )
        return existing
    user = user_model(username=email.lower(), email=email.lower())
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


def creator_invitation_send(*, creator: Creator, email: str, actor, note: str = ""):
    """Invite a creator to the portal by email: their account is created (or linked) and a
    fresh link replaces any earlier one. The email goes out once the transaction commits."""
    from .tasks import send_creator_invitation

    email = email.strip()
    with transaction.atomic():
        locked = Creator.objects.select_for_update().get(pk=creator.pk)
        user = _account_for(creator=locked, email=email)
        if locked.user_id is None:
            locked.user = user
            locked.save(update_fields=["user", "updated_at"])
        now = timezone.now()
        locked.invitations.usable(now).update(revoked_at=now, updated_at=now)
        invitation = CreatorInvitation(
            creator=locked,
            email=user.email or email,
            nonce=secrets.token_urlsafe(32),
            expires_at=now + INVITATION_VALID_FOR,
            invited_by=actor_or_none(actor),
            note=note,
        )
        invitation.full_clean()
        invitation.save()
        audit_record(actor=actor, obj=locked, action="invited", note=invitation.email)
        send_creator_invitation.delay_on_commit(invitation.pk)
        return invitation


def creator_invitation_email(*, invitation: CreatorInvitation) -> bool:
    """Send the invitation email (from the task). Nothing is sent for a link that can no
    longer be used."""
    if not invitation.is_usable(timezone.now()):
        return False
    creator = invitation.creator
    email_send(
        to=[invitation.email],
        template="creators/email/invitation",
        language=creator.language,
        context={
            "creator": creator,
            "invitation": invitation,
            "link": absolute_url(invitation_path(invitation)),
            "has_password": creator.user is not None and creator.user.has_usable_password(),
        },
    )
    return True


def creator_invitation_accept(*, invitation: CreatorInvitation, token: str, password: str | None):
    """Use the link once: set the password (when given) and mark the invitation used.
    Returns the account to sign in. Two tabs posting at once: the row lock lets one win."""
    with transaction.atomic():
        # Only the invitation row is locked; its creator and account come along unlocked.
        locked = (
            CreatorInvitation.objects.select_for_update(of=("self",))
            .select_related("creator__user")
            .get(pk=invitation.pk)
        )
        if not constant_time_compare(invitation_token(locked), token) or not locked.is_usable(
            timezone.now()
        ):
            raise ValidationError(
                _("This invitation link has already been used or has expired."),
                code="invitation_unusable",
            )
        user = locked.creator.user
        if user is None or not user.is_active:
            raise ValidationError(
                _("This invitation link has already been used or has expired."),
                code="invitation_unusable",
            )
        if password is not None:
            user.set_password(password)
            user.save(update_fields=["password"])
        locked.used_at = timezone.now()
        locked.save(update_fields=["used_at", "updated_at"])
        audit_record(actor=user, obj=locked, action="accepted")
        return user
