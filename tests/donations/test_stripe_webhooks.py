"""Stripe's webhooks at /webhooks/stripe/: events signed by the stand-in, checked with the
`stripe` library, stored once by id and handled by a job."""

import json
import time

import pytest

from changemakers.core.models import AuditEvent
from donations.models import Nonprofit, ProviderEvent
from tests.factories import NonprofitFactory

URL = "/webhooks/stripe/"


def _post(client, payload: bytes, signature: str):
    return client.post(
        URL, payload, content_type="application/json", headers={"Stripe-Signature": signature}
    )


def _send(client, standin, event: dict, **sign):
    payload = json.dumps(event).encode()
    return _post(client, payload, standin.sign(payload, **sign))


@pytest.fixture
def onboarded(db, stripe_standin):
    """A nonprofit whose Stripe account has just completed onboarding (no payee yet)."""
    account = stripe_standin.add_account(ready=False, country="KE")
    nonprofit = NonprofitFactory(payout_reference="", stripe_account_id=account["id"])
    return nonprofit, stripe_standin.complete_onboarding(account["id"])


def test_a_good_event_is_stored_once_and_answered_200(
    client, db, stripe_standin, django_capture_on_commit_callbacks
):
    event = stripe_standin.event("customer.created", {"id": "cus_1", "object": "customer"})

    with django_capture_on_commit_callbacks(execute=True) as queued:
        answer = _send(client, stripe_standin, event)

    assert answer.status_code == 200
    stored = ProviderEvent.objects.get()
    assert (stored.provider, stored.event_id, stored.type) == (
        "stripe",
        event["id"],
        "customer.created",
    )
    assert stored.payload["data"]["object"]["id"] == "cus_1"
    assert len(queued) == 1
    stored.refresh_from_db()
    assert stored.handled_at is not None  # unknown types are kept and acknowledged


def test_account_updated_records_readiness_and_the_payee(
    client, onboarded, stripe_standin, django_capture_on_commit_callbacks
):
    nonprofit, account = onboarded
    event = stripe_standin.event("account.updated", account, account=account["id"])

    with django_capture_on_commit_callbacks(execute=True):
        assert _send(client, stripe_standin, event).status_code == 200

    nonprofit.refresh_from_db()
    assert nonprofit.stripe_payouts_enabled
    assert nonprofit.stripe_requirements_due == []
    assert nonprofit.payout_reference == account["id"]
    assert AuditEvent.objects.filter(object_id=nonprofit.pk, action="stripe_status").exists()


def test_account_updated_records_what_stripe_still_needs(
    client, onboarded, stripe_standin, django_capture_on_commit_callbacks
):
    nonprofit, account = onboarded
    restricted = stripe_standin.restrict_account(account["id"])
    event = stripe_standin.event("account.updated", restricted, account=account["id"])

    with django_capture_on_commit_callbacks(execute=True):
        _send(client, stripe_standin, event)

    nonprofit.refresh_from_db()
    assert not nonprofit.stripe_payouts_enabled
    assert nonprofit.stripe_requirements_due == ["external_account"]


def test_a_replay_changes_nothing(
    client, onboarded, stripe_standin, django_capture_on_commit_callbacks
):
    nonprofit, account = onboarded
    event = stripe_standin.event("account.updated", account, account=account["id"])
    with django_capture_on_commit_callbacks(execute=True):
        _send(client, stripe_standin, event)
    audited = AuditEvent.objects.count()
    Nonprofit.objects.filter(pk=nonprofit.pk).update(stripe_payouts_enabled=False)

    with django_capture_on_commit_callbacks(execute=True) as queued:
        again = _send(client, stripe_standin, event)

    assert again.status_code == 200
    assert queued == []
    assert ProviderEvent.objects.count() == 1
    assert AuditEvent.objects.count() == audited
    nonprofit.refresh_from_db()
    assert not nonprofit.stripe_payouts_enabled  # the replay was not handled again


@pytest.mark.parametrize(
    "how",
    ["wrong secret", "no signature", "stale timestamp", "tampered body", "malformed body"],
)
def test_bad_requests_are_400_and_store_nothing(client, onboarded, stripe_standin, how):
    nonprofit, account = onboarded
    event = stripe_standin.event("account.updated", account, account=account["id"])
    payload = json.dumps(event).encode()
    match how:
        case "wrong secret":
            answer = _post(client, payload, stripe_standin.sign(payload, secret="whsec_other"))
        case "no signature":
            answer = client.post(URL, payload, content_type="application/json")
        case "stale timestamp":
            old = int(time.time()) - 600  # Stripe's tolerance is five minutes
            answer = _post(client, payload, stripe_standin.sign(payload, timestamp=old))
        case "tampered body":
            signature = stripe_standin.sign(payload)
            answer = _post(client, payload.replace(b"true", b"false"), signature)
        case "malformed body":
            garbage = b'{"id": "evt_1", "type": '
            answer = _post(client, garbage, stripe_standin.sign(garbage))

    assert answer.status_code == 400
    assert ProviderEvent.objects.count() == 0
    nonprofit.refresh_from_db()
    assert not nonprofit.stripe_payouts_enabled


def test_a_signed_body_that_is_not_an_event_is_400(client, stripe_standin, db):
    payload = json.dumps({"hello": "world"}).encode()
    assert _post(client, payload, stripe_standin.sign(payload)).status_code == 400
    assert ProviderEvent.objects.count() == 0


def test_get_is_refused(client, db):
    assert client.get(URL).status_code == 405


def test_the_stand_in_delivers_over_http_to_a_running_site(live_server, stripe_standin):
    """The stand-in's own delivery, over real HTTP, is stored (and acknowledged) once."""
    event = stripe_standin.event("payout.failed", {"id": "po_1", "object": "payout"})
    url = f"{live_server.url}{URL}"
    assert stripe_standin.deliver(event, url=url) == 200
    assert stripe_standin.deliver(event, url=url) == 200
    assert ProviderEvent.objects.filter(event_id=event["id"]).count() == 1


def test_events_of_both_endpoints_are_accepted_each_with_its_own_secret(
    client, db, stripe_standin, settings
):
    """The platform's endpoint (transfer.reversed) and the Connect endpoint (account.updated,
    payout.failed) sign with different secrets; both are listed, a third is refused."""
    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_platform", "whsec_connect"]
    platform = stripe_standin.event("customer.created", {"id": "cus_1", "object": "customer"})
    connect = stripe_standin.event("customer.created", {"id": "cus_2", "object": "customer"})
    other = stripe_standin.event("customer.created", {"id": "cus_3", "object": "customer"})

    assert _send(client, stripe_standin, platform, secret="whsec_platform").status_code == 200
    assert _send(client, stripe_standin, connect, secret="whsec_connect").status_code == 200
    assert _send(client, stripe_standin, other, secret="whsec_someone_else").status_code == 400
    assert set(ProviderEvent.objects.values_list("event_id", flat=True)) == {
        platform["id"],
        connect["id"],
    }


def test_without_a_secret_every_event_is_refused(client, db, stripe_standin, settings):
    settings.STRIPE_WEBHOOK_SECRETS = []
    event = stripe_standin.event("customer.created", {"id": "cus_1", "object": "customer"})

    assert _send(client, stripe_standin, event).status_code == 400
    assert not ProviderEvent.objects.exists()
