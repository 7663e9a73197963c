"""Creator profiles: made by staff, then kept up by the creator in the portal."""

from collections.abc import Sequence

from django.db import transaction

from changemakers.core.audit import audit_record
from changemakers.core.timezones import preferences_of, preferences_update

from ..models import Creator, CreatorLink


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
    if user is not None:
        preferences_of(user)  # the creator's time zone, guessed from their country
    for position, (label, url) in enumerate(links):
        link = CreatorLink(creator=creator, label=label, url=url, position=position)
        link.full_clean()
        link.save()
    audit_record(actor=actor, obj=creator, action="created")
    return creator


# --- The creator's own profile -------------------------------------------------------------

PROFILE_FIELDS = ("display_name", "handle", "country", "causes", "bio", "language")


def creator_profile_update(
    *,
    creator: Creator,
    actor,
    links: Sequence[tuple[str, str]] | None = None,
    photo=None,
    remove_photo: bool = False,
    time_zone: str | None = None,
    **fields,
) -> Creator:
    """The creator edits their own profile. `photo` must already be content-checked
    (`changemakers.core.uploads.image_check`); the replaced file is deleted once the change
    commits. `time_zone` is their account's (the kernel keeps it, for every role)."""
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
        if time_zone and locked.user_id is not None:
            preferences_update(user=locked.user, actor=actor, time_zone=time_zone)
        audit_record(actor=actor, obj=locked, action="updated", note=", ".join(update_fields[:-1]))
        new_photo = locked.photo.name if locked.photo else ""
        if old_photo and old_photo != new_photo:
            storage = locked.photo.storage
            transaction.on_commit(lambda: storage.delete(old_photo))
        return locked
