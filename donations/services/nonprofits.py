"""Nonprofits and the people who sign in for them: the record and its verification, contacts and
their details, and changes of payout details (requested by a contact, applied only once staff
approve). Each function a contact may call checks that they act for their own nonprofit."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from changemakers.core.audit import actor_or_none, audit_record, fields_update, state_transition
from changemakers.core.emails import absolute_url, email_send
from changemakers.core.jobs import enqueue_on_commit
from changemakers.core.roles import may, permission_require
from changemakers.core.timezones import preferences_of, preferences_update, time_zone_of

from ..models import (
    Grant,
    Nonprofit,
    NonprofitContact,
    PayoutDetailsChange,
    PayoutMethod,
    account_normalize,
    bank_details_check,
    mask_reference,
    nonprofit_contact_of,
    slug_for,
)
from .duties import first_approval_record, require_named, same_person
from .grants import grant_cancel, grant_hold

# --- The nonprofit ---------------------------------------------------------------------------


def nonprofit_slug_for(name: str) -> str:
    """A public page address for a new nonprofit called `name`, one no other nonprofit has
    (the unique constraint settles two nonprofits added at the same instant)."""
    return slug_for(name, lambda slug: Nonprofit.objects.filter(slug=slug).exists())


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
        slug=nonprofit_slug_for(legal_name),
        registration_number=registration_number.strip(),
        country=country,
        contact_email=contact_email,
        website=website,
        reach=reach,
        payout_reference=payout_reference,
        created_by=actor_or_none(actor),
    )
    nonprofit.full_clean()
    nonprofit.save()
    audit_record(
        actor=actor, obj=nonprofit, action="created", to_state=nonprofit.verification_status
    )
    return nonprofit


def nonprofit_verify(*, nonprofit: Nonprofit, actor) -> Nonprofit:
    """Verify a pending or rejected nonprofit, or verify a verified one again, which renews its
    verification for VERIFICATION_VALID_DAYS from now (see `Nonprofit.verified_at`). Someone
    other than who added it vouches for it, the first time and at each renewal."""
    permission_require(actor, "donations.verify_nonprofit", doing=_("verify nonprofits"))
    with transaction.atomic():
        locked = Nonprofit.objects.select_for_update(no_key=True).get(pk=nonprofit.pk)
        if same_person(locked.created_by_id, actor):
            raise ValidationError(
                _("You added %(nonprofit)s; someone else verifies it.") % {"nonprofit": locked},
                code="verifier_is_creator",
            )
        now = timezone.now()
        if locked.verification_status == Nonprofit.Verification.VERIFIED:
            locked.verified_at = now
            locked.verified_by = actor_or_none(actor)
            locked.save(update_fields=["verified_at", "verified_by", "updated_at"])
            audit_record(
                actor=actor,
                obj=locked,
                action="verified",
                from_state=locked.verification_status,
                to_state=locked.verification_status,
                note=_("Verified again"),
            )
            return locked
        return state_transition(
            locked,
            field="verification_status",
            to=Nonprofit.Verification.VERIFIED,
            allowed_from=[Nonprofit.Verification.PENDING, Nonprofit.Verification.REJECTED],
            actor=actor,
            action="verified",
            event="nonprofit.verified",
            changes={
                "rejection_reason": "",
                "verified_by": actor_or_none(actor),
                "verified_at": now,
                "rejected_by": None,
                "rejected_at": None,
            },
        )


def nonprofit_reject(*, nonprofit: Nonprofit, reason: str, actor) -> Nonprofit:
    """Reject a nonprofit, paid before or not (fraud can come to light after a first payment):
    its proposed grants are cancelled (they commit nothing), its unpaid ones are put on hold,
    its paid ones stay as they are. A payment in flight at this moment finishes its call to
    the provider; any further try is held by the worker, which finds the nonprofit rejected."""
    permission_require(actor, "donations.verify_nonprofit", doing=_("reject nonprofits"))
    if not reason.strip():
        raise ValidationError(_("Say why the nonprofit is rejected."), code="reason_empty")
    with transaction.atomic():
        # Lock order: grants, then their nonprofit (as approving a grant takes them). A grant
        # approved from here on finds the nonprofit rejected once it gets the nonprofit's row.
        grants = _lock_grants(nonprofit, [Grant.Status.PROPOSED, *Grant.UNPAID_STATUSES])
        locked = Nonprofit.objects.select_for_update(no_key=True).get(pk=nonprofit.pk)
        rejected = state_transition(
            locked,
            field="verification_status",
            to=Nonprofit.Verification.REJECTED,
            allowed_from=[Nonprofit.Verification.PENDING, Nonprofit.Verification.VERIFIED],
            actor=actor,
            action="rejected",
            note=reason,
            changes={
                "rejection_reason": reason,
                "rejected_by": actor_or_none(actor),
                "rejected_at": timezone.now(),
                "verified_by": None,
                "verified_at": None,
            },
        )
        note = _("The nonprofit was rejected: %(reason)s") % {"reason": reason.strip()}
        for grant in grants:
            if grant.status == Grant.Status.PROPOSED:
                grant_cancel(grant=grant, actor=actor, reason=note)
        _hold_unpaid([g for g in grants if g.status != Grant.Status.PROPOSED], note, actor)
        return rejected


def _lock_grants(nonprofit: Nonprofit, statuses) -> list[Grant]:
    return list(
        Grant.objects.select_for_update(of=("self",))
        .filter(nonprofit_id=nonprofit.pk, status__in=statuses)
        .order_by("pk")
    )


def _hold_unpaid(grants: list[Grant], reason: str, actor) -> list[Grant]:
    """Hold each of these unpaid grants (rows locked by the caller). A payment in flight is
    left to finish its call: its next try is held by the worker's own check."""
    held = []
    for grant in grants:
        try:
            held.append(grant_hold(grant=grant, reason=reason, actor=actor))
        except ValidationError as error:
            if error.code != "payment_in_flight":
                raise
    return held


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
        preferences_of(user)  # the contact's time zone, guessed from the nonprofit's country
        audit_record(actor=actor, obj=contact, action="created", note=email)
        return contact


