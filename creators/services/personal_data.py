"""The creators app's part of a person's data: the creator's profile, links, photo, portal
invitations, places on the yearly lists and user account. Declared in `CreatorsConfig.ready`
(`changemakers.core.personal_data`)."""

import posixpath

from django.db import transaction
from django.utils import timezone

from changemakers.core.audit import audit_record
from changemakers.core.personal_data import (
    PersonalData,
    Pseudonym,
    StoredFile,
    account_erase,
    account_names,
    account_record,
)

from ..models import Creator, CreatorInvitation, ListEntry


def creator_data_collect(creator: Creator) -> PersonalData:
    creator = Creator.objects.select_related("user").get(pk=creator.pk)
    photo = ""
    files = []
    if creator.photo:
        photo = f"files/photo{posixpath.splitext(creator.photo.name)[1]}"
        files.append((photo, creator.photo))
    invitations = list(CreatorInvitation.objects.filter(creator=creator).order_by("created_at"))
    entries = list(
        ListEntry.objects.filter(creator=creator)
        .select_related("change_makers_list")
        .order_by("change_makers_list__year")
    )
    user = creator.user
    records = {
        "profile": {
            "display_name": creator.display_name,
            "handle": creator.handle,
            "country": creator.country.code,
            "causes": creator.causes,
            "bio": creator.bio,
            "follower_count": creator.follower_count,
            "language": creator.language,
            "photo": photo or None,
            "created_at": creator.created_at.isoformat(),
            "updated_at": creator.updated_at.isoformat(),
        },
        "links": [
            {"label": link.label, "url": link.url, "position": link.position}
            for link in creator.links.all()
        ],
        "account": account_record(user) if user else None,
        "invitations": [
            {
                "email": invitation.email,
                "note": invitation.note,
                "sent_at": invitation.created_at.isoformat(),
                "expires_at": invitation.expires_at.isoformat(),
                "used_at": invitation.used_at.isoformat() if invitation.used_at else None,
            }
            for invitation in invitations
        ],
        "list_entries": [
            {
                "year": entry.change_makers_list.year,
                "list": entry.change_makers_list.title,
                "position": entry.position,
                "country": entry.country.code,
                "cause": entry.cause,
                "citation": entry.citation,
            }
            for entry in entries
        ],
    }
    names = [creator.display_name, creator.at_handle, creator.handle]
    names += [invitation.email for invitation in invitations]
    if user is not None:
        names += account_names(user)
    return PersonalData(
        records=records,
        files=files,
        rows=[creator, *invitations, *entries],
        names=names,
        users=[user] if user else [],
    )


def creator_data_erase(creator: Creator, pseudonym: Pseudonym, actor) -> list[StoredFile]:
    """Replace the creator's names, texts and links by the pseudonym, take them off every
    list (published ones too: they disappear from the public pages), revoke their open
    invitations and close their account. Returns the photo to delete after commit."""
    files: list[StoredFile] = []
    with transaction.atomic():
        locked = (
            Creator.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=creator.pk)
        )
        now = timezone.now()
        if locked.photo:
            files.append((locked.photo.storage, locked.photo.name))
        for entry in ListEntry.objects.filter(creator=locked).select_related("change_makers_list"):
            audit_record(
                actor=actor,
                obj=entry.change_makers_list,
                action="removed",
                note=f"Entry {entry.position}: erased on request",
            )
            entry.delete()
        locked.links.all().delete()
        invitations = CreatorInvitation.objects.filter(creator=locked)
        invitations.filter(used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
        invitations.update(email=pseudonym.email, note="")
        locked.display_name = pseudonym.name
        locked.handle = pseudonym.handle
        locked.bio = ""
        locked.photo = ""
        locked.follower_count = 0
        locked.erased_at = now
        locked.save(
            update_fields=[
                "display_name",
                "handle",
                "bio",
                "photo",
                "follower_count",
                "erased_at",
                "updated_at",
            ]
        )
        if locked.user is not None:
            account_erase(locked.user, pseudonym=pseudonym)
        audit_record(actor=actor, obj=locked, action="erased")
    return files
