"""The creator's donation: nominate a verified nonprofit or propose a new one (pending
vetting), one live nomination at a time, on the program's fund; then follow its status.
Creators only, and only their own donation."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from changemakers.core.models import AuditEvent
from donations.models import Grant, Nonprofit
from donations.services import grant_approve, grant_cancel, nonprofit_verify
from donations.services.nominations import donation_fund, nomination_create
from programs.services import cohort_create, enrolment_activate, enrolment_invite
from tests.factories import FundFactory, NonprofitFactory

pytestmark = pytest.mark.django_db

STATUS_URL = "/portal/donation/"
NOMINATE_URL = "/portal/donation/nominate/"


@pytest.fixture
def enrolled(creator_user, staff_user):
    cohort = cohort_create(name="Cohort D", start_date=datetime.date(2026, 9, 1), actor=staff_user)
    enrolment = enrolment_invite(cohort=cohort, creator=creator_user.creator, actor=staff_user)
    return enrolment_activate(enrolment=enrolment, actor=creator_user)


@pytest.fixture
def fund(db):
    return FundFactory(name="Change Makers Fund", total=Decimal("1000000.00"))


@pytest.fixture
def verified(staff_user):
    return nonprofit_verify(
        nonprofit=NonprofitFactory(legal_name="Frames of Hope"), actor=staff_user
    )


@pytest.fixture
def creator_client(client, creator_user):
    client.force_login(creator_user)
    return client


def test_urls():
    assert reverse("portal-donations:status") == STATUS_URL
    assert reverse("portal-donations:nominate") == NOMINATE_URL


def test_nominate_a_verified_nonprofit(creator_client, creator_user, enrolled, fund, verified):
    NonprofitFactory(legal_name="Still Pending Org")
    page = creator_client.get(NOMINATE_URL).content.decode()
    assert "Frames of Hope" in page
    assert "Still Pending Org" not in page  # only verified ones to pick

    response = creator_client.post(NOMINATE_URL, {"choice": "verified", "nonprofit": verified.pk})

    assert response.status_code == 302
    assert response.url == STATUS_URL + "#live-done"
    grant = Grant.objects.get(creator=creator_user.creator)
    assert (grant.nonprofit, grant.fund, grant.amount, grant.status) == (
        verified,
        fund,
        Decimal("25000.00"),
        Grant.Status.PROPOSED,
    )
    assert AuditEvent.objects.for_object(grant).get().actor == creator_user
    status = creator_client.get(STATUS_URL).content.decode()
    assert "Frames of Hope" in status
    assert "USD 25,000 in your name" in status
    # The thanks sit on the donation it made, not at the top of the page.
    live = status.index('id="live-title"')
    assert status.index("Your nomination is with the program team.") > live
    assert 'class="container messages"' not in status


def test_a_pending_nonprofit_cannot_be_nominated_by_id(creator_client, enrolled, fund):
    pending = NonprofitFactory()
    response = creator_client.post(NOMINATE_URL, {"choice": "verified", "nonprofit": pending.pk})
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not Grant.objects.exists()


def test_propose_a_new_nonprofit_for_vetting(creator_client, creator_user, enrolled, fund):
    response = creator_client.post(
        NOMINATE_URL,
        {
            "choice": "new",
            "legal_name": "Readers of Kisumu",
            "registration_number": "KE-NGO-7777",
            "country": "KE",
            "website": "readers.example",
            "contact_email": "hello@readers.example",
        },
    )
    assert response.status_code == 302
    nonprofit = Nonprofit.objects.get(registration_number="KE-NGO-7777")
    assert nonprofit.verification_status == Nonprofit.Verification.PENDING
    assert nonprofit.website == "https://readers.example"
    grant = Grant.objects.get(creator=creator_user.creator)
    assert grant.nonprofit == nonprofit
    status = creator_client.get(STATUS_URL).content.decode()
    assert "The program team is vetting this nonprofit." in status


def test_a_duplicate_registration_is_refused_on_the_form(creator_client, enrolled, fund, verified):
    response = creator_client.post(
        NOMINATE_URL,
        {
            "choice": "new",
            "legal_name": "Copy",
            "registration_number": verified.registration_number,
            "country": verified.country.code,
            "contact_email": "x@example.org",
        },
    )
    assert response.status_code == 422
    assert "already registered in this country" in response.content.decode()
    assert not Grant.objects.exists()


def test_a_second_live_nomination_is_refused(
    creator_client, creator_user, staff_user, enrolled, fund, verified
):
    nomination_create(creator=creator_user.creator, actor=creator_user, nonprofit=verified)
    other = NonprofitFactory()
    response = creator_client.post(NOMINATE_URL, {"choice": "verified", "nonprofit": verified.pk})
    assert response.status_code == 409
    assert "is already under way" in response.content.decode()
    with pytest.raises(ValidationError, match="already under way"):
        nomination_create(
            creator=creator_user.creator,
            actor=creator_user,
            nonprofit=nonprofit_verify(nonprofit=other, actor=staff_user),
        )
    assert Grant.objects.count() == 1


def test_after_a_cancellation_the_creator_nominates_again(
    creator_user, staff_user, enrolled, fund, verified
):
    grant = nomination_create(creator=creator_user.creator, actor=creator_user, nonprofit=verified)
    grant_cancel(grant=grant, actor=staff_user, reason="The nonprofit closed.")
    again = nomination_create(creator=creator_user.creator, actor=creator_user, nonprofit=verified)
    assert again.status == Grant.Status.PROPOSED
    assert Grant.objects.filter(creator=creator_user.creator).count() == 2


def test_a_creator_without_an_active_place_cannot_nominate(
    creator_client, creator_user, fund, verified
):
    response = creator_client.post(NOMINATE_URL, {"choice": "verified", "nonprofit": verified.pk})
    assert response.status_code == 422
    assert "once you have taken up your place" in response.content.decode()
    assert not Grant.objects.exists()


def test_the_fund_is_the_setting_or_the_one_with_most_left(settings, staff_user):
    FundFactory(name="Small", total=Decimal("100000.00"))
    big = FundFactory(name="Big", total=Decimal("2000000.00"))
    FundFactory(name="Euro", total=Decimal("9000000.00"), currency="EUR")
    assert donation_fund() == big
    settings.PROGRAM_DONATION_FUND = "Small"
    assert donation_fund().name == "Small"
    settings.PROGRAM_DONATION_FUND = "Missing"
    with pytest.raises(ValidationError, match="No fund is open"):
        donation_fund()


def test_the_status_page_follows_the_grant(
    creator_client, creator_user, staff_user, enrolled, fund, verified
):
    grant = nomination_create(creator=creator_user.creator, actor=creator_user, nonprofit=verified)
    grant_approve(grant=grant, actor=staff_user)
    response = creator_client.get(STATUS_URL)
    content = response.content.decode()
    assert response.context["live"] == grant
    assert [s["done"] for s in response.context["steps"]] == [True, True, False, False, False]
    assert 'aria-current="step">Approved' in content
    portal = creator_client.get(reverse("programs:portal")).content.decode()
    assert "Approved" in portal
    assert STATUS_URL in portal


def test_another_creators_donation_is_never_shown(
    client, creator_user, other_creator_user, staff_user, fund, verified
):
    for user in (creator_user, other_creator_user):
        cohort = cohort_create(
            name=f"C {user.pk}", start_date=datetime.date(2026, 9, 1), actor=staff_user
        )
        enrolment = enrolment_invite(cohort=cohort, creator=user.creator, actor=staff_user)
        enrolment_activate(enrolment=enrolment, actor=user)
    secret = nonprofit_verify(
        nonprofit=NonprofitFactory(legal_name="Their Secret Choice"), actor=staff_user
    )
    nomination_create(
        creator=other_creator_user.creator, actor=other_creator_user, nonprofit=secret
    )

    client.force_login(creator_user)
    status = client.get(STATUS_URL)
    assert status.context["live"] is None
    assert "Their Secret Choice" not in status.content.decode()
    # Their live nomination does not block this creator's own.
    response = client.post(NOMINATE_URL, {"choice": "verified", "nonprofit": verified.pk})
    assert response.status_code == 302


def test_anonymous_staff_and_nonprofits_are_refused(client, staff_user, nonprofit_user, verified):
    for url in (STATUS_URL, NOMINATE_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    assert (
        client.post(NOMINATE_URL, {"choice": "verified", "nonprofit": verified.pk}).status_code
        == 302
    )
    for user in (staff_user, nonprofit_user):
        client.force_login(user)
        for url in (STATUS_URL, NOMINATE_URL):
            assert client.get(url).status_code == 403
        assert (
            client.post(NOMINATE_URL, {"choice": "verified", "nonprofit": verified.pk}).status_code
            == 403
        )
    assert not Grant.objects.exists()


def test_a_failed_donation_stays_the_creators_own_until_cancelled(
    creator_client, creator_user, enrolled, fund, verified, staff_user
):
    """Staff retry a failed payment once its details are fixed: a second nomination beside it
    would be a second $25,000 in the same name."""
    failed = nomination_create(creator=creator_user.creator, nonprofit=verified, actor=creator_user)
    Grant.objects.filter(pk=failed.pk).update(status=Grant.Status.FAILED)
    other = NonprofitFactory()
    nonprofit_verify(nonprofit=other, actor=staff_user)

    with pytest.raises(ValidationError, match="already under way"):
        nomination_create(creator=creator_user.creator, nonprofit=other, actor=creator_user)
    response = creator_client.post(reverse("portal-donations:nominate"), {"nonprofit": other.pk})
    assert response.status_code == 409
    assert Grant.objects.filter(creator=creator_user.creator).count() == 1

    grant_cancel(grant=failed, actor=staff_user, reason="The nonprofit closed")
    assert nomination_create(creator=creator_user.creator, nonprofit=other, actor=creator_user)


def test_a_donation_whose_payment_outcome_is_unknown_stays_the_creators_own(
    creator_client, creator_user, enrolled, fund, verified, staff_user
):
    """It may have been paid: a second nomination would be a second payment in the same name,
    under a new key. The creator sees it as sent."""
    grant = nomination_create(creator=creator_user.creator, nonprofit=verified, actor=creator_user)
    Grant.objects.filter(pk=grant.pk).update(status=Grant.Status.UNKNOWN)
    other = NonprofitFactory()
    nonprofit_verify(nonprofit=other, actor=staff_user)

    with pytest.raises(ValidationError, match="already under way"):
        nomination_create(creator=creator_user.creator, nonprofit=other, actor=creator_user)
    response = creator_client.post(reverse("portal-donations:nominate"), {"nonprofit": other.pk})
    assert response.status_code == 409
    with pytest.raises(ValidationError, match="not known yet"):
        grant_cancel(grant=grant, actor=staff_user, reason="Stuck")
    assert Grant.objects.filter(creator=creator_user.creator).count() == 1


def test_the_database_holds_one_donation_per_creator_and_fund(creator_user, fund, verified):
    from django.db import IntegrityError, transaction

    Grant.objects.create(
        fund=fund, nonprofit=verified, creator=creator_user.creator, amount=Decimal("1.00")
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Grant.objects.create(
            fund=fund, nonprofit=verified, creator=creator_user.creator, amount=Decimal("1.00")
        )


def test_the_donation_page_queries_do_not_grow_with_its_history(
    creator_client, creator_user, enrolled, fund, verified, staff_user
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from changemakers.core.audit import audit_record

    grant = nomination_create(creator=creator_user.creator, nonprofit=verified, actor=creator_user)
    url = reverse("portal-donations:status")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert creator_client.get(url).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(15):
        audit_record(
            actor=staff_user,
            obj=grant,
            action="payment_error",
            note="Timeout",
            from_state="processing",
            to_state="processing",
        )
    assert queries() == few
    page = creator_client.get(url).content.decode()
    assert "Payment attempt failed" not in page  # attempts are for staff: the creator sees steps
    assert "Proposed" in page
