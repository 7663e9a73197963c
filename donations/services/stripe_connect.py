"""Stripe Connect for nonprofits: hosted onboarding started by a contact, the readiness Stripe
reports (on the portal's return page and by webhook), the payouts its bank refuses, and the
webhook events themselves, stored once by id and handled by a job (transfer reversals are
`reversals.py`'s).

The connected account's id is only ever set here, from Stripe's answer. It becomes the
nonprofit's payout reference only when the nonprofit has none; a nonprofit already paid
elsewhere gets a payout-detail change for finance to review, as any other change."""

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_record
from changemakers.core.jobs import enqueue_on_commit
from changemakers.core.roles import permission_require

from ..models import Nonprofit, PayoutDetailsChange, PayoutFailure, ProviderEvent, mask_reference
from ..payouts import stripe_connect
from .nonprofits import _require_own
from .reversals import disbursement_reversal_record

logger = logging.getLogger(__name__)

STRIPE_PROVIDER = "stripe"


def _unavailable(error: Exception) -> ValidationError:
    return ValidationError(
        _("Stripe could not be reached just now (%(reason)s). Please try again in a moment.")
        % {"reason": error},
        code="stripe_unavailable",
    )


def nonprofit_payouts_onboard(
    *, nonprofit: Nonprofit, actor, return_url: str, refresh_url: str
) -> str:
    """A contact starts (or resumes) Stripe's hosted onboarding: the nonprofit's connected
    account is created once (country and email from the nonprofit; the key per nonprofit, so a
    double click or a retry is the same account), then an Account Link. Returns the URL of
    Stripe's onboarding page."""
    with transaction.atomic():
        # The lock makes a second click wait for the first one's account.
        locked = Nonprofit.objects.select_for_update(no_key=True).get(pk=nonprofit.pk)
        _require_own(actor, locked.pk)
        if not locked.stripe_account_id:
            try:
                account_id = stripe_connect.account_create(
                    idempotency_key=f"nonprofit-{locked.pk}-connect-account",
                    country=str(locked.country),
                    email=locked.contact_email,
                    nonprofit_id=locked.pk,
                )
            except stripe_connect.StripeUnavailable as error:
                raise _unavailable(error) from error
            locked.stripe_account_id = account_id
            locked.save(update_fields=["stripe_account_id", "updated_at"])
            audit_record(
                actor=actor,
                obj=locked,
                action="stripe_account_created",
                note=mask_reference(account_id),
            )
        account_id = locked.stripe_account_id
    try:
        return stripe_connect.onboarding_link(
            account_id=account_id, return_url=return_url, refresh_url=refresh_url
        )
    except stripe_connect.StripeUnavailable as error:
        raise _unavailable(error) from error


def nonprofit_stripe_account_ensure(*, nonprofit: Nonprofit, actor) -> Nonprofit:
    """A vetter gives a nonprofit its Stripe connected account, or makes sure the one it has
    still exists at Stripe (`seed_demo` with the stripe provider, for the demo's nonprofits).
    The account is created under the same per-nonprofit key as a contact's onboarding, so a
    contact who later sets up payouts continues with it. Then Stripe's readiness is recorded
    as on the return page: once Stripe can pay out, the account becomes the payee of a
    nonprofit that has none; one with another payee gets a payout-detail change to review."""
    permission_require(
        actor, "donations.verify_nonprofit", doing=_("set up Stripe payouts for nonprofits")
    )
    with transaction.atomic():
        locked = Nonprofit.objects.select_for_update(no_key=True).get(pk=nonprofit.pk)
        try:
            if not locked.stripe_account_id or not stripe_connect.account_exists(
                locked.stripe_account_id
            ):
                account_id = stripe_connect.account_create(
                    idempotency_key=f"nonprofit-{locked.pk}-connect-account",
                    country=str(locked.country),
                    email=locked.contact_email,
                    nonprofit_id=locked.pk,
                )
                if account_id != locked.stripe_account_id:
                    locked.stripe_account_id = account_id
                    locked.save(update_fields=["stripe_account_id", "updated_at"])
                    audit_record(
                        actor=actor,
                        obj=locked,
                        action="stripe_account_created",
                        note=mask_reference(account_id),
                    )
            status = stripe_connect.account_status(locked.stripe_account_id)
        except stripe_connect.StripeUnavailable as error:
            raise _unavailable(error) from error
    return nonprofit_stripe_status_record(status=status, actor=actor) or locked


