"""Changing where a nonprofit is paid, the only way there is, for tests that need it."""

from donations.models import Grant
from donations.services import grant_hold_release, payout_change_approve, payout_change_request
from tests.factories import UserFactory


def payee_changed(grant: Grant, reference: str) -> Grant:
    """The grant's nonprofit's payout details changed through a request approved by someone
    else (which puts the grant on hold), and its payee re-confirmed by a finance approver."""
    requester, reviewer = UserFactory.create_batch(2, is_staff=True, is_superuser=True)
    change = payout_change_request(
        nonprofit=grant.nonprofit, payout_reference=reference, actor=requester
    )
    payout_change_approve(change=change, actor=reviewer)
    return grant_hold_release(grant=grant, actor=reviewer)