def _email_taken(email: str) -> ValidationError:
    return ValidationError(
        {"email": _("%(email)s already has an account; use another address.") % {"email": email}},
        code="email_taken",
    )


CONTACT_FIELDS = ("name", "job_title", "phone", "language")


def nonprofit_contact_update(
    *, contact: NonprofitContact, actor, time_zone: str | None = None, **fields
) -> NonprofitContact:
    """The contact edits their own details. Their email is their sign-in identity: staff
    change it (in the admin), so a borrowed session cannot redirect future sign-in links.
    `time_zone` is their account's (the kernel keeps it, for every role)."""
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"Not contact fields: {sorted(unknown)}")
    with transaction.atomic():
        locked = NonprofitContact.objects.select_for_update().get(pk=contact.pk)
        _require_own(actor, locked.nonprofit_id)
        fields_update(
            locked=locked, values=fields, actor=actor, clean_exclude=["user", "nonprofit"]
        )
        if time_zone:  # empty: left as it is
            preferences_update(user=locked.user, actor=actor, time_zone=time_zone)
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
        audit_record(
            actor=actor,
            obj=locked,
            action="change_requested",
            note=_("Payout details: %(old)s → %(new)s") % _masked(locked, payout_reference),
        )
        return change


def bank_details_change_request(
    *,
    nonprofit: Nonprofit,
    account_holder: str,
    account_number: str,
    bic: str = "",
    bank_country: str,
    bank_name: str = "",
    actor,
) -> PayoutDetailsChange:
    """A contact (or staff) asks for the bank account a transfer by hand is paid into. Like
    any change of payout details it is stored as pending and applied only once a finance
    approver, not the requester, approves it; the audit log shows the accounts masked."""
    details = {
        "bank_account_holder": " ".join(account_holder.split()),
        "bank_account_number": account_normalize(account_number),
        "bank_bic": account_normalize(bic),
        "bank_country": bank_country.strip().upper(),
        "bank_name": " ".join(bank_name.split()),
    }
    bank_details_check(
        account_holder=details["bank_account_holder"],
        account_number=details["bank_account_number"],
        bic=details["bank_bic"],
        country=details["bank_country"],
    )
    with transaction.atomic():
        locked = Nonprofit.objects.select_for_update(no_key=True).get(pk=nonprofit.pk)
        _require_own(actor, locked.pk)
        if locked.payout_changes.pending().exists():
            raise ValidationError(
                _("A change of payout details is already waiting for review."),
                code="change_pending",
            )
        if details == locked.bank_details():
            raise ValidationError(
                _("These are the bank details already on file."), code="unchanged"
            )
        change = PayoutDetailsChange(nonprofit=locked, requested_by=actor, **details)
        change.full_clean()
        change.save()
        masked = _bank_masked(locked, change)
        audit_record(
            actor=actor,
            obj=locked,
            action="change_requested",
            note=_("Bank details: %(old)s → %(new)s") % masked,
        )
        return change