def nonprofit_payouts_refresh(*, nonprofit: Nonprofit, actor) -> Nonprofit:
    """Ask Stripe how the nonprofit's account stands and record it (the return page)."""
    _require_own(actor, nonprofit.pk)
    if not nonprofit.stripe_account_id:
        return nonprofit
    try:
        status = stripe_connect.account_status(nonprofit.stripe_account_id)
    except stripe_connect.StripeUnavailable as error:
        raise _unavailable(error) from error
    return nonprofit_stripe_status_record(status=status, actor=actor) or nonprofit


def nonprofit_payouts_login_link(*, nonprofit: Nonprofit, actor) -> str:
    """A one-time link into the nonprofit's Stripe dashboard, where its bank account is
    changed (never here)."""
    _require_own(actor, nonprofit.pk)
    if not nonprofit.stripe_account_id:
        raise ValidationError(_("Set up payouts with Stripe first."), code="no_stripe_account")
    try:
        return stripe_connect.login_link(nonprofit.stripe_account_id)
    except stripe_connect.StripeUnavailable as error:
        raise _unavailable(error) from error


def nonprofit_stripe_status_record(
    *, status: stripe_connect.AccountStatus, actor=None
) -> Nonprofit | None:
    """Record what Stripe says of a connected account (None: no nonprofit has it). Once it
    can be paid out, the account becomes the payee of a nonprofit that has none; a nonprofit
    with another payee gets a payout-detail change for review when a contact (`actor`) is
    there to request it."""
    with transaction.atomic():
        locked = (
            Nonprofit.objects.select_for_update(no_key=True)
            .filter(stripe_account_id=status.account_id)
            .first()
        )
        if locked is None:
            return None
        values = {
            "stripe_payouts_enabled": status.payouts_enabled,
            "stripe_requirements_due": status.requirements_due,
        }
        changed = [name for name, value in values.items() if getattr(locked, name) != value]
        for name in changed:
            setattr(locked, name, values[name])
        locked.stripe_checked_at = timezone.now()
        locked.save(update_fields=[*changed, "stripe_checked_at", "updated_at"])
        if changed:
            audit_record(
                actor=actor,
                obj=locked,
                action="stripe_status",
                to_state="payouts_enabled" if status.payouts_enabled else "payouts_disabled",
                note=", ".join(status.requirements_due),
            )
        if status.payouts_enabled:
            _payee_from_stripe(locked, actor)
        return locked


def _payee_from_stripe(nonprofit: Nonprofit, actor) -> None:
    account_id = nonprofit.stripe_account_id
    if nonprofit.payout_reference == account_id:
        return
    if not nonprofit.payout_reference:
        nonprofit.payout_reference = account_id
        nonprofit.save(update_fields=["payout_reference", "updated_at"])
        audit_record(
            actor=actor, obj=nonprofit, action="payee_set", note=mask_reference(account_id)
        )
        return
    if not getattr(actor, "is_authenticated", False) or nonprofit.payout_changes.pending().exists():
        return
    change = PayoutDetailsChange(
        nonprofit=nonprofit, requested_by=actor, payout_reference=account_id
    )
    change.full_clean()
    change.save()
    audit_record(
        actor=actor,
        obj=nonprofit,
        action="change_requested",
        note=_("Payout details: %(old)s → %(new)s")
        % {"old": nonprofit.payout_masked or "—", "new": mask_reference(account_id)},
    )


# --- Webhooks --------------------------------------------------------------------------------


def provider_event_receive(*, provider: str, event: dict) -> tuple[ProviderEvent, bool]:
    """Store a verified event once by its id and queue its handling; a replay returns the
    stored row and `False`, and queues nothing."""
    try:
        with transaction.atomic():
            stored = ProviderEvent.objects.create(
                provider=provider,
                event_id=event["id"],
                type=event["type"][:100],
                payload=event,
            )
            enqueue_on_commit("donations.tasks.handle_provider_event", stored.pk)
            return stored, True
    except IntegrityError:
        return ProviderEvent.objects.get(provider=provider, event_id=event["id"]), False


def provider_event_handle(*, event_id: int) -> ProviderEvent:
    """Act on a stored event, once: `account.updated` records the account's readiness,
    `transfer.reversed` the money taken back of a payment, `payout.failed` and `payout.paid`
    whether a nonprofit's bank takes its payouts; other types are only kept. Handled events
    are left alone; each handler is idempotent too (two events can tell the same thing)."""
    with transaction.atomic():
        stored = ProviderEvent.objects.select_for_update().get(pk=event_id)
        if stored.handled_at is not None:
            return stored
        if stored.provider == STRIPE_PROVIDER:
            handler = _STRIPE_HANDLERS.get(stored.type)
            if handler is not None:
                try:
                    # Its own savepoint: an event whose body is not what its type promises
                    # is kept, marked handled, with nothing half done. Any other error
                    # rolls the whole handling back and leaves the event unhandled.
                    with transaction.atomic():
                        handler(stored.payload)
                except (KeyError, TypeError, ValueError):
                    logger.warning("Stripe event %s has an unexpected shape", stored.event_id)
        stored.handled_at = timezone.now()
        stored.save(update_fields=["handled_at"])
        return stored


