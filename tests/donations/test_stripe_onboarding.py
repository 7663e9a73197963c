"""Hosted onboarding with Stripe Connect from the nonprofit's portal, against the Stripe API
stand-in over real HTTP (tests/standins/stripe.py)."""

import urllib.request
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError

from changemakers.core.models import AuditEvent
from donations.models import Nonprofit, PayoutDetailsChange
from donations.services import nonprofit_payouts_onboard
from tests.factories import NonprofitContactFactory, NonprofitFactory, UserFactory


@pytest.fixture
def nonprofit(db):
    return NonprofitFactory(
        legal_name="Readers of Nairobi",
        country="KE",
        contact_email="grants@readers.example",
        payout_reference="",
    )


@pytest.fixture
def contact(nonprofit):
    return NonprofitContactFactory(nonprofit=nonprofit)


def _complete_hosted_onboarding(url: str) -> str:
    """Press the stand-in's "Complete onboarding" button; the return URL it sends back to."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(request, timeout=5)
    assert answer.value.code == 303
    return answer.value.headers["Location"]


def test_set_up_payouts_creates_the_account_once_and_sends_to_stripe(
    client, contact, nonprofit, stripe_standin
):
    client.force_login(contact.user)

    first = client.post("/nonprofit/payouts/set-up/")
    second = client.post("/nonprofit/payouts/set-up/")  # a double click

    assert first.status_code == second.status_code == 302
    assert first["Location"].startswith(f"{stripe_standin.url}/setup/")
    assert second["Location"].startswith(f"{stripe_standin.url}/setup/")
    assert len(stripe_standin.world.accounts) == 1
    account = next(iter(stripe_standin.world.accounts.values()))
    assert (account["type"], account["country"], account["email"]) == (
        "express",
        "KE",
        "grants@readers.example",
    )
    nonprofit.refresh_from_db()
    assert nonprofit.stripe_account_id == account["id"]
    assert nonprofit.payout_reference == ""  # not before Stripe can pay out
    assert AuditEvent.objects.filter(action="stripe_account_created").count() == 1


def test_the_account_key_is_per_nonprofit(contact, nonprofit, stripe_standin, settings):
    """Even if the row were not locked, Stripe's idempotency key gives the same account."""
    kwargs = {"return_url": "http://testserver/r", "refresh_url": "http://testserver/r"}
    nonprofit_payouts_onboard(nonprofit=nonprofit, actor=contact.user, **kwargs)
    Nonprofit.objects.filter(pk=nonprofit.pk).update(stripe_account_id="")
    nonprofit_payouts_onboard(nonprofit=nonprofit, actor=contact.user, **kwargs)
    assert len(stripe_standin.world.accounts) == 1


def test_the_return_page_shows_what_stripe_still_needs(client, contact, nonprofit, stripe_standin):
    client.force_login(contact.user)
    client.post("/nonprofit/payouts/set-up/")

    page = client.get("/nonprofit/payouts/").content.decode()

    assert "Stripe cannot pay out to you yet." in page
    assert 'id="stripe-requirements"' in page
    nonprofit.refresh_from_db()
    assert nonprofit.stripe_requirements_due  # the stand-in's example account needs things
    for requirement in nonprofit.stripe_requirements_due:
        assert requirement in page
    assert not nonprofit.stripe_payouts_enabled


def test_completed_onboarding_makes_the_account_the_payee(
    client, contact, nonprofit, stripe_standin
):
    client.force_login(contact.user)
    onboarding = client.post("/nonprofit/payouts/set-up/")["Location"]

    back = _complete_hosted_onboarding(onboarding)
    assert urlsplit(back).path == "/nonprofit/payouts/"
    page = client.get(urlsplit(back).path).content.decode()

    nonprofit.refresh_from_db()
    assert nonprofit.stripe_payouts_enabled
    assert nonprofit.stripe_requirements_due == []
    assert nonprofit.payout_reference == nonprofit.stripe_account_id
    assert "Stripe can pay out to your bank account." in page
    assert "Your grants are paid to this Stripe account." in page
    assert AuditEvent.objects.filter(action="payee_set", object_id=nonprofit.pk).count() == 1
    # Visiting again changes nothing more.
    client.get("/nonprofit/payouts/")
    assert AuditEvent.objects.filter(action="payee_set").count() == 1


