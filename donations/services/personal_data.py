"""The donations app's part of a person's data: the grants given in a creator's name. Money
history stays: an erased creator's grants keep their amounts, states and steps under the
pseudonym, so an erasure waits until none is still on its way. Declared in
`DonationsConfig.ready` (`changemakers.core.personal_data`)."""

import re

from django.db import transaction
from django.utils.translation import ngettext

from changemakers.core.personal_data import PersonalData, Pseudonym, StoredFile
from creators.models import Creator

from ..models import Grant

# A grant in any of these states may still move money (or be retried): the person stays until
# it is paid or cancelled.
IN_FLIGHT_STATUSES = ("proposed", "approved", "scheduled", "processing", "failed", "unknown")


def _grants(creator: Creator):
    return Grant.objects.filter(creator=creator).select_related("fund", "nonprofit")


def donations_data_collect(creator: Creator) -> PersonalData:
    grants = list(_grants(creator).order_by("created_at", "pk"))
    records = {
        "grants": [
            {
                "fund": grant.fund.name,
                "nonprofit": grant.nonprofit.legal_name,
                "amount": str(grant.amount),
                "currency": grant.currency,
                "purpose": grant.purpose,
                "status": grant.status,
                "proposed_at": grant.created_at.isoformat(),
                "approved_at": grant.approved_at.isoformat() if grant.approved_at else None,
                "disbursed_at": grant.disbursed_at.isoformat() if grant.disbursed_at else None,
                "receipt_confirmed_at": grant.receipt_confirmed_at.isoformat()
                if grant.receipt_confirmed_at
                else None,
            }
            for grant in grants
        ]
    }
    return PersonalData(records=records, rows=grants)


def donations_data_refusal(creator: Creator) -> str:
    moving = _grants(creator).filter(status__in=IN_FLIGHT_STATUSES).count()
    if not moving:
        return ""
    return ngettext(
        "%(count)d grant in their name is still on its way (proposed, approved, scheduled, "
        "being paid, failed or of unknown outcome): it must be paid or cancelled first.",
        "%(count)d grants in their name are still on their way (proposed, approved, "
        "scheduled, being paid, failed or of unknown outcome): they must be paid or "
        "cancelled first.",
        moving,
    ) % {"count": moving}


def donations_data_erase(creator: Creator, pseudonym: Pseudonym, actor) -> list[StoredFile]:
    """Grants keep everything about the money; only their purpose loses the creator's name
    (a nomination writes "Donation in the name of ...")."""
    if donations_data_refusal(creator):
        raise RuntimeError("Refused erasure reached the grants; check the refusals first.")
    names = sorted({creator.display_name, creator.at_handle}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(name) for name in names), re.IGNORECASE)
    with transaction.atomic():
        for grant in _grants(creator).select_for_update(of=("self",)):
            purpose = pattern.sub(pseudonym.name, grant.purpose)
            if purpose != grant.purpose:
                grant.purpose = purpose
                grant.save(update_fields=["purpose", "updated_at"])
    return []
