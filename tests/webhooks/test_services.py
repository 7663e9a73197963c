"""Deliveries: retried on errors and timeouts along the schedule (the clock moved by hand),
given up after the last, the endpoint switched off after a day of failures and staff told;
resent by staff with the same message id; never to a private address or through a redirect;
and nothing at all for a change that was rolled back."""

import datetime
import itertools

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from standardwebhooks import Webhook

from changemakers.core.models import AuditEvent, OutboxEvent
from changemakers.core.roles import StaffRole
from changemakers.webhooks import services
from changemakers.webhooks.models import Delivery, Endpoint
from changemakers.webhooks.sending import UnsafeDestination, destination_check
from donations.models import Nonprofit
from donations.services import nonprofit_verify
from tests.factories import NonprofitFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)


def verified_event(staff, run_on_commit):
    """A nonprofit verified, its event handed on after the commit."""
    with run_on_commit(execute=True):
        nonprofit_verify(nonprofit=NonprofitFactory(), actor=staff)
    return OutboxEvent.objects.get(type="nonprofit.verified")


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True, email="admin@program.example")


def test_a_failing_endpoint_is_retried_on_the_schedule_then_given_up(
    receiver, endpoint_for, staff, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_SCHEDULE = [5, 300, 1800]
    settings.WEBHOOK_DISABLE_AFTER = 10 * 24 * 3600  # not what this test is about
    receiver.default = 500
    endpoint = endpoint_for(receiver.url, events=["nonprofit.verified"])
    with time_machine.travel(START, tick=False) as clock:
        verified_event(staff, django_capture_on_commit_callbacks)
        delivery = Delivery.objects.get(endpoint=endpoint)
        assert delivery.status == "pending"
        assert delivery.attempts == 1
        assert delivery.next_attempt_at == START + datetime.timedelta(seconds=5)
        assert delivery.error == "The endpoint answered 500."

        # Not due yet: a repeated message sends nothing.
        services.delivery_attempt(delivery_id=delivery.pk)
        assert len(receiver.requests) == 1

        waits = []
        for wait in (5, 300, 1800):
            clock.shift(datetime.timedelta(seconds=wait))
            waits.append(wait)
            with django_capture_on_commit_callbacks(execute=True):
                services.webhooks_sweep() if wait > 300 else services.delivery_attempt(
                    delivery_id=delivery.pk
                )
        delivery.refresh_from_db()
    assert len(receiver.requests) == 4
    assert delivery.status == "failed"
    assert delivery.next_attempt_at is None
    assert [t.status_code for t in delivery.tries.order_by("attempted_at")] == [500] * 4
    times = [t.attempted_at for t in delivery.tries.order_by("attempted_at")]
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(times)] == waits
    # The same message id at every try, each signed afresh and verifiable.
    assert {r.headers["webhook-id"] for r in receiver.requests} == {delivery.message_id}
    assert len({r.headers["webhook-timestamp"] for r in receiver.requests}) == 4
    # The answer's body is kept short.
    assert len(delivery.tries.first().response_body) == 1000
    assert Endpoint.objects.get(pk=endpoint.pk).active