def _bank_masked(nonprofit: Nonprofit, change: PayoutDetailsChange) -> dict[str, str]:
    """Old and new bank accounts as the audit log shows them: the last four characters and
    the BIC (a bank's public code)."""

    def shown(account: str, bic: str) -> str:
        if not account:
            return "—"
        return f"{mask_reference(account)} {bic}".strip()

    return {
        "old": shown(nonprofit.bank_account_number, nonprofit.bank_bic),
        "new": shown(change.bank_account_number, change.bank_bic),
    }


# --- How a nonprofit is paid -----------------------------------------------------------------


def nonprofit_payout_method_set(*, nonprofit: Nonprofit, method: str, actor) -> Nonprofit:
    """Staff choose how a nonprofit is paid: the program's electronic provider, or a bank
    transfer by hand. Audited old → new. Who is paid changes with it (the payee fingerprint
    covers the method), so the nonprofit's approved and failed grants are held until a
    finance approver re-confirms each one's payee, as after a change of payout details.

    Refused while one of its payments is under way (scheduled, being paid, or its outcome
    unknown): that payment keeps the provider it was sent to; cancel it or let it finish
    first. Idempotent: the method it already has changes nothing."""
    permission_require(
        actor, "donations.set_payout_method", doing=_("choose how nonprofits are paid")
    )
    if method not in PayoutMethod.values:
        raise ValidationError(_("Choose a payout method from the list."), code="invalid_method")
    with transaction.atomic():
        # Lock order: the nonprofit's grants, then the nonprofit.
        grants = _lock_grants(
            nonprofit,
            [*Grant.UNPAID_STATUSES, Grant.Status.UNKNOWN],
        )
        locked = Nonprofit.objects.select_for_update(no_key=True).get(pk=nonprofit.pk)
        old = locked.payout_method
        if old == method:
            return locked
        under_way = [
            grant
            for grant in grants
            if grant.status
            in (Grant.Status.SCHEDULED, Grant.Status.PROCESSING, Grant.Status.UNKNOWN)
        ]
        if under_way:
            raise ValidationError(
                ngettext(
                    "%(nonprofit)s has %(count)s payment under way; cancel it or let it "
                    "finish before changing how the nonprofit is paid.",
                    "%(nonprofit)s has %(count)s payments under way; cancel them or let "
                    "them finish before changing how the nonprofit is paid.",
                    len(under_way),
                )
                % {"nonprofit": locked, "count": len(under_way)},
                code="payments_under_way",
            )
        locked.payout_method = method
        locked.save(update_fields=["payout_method", "updated_at"])
        audit_record(
            actor=actor,
            obj=locked,
            action="payout_method_set",
            from_state=old,
            to_state=method,
            note=f"{PayoutMethod(old).label} → {PayoutMethod(method).label}",
        )
        _hold_unpaid(grants, _("Payout method changed"), actor)
        return locked


def _masked(nonprofit: Nonprofit, new_reference: str) -> dict[str, str]:
    """Old and new payout references as the audit log shows them: the last four characters."""
    return {
        "old": mask_reference(nonprofit.payout_reference) or "—",
        "new": mask_reference(new_reference) or "—",
    }


