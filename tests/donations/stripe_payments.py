"""Grants paid through the Stripe stand-in, and Stripe's webhooks sent to the site signed by it:
what the tests of reversals, payout failures, batch holds and money received share."""

import json
from decimal import Decimal

from donations.models import Fund, Grant
from donations.services import grant_approve, grants_schedule
from tests.factories import GrantFactory, NonprofitFactory

WEBHOOK = "/webhooks/stripe/"


def stripe_nonprofit(standin, **account):
    """A verified nonprofit paid to a ready connected account (created with `account`)."""
    created = standin.add_account(ready=True, **account)
    return NonprofitFactory(
        verification_status="verified",
        payout_reference=created["id"],
        stripe_account_id=created["id"],
        stripe_payouts_enabled=True,
    )


def approved(fund, nonprofit, proposer, approver, amount="25000.00") -> Grant:
    grant = GrantFactory(
        fund=fund, nonprofit=nonprofit, amount=Decimal(amount), proposed_by=proposer
    )
    return grant_approve(grant=grant, actor=approver)


def schedule(grants, actor, capture):
    with capture(execute=True):
        return grants_schedule(grants=grants, actor=actor)


def send(client, standin, event: dict, capture):
    """Post `event` to the webhook as Stripe would, and run what it queued."""
    payload = json.dumps(event).encode()
    with capture(execute=True):
        answer = client.post(
            WEBHOOK,
            payload,
            content_type="application/json",
            headers={"Stripe-Signature": standin.sign(payload)},
        )
    assert answer.status_code == 200
    return answer


def last_event(standin, type_: str) -> dict:
    return [event for event in standin.events if event["type"] == type_][-1]


def assert_books(fund: Fund) -> None:
    """The fund's totals from its grants: committed is each committing grant's amount less
    the reversed money already given back; disbursed what payees kept of the paid ones."""
    fund.refresh_from_db()
    committed = Decimal(0)
    disbursed = Decimal(0)
    for grant in Grant.objects.filter(fund=fund).select_related("disbursement"):
        payment = getattr(grant, "disbursement", None)
        released = payment.reversal_released if payment else 0
        if grant.status in Grant.COMMITTING_STATUSES:
            committed += grant.amount - released
        if grant.status in (Grant.Status.DISBURSED, Grant.Status.REVERSED):
            disbursed += grant.amount - payment.reversed_amount
    assert (fund.committed, fund.disbursed) == (committed, disbursed)
    assert fund.committed <= fund.total