def test_a_timeout_counts_as_a_failed_attempt(
    receiver, endpoint_for, staff, django_capture_on_commit_callbacks
):
    receiver.script = [0]  # hangs past WEBHOOK_TIMEOUT (1 s in these tests)
    endpoint = endpoint_for(receiver.url, events=["nonprofit.verified"])
    verified_event(staff, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(endpoint=endpoint)
    attempt = delivery.tries.get()
    assert attempt.status_code is None
    assert attempt.error == "Timed out."
    assert 900 <= attempt.duration_ms < 2000
    assert delivery.status == "pending"
    assert delivery.attempts == 1


def test_a_redirect_is_not_followed(
    receiver, endpoint_for, staff, django_capture_on_commit_callbacks
):
    receiver.script = [302]
    receiver.redirect_to = receiver.url + "/elsewhere"
    endpoint = endpoint_for(receiver.url, events=["nonprofit.verified"])
    verified_event(staff, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert len(receiver.requests) == 1
    assert delivery.last_status_code == 302
    assert delivery.status == "pending"


def test_an_endpoint_failing_for_a_day_is_switched_off_and_staff_are_told(
    receiver, endpoint_for, staff, settings, django_capture_on_commit_callbacks, client
):
    settings.WEBHOOK_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000]
    manager = StaffFactory(roles=[StaffRole.PROGRAM_MANAGER], email="pm@program.example")
    StaffFactory(roles=[StaffRole.FINANCE_APPROVER], email="finance@program.example")
    receiver.default = 503
    endpoint = endpoint_for(receiver.url, events=["nonprofit.verified"])
    with time_machine.travel(START, tick=False) as clock:
        verified_event(staff, django_capture_on_commit_callbacks)
        for wait in settings.WEBHOOK_RETRY_SCHEDULE[:-1]:
            clock.shift(datetime.timedelta(seconds=wait))
            with django_capture_on_commit_callbacks(execute=True):
                services.webhooks_sweep()
        endpoint.refresh_from_db()
        assert endpoint.active  # 17 h 35 min of failures: not a day yet
        assert endpoint.failing_since == START
        clock.shift(datetime.timedelta(seconds=settings.WEBHOOK_RETRY_SCHEDULE[-1]))
        with django_capture_on_commit_callbacks(execute=True):
            services.webhooks_sweep()

    endpoint.refresh_from_db()
    assert not endpoint.active
    assert "503" in endpoint.disabled_reason
    assert Delivery.objects.get(endpoint=endpoint).status == "failed"
    event = AuditEvent.objects.for_object(endpoint).get(action="endpoint_switched_off")
    assert event.actor is None
    (message,) = mail.outbox
    assert sorted(message.to) == ["admin@program.example", "pm@program.example"]
    assert "Partner" in message.subject
    assert reverse("outbound:endpoint-detail", args=[endpoint.pk]) in message.body
    # The dashboard says so to whoever reads webhooks.
    client.force_login(manager)
    page = client.get(reverse("backoffice:dashboard")).content.decode()
    assert 'id="dashboard-webhooks-off"' in page
    # Nothing more goes to it.
    with django_capture_on_commit_callbacks(execute=True):
        nonprofit_verify(nonprofit=NonprofitFactory(), actor=staff)
    assert Delivery.objects.filter(endpoint=endpoint).count() == 1


def test_one_success_resets_the_failing_clock(
    receiver, endpoint_for, staff, settings, django_capture_on_commit_callbacks
):
    receiver.script = [500, 200]
    endpoint = endpoint_for(receiver.url, events=["nonprofit.verified"])
    with time_machine.travel(START, tick=False) as clock:
        verified_event(staff, django_capture_on_commit_callbacks)
        assert Endpoint.objects.get(pk=endpoint.pk).failing_since == START
        clock.shift(datetime.timedelta(seconds=5))
        services.delivery_attempt(delivery_id=Delivery.objects.get().pk)
    assert Endpoint.objects.get(pk=endpoint.pk).failing_since is None
    assert Delivery.objects.get().status == "succeeded"


def test_staff_resend_a_delivery_with_the_same_message_id(
    receiver, endpoint_for, staff, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver.url, events=["nonprofit.verified"])
    verified_event(staff, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == "succeeded"
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_resend(delivery=delivery, actor=staff)
    assert len(receiver.requests) == 2
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert first.body == second.body
    Webhook(endpoint.secret).verify(second.body, second.headers)
    assert delivery.tries.count() == 2
    assert AuditEvent.objects.for_object(delivery).get().action == "delivery_resent"


def test_resending_is_refused_without_the_permission_or_to_a_switched_off_endpoint(
    endpoint_for, staff
):
    endpoint = endpoint_for("https://partner.example/hooks", active=False)
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        message_id="msg_1",
        event_type="grant.disbursed",
        payload="{}",
        status="failed",
    )
    auditor = StaffFactory(roles=[StaffRole.AUDITOR])
    with pytest.raises(ValidationError) as refused:
        services.delivery_resend(delivery=delivery, actor=auditor)
    assert refused.value.code == "not_permitted"
    with pytest.raises(ValidationError) as refused:
        services.delivery_resend(delivery=delivery, actor=staff)
    assert refused.value.code == "endpoint_off"
    assert Delivery.objects.get(pk=delivery.pk).status == "failed"


def test_a_rolled_back_change_emits_nothing(
    receiver, endpoint_for, staff, django_capture_on_commit_callbacks
):
    endpoint_for(receiver.url, events=["nonprofit.verified"])
    nonprofit = NonprofitFactory()

    def change_that_fails_later():
        with transaction.atomic():
            nonprofit_verify(nonprofit=nonprofit, actor=staff)
            assert OutboxEvent.objects.count() == 1  # inside, it is there
            raise RuntimeError("a later step of the same change failed")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        change_that_fails_later()
    assert Nonprofit.objects.get(pk=nonprofit.pk).verification_status == "pending"
    assert OutboxEvent.objects.count() == 0
    assert callbacks == []
    assert receiver.requests == []
    assert Delivery.objects.count() == 0


def test_a_state_that_did_not_move_emits_nothing(staff, django_capture_on_commit_callbacks):
    nonprofit = nonprofit_verify(nonprofit=NonprofitFactory(), actor=staff)
    assert OutboxEvent.objects.filter(type="nonprofit.verified").count() == 1
    nonprofit_verify(nonprofit=nonprofit, actor=UserFactory(is_staff=True, is_superuser=True))
    assert OutboxEvent.objects.filter(type="nonprofit.verified").count() == 1  # a renewal


def test_an_event_is_fanned_out_once_whoever_hands_it_on(endpoint_for, staff, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    endpoint_for("https://partner.example/a", events=["nonprofit.verified"])
    endpoint_for("https://partner.example/b", events=["grant.disbursed"])
    endpoint_for("https://partner.example/c", events=["nonprofit.verified"], active=False)
    nonprofit_verify(nonprofit=NonprofitFactory(), actor=staff)  # on_commit never runs here
    event = OutboxEvent.objects.get()
    assert services.events_fan_out(event_ids=[event.pk]) == 1
    assert services.events_fan_out(event_ids=[event.pk]) == 0
    assert Delivery.objects.get().endpoint.url == "https://partner.example/a"


def test_the_sweeper_hands_on_an_event_whose_message_was_lost(endpoint_for, staff):
    endpoint_for("https://partner.example/a", events=["nonprofit.verified"])
    with time_machine.travel(START, tick=False) as clock:
        nonprofit_verify(nonprofit=NonprofitFactory(), actor=staff)  # the message never runs
        assert services.webhooks_sweep() == 0  # given a minute first
        clock.shift(datetime.timedelta(seconds=90))
        services.webhooks_sweep()
    assert OutboxEvent.objects.get().handled_at is not None
    assert Delivery.objects.count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://partner.example/hooks",  # not https
        "https://user:pass@partner.example/hooks",
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://192.168.0.10/hooks",
    ],
)
def test_private_or_plain_addresses_are_refused(url, staff):
    with pytest.raises(UnsafeDestination):
        destination_check(url)
    with pytest.raises(ValidationError) as refused:
        services.endpoint_create(name="Intruder", url=url, events=["grant.disbursed"], actor=staff)
    assert "url" in refused.value.error_dict
    assert not Endpoint.objects.exists()


