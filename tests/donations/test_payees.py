"""Where a grant's money goes: the payee pinned at approval and paid only while it holds, holds
that stop a payment until a finance approver re-confirms the payee, payout details changed
only through a reviewed request, verification re-screened (and expiring) at payment time, and
a nonprofit rejected after it was paid."""

import datetime
import importlib
import re
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from changemakers.core.locks import try_lock
from changemakers.core.models import AuditEvent
from donations.models import Disbursement, Grant, Nonprofit, PayoutDetailsChange, SandboxPayment
from donations.services import (
    disbursement_pay,
    disbursements_sweep,
    grant_approve,
    grant_cancel,
    grant_hold,
    grant_hold_release,
    grant_retry,
    grant_schedule,
    grants_schedule,
    nonprofit_reject,
    nonprofit_verify,
    payout_change_approve,
    payout_change_request,
)
from tests.factories import (
    FundFactory,
    GrantFactory,
    NonprofitContactFactory,
    NonprofitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

AMOUNT = Decimal("25000.00")
HTMX = {"HX-Request": "true"}


@pytest.fixture
def finance(db):
    """A finance approver (a superuser holds every permission the roles give)."""
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def fund(db):
    return FundFactory(total=Decimal("100000.00"))


def approved(fund, actor, *, reference="acct-00001234", nonprofit=None) -> Grant:
    nonprofit = nonprofit or NonprofitFactory(payout_reference=reference)
    if nonprofit.verification_status != Nonprofit.Verification.VERIFIED:
        nonprofit_verify(nonprofit=nonprofit, actor=actor)
    return grant_approve(grant=GrantFactory(fund=fund, nonprofit=nonprofit), actor=actor)


def scheduled(fund, actor, **kwargs) -> Grant:
    """Scheduled, its payment task not run yet."""
    return grant_schedule(grant=approved(fund, actor, **kwargs), actor=actor)


def pay(grant: Grant) -> Disbursement:
    return disbursement_pay(disbursement_id=Disbursement.objects.get(grant=grant).pk)


def change_approved(nonprofit: Nonprofit, reference: str, *, capture=None) -> None:
    requester, reviewer = UserFactory.create_batch(2, is_staff=True, is_superuser=True)
    change = payout_change_request(nonprofit=nonprofit, payout_reference=reference, actor=requester)
    if capture is None:
        payout_change_approve(change=change, actor=reviewer)
    else:
        with capture(execute=True):
            payout_change_approve(change=change, actor=reviewer)


def fresh(grant: Grant) -> Grant:
    return Grant.objects.select_related("nonprofit", "fund").get(pk=grant.pk)


def actions(obj) -> list[str]:
    return list(AuditEvent.objects.for_object(obj).values_list("action", flat=True))


# --- B. The payee is pinned at approval and copied to the payment ----------------------------


def test_approval_pins_the_payee_and_scheduling_copies_it(fund, finance):
    grant = scheduled(fund, finance, reference="acct-pinned-0001")

    assert grant.payee_reference == "acct-pinned-0001"
    assert grant.payee_fingerprint == grant.nonprofit.payout_fingerprint()
    assert len(grant.payee_fingerprint) == 64
    disbursement = Disbursement.objects.get(grant=grant)
    assert (disbursement.payee_reference, disbursement.payee_fingerprint) == (
        grant.payee_reference,
        grant.payee_fingerprint,
    )
    pay(grant)
    assert SandboxPayment.objects.get().payee == "acct-pinned-0001"


def test_the_fingerprint_follows_every_detail_that_says_where_the_money_goes():
    nonprofit = NonprofitFactory.build(payout_reference="acct-1")
    before = nonprofit.payout_fingerprint()
    for name, value in [
        ("payout_reference", "acct-2"),
        ("legal_name", "Someone Else Ltd"),
        ("registration_number", "OTHER-1"),
        ("country", "FR"),
    ]:
        changed = NonprofitFactory.build(
            **{
                "payout_reference": "acct-1",
                "legal_name": nonprofit.legal_name,
                "registration_number": nonprofit.registration_number,
                "country": nonprofit.country,
                name: value,
            }
        )
        assert changed.payout_fingerprint() != before, name
    nonprofit.website = "https://elsewhere.example"
    nonprofit.contact_email = "other@example.org"
    assert nonprofit.payout_fingerprint() == before


def test_details_edited_behind_the_reviews_back_are_held_not_paid_by_the_worker(fund, finance):
    # An edit that skipped the review (a raw database edit, a script): the worker finds the
    # nonprofit's details no longer match the pinned payee and pays nobody.
    grant = scheduled(fund, finance, reference="acct-good-0001")
    Nonprofit.objects.filter(pk=grant.nonprofit_id).update(payout_reference="acct-evil-6666")

    disbursement = pay(grant)

    assert not SandboxPayment.objects.exists()
    grant = fresh(grant)
    assert grant.status == Grant.Status.SCHEDULED
    assert grant.is_held
    assert "payout details changed" in grant.hold_reason
    assert disbursement.status == Disbursement.Status.PENDING
    assert disbursement.attempts == 0  # no try counted: the provider was never called
    assert grant.fund.committed == AMOUNT  # still committed while held


def test_a_change_approved_after_approval_holds_the_grant_and_nothing_is_paid(
    fund, finance, django_capture_on_commit_callbacks
):
    grant = scheduled(fund, finance, reference="acct-old-1111")
    change_approved(grant.nonprofit, "acct-new-2222")

    with django_capture_on_commit_callbacks(execute=True):
        pay(grant)

    assert not SandboxPayment.objects.exists()
    assert fresh(grant).is_held


def test_a_re_confirmed_payee_is_paid_at_the_new_reference_only(
    fund, finance, django_capture_on_commit_callbacks
):
    grant = scheduled(fund, finance, reference="acct-old-1111")
    change_approved(grant.nonprofit, "acct-new-2222")

    with django_capture_on_commit_callbacks(execute=True):
        grant_hold_release(grant=grant, actor=finance)  # queues the payment again

    grant = fresh(grant)
    assert grant.status == Grant.Status.DISBURSED
    assert grant.payee_reference == "acct-new-2222"
    assert SandboxPayment.objects.get().payee == "acct-new-2222"
    assert actions(grant)[-3:] == ["hold_released", "payment_started", "disbursed"]


def test_existing_unpaid_grants_are_pinned_by_the_data_migration(fund, finance):
    nonprofit = NonprofitFactory(payout_reference="acct-legacy-0001")
    nonprofit_verify(nonprofit=nonprofit, actor=finance)
    legacy = GrantFactory(
        fund=fund,
        nonprofit=nonprofit,
        status=Grant.Status.SCHEDULED,
        payee_reference="",
        payee_fingerprint="",
    )
    paid = GrantFactory(
        fund=fund,
        nonprofit=nonprofit,
        status=Grant.Status.DISBURSED,
        payee_reference="",
        payee_fingerprint="",
    )
    Nonprofit.objects.filter(pk=nonprofit.pk).update(verified_at=None)
    migration = importlib.import_module(
        "donations.migrations.0008_pin_payees_and_date_verifications"
    )

    migration.pin_and_date(apps, None)

    legacy.refresh_from_db()
    assert legacy.payee_reference == "acct-legacy-0001"
    assert legacy.payee_fingerprint == nonprofit.payout_fingerprint()
    paid.refresh_from_db()
    assert paid.payee_fingerprint == ""  # paid: history, not pinned after the fact
    nonprofit.refresh_from_db()
    verified_event = AuditEvent.objects.for_object(nonprofit).filter(action="verified").get()
    assert nonprofit.verified_at == verified_event.occurred_at


# --- A. Holds ------------------------------------------------------------------------------


def test_a_held_grant_is_not_scheduled_and_keeps_its_money_committed(fund, finance):
    grant = approved(fund, finance)

    held = grant_hold(grant=grant, reason="Bank letter looks forged", actor=finance)

    assert held.is_held
    assert held.status == Grant.Status.APPROVED
    with pytest.raises(ValidationError, match="on hold") as refused:
        grants_schedule(grants=[grant], actor=finance)
    assert refused.value.code == "grant_held"
    with pytest.raises(ValidationError, match="on hold"):
        grant_schedule(grant=grant, actor=finance)
    assert fresh(grant).fund.committed == AMOUNT
    event = AuditEvent.objects.for_object(grant).get(action="held")
    assert (event.actor, event.note) == (finance, "Bank letter looks forged")


def test_holding_is_idempotent_and_needs_a_reason(fund, finance):
    grant = approved(fund, finance)
    with pytest.raises(ValidationError, match="Say why"):
        grant_hold(grant=grant, reason=" ", actor=finance)

    grant_hold(grant=grant, reason="First", actor=finance)
    again = grant_hold(grant=grant, reason="Second", actor=finance)

    assert again.hold_reason == "First"
    assert actions(grant).count("held") == 1


@pytest.mark.parametrize("status", [Grant.Status.PROPOSED, Grant.Status.DISBURSED])
def test_only_unpaid_grants_are_held(fund, status):
    grant = GrantFactory(fund=fund, status=status)
    with pytest.raises(ValidationError, match="only a grant not yet paid can be held"):
        grant_hold(grant=grant, reason="Check")


def test_a_held_scheduled_grant_is_left_by_the_worker_and_the_sweeper(fund, finance):
    grant = scheduled(fund, finance)
    grant_hold(grant=grant, reason="Check the payee", actor=finance)
    Disbursement.objects.filter(grant=grant).update(
        queued_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )

    assert pay(grant).status == Disbursement.Status.PENDING
    assert disbursements_sweep() == 0
    assert not SandboxPayment.objects.exists()


def test_the_pay_task_of_a_held_grant_neither_retries_nor_fails_it(fund, finance):
    from donations.tasks import pay_disbursement

    grant = scheduled(fund, finance)
    grant_hold(grant=grant, reason="Check the payee", actor=finance)

    assert pay_disbursement.apply(args=[grant.disbursement.pk]).get() == "held"
    assert fresh(grant).status == Grant.Status.SCHEDULED


def test_a_processing_grant_is_held_unless_its_payment_is_in_flight(fund, finance):
    grant = scheduled(fund, finance, reference="sandbox-timeout")
    pay(grant)  # a timeout: processing, waiting for its next try
    assert fresh(grant).status == Grant.Status.PROCESSING
    disbursement = Disbursement.objects.get(grant=grant)

    paying = try_lock(f"donations.disbursement_pay:{disbursement.pk}")  # a worker, right now
    with paying, pytest.raises(ValidationError, match="being paid right now") as refused:
        grant_hold(grant=grant, reason="Check", actor=finance)
    assert refused.value.code == "payment_in_flight"

    assert grant_hold(grant=grant, reason="Check", actor=finance).is_held
    attempts = disbursement.attempts
    assert pay(grant).attempts == attempts  # the next try is not made


def test_a_held_grant_can_be_cancelled_and_gives_its_money_back(fund, finance):
    grant = scheduled(fund, finance)
    grant_hold(grant=grant, reason="Check", actor=finance)

    cancelled = grant_cancel(grant=grant, actor=finance, reason="Fraud confirmed")

    assert cancelled.status == Grant.Status.CANCELLED
    assert not cancelled.is_held
    assert fresh(grant).fund.committed == 0
    assert Disbursement.objects.get(grant=grant).status == Disbursement.Status.CANCELLED


def test_a_held_failed_grant_is_not_retried_until_released(
    fund, finance, django_capture_on_commit_callbacks
):
    grant = approved(fund, finance, reference="sandbox-fail")
    with django_capture_on_commit_callbacks(execute=True):
        grant_schedule(grant=grant, actor=finance)
    assert fresh(grant).status == Grant.Status.FAILED
    change_approved(grant.nonprofit, "acct-fixed-0001")
    assert fresh(grant).is_held

    with pytest.raises(ValidationError, match="on hold"):
        grant_retry(grant=grant, actor=finance)

    grant_hold_release(grant=grant, actor=finance)
    with django_capture_on_commit_callbacks(execute=True):
        grant_retry(grant=grant, actor=finance)
    assert fresh(grant).status == Grant.Status.DISBURSED
    assert SandboxPayment.objects.get(paid_at__isnull=False).payee == "acct-fixed-0001"


def test_releasing_a_hold_is_refused_for_a_nonprofit_not_verified(fund, finance):
    grant = approved(fund, finance)
    nonprofit_reject(nonprofit=grant.nonprofit, reason="Fraud", actor=finance)

    with pytest.raises(ValidationError, match="not verified"):
        grant_hold_release(grant=grant, actor=finance)
    assert fresh(grant).is_held


# --- C. Payout details change only through a reviewed request ---------------------------------


def test_approving_a_change_holds_every_unpaid_grant_and_leaves_the_others(
    fund, finance, django_capture_on_commit_callbacks
):
    nonprofit = NonprofitFactory(payout_reference="acct-old-1234")
    nonprofit_verify(nonprofit=nonprofit, actor=finance)
    approved_one = approved(fund, finance, nonprofit=nonprofit)
    scheduled_one = scheduled(fund, finance, nonprofit=nonprofit)
    paid = approved(fund, finance, nonprofit=nonprofit)
    with django_capture_on_commit_callbacks(execute=True):
        grant_schedule(grant=paid, actor=finance)
    proposed = GrantFactory(fund=fund, nonprofit=nonprofit)

    change_approved(nonprofit, "acct-new-5678")

    for grant in (approved_one, scheduled_one):
        assert fresh(grant).is_held
        assert fresh(grant).hold_reason == "Payout details changed"
    assert fresh(paid).status == Grant.Status.DISBURSED
    assert fresh(paid).held_at is None
    assert fresh(proposed).held_at is None


def test_the_audit_shows_the_old_and_new_reference_masked(fund, finance):
    nonprofit = NonprofitFactory(payout_reference="acct-old-1234")
    requester = UserFactory(is_staff=True, is_superuser=True)
    change = payout_change_request(
        nonprofit=nonprofit, payout_reference="acct-new-5678", actor=requester
    )
    payout_change_approve(change=change, actor=finance)

    notes = list(AuditEvent.objects.values_list("note", flat=True))
    updated = AuditEvent.objects.for_object(nonprofit).get(action="updated")
    assert updated.note == "payout_reference: ••••1234 → ••••5678"
    assert AuditEvent.objects.for_object(change).get(action="approved").note == (
        "••••1234 → ••••5678"
    )
    assert not any("acct-old" in note or "acct-new" in note for note in notes)


def test_every_contact_is_emailed_when_a_change_is_approved(
    finance, django_capture_on_commit_callbacks
):
    nonprofit = NonprofitFactory(payout_reference="acct-old-1234")
    english = NonprofitContactFactory(nonprofit=nonprofit, language="en")
    french = NonprofitContactFactory(nonprofit=nonprofit, language="fr")
    NonprofitContactFactory()  # another nonprofit's contact hears nothing

    change_approved(nonprofit, "acct-new-5678", capture=django_capture_on_commit_callbacks)

    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [english.user.email, french.user.email]
    )
    for message in mail.outbox:
        assert "••••5678" in message.body
        assert "acct-new" not in message.body
        assert nonprofit.legal_name in message.subject


