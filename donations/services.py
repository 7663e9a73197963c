"""Every write about nonprofits, funds and grants.

Approval commits a grant's amount against its fund under a row lock on the fund; the fund's
CHECK constraint refuses any overspend the code might still let through.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from creators.models import Creator
from creators.services import audit_record, state_transition

from .models import MONEY_PLACES, Fund, Grant, Nonprofit, NonprofitContact

CENT = Decimal(1).scaleb(-MONEY_PLACES)


def _money(amount) -> Decimal:
    """A Decimal amount with cents; floats are refused, they cannot hold money exactly."""
    if isinstance(amount, float):
        raise TypeError("Money is never a float: pass a Decimal or a string.")
    return Decimal(amount).quantize(CENT)


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
    if not reason.strip():
        raise ValidationError(_("Say why the nonprofit is rejected."), code="reason_empty")
    if nonprofit.grants.committing().exists():
        raise ValidationError(
            _("%(nonprofit)s has approved grants; cancel them before rejecting it.")
            % {"nonprofit": nonprofit},
            code="has_committed_grants",
        )
    return state_transition(
        nonprofit,
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


@transaction.atomic
def fund_create(*, name: str, total, currency: str = "USD", actor=None) -> Fund:
    fund = Fund(name=name, total=_money(total), currency=currency)
    fund.full_clean()
    fund.save()
    audit_record(actor=actor, obj=fund, action="created", note=f"{fund.currency} {fund.total}")
    return fund


@transaction.atomic
def grant_propose(
    *,
    fund: Fund,
    nonprofit: Nonprofit,
    amount,
    creator: Creator | None = None,
    purpose: str = "",
    actor=None,
) -> Grant:
    grant = Grant(
        fund=fund,
        nonprofit=nonprofit,
        creator=creator,
        amount=_money(amount),
        currency=fund.currency,
        purpose=purpose,
    )
    grant.full_clean()
    grant.save()
    audit_record(
        actor=actor,
        obj=grant,
        action="proposed",
        to_state=grant.status,
        note=f"{grant.currency} {grant.amount}",
    )
    return grant


def grant_approve(*, grant: Grant, actor) -> Grant:
    """Approve a proposed grant and commit its amount against the fund, never past its total."""
    with transaction.atomic():
        locked = Grant.objects.select_for_update().select_related("nonprofit").get(pk=grant.pk)
        if locked.status == Grant.Status.APPROVED:
            return locked
        if locked.status != Grant.Status.PROPOSED:
            # Let the shared helper phrase the refusal.
            return state_transition(
                locked,
                to=Grant.Status.APPROVED,
                allowed_from=[Grant.Status.PROPOSED],
                actor=actor,
                action="approved",
            )
        if locked.nonprofit.verification_status != Nonprofit.Verification.VERIFIED:
            raise ValidationError(
                _("%(nonprofit)s is not verified yet; verify it before approving a grant.")
                % {"nonprofit": locked.nonprofit},
                code="nonprofit_not_verified",
            )
        # Lock order everywhere: grant, then fund. The fund lock serialises approvals.
        fund = Fund.objects.select_for_update().get(pk=locked.fund_id)
        if fund.committed + locked.amount > fund.total:
            raise ValidationError(
                _(
                    "Not enough left in %(fund)s: %(currency)s %(remaining)s remaining, "
                    "%(currency)s %(amount)s asked."
                )
                % {
                    "fund": fund,
                    "currency": fund.currency,
                    "remaining": f"{fund.remaining:,}",
                    "amount": f"{locked.amount:,}",
                },
                code="fund_exhausted",
            )
        try:
            with transaction.atomic():
                Fund.objects.filter(pk=fund.pk).update(
                    committed=F("committed") + locked.amount, updated_at=timezone.now()
                )
        except IntegrityError as error:  # the CHECK constraint: the last line of defence
            raise ValidationError(
                _("Not enough left in %(fund)s.") % {"fund": fund}, code="fund_exhausted"
            ) from error
        return state_transition(
            locked,
            to=Grant.Status.APPROVED,
            allowed_from=[Grant.Status.PROPOSED],
            actor=actor,
            action="approved",
            changes={"approved_at": timezone.now()},
        )


def grant_cancel(*, grant: Grant, actor, reason: str) -> Grant:
    """Cancel a grant that is not being paid; an approved one gives its amount back to the fund."""
    if not reason.strip():
        raise ValidationError(_("Say why the grant is cancelled."), code="reason_empty")
    with transaction.atomic():
        locked = Grant.objects.select_for_update().get(pk=grant.pk)
        releases = locked.status in (Grant.Status.APPROVED, Grant.Status.SCHEDULED)
        cancelled = state_transition(
            locked,
            to=Grant.Status.CANCELLED,
            allowed_from=[Grant.Status.PROPOSED, Grant.Status.APPROVED, Grant.Status.SCHEDULED],
            actor=actor,
            action="cancelled",
            note=reason,
            changes={"status_reason": reason},
        )
        if releases:
            Fund.objects.filter(pk=locked.fund_id).update(
                committed=F("committed") - locked.amount, updated_at=timezone.now()
            )
        return cancelled
