"""The creators app's part of a person's data: the creator's profile, links, photo, consent to
the public list and its history, portal invitations, places on the yearly lists and user
account (with its preferences). Declared in `CreatorsConfig.ready`
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

from ..models import Creator, CreatorInvitation, ListEntry, ProfileConsent


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
    consents = list(ProfileConsent.objects.filter(creator=creator).order_by("version"))
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
        "consent": {
            "answer": creator.consent,
            "public_fields": creator.public_fields,
            "answered_at": creator.consent_at.isoformat() if creator.consent_at else None,
            "reminded_at": creator.consent_reminded_at.isoformat()
            if creator.consent_reminded_at
            else None,
            # Every answer, oldest first; who recorded it is said only when it was them.
            "history": [
                {
                    "version": answer.version,
                    "agreed": answer.agreed,
                    "public_fields": answer.public_fields,
                    "recorded_at": answer.recorded_at.isoformat(),
                    "by_them": user is not None and answer.recorded_by_id == user.pk,
                }
                for answer in consents
            ],
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
        rows=[creator, *invitations, *entries, *consents],
        names=names,
        users=[user] if user else [],
        handles=[creator.handle],
    )


def creator_data_erase(creator: Creator, pseudonym: Pseudonym, actor) -> list[StoredFile]:
    """Replace the creator's names, texts and links by the pseudonym, take them off every
    list (published ones too: they disappear from the public pages), revoke their open
    invitations, set their consent back to unanswered and close their account. Their
    consent's history stays (which fields, agreed or not, when: the record of what they
    allowed), no longer saying who recorded each answer. Returns the photo to delete after
    commit."""
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
        locked.consent = Creator.Consent.UNANSWERED
        locked.public_fields = []
        locked.consent_at = None
        locked.consent_reminded_at = None
        locked.erased_at = now
        locked.save(
            update_fields=[
                "display_name",
                "handle",
                "bio",
                "photo",
                "follower_count",
                "consent",
                "public_fields",
                "consent_at",
                "consent_reminded_at",
                "erased_at",
                "updated_at",
            ]
        )
        if locked.user is not None:
            ProfileConsent.objects.filter(creator=locked, recorded_by=locked.user).update(
                recorded_by=None
            )
            account_erase(locked.user, pseudonym=pseudonym)
        audit_record(actor=actor, obj=locked, action="erased")
    return files