def test_a_change_is_not_approved_by_the_one_who_asked_for_it(finance):
    nonprofit = NonprofitFactory(payout_reference="acct-old-1234")
    change = payout_change_request(
        nonprofit=nonprofit, payout_reference="acct-new-5678", actor=finance
    )

    with pytest.raises(ValidationError, match="someone else") as refused:
        payout_change_approve(change=change, actor=finance)

    assert refused.value.code == "approver_is_requester"
    nonprofit.refresh_from_db()
    assert nonprofit.payout_reference == "acct-old-1234"


def test_staff_ask_for_a_change_on_the_nonprofit_page_and_nothing_changes_yet(client, finance):
    nonprofit = NonprofitFactory(payout_reference="acct-old-1234")
    client.force_login(finance)

    response = client.post(
        reverse("donations:nonprofit-payout-change", args=[nonprofit.pk]),
        {"payout_reference": "acct-new-5678"},
        headers={**HTMX, "HX-Target": f"nonprofit-{nonprofit.pk}"},
    )

    assert response.status_code == 200
    change = PayoutDetailsChange.objects.get()
    assert (change.status, change.requested_by) == ("pending", finance)
    nonprofit.refresh_from_db()
    assert nonprofit.payout_reference == "acct-old-1234"
    again = client.post(
        reverse("donations:nonprofit-payout-change", args=[nonprofit.pk]),
        {"payout_reference": "acct-other-0000"},
        headers={**HTMX, "HX-Target": f"nonprofit-{nonprofit.pk}"},
    )
    assert again.status_code == 422
    assert "already waiting for review" in again.content.decode()


