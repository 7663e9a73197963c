"""Paying the demo through Stripe (`make run STRIPE=standin`): a vetter ensures a nonprofit's
connected account, seed_demo with the stripe provider gives the demo's nonprofits theirs
(again after the stand-in forgot them), the payouts page lets its forms go on to Stripe's
hosted pages, and the stand-in's demo mode."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from changemakers.core.models import AuditEvent
from changemakers.core.roles import StaffRole, staff_role_group
from donations.models import Grant, Nonprofit, PayoutDetailsChange, PayoutMethod
from donations.payouts.stripe_connect import STRIPE_HOSTED_ORIGIN
from donations.services import nonprofit_stripe_account_ensure
from tests.factories import NonprofitContactFactory, NonprofitFactory, UserFactory
from tests.standins.stripe import DemoStandin, StripeStandin

pytestmark = pytest.mark.django_db


@pytest.fixture
def vetter():
    user = UserFactory(username="vetter@example.org", is_staff=True)
    user.groups.add(staff_role_group(StaffRole.NONPROFIT_VETTER))
    return user


@pytest.fixture
def nonprofit():
    return NonprofitFactory(
        legal_name="Readers of Nairobi",
        country="KE",
        contact_email="grants@readers.example",
        payout_reference="",
        verification_status=Nonprofit.Verification.VERIFIED,
    )


@pytest.fixture
def demo_standin(settings):
    """The stand-in as `make run STRIPE=standin` serves it, the settings pointed at it."""
    standin = DemoStandin().start()
    settings.STRIPE_API_BASE = standin.url
    settings.STRIPE_SECRET_KEY = standin.secret_key
    settings.STRIPE_TIMEOUT = 5.0
    yield standin
    standin.stop()


def test_a_vetter_gives_a_nonprofit_its_account_once(vetter, nonprofit, demo_standin):
    ensured = nonprofit_stripe_account_ensure(nonprofit=nonprofit, actor=vetter)
    again = nonprofit_stripe_account_ensure(nonprofit=nonprofit, actor=vetter)

    assert list(demo_standin.world.accounts) == [ensured.stripe_account_id]
    account = demo_standin.world.accounts[ensured.stripe_account_id]
    assert (account["type"], account["country"], account["email"]) == (
        "express",
        "KE",
        "grants@readers.example",
    )
    assert account["metadata"] == {"nonprofit_id": str(nonprofit.pk)}
    assert again.stripe_account_id == ensured.stripe_account_id
    assert again.stripe_payouts_enabled
    assert again.payout_reference == ensured.stripe_account_id  # it had no payee
    assert AuditEvent.objects.filter(action="stripe_account_created").count() == 1
    assert AuditEvent.objects.filter(action="payee_set").count() == 1


def test_an_account_stripe_forgot_is_created_again_and_reviewed_when_its_id_changed(
    vetter, nonprofit, stripe_standin
):
    """Stripe's own ids are new each time: the nonprofit's payee changes only by review."""
    stripe_standin.add_account(ready=True)  # another platform's, untouched
    first = nonprofit_stripe_account_ensure(nonprofit=nonprofit, actor=vetter)
    stripe_standin.complete_onboarding(first.stripe_account_id)
    first = nonprofit_stripe_account_ensure(nonprofit=nonprofit, actor=vetter)
    assert first.payout_reference == first.stripe_account_id
    del stripe_standin.world.accounts[first.stripe_account_id]
    stripe_standin.forget_keys()

    second = nonprofit_stripe_account_ensure(nonprofit=nonprofit, actor=vetter)

    stripe_standin.complete_onboarding(second.stripe_account_id)
    second = nonprofit_stripe_account_ensure(nonprofit=nonprofit, actor=vetter)
    assert second.stripe_account_id != first.stripe_account_id
    assert second.stripe_account_id in stripe_standin.world.accounts
    assert second.payout_reference == first.payout_reference  # not swapped by hand
    change = PayoutDetailsChange.objects.get(nonprofit=nonprofit)
    assert (change.payout_reference, change.requested_by) == (second.stripe_account_id, vetter)
    assert AuditEvent.objects.filter(action="stripe_account_created").count() == 2


def test_only_a_vetter_ensures_accounts(nonprofit, demo_standin):
    contact = NonprofitContactFactory(nonprofit=nonprofit)
    finance = UserFactory(is_staff=True)
    finance.groups.add(staff_role_group(StaffRole.FINANCE_APPROVER))

    for actor in (contact.user, finance):
        with pytest.raises(ValidationError, match="do not let you set up Stripe payouts"):
            nonprofit_stripe_account_ensure(nonprofit=nonprofit, actor=actor)

    assert demo_standin.world.accounts == {}
    nonprofit.refresh_from_db()
    assert nonprofit.stripe_account_id == ""


def test_the_demo_standin_gives_the_same_account_back_after_a_restart():
    params = {"country": "KE", "email": "a@b.example", "metadata": {"nonprofit_id": "7"}}
    before = DemoStandin()._account_create(params)
    restarted = DemoStandin()
    after = restarted._account_create(params)
    twice = restarted._account_create(params)  # a second account in one run: a new id

    assert before["id"] == after["id"]
    assert twice["id"] != after["id"]
    assert after["capabilities"]["transfers"] == "active"
    assert StripeStandin()._account_create(params)["id"] != before["id"]  # tests: Stripe's way


def test_the_payouts_page_alone_lets_forms_go_on_to_stripe(client, nonprofit, stripe_standin):
    client.force_login(NonprofitContactFactory(nonprofit=nonprofit).user)

    payouts = client.get("/nonprofit/payouts/")["Content-Security-Policy"]
    grants = client.get("/nonprofit/")["Content-Security-Policy"]

    assert f"form-action 'self' {STRIPE_HOSTED_ORIGIN} {stripe_standin.url}" in payouts
    assert "form-action 'self';" in grants + ";"
    assert STRIPE_HOSTED_ORIGIN not in grants


def test_seed_demo_pays_the_demo_through_stripe_and_copes_with_a_forgetful_standin(
    settings, demo_standin
):
    settings.DEBUG = True
    settings.PAYOUT_PROVIDER = "stripe"

    call_command("seed_demo", verbosity=0)

    accounts = dict(
        Nonprofit.objects.exclude(stripe_account_id="").values_list(
            "registration_number", "stripe_account_id"
        )
    )
    verified = Nonprofit.objects.filter(verification_status="verified")
    assert set(accounts) == set(
        verified.exclude(registration_number__in=["INT-10001", "BR-OSC-4410"]).values_list(
            "registration_number", flat=True
        )
    )
    assert set(accounts.values()) == set(demo_standin.world.accounts)
    for nonprofit in verified.exclude(registration_number__in=["INT-10001", "BR-OSC-4410"]):
        assert nonprofit.payout_reference == nonprofit.stripe_account_id
    # Open Medicine sets up payouts itself: no payee yet, its donation waits proposed.
    open_medicine = Nonprofit.objects.get(registration_number="INT-10001")
    assert open_medicine.payout_reference == ""
    assert set(open_medicine.grants.values_list("status", flat=True)) == {Grant.Status.PROPOSED}
    # The paid grants are Stripe transfers, one each, to their payees; Favela Futures' failed.
    disbursed = Grant.objects.filter(status=Grant.Status.DISBURSED).select_related(
        "disbursement", "nonprofit"
    )
    assert disbursed.count() == 3
    transfers = {t["id"]: t for t in demo_standin.transfers()}
    assert len(transfers) == 3
    for grant in disbursed:
        transfer = transfers[grant.disbursement.provider_reference]
        assert transfer["destination"] == grant.nonprofit.stripe_account_id
        assert transfer["amount"] == int(grant.amount * 100)
        assert transfer["transfer_group"] == grant.disbursement.idempotency_key
    failed = Grant.objects.get(status=Grant.Status.FAILED)
    assert failed.nonprofit.registration_number == "BR-OSC-4410"
    assert "No such destination" in failed.status_reason

    # Again, as `make run STRIPE=standin` after a restart: the stand-in knows nothing, the
    # database everything. The same accounts come back; nothing is paid again.
    demo_standin.world.accounts.clear()
    demo_standin.forget_keys()
    audit_before = AuditEvent.objects.count()
    call_command("seed_demo", verbosity=0)

    assert set(demo_standin.world.accounts) == set(accounts.values())
    assert len(demo_standin.transfers()) == 3
    # Only the demo's own request (and the bank details of the nonprofit paid by hand).
    assert not PayoutDetailsChange.objects.exclude(
        nonprofit__registration_number="US-501-2281"
    ).exclude(nonprofit__payout_method=PayoutMethod.BANK_TRANSFER)
    assert AuditEvent.objects.count() == audit_before  # the same ids: nothing changed
