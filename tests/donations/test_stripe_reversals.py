"""Stripe's `transfer.reversed`: money taken back of a paid grant, all or part. The fund's paid
total goes down, the money stays committed until finance closes the reversal, finance is told
on the dashboard and by email, and a repeated or older report changes nothing."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from changemakers.core.models import AuditEvent
from changemakers.core.roles import StaffRole
from donations.models import Disbursement, Grant, ProviderEvent
from donations.services import (
    disbursements_sweep,
    grant_cancel,
    grant_retry,
    grant_reversal_close,
)
from tests.factories import FundFactory, StaffFactory

from .stripe_payments import (
    approved,
    assert_books,
    last_event,
    schedule,
    send,
    stripe_nonprofit,
)


@pytest.fixture
def paid(
    db, settings, stripe_standin, staff_user, proposer_user, django_capture_on_commit_callbacks
):
    """A $25,000 grant paid by Stripe transfer, and its transfer."""
    settings.PAYOUT_PROVIDER = "stripe"
    fund = FundFactory(total=Decimal("100000.00"))
    grant = approved(fund, stripe_nonprofit(stripe_standin), proposer_user, staff_user)
    schedule([grant], staff_user, django_capture_on_commit_callbacks)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.DISBURSED
    [transfer] = stripe_standin.transfers()
    return grant, transfer


def reverse(client, standin, transfer, capture, amount=None):
    standin.reverse_transfer(transfer["id"], amount)
    event = last_event(standin, "transfer.reversed")
    send(client, standin, event, capture)
    return event


def test_a_full_reversal_reverses_the_grant_and_takes_it_off_the_paid_total(
    client, paid, stripe_standin, django_capture_on_commit_callbacks
):
    grant, transfer = paid
    mail.outbox.clear()

    reverse(client, stripe_standin, transfer, django_capture_on_commit_callbacks)

    grant.refresh_from_db()
    payment = grant.disbursement
    assert grant.status == Grant.Status.REVERSED
    assert payment.status == Disbursement.Status.REVERSED
    assert payment.reversed_amount == Decimal("25000.00")
    assert payment.reversal_released == 0
    fund = grant.fund
    fund.refresh_from_db()
    assert fund.disbursed == 0
    assert fund.committed == Decimal("25000.00")  # committed until finance decides
    assert_books(fund)
    actions = set(
        AuditEvent.objects.filter(action="reversed").values_list("object_repr", flat=True)
    )
    assert len(actions) == 2  # the grant and its payment
    # Each finance approver (here the two superusers), after the commit.
    assert sorted(email.to[0] for email in mail.outbox) == [
        "proposer@example.org",
        "staff@example.org",
    ]
    email = mail.outbox[0]
    assert "Payment reversed" in email.subject
    assert "$25,000.00" in email.body
    assert f"/staff/grants/{grant.pk}/" in email.body


def test_a_partial_reversal_records_its_amount_and_a_second_one_adds_to_it(
    client, paid, stripe_standin, django_capture_on_commit_callbacks
):
    grant, transfer = paid
    first = reverse(client, stripe_standin, transfer, django_capture_on_commit_callbacks, 500000)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.REVERSED
    assert grant.disbursement.reversed_amount == Decimal("5000.00")
    assert_books(grant.fund)

    reverse(client, stripe_standin, transfer, django_capture_on_commit_callbacks, 100000)

    grant.refresh_from_db()
    assert grant.disbursement.reversed_amount == Decimal("6000.00")
    grant.fund.refresh_from_db()
    assert grant.fund.disbursed == Decimal("19000.00")
    assert_books(grant.fund)
    # The first event, sent again under a new id (an older report), adds nothing.
    audited = AuditEvent.objects.count()
    emails = len(mail.outbox)
    send(
        client,
        stripe_standin,
        {**first, "id": "evt_older_report"},
        django_capture_on_commit_callbacks,
    )
    grant.refresh_from_db()
    assert grant.disbursement.reversed_amount == Decimal("6000.00")
    assert AuditEvent.objects.count() == audited
    assert len(mail.outbox) == emails


def test_the_same_event_twice_changes_nothing_more(
    client, paid, stripe_standin, django_capture_on_commit_callbacks
):
    grant, transfer = paid
    event = reverse(client, stripe_standin, transfer, django_capture_on_commit_callbacks, 1000)
    audited, emails = AuditEvent.objects.count(), len(mail.outbox)

    send(client, stripe_standin, event, django_capture_on_commit_callbacks)
    # Two events telling the same reversal (as `transfer.reversed` and a retry of it).
    send(
        client,
        stripe_standin,
        {**event, "id": "evt_same_reversal"},
        django_capture_on_commit_callbacks,
    )

    grant.refresh_from_db()
    assert grant.disbursement.reversed_amount == Decimal("10.00")
    assert AuditEvent.objects.count() == audited
    assert len(mail.outbox) == emails
    assert ProviderEvent.objects.filter(type="transfer.reversed").count() == 2
    assert_books(grant.fund)


def test_a_reversed_grant_is_never_paid_again_by_itself(
    client, paid, stripe_standin, staff_user, django_capture_on_commit_callbacks
):
    grant, transfer = paid
    reverse(client, stripe_standin, transfer, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        disbursements_sweep()
    with pytest.raises(ValidationError):
        grant_retry(grant=grant, actor=staff_user)
    with pytest.raises(ValidationError):
        grant_cancel(grant=grant, actor=staff_user, reason="No")

    assert len(stripe_standin.transfers()) == 1
    grant.refresh_from_db()
    assert grant.status == Grant.Status.REVERSED


def test_closing_a_full_reversal_cancels_the_grant_and_frees_its_money(
    client, paid, stripe_standin, staff_user, django_capture_on_commit_callbacks
):
    grant, transfer = paid
    reverse(client, stripe_standin, transfer, django_capture_on_commit_callbacks)

    closed = grant_reversal_close(grant=grant, actor=staff_user, reason="Account closed.")

    assert closed.status == Grant.Status.CANCELLED
    closed.fund.refresh_from_db()
    assert (closed.fund.committed, closed.fund.disbursed) == (0, 0)
    assert_books(closed.fund)
    event = AuditEvent.objects.get(action="reversal_closed")
    assert (event.from_state, event.to_state, event.actor) == ("reversed", "cancelled", staff_user)
    again = grant_reversal_close(grant=grant, actor=staff_user, reason="Twice.")
    assert again.status == Grant.Status.CANCELLED
    assert AuditEvent.objects.filter(action="reversal_closed").count() == 1


def test_closing_a_partial_reversal_keeps_the_grant_paid_for_what_the_payee_kept(
    client, paid, stripe_standin, staff_user, django_capture_on_commit_callbacks
):
    grant, transfer = paid
    reverse(client, stripe_standin, transfer, django_capture_on_commit_callbacks, 500000)

    closed = grant_reversal_close(grant=grant, actor=staff_user, reason="Overpaid.")

    assert closed.status == Grant.Status.DISBURSED
    closed.fund.refresh_from_db()
    assert closed.fund.committed == Decimal("20000.00")
    assert closed.fund.disbursed == Decimal("20000.00")
    assert_books(closed.fund)
    # A later reversal of the rest opens it again, and only what it adds counts.
    reverse(client, stripe_standin, transfer, django_capture_on_commit_callbacks)
    closed.refresh_from_db()
    assert closed.status == Grant.Status.REVERSED
    assert_books(closed.fund)
    closed = grant_reversal_close(grant=closed, actor=staff_user, reason="All of it.")
    assert closed.status == Grant.Status.CANCELLED
    closed.fund.refresh_from_db()
    assert (closed.fund.committed, closed.fund.disbursed) == (0, 0)


def test_only_a_finance_approver_closes_a_reversal(
    client, paid, stripe_standin, django_capture_on_commit_callbacks
):
    grant, transfer = paid
    reverse(client, stripe_standin, transfer, django_capture_on_commit_callbacks)
    manager = StaffFactory(roles=[StaffRole.PROGRAM_MANAGER])
    auditor = StaffFactory(roles=[StaffRole.AUDITOR])

    for person in (manager, auditor):
        with pytest.raises(ValidationError, match="staff roles"):
            grant_reversal_close(grant=grant, actor=person, reason="Mine.")
        client.force_login(person)
        answer = client.post(f"/staff/grants/{grant.pk}/close-reversal/", {"reason": "Mine."})
        assert answer.status_code == 403
    grant.refresh_from_db()
    assert grant.status == Grant.Status.REVERSED
    finance = StaffFactory(roles=[StaffRole.FINANCE_APPROVER])
    with pytest.raises(ValidationError):
        grant_reversal_close(grant=grant, actor=finance, reason="  ")
    client.force_login(finance)
    answer = client.post(f"/staff/grants/{grant.pk}/close-reversal/", {"reason": "Closed."})
    assert answer.status_code == 302
    grant.refresh_from_db()
    assert grant.status == Grant.Status.CANCELLED


def test_a_grant_not_reversed_cannot_be_closed(paid, staff_user):
    grant, _transfer = paid
    with pytest.raises(ValidationError) as refused:
        grant_reversal_close(grant=grant, actor=staff_user, reason="Why not.")
    assert refused.value.code == "illegal_transition"


def test_a_reversal_of_a_payment_not_recorded_yet_books_it_first(
    client,
    db,
    settings,
    stripe_standin,
    staff_user,
    proposer_user,
    django_capture_on_commit_callbacks,
):
    """The worker died between Stripe's transfer and recording it: the reversal's report
    proves the payment, which is booked, then reversed."""
    settings.PAYOUT_PROVIDER = "stripe"
    fund = FundFactory(total=Decimal("100000.00"))
    grant = approved(fund, stripe_nonprofit(stripe_standin), proposer_user, staff_user)
    schedule([grant], staff_user, django_capture_on_commit_callbacks)
    payment = grant.disbursement
    # As if the answer had been lost: the payment is still processing, without a reference.
    Disbursement.objects.filter(pk=payment.pk).update(
        status="processing", provider_reference="", completed_at=None
    )
    Grant.objects.filter(pk=grant.pk).update(status="processing", disbursed_at=None)
    type(fund).objects.filter(pk=fund.pk).update(disbursed=0)
    [transfer] = stripe_standin.transfers()

    reverse(client, stripe_standin, transfer, django_capture_on_commit_callbacks, 100000)

    grant.refresh_from_db()
    assert grant.status == Grant.Status.REVERSED
    assert grant.disbursement.provider_reference == transfer["id"]
    assert grant.disbursement.reversed_amount == Decimal("1000.00")
    assert_books(fund)


def test_a_reversal_of_a_transfer_not_ours_is_kept_and_changes_nothing(
    client, db, stripe_standin, django_capture_on_commit_callbacks
):
    account = stripe_standin.add_account(ready=True)
    transfer = stripe_standin._transfer_create(
        {"amount": "1000", "currency": "usd", "destination": account["id"]}
    )
    reverse(client, stripe_standin, transfer, django_capture_on_commit_callbacks)

    stored = ProviderEvent.objects.get(type="transfer.reversed")
    assert stored.handled_at is not None
    assert not Disbursement.objects.exists()


def test_the_dashboard_and_the_grant_page_show_an_open_reversal(
    client, paid, stripe_standin, staff_user, django_capture_on_commit_callbacks
):
    grant, transfer = paid
    reverse(client, stripe_standin, transfer, django_capture_on_commit_callbacks, 500000)
    client.force_login(staff_user)

    dashboard = client.get("/staff/").content.decode()
    page = client.get(f"/staff/grants/{grant.pk}/").content.decode()

    assert 'id="settle-reversed"' in dashboard
    assert grant.nonprofit.legal_name in dashboard
    assert "$5,000.00" in dashboard
    assert 'id="reversal-open"' in page
    assert f"/staff/grants/{grant.pk}/close-reversal/" in page
    assert "the payee kept $20,000.00" in page
    grant_reversal_close(grant=grant, actor=staff_user, reason="Overpaid.")
    dashboard = client.get("/staff/").content.decode()
    assert 'id="settle-reversed"' not in dashboard


def test_partners_hear_of_each_reversal_once(
    client, paid, stripe_standin, django_capture_on_commit_callbacks
):
    from changemakers.core.models import OutboxEvent

    grant, transfer = paid
    event = reverse(client, stripe_standin, transfer, django_capture_on_commit_callbacks, 1000)
    send(client, stripe_standin, event, django_capture_on_commit_callbacks)

    reversed_events = OutboxEvent.objects.filter(type="grant.reversed", object_id=grant.pk)
    assert reversed_events.count() == 1
    reversal = reversed_events.get().data["reversal"]
    assert (reversal["amount"], reversal["currency"]) == ("10.00", "USD")
    assert reversal["reversed_at"]


def test_each_finance_approver_is_told_in_their_own_language(
    client, paid, stripe_standin, django_capture_on_commit_callbacks
):
    from django.contrib.auth import get_user_model
    from django.utils import translation

    from changemakers.core.timezones import preferences_of

    grant, transfer = paid
    french = get_user_model().objects.get(email="staff@example.org")
    preferences = preferences_of(french)
    preferences.language = "fr"
    preferences.save(update_fields=["language"])
    mail.outbox.clear()

    reverse(client, stripe_standin, transfer, django_capture_on_commit_callbacks)

    subjects = {email.to[0]: email.subject for email in mail.outbox}
    with translation.override("fr"):
        french_subject = translation.gettext("Payment reversed: the grant to %(nonprofit)s") % {
            "nonprofit": grant.nonprofit.legal_name
        }
    # A subject is one line, its spaces plain ones (email_render).
    assert subjects["staff@example.org"] == " ".join(french_subject.split())
    assert subjects["proposer@example.org"].startswith("Payment reversed")
    assert subjects["staff@example.org"] != subjects["proposer@example.org"]
