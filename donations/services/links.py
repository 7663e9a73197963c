"""Nonprofit contacts' sign-in links: sent by staff or asked for on the public page, emailed,
used once, revoked. A contact signs in with a link; the organisation is part of its secret."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from changemakers.core.audit import audit_record
from changemakers.core.emails import absolute_url, email_send
from changemakers.core.jobs import enqueue_on_commit
from changemakers.core.links import link_token
from changemakers.core.roles import may, permission_require
from changemakers.core.timezones import time_zone_of

from ..models import Disbursement, Grant, NonprofitContact, NonprofitSignInLink

_LINK_SALT = "donations.nonprofit-sign-in"


def link_token_for(link: NonprofitSignInLink) -> str:
    # The organisation is part of the secret: a contact moved to another nonprofit cannot
    # use a link sent for the first one.
    contact = link.contact
    value = f"{link.pk}:{link.nonce}:{contact.user.email.lower()}:{contact.nonprofit_id}"
    return link_token(salt=_LINK_SALT, value=value)


def link_path(link: NonprofitSignInLink) -> str:
    return reverse("nonprofit:link", kwargs={"pk": link.pk, "token": link_token_for(link)})


def nonprofit_link_send(
    *,
    contact: NonprofitContact,
    actor,
    purpose: str = NonprofitSignInLink.Purpose.SIGN_IN,
    grant: Grant | None = None,
) -> NonprofitSignInLink:
    """A fresh sign-in link for the contact, emailed once this commits. Earlier open links are
    revoked: only the newest works. With `purpose` PAYOUT_DETAILS the email asks the contact
    to update the payout details the failed `grant` could not be paid to, and the link lands
    them on those details."""
    with transaction.atomic():
        locked = (
            NonprofitContact.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=contact.pk)
        )
        if not locked.user.is_active:  # its link could never sign in
            raise ValidationError(
                _("%(email)s is switched off: switch the account on before sending a link.")
                % {"email": locked.user.email},
                code="account_inactive",
            )
        now = timezone.now()
        locked.sign_in_links.usable(now).update(revoked_at=now, updated_at=now)
        link = NonprofitSignInLink(
            contact=locked,
            nonce=secrets.token_urlsafe(32),
            expires_at=now + timedelta(seconds=settings.NONPROFIT_LINK_MAX_AGE),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            purpose=purpose,
            grant=grant,
        )
        link.full_clean()
        link.save()
        audit_record(actor=actor, obj=locked, action="link_sent")
        enqueue_on_commit("donations.tasks.send_nonprofit_link", link.pk)
        return link


def payout_details_ask(*, grant: Grant, actor) -> list[NonprofitSignInLink]:
    """After the provider refused a grant's payment for good (a closed account...), ask the
    nonprofit to update its payout details: every active contact is emailed a sign-in link
    that says why and lands them on their payout details, where the change they file is
    reviewed by finance as any other. Asked by whoever may retry the payment or send sign-in
    links; audited on the grant. Returns the links sent (earlier open ones are revoked)."""
    if not may(actor, "donations.change_nonprofitcontact"):
        permission_require(
            actor, "donations.schedule_grant", doing=_("ask a nonprofit for new payout details")
        )
    with transaction.atomic():
        locked = Grant.objects.select_for_update(of=("self",)).get(pk=grant.pk)
        disbursement = Disbursement.objects.filter(grant=locked).first()
        if (
            locked.status != Grant.Status.FAILED
            or disbursement is None
            or not disbursement.refused_final
        ):
            raise ValidationError(
                _(
                    "Only a payment the provider refused for good needs new payout details; "
                    "this grant's did not."
                ),
                code="not_refused",
            )
        contacts = list(
            NonprofitContact.objects.filter(nonprofit_id=locked.nonprofit_id, user__is_active=True)
            .select_related("user")
            .order_by("pk")
        )
        if not contacts:
            raise ValidationError(
                _("%(nonprofit)s has no active contact to ask: add one on its contacts page first.")
                % {"nonprofit": locked.nonprofit},
                code="no_contact",
            )
        links = [
            nonprofit_link_send(
                contact=contact,
                actor=actor,
                purpose=NonprofitSignInLink.Purpose.PAYOUT_DETAILS,
                grant=locked,
            )
            for contact in contacts
        ]
        audit_record(
            actor=actor,
            obj=locked,
            action="payout_details_asked",
            # How many, not who: the grant's history is read by more people than contacts.
            note=ngettext(
                "Emailed to %(count)s contact.", "Emailed to %(count)s contacts.", len(contacts)
            )
            % {"count": len(contacts)},
        )
        return links


def nonprofit_link_ask(*, email: str) -> None:
    """The public form's request for a link to `email`. Looking the address up and sending
    happen in a job (`nonprofit_link_request`): the page then does the same work, in the same
    time, whether or not the address is a contact's, so its timing tells nobody who is one."""
    enqueue_on_commit("donations.tasks.send_requested_nonprofit_link", email.strip())