def _account_updated(event: dict) -> None:
    data_object = event.get("data", {}).get("object", {})
    if data_object.get("id"):
        nonprofit_stripe_status_record(status=stripe_connect.account_status_from_event(data_object))


def _transfer_reversed(event: dict) -> None:
    transfer = stripe_connect.transfer_reversed_from_event(event["data"]["object"])
    disbursement_reversal_record(
        provider=STRIPE_PROVIDER,
        reference=transfer.transfer_id,
        idempotency_key=transfer.idempotency_key,
        amount=transfer.amount,
        currency=transfer.currency,
        amount_reversed=transfer.amount_reversed,
        note=", ".join(transfer.reversal_ids),
    )


def _payout_failed(event: dict) -> None:
    nonprofit_payout_failure_record(
        provider=STRIPE_PROVIDER, payout=stripe_connect.payout_from_event(event)
    )


def _payout_paid(event: dict) -> None:
    nonprofit_payout_paid_record(
        provider=STRIPE_PROVIDER, payout=stripe_connect.payout_from_event(event)
    )


_STRIPE_HANDLERS = {
    "account.updated": _account_updated,
    "transfer.reversed": _transfer_reversed,
    "payout.failed": _payout_failed,
    "payout.paid": _payout_paid,
}


# --- Payouts to the nonprofit's bank ---------------------------------------------------------


def nonprofit_payout_failure_record(
    *, provider: str, payout: stripe_connect.PayoutEvent
) -> PayoutFailure | None:
    """The bank refused a payout from the nonprofit's connected account: recorded once per
    payout with the provider's reason, audited, and the finance approvers told once this
    commits; the nonprofit's pages ask it to fix its bank account on Stripe. A failure of a
    payout older than one paid since is recorded as cleared already. None when no nonprofit
    has the account."""
    with transaction.atomic():
        nonprofit = (
            Nonprofit.objects.select_for_update(no_key=True)
            .filter(stripe_account_id=payout.account_id)
            .first()
        )
        if nonprofit is None:
            return None
        known = PayoutFailure.objects.filter(
            provider=provider, payout_reference=payout.payout_id
        ).first()
        if known is not None:
            return known
        paid_since = (
            nonprofit.stripe_payout_paid_at is not None
            and nonprofit.stripe_payout_paid_at >= payout.created
        )
        failure = PayoutFailure(
            nonprofit=nonprofit,
            provider=provider,
            payout_reference=payout.payout_id,
            amount=payout.amount,
            currency=payout.currency,
            failure_code=payout.failure_code[:100],
            failure_message=payout.failure_message,
            payout_created_at=payout.created,
            cleared_at=timezone.now() if paid_since else None,
        )
        failure.save()
        audit_record(
            actor=None,
            obj=nonprofit,
            action="payout_failed",
            note=f"{payout.payout_id}: {failure.reason}",
        )
        if not paid_since:
            enqueue_on_commit("donations.tasks.send_finance_alert", "payout_failed", failure.pk)
        return failure


def nonprofit_payout_paid_record(*, provider: str, payout: stripe_connect.PayoutEvent) -> int:
    """A payout to the nonprofit's bank went through: the failures of payouts created before
    it are cleared (the bank account works again), audited. Returns how many."""
    with transaction.atomic():
        nonprofit = (
            Nonprofit.objects.select_for_update(no_key=True)
            .filter(stripe_account_id=payout.account_id)
            .first()
        )
        if nonprofit is None:
            return 0
        if (
            nonprofit.stripe_payout_paid_at is None
            or nonprofit.stripe_payout_paid_at < payout.created
        ):
            nonprofit.stripe_payout_paid_at = payout.created
            nonprofit.save(update_fields=["stripe_payout_paid_at", "updated_at"])
        cleared = list(
            PayoutFailure.objects.open()
            .filter(nonprofit=nonprofit, provider=provider, payout_created_at__lte=payout.created)
            .values_list("payout_reference", flat=True)
        )
        if not cleared:
            return 0
        PayoutFailure.objects.filter(
            nonprofit=nonprofit, provider=provider, payout_reference__in=cleared
        ).update(cleared_at=timezone.now())
        audit_record(
            actor=None,
            obj=nonprofit,
            action="payout_failure_cleared",
            note=_("Payout %(payout)s paid; cleared: %(failed)s")
            % {"payout": payout.payout_id, "failed": ", ".join(cleared)},
        )
        return len(cleared)