def payout_change_approve(*, change: PayoutDetailsChange, actor) -> PayoutDetailsChange:
    """Staff approve a pending change: it is applied to the nonprofit (audited with the old
    and new values masked), every unpaid grant of the nonprofit is put on hold until a finance
    approver re-confirms its payee, and every contact is emailed.

    The approver is neither the requester nor a contact of the nonprofit. When the
    nonprofit's contact email was changed lately (`for_review`), the address staff would
    check the request with may be the fraudster's: the change then takes two approvers, the
    first recorded while it stays pending, the second (someone else) applying it."""
    permission_require(
        actor, "donations.approve_payoutdetailschange", doing=_("approve payout-detail changes")
    )
    with transaction.atomic():
        # Lock order: the nonprofit's grants, the nonprofit, then the request.
        grants = _lock_grants(Nonprofit(pk=change.nonprofit_id), Grant.UNPAID_STATUSES)
        nonprofit = Nonprofit.objects.select_for_update(no_key=True).get(pk=change.nonprofit_id)
        locked = (
            PayoutDetailsChange.objects.select_for_update(of=("self",))
            .select_related("requested_by")
            .get(pk=change.pk)
        )
        if locked.status == PayoutDetailsChange.Status.APPROVED:
            return locked
        _require_pending(locked)
        _require_requester_still_speaks_for(locked, nonprofit)
        _require_independent_reviewer(locked, nonprofit, actor)
        if locked.first_approved_by_id is None and _contact_email_changed_lately(locked):
            return _payout_change_first_approve(locked, actor)
        masked = (
            _bank_masked(nonprofit, locked)
            if locked.is_bank
            else _masked(nonprofit, locked.payout_reference)
        )
        now = timezone.now()
        locked.status = PayoutDetailsChange.Status.APPROVED
        locked.reviewed_by = actor
        locked.reviewed_at = now
        locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
        audit_record(
            actor=actor,
            obj=locked,
            action="approved",
            from_state="pending",
            to_state="approved",
            note=f"{masked['old']} → {masked['new']}",
        )
        if locked.is_bank:
            details = locked.bank_details()
            for name, value in details.items():
                setattr(nonprofit, name, value)
            nonprofit.save(update_fields=[*details, "updated_at"])
            field = "bank_details"
        else:
            nonprofit.payout_reference = locked.payout_reference
            nonprofit.save(update_fields=["payout_reference", "updated_at"])
            field = "payout_reference"
        audit_record(
            actor=actor,
            obj=nonprofit,
            action="updated",
            note=f"{field}: {masked['old']} → {masked['new']}",
        )
        _hold_unpaid(grants, _("Payout details changed"), actor)
        enqueue_on_commit("donations.tasks.send_payout_change_notice", locked.pk)
        return locked


def _require_independent_reviewer(change: PayoutDetailsChange, nonprofit: Nonprofit, actor) -> None:
    if same_person(change.requested_by_id, actor):
        raise ValidationError(
            _("You asked for this change; someone else approves it."),
            code="approver_is_requester",
        )
    # The model keeps staff accounts from being contacts; this holds even if one slipped by.
    if (
        getattr(actor, "is_authenticated", False)
        and NonprofitContact.objects.filter(user_id=actor.pk, nonprofit=nonprofit).exists()
    ):
        raise ValidationError(
            _(
                "You sign in for %(nonprofit)s; its payout details are approved by the "
                "program team, not by the nonprofit."
            )
            % {"nonprofit": nonprofit},
            code="approver_is_contact",
        )
    if same_person(change.first_approved_by_id, actor):
        raise ValidationError(
            _(
                "You gave this change its first approval; as the nonprofit's contact email "
                "changed lately, the second approval is someone else's."
            ),
            code="approver_already_approved",
        )


def _contact_email_changed_lately(change: PayoutDetailsChange) -> bool:
    changed_at = (
        PayoutDetailsChange.objects.for_review()
        .filter(pk=change.pk)
        .values_list("contact_email_changed_at", flat=True)
        .get()
    )
    return changed_at is not None


def _payout_change_first_approve(change: PayoutDetailsChange, actor) -> PayoutDetailsChange:
    """The first of two approvals: recorded, nothing applied. Call with the change locked."""
    require_named(actor, what=_("This change"))
    return first_approval_record(
        change,
        actor,
        state=PayoutDetailsChange.Status.PENDING,
        note=_("The contact email changed lately: a second approver, someone else, applies it."),
    )


def payout_change_notice_email(*, change: PayoutDetailsChange) -> int:
    """Tell every active contact of the nonprofit, each in their language, that its payout
    details were changed (from the task, once the approval committed): a contact who did not
    ask for it can raise the alarm. Returns how many were emailed."""
    if change.status != PayoutDetailsChange.Status.APPROVED:
        return 0
    contacts = NonprofitContact.objects.filter(
        nonprofit_id=change.nonprofit_id, user__is_active=True
    ).select_related("user", "nonprofit")
    sent = 0
    for contact in contacts:
        if not contact.user.email:
            continue
        email_send(
            to=[contact.user.email],
            template="donations/email/payout_changed",
            language=contact.language,
            time_zone=time_zone_of(contact.user),
            context={
                "contact": contact,
                "nonprofit": contact.nonprofit,
                "masked": change.bank_account_masked
                if change.is_bank
                else mask_reference(change.payout_reference),
                "changed_at": change.reviewed_at,
                "link": absolute_url(reverse("nonprofit:details")),
            },
        )
        sent += 1
    return sent


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