def test_the_staff_nonprofit_page_offers_no_direct_edit_of_payout_details(client, finance):
    NonprofitFactory(payout_reference="acct-old-1234")
    client.force_login(finance)
    page = client.get(reverse("donations:nonprofit-list")).content.decode()
    assert "Change payout details…" in page
    assert 'value="acct-old-1234"' not in page


# --- The grants page: held grants, and re-confirming their payee ----------------------------


def test_staff_see_held_grants_with_their_reason_and_re_confirm_the_payee(
    client, fund, finance, django_capture_on_commit_callbacks
):
    grant = scheduled(fund, finance, reference="acct-old-1111")
    change_approved(grant.nonprofit, "acct-new-2222")
    client.force_login(finance)

    page = client.get(reverse("donations:grant-list"), {"status": "held"}).content.decode()
    assert f'id="grant-{grant.pk}"' in page
    assert "Payout details changed" in page
    assert "Re-confirm payee" in page
    dashboard = client.get(reverse("backoffice:dashboard")).content.decode()
    assert re.search(r'id="needs-held"[^>]*><span class="dashboard__count">1</span>', dashboard)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("donations:grant-release-hold", args=[grant.pk]),
            headers={**HTMX, "HX-Target": f"grant-{grant.pk}"},
        )

    assert response.status_code == 200
    assert fresh(grant).status == Grant.Status.DISBURSED
    assert actions(grant)[-3] == "hold_released"
    assert AuditEvent.objects.for_object(grant).get(action="hold_released").actor == finance


