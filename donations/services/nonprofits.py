"""Nonprofits and the people who sign in for them: the record and its verification, contacts and
their details, and changes of payout details (requested by a contact, applied only once staff
approve). Each function a contact may call checks that they act for their own nonprofit."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_record, fields_update, state_transition
from changemakers.core.roles import may, permission_require

from ..models import Nonprofit, NonprofitContact, PayoutDetailsChange, nonprofit_contact_of

# --- The nonprofit ---------------------------------------------------------------------------


@transaction.atomic
def nonprofit_create(
    *,
    legal_name: str,
    registration_number: str,
    country: str,
    contact_email: str,
    website: str = "",
    reach: str = Nonprofit.Reach.LOCAL,
    payout_reference: str = "",
    actor=None,
) -> Nonprofit:
    nonprofit = Nonprofit(
        legal_name=legal_name,
        registration_number=registration_number.strip(),
        country=country,
        contact_email=contact_email,
        website=website,
        reach=reach,
        payout_reference=payout_reference,
    )
    nonprofit.full_clean()
    nonprofit.save()
    audit_record(
        actor=actor, obj=nonprofit, action="created", to_state=nonprofit.verification_status
    )
    return nonprofit


def nonprofit_verify(*, nonprofit: Nonprofit, actor) -> Nonprofit:
    permission_require(actor, "donations.verify_nonprofit", doing=_("verify nonprofits"))
    return state_transition(
        nonprofit,
        field="verification_status",
        to=Nonprofit.Verification.VERIFIED,
        allowed_from=[Nonprofit.Verification.PENDING, Nonprofit.Verification.REJECTED],
        actor=actor,
        action="verified",
        changes={"rejection_reason": ""},
    )


def nonprofit_reject(*, nonprofit: Nonprofit, reason: str, actor) -> Nonprofit:
    permission_require(actor, "donations.verify_nonprofit", doing=_("reject nonprofits"))
    if not reason.strip():
        raise ValidationError(_("Say why the nonprofit is rejected."), code="reason_empty")
    with transaction.atomic():
        # Locked first, so an approval (which locks the nonprofit too) cannot slip in between
        # the check and the rejection.
        locked = Nonprofit.objects.select_for_update(no_key=True).get(pk=nonprofit.pk)
        if locked.grants.committing().exists():
            raise ValidationError(
                _("%(nonprofit)s has approved grants; cancel them before rejecting it.")
                % {"nonprofit": locked},
                code="has_committed_grants",
            )
        return state_transition(
            locked,
            field="verification_status",
            to=Nonprofit.Verification.REJECTED,
            allowed_from=[Nonprofit.Verification.PENDING, Nonprofit.Verification.VERIFIED],
            actor=actor,
            action="rejected",
            note=reason,
            changes={"rejection_reason": reason},
        )


@transaction.atomic
def nonprofit_contact_add(*, nonprofit: Nonprofit, user, job_title: str = "") -> NonprofitContact:
    contact = NonprofitContact(nonprofit=nonprofit, user=user, job_title=job_title)
    contact.full_clean()
    contact.save()
    return contact


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
    """Refuse unless `actor` is a contact of the nonprofit `nonprofit_id`, or staff whose roles
    let them change nonprofits (the vetter; not, say, the auditor)."""
    if may(actor, "donations.change_nonprofit"):
        return
    contact = nonprofit_contact_of(actor)
    if contact is None or contact.nonprofit_id != nonprofit_id:
        raise ValidationError(
            _("Only a contact of this nonprofit can do this."), code="not_own_nonprofit"
        )


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
    permission_require(
        actor, "donations.approve_payoutdetailschange", doing=_("approve payout-detail changes")
    )
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
    permission_require(
        actor, "donations.approve_payoutdetailschange", doing=_("reject payout-detail changes")
    )
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
    permission_require(
        actor, "donations.approve_payoutdetailschange", doing=_("change payout details")
    )
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
