"""Every write about nonprofit access: contacts, their sign-in links, their details, receipt
confirmations and payout-detail changes (which staff review before anything is applied).

A module of its own beside services.py (grants and payments) so the two change independently.
Each function checks who acts: a nonprofit contact only ever touches its own nonprofit.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_record, fields_update
from changemakers.core.emails import absolute_url, email_send
from changemakers.core.links import link_token

from .models import (
    Grant,
    Nonprofit,
    NonprofitContact,
    NonprofitSignInLink,
    PayoutDetailsChange,
    nonprofit_contact_of,
)

_LINK_SALT = "donations.nonprofit-sign-in"


# --- Contacts --------------------------------------------------------------------------------


def nonprofit_contact_create(
    *,
    nonprofit: Nonprofit,
    email: str,
    name: str = "",
    job_title: str = "",
    language: str = "en",
    actor,
) -> NonprofitContact:
    """Staff add a person who signs in for `nonprofit`: an account without a usable password
    is created for the address (a sign-in link opens it; the contact may set a password)."""
    email = email.strip().lower()
    user_model = get_user_model()
    with transaction.atomic():
        if user_model.objects.filter(username__iexact=email).exists():
            raise _email_taken(email)
        user = user_model(username=email, email=email)
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:  # another staff member added the same address a moment ago
            raise _email_taken(email) from None
        contact = NonprofitContact(
            nonprofit=nonprofit, user=user, name=name, job_title=job_title, language=language
        )
        contact.full_clean()
        contact.save()
        audit_record(actor=actor, obj=contact, action="created", note=email)
        return contact


def _email_taken(email: str) -> ValidationError:
    return ValidationError(
        {"email": _("%(email)s already has an account; use another address.") % {"email": email}},
        code="email_taken",
    )


CONTACT_FIELDS = ("name", "job_title", "phone", "language")


def nonprofit_contact_update(*, contact: NonprofitContact, actor, **fields) -> NonprofitContact:
    """The contact edits their own details. Their email is their sign-in identity: staff
    change it (in the admin), so a borrowed session cannot redirect future sign-in links."""
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"Not contact fields: {sorted(unknown)}")
    with transaction.atomic():
        locked = NonprofitContact.objects.select_for_update().get(pk=contact.pk)
        _require_own(actor, locked.nonprofit_id)
        fields_update(
            locked=locked, values=fields, actor=actor, clean_exclude=["user", "nonprofit"]
        )
        return locked


def nonprofit_contact_set_password(*, contact: NonprofitContact, password: str, actor) -> None:
    """The contact chooses a password (already validated by SetPasswordForm), to sign in at
    /accounts/login/ as well as by link."""
    with transaction.atomic():
        locked = NonprofitContact.objects.select_for_update().select_related("user")
        locked = locked.get(pk=contact.pk)
        _require_own(actor, locked.nonprofit_id)
        locked.user.set_password(password)
        locked.user.save(update_fields=["password"])
        audit_record(actor=actor, obj=locked, action="updated", note="password")


NONPROFIT_DETAIL_FIELDS = ("contact_email", "website")


def nonprofit_details_update(*, nonprofit: Nonprofit, actor, **fields) -> Nonprofit:
    """A contact updates their organisation's public contact details (not its payout
    details: see `payout_change_request`)."""
    unknown = set(fields) - set(NONPROFIT_DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"Not editable nonprofit fields: {sorted(unknown)}")
    with transaction.atomic():
        locked = Nonprofit.objects.select_for_update(no_key=True).get(pk=nonprofit.pk)
        _require_own(actor, locked.pk)
        fields_update(locked=locked, values=fields, actor=actor)
        return locked


def _require_own(actor, nonprofit_id: int) -> None:
    """Refuse unless `actor` is staff or a contact of the nonprofit `nonprofit_id`."""
    if getattr(actor, "is_staff", False):
        return
    contact = nonprofit_contact_of(actor)
    if contact is None or contact.nonprofit_id != nonprofit_id:
        raise ValidationError(
            _("Only a contact of this nonprofit can do this."), code="not_own_nonprofit"
        )


# --- Sign-in links ---------------------------------------------------------------------------


def link_token_for(link: NonprofitSignInLink) -> str:
    # The organisation is part of the secret: a contact moved to another nonprofit cannot
    # use a link sent for the first one.
    contact = link.contact
    value = f"{link.pk}:{link.nonce}:{contact.user.email.lower()}:{contact.nonprofit_id}"
    return link_token(salt=_LINK_SALT, value=value)


def link_path(link: NonprofitSignInLink) -> str:
    return reverse("nonprofit:link", kwargs={"pk": link.pk, "token": link_token_for(link)})


def nonprofit_link_send(*, contact: NonprofitContact, actor) -> NonprofitSignInLink:
    """A fresh sign-in link for the contact, emailed once this commits. Earlier open links are
    revoked: only the newest works."""
    from .tasks import send_nonprofit_link

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
        )
        link.full_clean()
        link.save()
        audit_record(actor=actor, obj=locked, action="link_sent")
        send_nonprofit_link.delay_on_commit(link.pk)
        return link


def nonprofit_link_ask(*, email: str) -> None:
    """The public form's request for a link to `email`. Looking the address up and sending
    happen in a job (`nonprofit_link_request`): the page then does the same work, in the same
    time, whether or not the address is a contact's, so its timing tells nobody who is one."""
    from .tasks import send_requested_nonprofit_link

    send_requested_nonprofit_link.delay_on_commit(email.strip())


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
        context={
            "contact": contact,
            "nonprofit": contact.nonprofit,
            "link": absolute_url(link_path(link)),
            "expires_at": link.expires_at,
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


# --- Grants: the nonprofit confirms the money arrived ---------------------------------------


def grant_receipt_confirm(*, grant: Grant, actor) -> Grant:
    """A contact of the grant's nonprofit confirms the paid money arrived. Idempotent: a second
    confirmation changes nothing and keeps the first date."""
    with transaction.atomic():
        locked = Grant.objects.select_for_update(of=("self",)).get(pk=grant.pk)
        contact = nonprofit_contact_of(actor)
        if contact is None or contact.nonprofit_id != locked.nonprofit_id:
            raise ValidationError(
                _("Only a contact of the receiving nonprofit can confirm receipt."),
                code="not_own_nonprofit",
            )
        if locked.receipt_confirmed_at is not None:
            return locked
        if locked.status != Grant.Status.DISBURSED:
            raise ValidationError(
                _("This grant has not been paid yet; confirm receipt once it is."),
                code="not_disbursed",
            )
        locked.receipt_confirmed_at = timezone.now()
        locked.receipt_confirmed_by = actor
        locked.save(update_fields=["receipt_confirmed_at", "receipt_confirmed_by", "updated_at"])
        # To "" rather than to "disbursed": a step of its own, not a non-change, in every
        # history that leaves out events whose state did not move.
        audit_record(actor=actor, obj=locked, action="receipt_confirmed", from_state=locked.status)
        return locked


# --- Payout details: requested by the nonprofit, applied only once staff approve ------------


def payout_change_request(
    *, nonprofit: Nonprofit, payout_reference: str, actor
) -> PayoutDetailsChange:
    """A contact asks to be paid elsewhere. Stored as pending; nothing changes until staff
    approve it. One pending request per nonprofit."""
    payout_reference = payout_reference.strip()
    with transaction.atomic():
        locked = Nonprofit.objects.select_for_update(no_key=True).get(pk=nonprofit.pk)
        _require_own(actor, locked.pk)
        if locked.payout_changes.pending().exists():
            raise ValidationError(
                _("A change of payout details is already waiting for review."),
                code="change_pending",
            )
        if payout_reference == locked.payout_reference:
            raise ValidationError(
                {"payout_reference": _("These are the payout details already on file.")},
                code="unchanged",
            )
        change = PayoutDetailsChange(
            nonprofit=locked, requested_by=actor, payout_reference=payout_reference
        )
        change.full_clean()
        change.save()
        audit_record(actor=actor, obj=locked, action="change_requested", note=_("Payout details"))
        return change


def payout_change_approve(*, change: PayoutDetailsChange, actor) -> PayoutDetailsChange:
    """Staff approve a pending change: it is applied to the nonprofit, audited on both."""
    with transaction.atomic():
        # Lock order: nonprofit, then the request (as a request is made).
        nonprofit = Nonprofit.objects.select_for_update(no_key=True).get(pk=change.nonprofit_id)
        locked = PayoutDetailsChange.objects.select_for_update().get(pk=change.pk)
        if locked.status == PayoutDetailsChange.Status.APPROVED:
            return locked
        _require_pending(locked)
        _require_requester_still_speaks_for(locked, nonprofit)
        now = timezone.now()
        locked.status = PayoutDetailsChange.Status.APPROVED
        locked.reviewed_by = actor
        locked.reviewed_at = now
        locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
        audit_record(
            actor=actor, obj=locked, action="approved", from_state="pending", to_state="approved"
        )
        nonprofit.payout_reference = locked.payout_reference
        nonprofit.save(update_fields=["payout_reference", "updated_at"])
        audit_record(actor=actor, obj=nonprofit, action="updated", note="payout_reference")
        return locked


def payout_change_reject(*, change: PayoutDetailsChange, reason: str, actor) -> PayoutDetailsChange:
    if not reason.strip():
        raise ValidationError(_("Say why the change is rejected."), code="reason_empty")
    with transaction.atomic():
        locked = PayoutDetailsChange.objects.select_for_update().get(pk=change.pk)
        if locked.status == PayoutDetailsChange.Status.REJECTED:
            return locked
        _require_pending(locked)
        locked.status = PayoutDetailsChange.Status.REJECTED
        locked.reason = reason.strip()
        locked.reviewed_by = actor
        locked.reviewed_at = timezone.now()
        locked.full_clean()
        locked.save(update_fields=["status", "reason", "reviewed_by", "reviewed_at", "updated_at"])
        audit_record(
            actor=actor,
            obj=locked,
            action="rejected",
            from_state="pending",
            to_state="rejected",
            note=locked.reason,
        )
        return locked


def nonprofit_payout_reference_set(
    *, nonprofit: Nonprofit, payout_reference: str, actor
) -> Nonprofit:
    """Staff set the payout details themselves (in the admin, say after a failed payment).
    Audited as an approved request is: this is where the money goes."""
    if not getattr(actor, "is_staff", False):
        raise ValidationError(
            _("Only the program team changes payout details directly."), code="not_staff"
        )
    with transaction.atomic():
        locked = Nonprofit.objects.select_for_update(no_key=True).get(pk=nonprofit.pk)
        if locked.payout_reference == payout_reference:
            return locked
        locked.payout_reference = payout_reference
        locked.full_clean()
        locked.save(update_fields=["payout_reference", "updated_at"])
        audit_record(actor=actor, obj=locked, action="updated", note="payout_reference")
        return locked


def _require_requester_still_speaks_for(change: PayoutDetailsChange, nonprofit: Nonprofit) -> None:
    """A request whose author has since left the nonprofit (moved, removed or switched off by
    staff) is not the nonprofit's word any more: it can only be rejected."""
    requester = change.requested_by
    if requester.is_staff and requester.is_active:
        return
    contact = nonprofit_contact_of(requester)
    if not requester.is_active or contact is None or contact.nonprofit_id != nonprofit.pk:
        raise ValidationError(
            _(
                "%(email)s, who asked for this change, no longer signs in for %(nonprofit)s: "
                "reject it, and check with the nonprofit."
            )
            % {"email": requester.email, "nonprofit": nonprofit},
            code="requester_gone",
        )


def _require_pending(change: PayoutDetailsChange) -> None:
    if change.status != PayoutDetailsChange.Status.PENDING:
        raise ValidationError(
            _("This change was already %(status)s.")
            % {"status": change.get_status_display().lower()},
            code="illegal_transition",
        )