def test_the_held_tab_counts_the_grants_it_lists_unknown_outcomes_included(client, fund, finance):
    payee_changed = scheduled(fund, finance, reference="acct-old-3333")
    change_approved(payee_changed.nonprofit, "acct-new-4444")
    odd_amount = GrantFactory(
        fund=fund,
        status=Grant.Status.UNKNOWN,
        held_at=timezone.now(),
        hold_reason="Reported EUR 5.00",
    )
    client.force_login(finance)

    page = client.get(reverse("donations:grant-list"), {"status": "held"}).content.decode()

    listed = re.findall(r'<tr id="grant-(\d+)"', page)
    assert sorted(map(int, listed)) == sorted([payee_changed.pk, odd_amount.pk])
    tab = re.search(r'id="status-tab-held"[^>]*>\s*On hold <span class="[^"]*">(\d+)<', page)
    assert tab
    assert tab.group(1) == "2"


def test_re_confirming_a_payee_that_cannot_be_paid_is_refused_with_422(client, fund, finance):
    grant = approved(fund, finance)
    nonprofit_reject(nonprofit=grant.nonprofit, reason="Fraud", actor=finance)
    client.force_login(finance)

    response = client.post(
        reverse("donations:grant-release-hold", args=[grant.pk]),
        headers={**HTMX, "HX-Target": f"grant-{grant.pk}"},
    )

    assert response.status_code == 422
    assert "not verified" in response.content.decode()
    assert fresh(grant).is_held