# Links a contact may ask for on the public page in LINK_REQUEST_WINDOW, counted in the
# database: a cache counter lives in one process, and gunicorn runs several.
LINK_REQUESTS_PER_WINDOW = 3
LINK_REQUEST_WINDOW = timedelta(hours=1)


def nonprofit_link_request(*, email: str) -> NonprofitSignInLink | None:
    """Someone asks for a sign-in link for `email` on the public page. A link goes out only to
    an active nonprofit contact with that address, at most LINK_REQUESTS_PER_WINDOW an hour
    (links staff send are not counted); the caller answers the same either way."""
    contact = (
        NonprofitContact.objects.select_related("user")
        .filter(user__email__iexact=email.strip(), user__is_active=True)
        .first()
    )
    if contact is None:
        return None
    with transaction.atomic():
        # The contact's row lock (taken again by nonprofit_link_send) makes two requests at
        # the same moment count one after the other.
        locked = NonprofitContact.objects.select_for_update().get(pk=contact.pk)
        asked = locked.sign_in_links.filter(
            created_by__isnull=True, created_at__gt=timezone.now() - LINK_REQUEST_WINDOW
        ).count()
        if asked >= LINK_REQUESTS_PER_WINDOW:
            return None  # the latest link sent still works
        return nonprofit_link_send(contact=locked, actor=None)


def nonprofit_links_revoke(*, contact: NonprofitContact, actor) -> int:
    """Staff withdraw the contact's access: every open sign-in link is revoked, and every
    session they have is ended, with the password they may have set (a forwarded link can
    have opened a session, or set a password, for someone else). The contact signs in again
    with a new link sent to their address. Returns how many links were open."""
    with transaction.atomic():
        locked = (
            NonprofitContact.objects.select_for_update().select_related("user").get(pk=contact.pk)
        )
        now = timezone.now()
        count = locked.sign_in_links.usable(now).update(revoked_at=now, updated_at=now)
        # A new password hash changes the session hash Django checks on every request.
        locked.user.set_unusable_password()
        locked.user.save(update_fields=["password"])
        audit_record(actor=actor, obj=locked, action="link_revoked", note=str(count))
        return count


def nonprofit_link_email(*, link: NonprofitSignInLink) -> bool:
    """Send the link (from the task), in the contact's language. Nothing is sent for a link
    that can no longer be used."""
    if not link.is_usable(timezone.now()):
        return False
    contact = link.contact
    email_send(
        to=[contact.user.email],
        template="donations/email/sign_in_link",
        language=contact.language,
        time_zone=time_zone_of(contact.user),
        context={
            "contact": contact,
            "nonprofit": contact.nonprofit,
            "link": absolute_url(link_path(link)),
            "expires_at": link.expires_at,
            "payout_details": link.purpose == NonprofitSignInLink.Purpose.PAYOUT_DETAILS,
            "grant": link.grant,
        },
    )
    return True


def nonprofit_link_for_token(*, pk: int, token: str) -> NonprofitSignInLink | None:
    """The link this URL opens, if it is genuine, unused, unrevoked and unexpired, and its
    account still active."""
    link = (
        NonprofitSignInLink.objects.select_related("contact__user", "contact__nonprofit")
        .filter(pk=pk)
        .first()
    )
    if link is None or not constant_time_compare(link_token_for(link), token):
        return None
    if not link.contact.user.is_active or not link.is_usable(timezone.now()):
        return None
    return link


def nonprofit_link_use(*, link: NonprofitSignInLink, token: str):
    """Use the link once; returns the account to sign in. Two tabs at once: one wins."""
    with transaction.atomic():
        locked = (
            NonprofitSignInLink.objects.select_for_update(of=("self",))
            .select_related("contact__user")
            .get(pk=link.pk)
        )
        user = locked.contact.user
        if (
            not constant_time_compare(link_token_for(locked), token)
            or not locked.is_usable(timezone.now())
            or not user.is_active
        ):
            raise ValidationError(
                _("This sign-in link has already been used, was replaced or has expired."),
                code="link_unusable",
            )
        locked.used_at = timezone.now()
        locked.save(update_fields=["used_at", "updated_at"])
        audit_record(actor=user, obj=locked, action="accepted")
        return user