def test_a_nonprofit_paid_elsewhere_gets_a_change_for_review_not_a_new_payee(
    client, contact, nonprofit, stripe_standin
):
    Nonprofit.objects.filter(pk=nonprofit.pk).update(payout_reference="acct-bank-0001")
    client.force_login(contact.user)
    _complete_hosted_onboarding(client.post("/nonprofit/payouts/set-up/")["Location"])

    client.get("/nonprofit/payouts/")
    client.get("/nonprofit/payouts/")

    nonprofit.refresh_from_db()
    assert nonprofit.payout_reference == "acct-bank-0001"
    change = PayoutDetailsChange.objects.get(nonprofit=nonprofit)
    assert change.status == PayoutDetailsChange.Status.PENDING
    assert change.payout_reference == nonprofit.stripe_account_id
    assert change.requested_by == contact.user


def test_manage_bank_account_redirects_to_a_login_link(client, contact, stripe_standin):
    client.force_login(contact.user)
    client.post("/nonprofit/payouts/set-up/")

    answer = client.post("/nonprofit/payouts/manage/")

    assert answer.status_code == 302
    assert answer["Location"].startswith(f"{stripe_standin.url}/express/acct_")


def test_manage_before_set_up_is_refused_without_calling_stripe(client, contact, stripe_standin):
    client.force_login(contact.user)
    answer = client.post("/nonprofit/payouts/manage/", follow=True)
    assert "Set up payouts with Stripe first." in answer.content.decode()
    assert stripe_standin.requests == []


def test_another_nonprofits_contact_cannot_onboard_it(nonprofit, stripe_standin):
    stranger = NonprofitContactFactory(nonprofit=NonprofitFactory())
    with pytest.raises(ValidationError) as refused:
        nonprofit_payouts_onboard(
            nonprofit=nonprofit,
            actor=stranger.user,
            return_url="http://testserver/r",
            refresh_url="http://testserver/r",
        )
    assert refused.value.code == "not_own_nonprofit"
    assert stripe_standin.world.accounts == {}
    nonprofit.refresh_from_db()
    assert nonprofit.stripe_account_id == ""


def test_set_up_only_onboards_the_contacts_own_nonprofit(
    client, contact, nonprofit, stripe_standin
):
    other = NonprofitFactory()
    client.force_login(NonprofitContactFactory(nonprofit=other).user)
    client.post("/nonprofit/payouts/set-up/", {"nonprofit": nonprofit.pk})
    nonprofit.refresh_from_db()
    other.refresh_from_db()
    assert nonprofit.stripe_account_id == ""
    assert other.stripe_account_id.startswith("acct_")


def test_stripe_down_is_a_readable_refusal(client, contact, nonprofit, stripe_standin):
    stripe_standin.fail_next(1, status=503)
    client.force_login(contact.user)
    answer = client.post("/nonprofit/payouts/set-up/", follow=True)
    assert "Stripe could not be reached just now" in answer.content.decode()
    nonprofit.refresh_from_db()
    assert nonprofit.stripe_account_id == ""


def test_the_account_id_is_not_editable_by_hand():
    names = {"stripe_account_id", "stripe_payouts_enabled", "stripe_requirements_due"}
    assert not any(f.editable for f in Nonprofit._meta.fields if f.name in names)


def test_staff_see_each_nonprofits_payout_readiness(client, contact, nonprofit, stripe_standin):
    client.force_login(contact.user)
    client.post("/nonprofit/payouts/set-up/")
    client.get("/nonprofit/payouts/")
    nonprofit.refresh_from_db()
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)

    page = client.get("/staff/nonprofits/").content.decode()

    assert "Stripe: payouts not enabled" in page
    assert nonprofit.stripe_requirements_due[0] in page
    stripe_standin.complete_onboarding(nonprofit.stripe_account_id)
    client.force_login(contact.user)
    client.get("/nonprofit/payouts/")
    client.force_login(staff)
    assert "Stripe: payouts enabled" in client.get("/staff/nonprofits/").content.decode()


@pytest.mark.parametrize(
    ("platform", "agreement"),
    [("US", "recipient"), ("KE", "full")],
    ids=["across-borders", "at-home"],
)
def test_a_nonprofit_abroad_gets_the_recipient_agreement_cross_border_payouts_need(
    contact, nonprofit, stripe_standin, settings, platform, agreement
):
    settings.STRIPE_PLATFORM_COUNTRY = platform
    kwargs = {"return_url": "http://testserver/r", "refresh_url": "http://testserver/r"}

    nonprofit_payouts_onboard(nonprofit=nonprofit, actor=contact.user, **kwargs)

    account = next(iter(stripe_standin.world.accounts.values()))
    assert account["country"] == "KE"
    assert account["tos_acceptance"]["service_agreement"] == agreement