# --- D. Verification is re-screened at payment time, and expires -----------------------------


def test_verification_lasts_the_configured_days(finance):
    assert settings.VERIFICATION_VALID_DAYS == 365
    nonprofit = nonprofit_verify(nonprofit=NonprofitFactory(), actor=finance)
    assert nonprofit.verified_at is not None
    assert nonprofit.verification_expires_at == nonprofit.verified_at + datetime.timedelta(days=365)
    assert nonprofit.verification_current()


def test_an_expired_verification_holds_the_payment_at_pay_time_not_fails_it(fund, finance):
    grant = scheduled(fund, finance)
    later = grant.nonprofit.verified_at + datetime.timedelta(days=366)

    with time_machine.travel(later, tick=False):
        disbursement = pay(grant)

    assert not SandboxPayment.objects.exists()
    grant = fresh(grant)
    assert grant.status == Grant.Status.SCHEDULED
    assert grant.is_held
    assert "verification expired" in grant.hold_reason
    assert disbursement.attempts == 0


def test_a_nonprofit_expired_is_not_approved_or_scheduled(fund, finance):
    nonprofit = nonprofit_verify(nonprofit=NonprofitFactory(), actor=finance)
    to_approve = GrantFactory(fund=fund, nonprofit=nonprofit)
    to_schedule = approved(fund, finance, nonprofit=nonprofit)
    later = nonprofit.verified_at + datetime.timedelta(days=366)

    with time_machine.travel(later, tick=False):
        with pytest.raises(ValidationError, match=r"verification of .* expired") as refused:
            grant_approve(grant=to_approve, actor=finance)
        assert refused.value.code == "verification_expired"
        with pytest.raises(ValidationError, match="verify it again before scheduling"):
            grants_schedule(grants=[to_schedule], actor=finance)

        renewed = nonprofit_verify(nonprofit=nonprofit, actor=finance)  # verify again
        assert renewed.verification_current()
        assert grant_approve(grant=to_approve, actor=finance).status == Grant.Status.APPROVED
    assert actions(nonprofit).count("verified") == 2


