"""Portal invitations: a single-use, expiring link, emailed, with which a creator sets a
password."""

import datetime
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from changemakers.core.audit import actor_or_none, audit_record
from changemakers.core.emails import absolute_url, email_send
from changemakers.core.jobs import enqueue_on_commit
from changemakers.core.links import link_token
from changemakers.core.roles import Role, role_of
from changemakers.core.timezones import preferences_of, time_zone_of

from ..models import Creator, CreatorInvitation

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
    email = email.strip()
    with transaction.atomic():
        locked = Creator.objects.select_for_update().get(pk=creator.pk)
        user = _account_for(creator=locked, email=email)
        if locked.user_id is None:
            locked.user = user
            locked.save(update_fields=["user", "updated_at"])
        preferences_of(user)  # the creator's time zone, guessed from their country
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
        enqueue_on_commit("creators.tasks.send_creator_invitation", invitation.pk)
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
        time_zone=time_zone_of(creator.user),
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
