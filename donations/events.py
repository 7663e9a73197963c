"""The events this app emits for partners (webhooks), and what of a grant or a nonprofit may
go out with them: ids, statuses, amounts with their currency, the nonprofit's public name and
country, the creator's handle and name. Never payout details, contacts, registration numbers,
reasons or staff notes. Declared in `DonationsConfig.ready`."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from changemakers.core.events import event_emit


class GrantEvent(models.TextChoices):
    PROPOSED = "grant.proposed", _("Grant proposed")
    APPROVED = "grant.approved", _("Grant approved")
    SCHEDULED = "grant.scheduled", _("Grant scheduled for payment")
    DISBURSED = "grant.disbursed", _("Grant paid")
    FAILED = "grant.failed", _("Grant payment failed")
    REVERSED = "grant.reversed", _("Grant payment reversed")


class NonprofitEvent(models.TextChoices):
    VERIFIED = "nonprofit.verified", _("Nonprofit verified")


def _when(value) -> str | None:
    return value.isoformat() if value else None


def nonprofit_public(nonprofit) -> dict:
    return {"id": nonprofit.pk, "name": nonprofit.legal_name, "country": nonprofit.country.code}


def grant_event_data(grant) -> dict:
    creator = grant.creator
    return {
        "id": grant.pk,
        "status": grant.status,
        # A string, so no JSON reader rounds it: "25000.00".
        "amount": str(grant.amount),
        "currency": grant.currency,
        "approved_at": _when(grant.approved_at),
        "disbursed_at": _when(grant.disbursed_at),
        "nonprofit": nonprofit_public(grant.nonprofit),
        "creator": ({"handle": creator.handle, "name": creator.display_name} if creator else None),
    }


def nonprofit_event_data(nonprofit) -> dict:
    return {
        **nonprofit_public(nonprofit),
        "website": nonprofit.website,
        "verification_status": nonprofit.verification_status,
        "verified_at": _when(nonprofit.verified_at),
    }


# --- For the transfer reversals (Stripe's `transfer.reversed`): call it from the service that
# records a reversal, inside its transaction, once the grant's row is locked and updated.
def grant_reversed_emit(*, grant, amount, currency: str, reversed_at) -> None:
    """Tell partners a paid grant's money came back (all or part of it)."""
    event_emit(
        GrantEvent.REVERSED,
        obj=grant,
        extra={
            "reversal": {
                "amount": str(amount),
                "currency": currency,
                "reversed_at": _when(reversed_at),
            }
        },
    )