def test_staff_see_the_expiry_on_the_nonprofit_page(client, finance):
    nonprofit = nonprofit_verify(nonprofit=NonprofitFactory(), actor=finance)
    client.force_login(finance)
    later = nonprofit.verified_at + datetime.timedelta(days=366)

    assert "Until " in client.get(reverse("donations:nonprofit-list")).content.decode()
    with time_machine.travel(later, tick=False):
        client.force_login(finance)  # a year on, the first session has ended
        page = client.get(reverse("donations:nonprofit-list")).content.decode()
    assert "badge--expired" in page
    assert "Renew verification" in page


# --- E. A nonprofit paid before can be rejected --------------------------------------------


def test_a_paid_nonprofit_is_rejected_its_unpaid_grants_held_its_paid_ones_kept(
    fund, finance, django_capture_on_commit_callbacks
):
    nonprofit = NonprofitFactory(payout_reference="acct-1234")
    nonprofit_verify(nonprofit=nonprofit, actor=finance)
    paid = approved(fund, finance, nonprofit=nonprofit)
    with django_capture_on_commit_callbacks(execute=True):
        grant_schedule(grant=paid, actor=finance)
    unpaid = scheduled(fund, finance, nonprofit=nonprofit)
    proposed = GrantFactory(fund=fund, nonprofit=nonprofit)

    rejected = nonprofit_reject(nonprofit=nonprofit, reason="Fraud found", actor=finance)

    assert rejected.verification_status == Nonprofit.Verification.REJECTED
    assert fresh(paid).status == Grant.Status.DISBURSED
    assert fresh(unpaid).is_held
    assert "Fraud found" in fresh(unpaid).hold_reason
    assert fresh(proposed).status == Grant.Status.CANCELLED
    assert fresh(paid).fund.committed == 2 * AMOUNT  # the paid one and the held one
    assert nonprofit not in Nonprofit.objects.verified()  # no longer nominable

    assert pay(unpaid).status == Disbursement.Status.PENDING
    assert SandboxPayment.objects.filter(paid_at__isnull=False).count() == 1


def test_a_scheduled_payment_to_a_nonprofit_no_longer_verified_is_held_by_the_worker(fund, finance):
    grant = scheduled(fund, finance)
    Nonprofit.objects.filter(pk=grant.nonprofit_id).update(
        verification_status=Nonprofit.Verification.REJECTED, rejection_reason="Fraud"
    )

    pay(grant)

    assert not SandboxPayment.objects.exists()
    assert "rejected" in fresh(grant).hold_reason


def test_the_nonprofit_page_shows_a_rejected_nonprofit_with_its_reason(client, fund, finance):
    grant = approved(fund, finance)
    nonprofit_reject(nonprofit=grant.nonprofit, reason="Fraud found", actor=finance)
    client.force_login(finance)

    page = client.get(reverse("donations:nonprofit-list")).content.decode()

    assert "badge--rejected" in page
    assert "Fraud found" in page


# --- A provider that holds a payment (Stripe: an account that cannot receive transfers) -------


def test_a_payee_the_provider_cannot_pay_yet_holds_the_grant_and_nothing_is_paid(
    fund, finance, settings, stripe_standin
):
    settings.PAYOUT_PROVIDER = "stripe"
    account = stripe_standin.add_account(ready=False)  # onboarding not finished
    grant = scheduled(fund, finance, reference=account["id"])

    disbursement = pay(grant)

    held = fresh(grant)
    assert held.is_held
    assert held.status == Grant.Status.PROCESSING  # neither failed nor paid
    assert "cannot pay this payee yet" in held.hold_reason
    assert disbursement.status == Disbursement.Status.PROCESSING
    assert stripe_standin.world.transfers == []
    assert actions(held)[-1] == "held"
    # The sweeper leaves it alone: it waits for a finance approver.
    far_future = datetime.datetime.max.replace(tzinfo=datetime.UTC)
    assert not Disbursement.objects.stale(older_than=far_future).exists()
