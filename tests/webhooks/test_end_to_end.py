"""A partner hears, signed, that a grant was paid: the payment task runs as in production
(eagerly here, after the commit), the disbursement succeeds, its event is fanned out and the
delivery POSTed to a real HTTP server, whose request verifies with the endpoint's secret."""

import json
from decimal import Decimal

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from changemakers.core.models import OutboxEvent
from changemakers.webhooks.models import Delivery
from donations.models import Grant
from donations.services import grant_approve, grants_schedule, nonprofit_verify
from tests.factories import FundFactory, GrantFactory, NonprofitFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_partner_receives_a_signed_webhook_when_a_grant_is_disbursed(
    receiver, endpoint_for, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver.url, events=["grant.disbursed"])
    staff = UserFactory(is_staff=True, is_superuser=True)
    nonprofit = nonprofit_verify(
        nonprofit=NonprofitFactory(legal_name="Readers of Nairobi", payout_reference="acct-00042"),
        actor=staff,
    )
    grant = grant_approve(
        grant=GrantFactory(fund=FundFactory(), nonprofit=nonprofit, amount=Decimal("25000.00")),
        actor=staff,
    )

    with django_capture_on_commit_callbacks(execute=True):
        grants_schedule(grants=[grant], actor=staff)

    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.DISBURSED
    assert len(receiver.requests) == 1  # grant.scheduled is not this endpoint's
    request = receiver.requests[0]
    assert request.path == "/hooks/changemakers"
    assert request.headers["Content-Type"] == "application/json"
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "grant.disbursed"
    assert payload["version"] == 1
    assert payload["data"]["id"] == grant.pk
    assert payload["data"]["status"] == "disbursed"
    assert payload["data"]["amount"] == "25000.00"
    assert payload["data"]["currency"] == "USD"
    assert payload["data"]["nonprofit"]["name"] == "Readers of Nairobi"
    assert "acct-00042" not in request.body  # the payee never leaves

    event = OutboxEvent.objects.get(type="grant.disbursed")
    assert request.headers["webhook-id"] == f"msg_{event.uuid.hex}"
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == Delivery.Status.SUCCEEDED
    attempt = delivery.tries.get()
    assert attempt.status_code == 200
    assert attempt.response_body == "ok"
    assert attempt.duration_ms >= 0

    # Another secret does not verify it: the signature is the endpoint's own.
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJD" * 8).verify(request.body, request.headers)
    # Nor does a body changed on the way.
    tampered = json.dumps({**payload, "data": {**payload["data"], "amount": "99999.00"}})
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(tampered, request.headers)
