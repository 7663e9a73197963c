"""Stripe's `payout.failed` on a connected account: the nonprofit's bank refused the money.
Finance is told (dashboard and email) with Stripe's reason, staff and the nonprofit see a
"payout failed" state until a later payout goes through (`payout.paid`); repeats change
nothing."""

import pytest
from django.core import mail

from changemakers.core.models import AuditEvent
from donations.models import PayoutFailure
from tests.factories import NonprofitContactFactory

from .stripe_payments import last_event, send, stripe_nonprofit

REASON = "The bank account number or routing number is invalid."


@pytest.fixture
def nonprofit(db, stripe_standin):
    return stripe_nonprofit(stripe_standin, default_currency="eur")


def fail(client, standin, nonprofit, capture, **knobs):
    standin.fail_payout(
        nonprofit.stripe_account_id,
        amount=123450,
        code="invalid_account_number",
        message=REASON,
        **knobs,
    )
    event = last_event(standin, "payout.failed")
    send(client, standin, event, capture)
    return event


def test_a_failed_payout_is_recorded_with_stripes_reason_and_finance_is_told(
    client, nonprofit, stripe_standin, staff_user, django_capture_on_commit_callbacks
):
    mail.outbox.clear()

    event = fail(client, stripe_standin, nonprofit, django_capture_on_commit_callbacks)

    failure = PayoutFailure.objects.get()
    assert (failure.nonprofit, failure.payout_reference) == (
        nonprofit,
        event["data"]["object"]["id"],
    )
    assert (failure.failure_code, failure.failure_message) == ("invalid_account_number", REASON)
    assert str(failure.amount) == "1234.50"
    assert failure.currency == "EUR"
    assert failure.cleared_at is None
    audit = AuditEvent.objects.get(action="payout_failed")
    assert audit.object_id == nonprofit.pk
    assert REASON in audit.note
    [email] = [message for message in mail.outbox if message.to == ["staff@example.org"]]
    assert nonprofit.legal_name in email.subject
    assert REASON in email.body
    assert "€1,234.50" in email.body


def test_the_same_failure_twice_changes_nothing(
    client, nonprofit, stripe_standin, django_capture_on_commit_callbacks
):
    event = fail(client, stripe_standin, nonprofit, django_capture_on_commit_callbacks)
    audited, emails = AuditEvent.objects.count(), len(mail.outbox)

    send(client, stripe_standin, event, django_capture_on_commit_callbacks)
    send(client, stripe_standin, {**event, "id": "evt_again"}, django_capture_on_commit_callbacks)

    assert PayoutFailure.objects.count() == 1
    assert AuditEvent.objects.count() == audited
    assert len(mail.outbox) == emails


def test_a_later_paid_payout_clears_it_and_an_older_failure_reported_late_stays_cleared(
    client, nonprofit, stripe_standin, django_capture_on_commit_callbacks
):
    failed = fail(client, stripe_standin, nonprofit, django_capture_on_commit_callbacks)
    stripe_standin.pay_out(nonprofit.stripe_account_id)
    paid = last_event(stripe_standin, "payout.paid")
    paid["data"]["object"]["created"] = failed["data"]["object"]["created"] + 60

    send(client, stripe_standin, paid, django_capture_on_commit_callbacks)

    assert PayoutFailure.objects.open().count() == 0
    assert AuditEvent.objects.filter(action="payout_failure_cleared").count() == 1
    # A failure of an older payout, reported after the paid one: recorded, already cleared.
    stripe_standin.fail_payout(nonprofit.stripe_account_id, message=REASON)
    late = last_event(stripe_standin, "payout.failed")
    late["data"]["object"]["created"] = failed["data"]["object"]["created"] - 60
    emails = len(mail.outbox)
    send(client, stripe_standin, late, django_capture_on_commit_callbacks)
    assert PayoutFailure.objects.count() == 2
    assert PayoutFailure.objects.open().count() == 0
    assert len(mail.outbox) == emails


def test_a_payout_event_of_an_account_of_nobody_changes_nothing(
    client, db, stripe_standin, django_capture_on_commit_callbacks
):
    account = stripe_standin.add_account(ready=True)
    stripe_standin.fail_payout(account["id"])
    send(
        client,
        stripe_standin,
        last_event(stripe_standin, "payout.failed"),
        django_capture_on_commit_callbacks,
    )
    assert not PayoutFailure.objects.exists()


def test_staff_and_the_nonprofit_see_the_failed_payout(
    client, nonprofit, stripe_standin, staff_user, django_capture_on_commit_callbacks
):
    fail(client, stripe_standin, nonprofit, django_capture_on_commit_callbacks)
    client.force_login(staff_user)

    listing = client.get(
        "/staff/nonprofits/", {"q": nonprofit.registration_number}
    ).content.decode()
    contacts = client.get(f"/staff/nonprofits/{nonprofit.pk}/contacts/").content.decode()
    dashboard = client.get("/staff/").content.decode()

    assert "payout-failed" in listing
    assert REASON in listing
    assert "payout-failed" in contacts
    assert REASON in contacts
    assert 'id="settle-payout-failures"' in dashboard
    assert REASON in dashboard

    contact = NonprofitContactFactory(nonprofit=nonprofit)
    client.force_login(contact.user)
    page = client.get("/nonprofit/payouts/").content.decode()
    assert 'id="payout-failed"' in page
    assert REASON in page
    assert "Manage bank account on Stripe" in page


def test_the_nonprofit_list_query_count_does_not_grow_with_failures(
    client,
    db,
    stripe_standin,
    staff_user,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    client.force_login(staff_user)
    for _ in range(3):
        fail(
            client,
            stripe_standin,
            stripe_nonprofit(stripe_standin),
            django_capture_on_commit_callbacks,
        )
    # Session, user, the counts by status, the page's count and its rows (failures included),
    # and the staff navigation's work queues (one query for all its badges).
    with django_assert_num_queries(6):
        client.get("/staff/nonprofits/")
    for _ in range(5):
        fail(
            client,
            stripe_standin,
            stripe_nonprofit(stripe_standin),
            django_capture_on_commit_callbacks,
        )
    with django_assert_num_queries(6):
        page = client.get("/staff/nonprofits/").content.decode()
    assert page.count("payout-failed") == 8