def test_a_delivery_is_not_sent_once_the_address_turns_private(
    receiver, endpoint_for, staff, settings, django_capture_on_commit_callbacks
):
    """The check is made again at every attempt (a name may change its answer)."""
    endpoint = endpoint_for(receiver.url, events=["nonprofit.verified"])
    settings.WEBHOOK_ALLOW_PRIVATE = False
    verified_event(staff, django_capture_on_commit_callbacks)
    assert receiver.requests == []
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert "private" in delivery.tries.get().error


def test_endpoints_are_managed_only_with_the_permission(staff):
    auditor = StaffFactory(roles=[StaffRole.AUDITOR])
    with pytest.raises(ValidationError):
        services.endpoint_create(
            name="P", url="https://203.0.113.9/x", events=["grant.disbursed"], actor=auditor
        )
    endpoint = services.endpoint_create(
        name="P", url="https://8.8.8.8/x", events=["grant.disbursed"], actor=staff
    )
    assert endpoint.secret.startswith("whsec_")
    Webhook(endpoint.secret)  # a secret the library reads
    for act in (
        lambda: services.endpoint_secret_show(endpoint=endpoint, actor=auditor),
        lambda: services.endpoint_switch_off(endpoint=endpoint, actor=auditor),
        lambda: services.endpoint_test_send(endpoint=endpoint, actor=auditor),
        lambda: services.endpoint_update(endpoint=endpoint, actor=auditor, name="Mine"),
    ):
        with pytest.raises(ValidationError):
            act()
    assert not AuditEvent.objects.filter(action="endpoint_secret_shown").exists()
    assert services.endpoint_secret_show(endpoint=endpoint, actor=staff) == endpoint.secret
    assert (
        AuditEvent.objects.for_object(endpoint).filter(action="endpoint_secret_shown").count() == 1
    )


def test_unknown_or_no_events_are_refused(staff):
    for events in ([], ["grant.stolen"]):
        with pytest.raises(ValidationError) as refused:
            services.endpoint_create(name="P", url="https://8.8.8.8/x", events=events, actor=staff)
        assert "events" in refused.value.error_dict
